//! Compact-target decoding and difficulty conversion. `cargo +nightly fuzz run
//! compact_target`; a stable build runs the same check over the files named on the
//! command line.
#![cfg_attr(fuzzing, no_main)]

fn check(data: &[u8]) {
    let mut b = [0u8; 12];
    let n = data.len().min(12);
    b[..n].copy_from_slice(&data[..n]);
    let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let diff = f64::from_le_bytes([b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]]);
    sha256d_engine::fuzzing::compact_target(bits, diff);
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));

#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        check(&std::fs::read(&path).expect("readable input file"));
    }
}
