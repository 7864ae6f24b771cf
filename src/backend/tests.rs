//! The kernels' early filter, tested for what it is: a nonce is a candidate exactly when
//! the top 32 bits of its hash are at most the target's top word. The oracle is one full
//! hash per nonce by the `bitcoin` crate, which shares no code with the kernels, so a
//! kernel that lets every nonce through, or drops some, fails here even where the exact
//! re-check would hide it.

use alloc::vec::Vec;

use bitcoin::hashes::Hash as _;
use proptest::prelude::*;

use super::Backend;
use super::kernel::Prepared;
use crate::{Header, Target};

/// The top 32 bits of the block hash of `header` with `nonce`, as a number.
fn top32(header: &Header, nonce: u32) -> u32 {
    let b: bitcoin::block::Header =
        bitcoin::consensus::deserialize(&header.with_nonce(nonce).to_bytes()).unwrap();
    let le = b.block_hash().to_byte_array();
    u32::from_le_bytes([le[28], le[29], le[30], le[31]])
}

/// A target whose top 32 bits are `top` (the rest all ones).
fn target_with_top(top: u32) -> Target {
    let mut be = [0xffu8; 32];
    be[..4].copy_from_slice(&top.to_be_bytes());
    Target::from_be_bytes(be)
}

/// The candidates of `count` nonces from `start` on every backend, each compared with the
/// oracle's set.
fn check(header: &Header, top: u32, start: u32, count: u32) -> Result<(), TestCaseError> {
    let want: Vec<u32> = (0..count)
        .map(|i| start.wrapping_add(i))
        .filter(|&n| top32(header, n) <= top)
        .collect();
    let p = Prepared::from_header(header, target_with_top(top));
    for b in Backend::all_available() {
        let mut got = Vec::new();
        if count > 0 {
            b.candidates(&p, start, start + (count - 1), &mut got);
        }
        prop_assert_eq!(&got, &want, "backend {} start {} count {}", b, start, count);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random headers, filter thresholds from "one in 16 passes" to "one in 2^28", and
    /// counts that cover every remainder of every lane count.
    #[test]
    fn candidates_equal_the_full_hash_set(
        bytes in any::<[u8; 80]>(),
        shift in 4u32..28,
        start in any::<u32>(),
        count in 0u32..1200,
    ) {
        let header = Header::from_bytes(&bytes);
        let start = start.min(u32::MAX - count);
        check(&header, u32::MAX >> shift, start, count)?;
    }

    /// The threshold set to a real nonce's top word, and one below it: that nonce is a
    /// candidate in the first case and not in the second.
    #[test]
    fn candidates_at_a_real_top_word(
        bytes in any::<[u8; 80]>(),
        start in any::<u32>(),
        count in 1u32..=33,
        pick in any::<u32>(),
    ) {
        let header = Header::from_bytes(&bytes);
        let start = start.min(u32::MAX - count);
        let nonce = start + pick % count;
        let top = top32(&header, nonce);
        check(&header, top, start, count)?;
        if top > 0 {
            check(&header, top - 1, start, count)?;
        }
    }
}

/// The extreme thresholds: 0 (almost nothing passes) and all ones (everything passes),
/// at both ends of the nonce space.
#[test]
fn candidates_at_extreme_thresholds() {
    let header = Header::from_bytes(&[0x3c; 80]);
    for (start, count) in [(0, 70), (u32::MAX - 69, 70)] {
        check(&header, 0, start, count).unwrap();
        check(&header, u32::MAX, start, count).unwrap();
    }
}
