//! `sha256d_engine::fuzzing::asic_decoders`. `cargo +nightly fuzz run asic_decoders`; a
//! stable build runs the same check over the files named on the command line.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sha256d_engine::fuzzing::asic_decoders(data));

#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input file");
        sha256d_engine::fuzzing::asic_decoders(&data);
    }
}
