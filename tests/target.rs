//! Compact targets against Bitcoin Core's `arith_uint256` vectors, difficulty round trips,
//! and proptest against the `bitcoin` crate.

use num_bigint::BigUint;
use proptest::prelude::*;
use sha256d_engine::{BlockHash, CompactTarget, Target, TargetError};

/// A big integer below 2^256 as 32 little-endian bytes.
fn le_32(x: &BigUint) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let b = x.to_bytes_le();
    (b.len() <= 32).then(|| {
        out[..b.len()].copy_from_slice(&b);
        out
    })
}

fn c(x: u32) -> CompactTarget {
    CompactTarget::from_consensus(x)
}

/// Bitcoin Core `src/test/arith_uint256_tests.cpp`, `bignum_SetCompact`: nCompact, the
/// decoded value (as hex, big-endian, leading zeros stripped), GetCompact of the value,
/// fNegative, fOverflow.
const CORE_VECTORS: &[(u32, &str, u32, bool, bool)] = &[
    (0x00000000, "0", 0, false, false),
    (0x00123456, "0", 0, false, false),
    (0x01003456, "0", 0, false, false),
    (0x02000056, "0", 0, false, false),
    (0x03000000, "0", 0, false, false),
    (0x04000000, "0", 0, false, false),
    (0x00923456, "0", 0, false, false),
    (0x01803456, "0", 0, false, false),
    (0x02800056, "0", 0, false, false),
    (0x03800000, "0", 0, false, false),
    (0x04800000, "0", 0, false, false),
    (0x01123456, "12", 0x01120000, false, false),
    (0x01fedcba, "7e", 0x01fe0000, true, false),
    (0x02123456, "1234", 0x02123400, false, false),
    (0x03123456, "123456", 0x03123456, false, false),
    (0x04123456, "12345600", 0x04123456, false, false),
    (0x04923456, "12345600", 0x04923456, true, false),
    (0x05009234, "92340000", 0x05009234, false, false),
    (
        0x20123456,
        "1234560000000000000000000000000000000000000000000000000000000000",
        0x20123456,
        false,
        false,
    ),
    (0xff123456, "", 0, false, true),
];

