//! The properties the fuzz targets in `fuzz/` check, shared with their proptest twins in
//! `tests/fuzz_twins.rs` so that `cargo test` runs the same checks on every build.
//! Each function panics (the fuzzer's signal) if, and only if, a property is violated.
//! Not part of the stable API.

#![forbid(unsafe_code)]

use alloc::string::String;

use crate::{BlockHash, CompactTarget, Header, Target, TargetError};

/// Header parsing from raw bytes and from text never panics; what parses round-trips.
pub fn header_parse(data: &[u8]) {
    match Header::from_slice(data) {
        Ok(h) => {
            assert_eq!(data.len(), 80);
            assert_eq!(&h.to_bytes()[..], data);
            assert_eq!(Header::from_hex(&h.to_hex()), Ok(h));
            assert_eq!(
                h.block_hash(),
                BlockHash::from_le_bytes(crate::sha256d(data))
            );
        }
        Err(_) => assert_ne!(data.len(), 80),
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(h) = Header::from_hex(&text) {
        assert_eq!(h.to_hex(), text.to_ascii_lowercase());
    }
}

/// Compact-target decoding never panics and is consistent: what decodes without a flag is
/// a target whose lossy re-encoding decodes to at most the same value, and the errors are
/// exactly Core's flags.
pub fn compact_target(bits: u32, difficulty: f64) {
    let c = CompactTarget::from_consensus(bits);
    let d = c.decode();
    match Target::from_compact(c) {
        Ok(t) => {
            assert!(!d.negative && !d.overflow);
            assert_eq!(t.to_be_bytes(), d.value_be);
            let back = Target::from_compact(t.to_compact_lossy()).expect("re-encoded target");
            assert!(back <= t);
            assert!(t.difficulty() > 0.0);
            let _ = t.to_work();
        }
        Err(TargetError::Negative(_)) => assert!(d.negative),
        Err(TargetError::Overflow(_)) => assert!(d.overflow && !d.negative),
        Err(TargetError::Zero) => assert_eq!(d.value_be, [0; 32]),
        Err(e) => panic!("unexpected error {e}"),
    }
    match Target::from_difficulty(difficulty) {
        Ok(t) => assert!(difficulty > 0.0 && t.to_be_bytes() != [0; 32]),
        Err(_) => assert!(!(difficulty.is_finite() && difficulty > 0.0) || difficulty > 1e60),
    }
}
