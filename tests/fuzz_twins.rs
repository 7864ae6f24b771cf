//! Proptest twins of the fuzz targets in `fuzz/`: the same property functions
//! (`sha256d_engine::fuzzing`), driven by random and edge-case inputs on every
//! `cargo test`.

mod common;

use proptest::prelude::*;
use sha256d_engine::fuzzing;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_parse_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzzing::header_parse(&data);
    }

    #[test]
    fn header_parse_exact_80(data in proptest::collection::vec(any::<u8>(), 80)) {
        fuzzing::header_parse(&data);
    }

    #[test]
    fn header_parse_hexish_text(s in "[0-9a-fA-Fxz ]{150,170}") {
        fuzzing::header_parse(s.as_bytes());
    }

    #[test]
    fn compact_target_any(bits in any::<u32>(), diff in any::<f64>()) {
        fuzzing::compact_target(bits, diff);
    }

    #[test]
    fn compact_target_edges(
        size in prop_oneof![0u32..=4, 30u32..=36, Just(0xff)],
        // The overflow rule's edges are mantissa byte lengths (1, 2, 3 bytes) at sizes
        // 32..=35, so small mantissas are drawn as often as full ones.
        mantissa in prop_oneof![Just(0u32), Just(0x7fffff), Just(0x800000), Just(0xffffff),
                                1u32..=0xff, 0x100u32..=0xffff, 0x1_0000u32..=0x7f_ffff,
                                0u32..0x1000000],
        diff in prop_oneof![Just(0.0), Just(-1.0), Just(f64::NAN), Just(f64::INFINITY),
                            Just(f64::MIN_POSITIVE), Just(5e-324), Just(1e-30), Just(1e300)],
    ) {
        fuzzing::compact_target((size << 24) | mantissa, diff);
    }

    #[test]
    fn backends_agree_any(data in proptest::collection::vec(any::<u8>(), 0..140)) {
        fuzzing::backends_agree(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Structured inputs for the backend comparison: ranges that end at u32::MAX and
    /// easy targets, so that hits (and leftovers of every lane count) actually occur.
    #[test]
    fn backends_agree_structured(
        header in any::<[u8; 80]>(),
        at_end in any::<bool>(),
        start in any::<u32>(),
        len in 0u16..600,
        selector in (0u8..32).prop_map(|s| s * 2),
    ) {
        let start = if at_end { u32::MAX - len as u32 } else { start };
        let mut data = header.to_vec();
        data.extend_from_slice(&start.to_le_bytes());
        data.extend_from_slice(&len.to_le_bytes());
        data.push(selector);
        fuzzing::backends_agree(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Boundary targets taken from a real hash in the range: the target equal to the hash
    /// of one nonce (that nonce is a hit) and that hash minus one (it is not). Random
    /// targets almost never land on a boundary; these always do.
    #[test]
    fn backends_agree_boundary(
        header in any::<[u8; 80]>(),
        start in any::<u32>(),
        len in 1u16..600,
        pick in any::<u16>(),
    ) {
        use sha2::Digest as _;
        let start = start.min(u32::MAX - len as u32);
        let nonce = start + (pick % (len + 1)) as u32;
        let mut h = header;
        h[76..80].copy_from_slice(&nonce.to_le_bytes());
        // The hash by the sha2 crate, little-endian as the target bytes are.
        let hash: [u8; 32] = sha2::Sha256::digest(sha2::Sha256::digest(h)).into();
        let mut minus_one = hash;
        for b in minus_one.iter_mut() {
            let (v, borrow) = b.overflowing_sub(1);
            *b = v;
            if !borrow {
                break;
            }
        }
        let hdr = sha256d_engine::Header::from_bytes(&header);
        for (target, hit) in [(hash, true), (minus_one, false)] {
            if !hit && hash == [0; 32] {
                continue;
            }
            let mut data = header.to_vec();
            data.extend_from_slice(&start.to_le_bytes());
            data.extend_from_slice(&len.to_le_bytes());
            data.push(1); // odd selector: the target bytes follow
            data.extend_from_slice(&target);
            fuzzing::backends_agree(&data);
            let t = sha256d_engine::Target::from_le_bytes(target);
            for b in sha256d_engine::Backend::all_available() {
                let found = b.scan(&hdr, &t, start..=start + len as u32);
                prop_assert_eq!(found.iter().any(|x| x.nonce == nonce), hit, "{}", b);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn notify_parse_any(s in "\\PC{0,300}") {
        fuzzing::notify_parse(s.as_bytes());
    }

    #[test]
    fn notify_parse_shaped(
        fields in proptest::collection::vec("[0-9a-fA-Fxyz\\[\\]\", ]{0,70}", 0..12),
    ) {
        let text = format!("[{}]", fields.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(","));
        fuzzing::notify_parse(text.as_bytes());
    }

    #[test]
    fn job_and_shares_readers_any(s in "\\PC{0,400}") {
        fuzzing::job_and_shares_readers(s.as_bytes());
    }

    #[test]
    fn job_and_shares_readers_shaped(
        e1 in "[0-9a-fz]{0,10}",
        size in any::<i64>(),
        mask in "[0-9a-f]{0,9}",
        diff in any::<f64>(),
    ) {
        let text = format!(
            r#"{{"extranonce1":"{e1}","extranonce2_size":{size},"version_mask":"{mask}","difficulty":{diff},"notify":[]}}"#
        );
        fuzzing::job_and_shares_readers(text.as_bytes());
    }

    #[test]
    fn validate_shares_any(s in "\\PC{0,300}") {
        fuzzing::validate_shares(s.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn validate_structured_any(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        fuzzing::validate_structured(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn asic_decoders_any(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzzing::asic_decoders(&data);
    }

    /// Inputs of exactly the decoders' lengths, with valid preambles, so that the
    /// successful paths run too.
    #[test]
    fn asic_decoders_shaped(
        len in prop_oneof![Just(9usize), Just(11), Just(32), Just(64), Just(80), Just(128),
                           Just(146), Just(152)],
        seed in any::<u64>(),
        preamble in any::<bool>(),
    ) {
        let mut x = seed;
        let mut data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        if preamble && len <= 11 {
            data[0] = 0xaa;
            data[1] = 0x55;
        }
        if preamble && len == 152 {
            data[..4].copy_from_slice(&[0x55, 0xaa, 0x21, 0x96]);
        }
        fuzzing::asic_decoders(&data);
    }
}

/// The notify property on the pools' real `mining.notify` messages from the shared test
/// data, and the meaning of their prevhash: a real previous block hash, displayed
/// big-endian, starts with zeros (a full byte reversal, which also round-trips, would
/// put the zeros at the end).
#[test]
fn notify_parse_real_messages() {
    let Some(dir) = common::testdata("Stratum notify messages") else {
        return;
    };
    for file in [
        "stratum/publicpool_testnet_share_version_rolling.json",
        "stratum/braiins_slushpool_testnet_job_CAVEAT.json",
    ] {
        let f: serde_json::Value = serde_json::from_str(&common::read(&dir, file)).unwrap();
        let params = &f["messages"]["notify_params"];
        let msg = serde_json::json!({"id": null, "method": "mining.notify", "params": params});
        let text = msg.to_string();
        fuzzing::notify_parse(text.as_bytes());
        let n = sha256d_engine::Notify::from_json(&text).unwrap();
        assert_eq!(
            n.prevhash.to_be_bytes()[..4],
            [0; 4],
            "{file}: {}",
            n.prevhash
        );
        assert_ne!(n.prevhash.to_le_bytes()[..4], [0; 4], "{file}");
    }
}