fn strip(bytes: [u8; 32]) -> String {
    let h = hex::encode(bytes);
    let t = h.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

#[test]
fn core_set_compact_vectors() {
    for &(bits, value, compact, negative, overflow) in CORE_VECTORS {
        let d = c(bits).decode();
        assert_eq!(d.is_negative(), negative, "{bits:08x} negative");
        assert_eq!(d.is_overflow(), overflow, "{bits:08x} overflow");
        if overflow {
            assert_eq!(
                Target::from_compact(c(bits)),
                Err(TargetError::Overflow(c(bits)))
            );
            continue;
        }
        assert_eq!(strip(d.value_be()), value, "{bits:08x} value");
        match Target::from_compact(c(bits)) {
            Ok(t) => {
                assert!(!negative);
                assert_eq!(t.to_compact_lossy(), c(compact), "{bits:08x} GetCompact");
            }
            Err(TargetError::Negative(_)) => assert!(negative),
            Err(TargetError::Zero) => assert_eq!(value, "0"),
            Err(e) => panic!("{bits:08x}: {e}"),
        }
    }
}

#[test]
fn well_known_targets_and_difficulties() {
    let t = Target::from_compact(c(0x1d00ffff)).unwrap();
    assert_eq!(t, Target::DIFF1);
    assert_eq!(t.difficulty(), 1.0);
    // Block 125552: nBits 1a44b9f2, difficulty 244112.48777... (Core's GetDifficulty).
    let t = Target::from_compact(c(0x1a44b9f2)).unwrap();
    assert!((t.difficulty() - 244_112.487_774_512_5).abs() < 1e-6);
    assert_eq!(Target::from_difficulty(1.0).unwrap(), Target::DIFF1);
    assert_eq!(
        Target::from_difficulty(2.0).unwrap().to_be_hex(),
        "000000007fff8000000000000000000000000000000000000000000000000000"
    );
    assert_eq!(
        Target::from_be_hex("0000000000000000000000000000000000000000000000000000000000000000"),
        Err(TargetError::Zero)
    );
    assert!(Target::from_be_hex("00").is_err());
    // Work: Core's GetBlockProof at difficulty 1 is 0x100010001.
    assert_eq!(
        Target::DIFF1.to_work().to_be_hex(),
        "0000000000000000000000000000000000000000000000000000000100010001"
    );
}

#[test]
fn share_difficulty_of_hashes() {
    // The public-pool share from the stratum test data: difficulty 669.87.
    let h =
        BlockHash::from_be_hex("000000000061d52983863e5c424c00d9e0981874fddf6a8493433e73928a3e4e")
            .unwrap();
    assert!((h.difficulty() - 669.87).abs() < 0.01, "{}", h.difficulty());
    assert!(BlockHash::ZERO.difficulty().is_infinite());
}

fn u256_le(bytes: [u8; 32]) -> bitcoin::Target {
    bitcoin::Target::from_le_bytes(bytes)
}

proptest! {
    #[test]
    fn compact_decoding_matches_bitcoin_crate(bits in any::<u32>()) {
        // The bitcoin crate's from_compact ignores the sign and overflow flags; where Core
        // raises neither, both must agree on the value.
        let d = c(bits).decode();
        if !d.is_negative() && !d.is_overflow() {
            let theirs = bitcoin::Target::from_compact(bitcoin::CompactTarget::from_consensus(bits));
            prop_assert_eq!(theirs.to_be_bytes(), d.value_be());
        }
        // Never panics, and a target that decodes re-encodes to a compact form that
        // decodes to the same value when the mantissa was canonical.
        if let Ok(t) = Target::from_compact(c(bits)) {
            let back = Target::from_compact(t.to_compact_lossy()).unwrap();
            prop_assert!(back <= t);
            prop_assert_eq!(back.to_compact_lossy(), t.to_compact_lossy());
        }
    }

    #[test]
    fn to_compact_matches_bitcoin_crate(bytes in any::<[u8; 32]>()) {
        let t = Target::from_le_bytes(bytes);
        let theirs = u256_le(bytes).to_compact_lossy().to_consensus();
        prop_assert_eq!(t.to_compact_lossy().to_consensus(), theirs);
    }

    #[test]
    fn difficulty_round_trip(exp in -20i32..60, mant in 1.0f64..2.0) {
        let d = mant * 2f64.powi(exp);
        let t = Target::from_difficulty(d).unwrap();
        let back = t.difficulty();
        // Floor division loses at most one unit in the last place of a 200+ bit target.
        prop_assert!(((back - d) / d).abs() < 1e-12, "{} -> {}", d, back);
        // A hash equal to the target meets it; one above does not (computed with a
        // big integer, not with the crate's arithmetic).
        prop_assert!(t.is_met_by(&BlockHash::from_le_bytes(t.to_le_bytes())));
        let above = BigUint::from_bytes_le(&t.to_le_bytes()) + 1u32;
        prop_assert!(!t.is_met_by(&BlockHash::from_le_bytes(le_32(&above).unwrap())));
    }

    /// `Target::from_difficulty` is exactly `floor(0xFFFF·2^208 / difficulty)`, computed
    /// here with arbitrary-precision integers from the float's exact value
    /// (`integer_decode`: mantissa · 2^exponent), saturating at 2^256 − 1 and an error
    /// when the quotient is 0.
    #[test]
    fn from_difficulty_is_exact(
        d in prop_oneof![
            (1u64..(1 << 53), -1100i32..300).prop_map(|(m, e)| m as f64 * 2f64.powi(e)),
            any::<f64>(),
            (1.0f64..2.0, -40i32..40).prop_map(|(m, e)| m * 2f64.powi(e)),
        ]
    ) {
        let got = Target::from_difficulty(d);
        if !(d.is_finite() && d > 0.0) {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let (mantissa, exponent, _) = num_traits::Float::integer_decode(d);
        let diff1 = BigUint::from(0xffffu32) << 208u32;
        let want = if exponent >= 0 {
            diff1 / (BigUint::from(mantissa) << exponent as u32)
        } else {
            (diff1 << (-exponent) as u32) / BigUint::from(mantissa)
        };
        if want.bits() == 0 {
            prop_assert!(matches!(got, Err(TargetError::DifficultyTooHigh(_))), "{d:e}: {got:?}");
        } else if want.bits() > 256 {
            prop_assert_eq!(got.unwrap(), Target::EASIEST);
        } else {
            prop_assert_eq!(got.unwrap().to_le_bytes(), le_32(&want).unwrap(), "{:e}", d);
        }
    }

    #[test]
    fn is_met_by_matches_bitcoin_crate(t in any::<[u8; 32]>(), h in any::<[u8; 32]>()) {
        let ours = Target::from_le_bytes(t).is_met_by(&BlockHash::from_le_bytes(h));
        use bitcoin::hashes::Hash as _;
        let theirs = u256_le(t).is_met_by(bitcoin::BlockHash::from_byte_array(h));
        prop_assert_eq!(ours, theirs);
    }
}

/// `Target::MAX` means what rust-bitcoin's means (the difficulty-1 target, 0xFFFF·2^208),
/// and both convert to each other's; the target every hash meets has its own name.
#[test]
fn max_is_rust_bitcoins_max() {
    use sha256d_engine::Target;
    assert_eq!(
        Target::MAX.to_le_bytes(),
        bitcoin::Target::MAX.to_le_bytes()
    );
    assert_eq!(Target::MAX, Target::DIFF1);
    assert_eq!(Target::EASIEST.to_le_bytes(), [0xff; 32]);
    assert!(Target::EASIEST.is_met_by(&sha256d_engine::BlockHash::from_le_bytes([0xff; 32])));
    assert!(!Target::MAX.is_met_by(&sha256d_engine::BlockHash::from_le_bytes([0xff; 32])));
}
