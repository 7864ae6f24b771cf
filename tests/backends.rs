//! One shared test of every backend (scalar, sse41, avx2, avx512, shani, whichever this
//! CPU has): each returns exactly the hits of an independent oracle (the `bitcoin` crate,
//! one full hash per nonce) on random headers, ranges and targets, on targets derived from
//! a real hash in the range (the hash itself and one less), on the edges of the nonce
//! space, for every range length from 0 to 2 * 16 + 1 (the widest kernel's lanes), and
//! exhaustively over 2^20 nonces with an easy target. The kernels' early filter itself is
//! tested against full hashing in `src/backend/tests.rs`.

mod common;

use proptest::prelude::*;
use sha256d_engine::{Backend, Header, Target};

/// A target with about one hit per 2^`bits` nonces: 2^(256 - bits) - 1.
fn easy_target(bits: u32) -> Target {
    let mut be = [0u8; 32];
    let full = (bits / 8) as usize;
    be[full] = 0xff >> (bits % 8);
    for b in be.iter_mut().skip(full + 1) {
        *b = 0xff;
    }
    Target::from_be_bytes(be)
}

fn header_from(bytes: [u8; 80]) -> Header {
    Header::from_bytes(&bytes)
}

fn arb_header() -> impl Strategy<Value = Header> {
    proptest::collection::vec(any::<u8>(), 80).prop_map(|v| header_from(v.try_into().unwrap()))
}

