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

/// Every backend returns exactly the scalar backend's hits for an arbitrary header, nonce
/// range and target, and the multi-lane header hash agrees with the scalar one.
///
/// Input layout (missing bytes read as zero): 80 header bytes, the range start (u32 LE),
/// its length (u16 LE, at most 4095 nonces), a target selector byte, then 32 target bytes
/// (little-endian) used when the selector is odd; an even selector `s` picks an easy
/// target of about one hit in 2^(s / 2 % 16) nonces.
pub fn backends_agree(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut h = [0u8; 80];
    for (i, b) in h.iter_mut().enumerate() {
        *b = byte(i);
    }
    let header = Header::from_bytes(&h);
    let start = u32::from_le_bytes([byte(80), byte(81), byte(82), byte(83)]);
    let len = u16::from_le_bytes([byte(84), byte(85)]) as u32 % 4096;
    let end = start.saturating_add(len);
    let selector = byte(86);
    let target = if selector % 2 == 1 {
        let mut t = [0u8; 32];
        for (i, b) in t.iter_mut().enumerate() {
            *b = byte(87 + i);
        }
        Target::from_le_bytes(t)
    } else {
        let bits = (selector / 2 % 16) as u32;
        let mut be = [0xffu8; 32];
        for b in be.iter_mut().take((bits / 8) as usize) {
            *b = 0;
        }
        be[(bits / 8) as usize] = 0xff >> (bits % 8);
        Target::from_be_bytes(be)
    };
    let reference = crate::Backend::scalar().scan(&header, &target, start..=end);
    for b in crate::Backend::all_available() {
        assert_eq!(
            b.scan(&header, &target, start..=end),
            reference,
            "backend {b} disagrees with scalar"
        );
    }
    // The multi-lane header hash on up to 19 headers cut from the input.
    let headers: alloc::vec::Vec<[u8; 80]> = (0..(len % 20) as usize)
        .map(|k| {
            let mut x = h;
            x[76..80].copy_from_slice(&(start.wrapping_add(k as u32)).to_le_bytes());
            x
        })
        .collect();
    let want: alloc::vec::Vec<BlockHash> = headers
        .iter()
        .map(|x| Header::from_bytes(x).block_hash())
        .collect();
    for b in crate::Backend::all_available() {
        assert_eq!(b.hash_headers(&headers), want, "backend {b} header hash");
    }
}
