//! Every SIMD backend against the scalar one on arbitrary (header, range, target).
//! `cargo +nightly fuzz run backends_agree`; a stable build runs the same check over the
//! files named on the command line.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sha256d_engine::fuzzing::backends_agree(data));

#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input file");
        sha256d_engine::fuzzing::backends_agree(&data);
    }
}