/// Targets from trivial to impossible-in-practice, including the top-word edge cases
/// of the early-exit test (0, and all ones).
fn arb_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        (0u32..=12).prop_map(easy_target),
        Just(Target::EASIEST),
        Just(Target::DIFF1),
        any::<[u8; 32]>().prop_map(Target::from_le_bytes),
        // Top word exactly at a boundary, rest random.
        (any::<u32>(), any::<[u8; 28]>()).prop_map(|(top, rest)| {
            let mut be = [0u8; 32];
            be[..4].copy_from_slice(&(top >> 24).to_be_bytes());
            be[4..].copy_from_slice(&rest);
            Target::from_be_bytes(be)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Boundary targets from a real hash in the range: the hash itself is met (the nonce
    /// is a hit), the hash minus one is not.
    #[test]
    fn targets_at_a_real_hash(
        header in arb_header(),
        start in any::<u32>(),
        len in 0u32..40,
        pick in any::<u32>(),
    ) {
        let end = start.saturating_add(len);
        let nonce = start + pick % (end - start + 1);
        let hash = common::to_bitcoin(&header.with_nonce(nonce)).block_hash();
        use bitcoin::hashes::Hash as _;
        let at = Target::from_le_bytes(hash.to_byte_array());
        let below = Target::from_le_bytes(minus_one(hash.to_byte_array()));
        for target in [at, below] {
            let want = common::oracle_scan(&header, &target, start, end);
            prop_assert_eq!(
                want.iter().any(|h| h.nonce == nonce),
                target == at,
                "oracle and boundary disagree"
            );
            for b in Backend::all_available() {
                prop_assert_eq!(&b.scan(&header, &target, start..=end), &want, "backend {}", b);
            }
        }
    }

    #[test]
    fn every_backend_matches_the_oracle(
        header in arb_header(),
        target in arb_target(),
        start in any::<u32>(),
        len in 0u32..200,
    ) {
        let end = start.saturating_add(len);
        let want = common::oracle_scan(&header, &target, start, end);
        for b in Backend::all_available() {
            prop_assert_eq!(&b.scan(&header, &target, start..=end), &want, "backend {}", b);
        }
    }

    #[test]
    fn ranges_at_the_edges_of_the_nonce_space(
        header in arb_header(),
        bits in 0u32..6,
        len in 0u32..70,
        at_end in any::<bool>(),
    ) {
        let target = easy_target(bits);
        let (start, end) = if at_end { (u32::MAX - len, u32::MAX) } else { (0, len) };
        let want = common::oracle_scan(&header, &target, start, end);
        for b in Backend::all_available() {
            prop_assert_eq!(&b.scan(&header, &target, start..=end), &want, "backend {}", b);
        }
    }
}

/// A little-endian 256-bit number minus one (a hash of zero stays zero: never drawn).
fn minus_one(mut le: [u8; 32]) -> [u8; 32] {
    for b in le.iter_mut() {
        let (v, borrow) = b.overflowing_sub(1);
        *b = v;
        if !borrow {
            break;
        }
    }
    le
}

#[test]
fn lists_backends_and_skips() {
    let backends = common::backends();
    assert!(backends.contains(&Backend::scalar()));
    println!(
        "testing backends: {}",
        backends
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

#[test]
fn empty_and_single_nonce_ranges() {
    let h = header_from([7u8; 80]);
    for b in common::backends() {
        #[allow(clippy::reversed_empty_ranges)]
        let empty = b.scan(&h, &Target::EASIEST, 5..=4);
        assert!(empty.is_empty(), "{b}");
        for n in [0, 1, u32::MAX - 1, u32::MAX] {
            let hits = b.scan(&h, &Target::EASIEST, n..=n);
            assert_eq!(hits.len(), 1, "{b} nonce {n}");
            assert_eq!(hits[0].nonce, n);
            assert_eq!(hits[0].hash, h.with_nonce(n).block_hash());
        }
    }
}

/// Every count of nonces from 0 to 2 * 16 + 1 (two groups of the widest kernel's lanes
/// and one more), at offsets that are and are not multiples of any lane count, against
/// the `bitcoin` crate oracle.
#[test]
fn every_short_length_and_alignment() {
    let h = header_from([0x5a; 80]);
    let target = easy_target(1);
    let backends = common::backends();
    for start in [0u32, 1, 3, 1000, u32::MAX - 40] {
        for count in 0u32..=33 {
            let (start, end) = match count {
                0 => (start.wrapping_add(1), start),
                _ => (start, start.saturating_add(count - 1)),
            };
            let want = match count {
                0 => Vec::new(),
                _ => common::oracle_scan(&h, &target, start, end),
            };
            for b in &backends {
                #[allow(clippy::reversed_empty_ranges)]
                let got = b.scan(&h, &target, start..=end);
                assert_eq!(got, want, "{b} start {start} count {count}");
            }
        }
    }
}

/// 2^20 nonces with about one hit per 256: every backend's hit list is identical to the
/// scalar backend's, and the scalar list matches the oracle on a slice of it.
#[test]
fn exhaustive_easy_target_2_pow_20() {
    let h = Header::from_hex(concat!(
        "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e320b6c2ff",
        "fc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2b9441a42a14695"
    ))
    .unwrap();
    let target = easy_target(8);
    let start = 0x1234_5678;
    let end = start + (1 << 20) - 1;
    let reference = Backend::scalar().scan(&h, &target, start..=end);
    let n = reference.len();
    assert!((3500..4700).contains(&n), "{n} hits, expected about 4096");
    let slice_end = start + 40_000;
    let oracle = common::oracle_scan(&h, &target, start, slice_end);
    assert_eq!(
        reference
            .iter()
            .take_while(|hit| hit.nonce <= slice_end)
            .copied()
            .collect::<Vec<_>>(),
        oracle
    );
    for b in common::backends() {
        assert_eq!(b.scan(&h, &target, start..=end), reference, "backend {b}");
    }
}

/// The range that ends exactly at u32::MAX and the whole-space bookkeeping: no wrap, and
/// u32::MAX itself included.
#[test]
fn range_ending_at_u32_max_is_inclusive() {
    let h = header_from([0x11; 80]);
    for b in common::backends() {
        let hits = b.scan(&h, &Target::EASIEST, u32::MAX - 9..=u32::MAX);
        let nonces: Vec<u32> = hits.iter().map(|x| x.nonce).collect();
        assert_eq!(nonces, (u32::MAX - 9..=u32::MAX).collect::<Vec<_>>(), "{b}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The multi-lane header hash: every count from 0 to past two lane groups, on every
    /// backend, equals the `bitcoin` crate's block hash of each header, in order; and the
    /// (midstate, tail) form with midstates shared between items agrees.
    #[test]
    fn hash_headers_matches_bitcoin_crate(
        headers in proptest::collection::vec(any::<[u8; 80]>().no_shrink(), 0..=19),
    ) {
        use bitcoin::hashes::Hash as _;
        let want: Vec<sha256d_engine::BlockHash> = headers
            .iter()
            .map(|h| {
                let b = common::to_bitcoin(&header_from(*h));
                sha256d_engine::BlockHash::from_le_bytes(b.block_hash().to_byte_array())
            })
            .collect();
        for b in Backend::all_available() {
            prop_assert_eq!(&b.hash_headers(&headers), &want, "backend {}", b);
            // Items sharing one midstate (all headers' first 64 bytes taken from the first).
            if let Some(first) = headers.first() {
                let h0 = header_from(*first);
                let mid = sha256d_engine::Midstate::from_header(&h0);
                let items: Vec<_> = headers
                    .iter()
                    .map(|h| sha256d_engine::SplitHeader {
                        midstate: mid,
                        tail: header_from(*h).tail(),
                    })
                    .collect();
                let shared: Vec<_> = headers
                    .iter()
                    .map(|h| {
                        let mut bytes = h0.to_bytes();
                        bytes[64..].copy_from_slice(&h[64..]);
                        header_from(bytes).block_hash()
                    })
                    .collect();
                prop_assert_eq!(&b.finish_headers(&items), &shared, "backend {}", b);
            }
        }
    }
}
