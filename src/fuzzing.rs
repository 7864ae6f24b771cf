//! The properties the fuzz targets in `fuzz/` check, shared with their proptest twins in
//! `tests/fuzz_twins.rs` so that `cargo test` runs the same checks on every build.
//! Each function panics (the fuzzer's signal) if, and only if, a property is violated.
//! Not part of the stable API.

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

/// Compact-target decoding never panics and agrees with oracles that share none of its
/// code: the overflow and sign flags from the value's bit length (Core's `SetCompact`
/// defines `fOverflow` as "does not fit in 256 bits" and `fNegative` as "sign bit with a
/// non-zero mantissa"), and the value from the `bitcoin` crate's `Target::from_compact`
/// wherever Core's flags are clear. Lossy re-encoding decodes to at most the same value.
pub fn compact_target(bits: u32, difficulty: f64) {
    let c = CompactTarget::from_consensus(bits);
    let d = c.decode();
    // The oracle: Core's reading of the fields, with the overflow rule as a bit count.
    let size = bits >> 24;
    let sign = bits & 0x0080_0000 != 0;
    let word = if size <= 3 {
        (bits & 0x007f_ffff) >> (8 * (3 - size))
    } else {
        bits & 0x007f_ffff
    };
    let bit_len = 32 - word.leading_zeros();
    let want_overflow = word != 0 && size > 3 && bit_len + 8 * (size - 3) > 256;
    let want_negative = word != 0 && sign;
    assert_eq!(
        d.is_overflow(),
        want_overflow,
        "overflow flag of {bits:08x}"
    );
    assert_eq!(
        d.is_negative(),
        want_negative,
        "negative flag of {bits:08x}"
    );
    if !want_overflow && !want_negative {
        let want = if word == 0 {
            [0; 32]
        } else {
            // Sign clear and the value fits: rust-bitcoin decodes exactly.
            bitcoin::Target::from_compact(bitcoin::CompactTarget::from_consensus(bits))
                .to_be_bytes()
        };
        assert_eq!(d.value_be(), want, "value of {bits:08x}");
    }
    match Target::from_compact(c) {
        Ok(t) => {
            assert!(!want_negative && !want_overflow && word != 0);
            assert_eq!(t.to_be_bytes(), d.value_be());
            let back = Target::from_compact(t.to_compact_lossy()).expect("re-encoded target");
            assert!(back <= t);
            assert!(t.difficulty() > 0.0);
            let _ = t.to_work();
        }
        Err(TargetError::Negative(_)) => assert!(want_negative),
        Err(TargetError::Overflow(_)) => assert!(want_overflow && !want_negative),
        Err(TargetError::Zero) => assert!(word == 0 || d.value_be() == [0; 32]),
        Err(e) => panic!("unexpected error {e}"),
    }
    match Target::from_difficulty(difficulty) {
        Ok(t) => assert!(difficulty > 0.0 && t.to_be_bytes() != [0; 32]),
        Err(_) => assert!(!(difficulty.is_finite() && difficulty > 0.0) || difficulty > 1e60),
    }
}

/// Every backend returns exactly the hits of a per-nonce brute force with the `sha2` crate
/// (at most 4096 nonces) for an arbitrary header, nonce range and target, and the
/// multi-lane header hash agrees with the sha2 hash of each header.
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
    // The oracle shares no code with the backends: every nonce hashed in full with the
    // sha2 crate, and the hash compared with the target as big-endian byte strings.
    let target_be = target.to_be_bytes();
    let reference: alloc::vec::Vec<crate::Hit> = (start..=end)
        .filter_map(|nonce| {
            let hash =
                BlockHash::from_le_bytes(crate::sha256d(&header.with_nonce(nonce).to_bytes()));
            (hash.to_be_bytes() <= target_be).then_some(crate::Hit { nonce, hash })
        })
        .collect();
    for b in crate::Backend::all_available() {
        assert_eq!(
            b.scan(&header, &target, start..=end),
            reference,
            "backend {b} disagrees with the per-nonce sha2 brute force"
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
        .map(|x| BlockHash::from_le_bytes(crate::sha256d(x)))
        .collect();
    for b in crate::Backend::all_available() {
        assert_eq!(b.hash_headers(&headers), want, "backend {b} header hash");
    }
}

/// The public-pool testnet job from the shared test data, for the validator targets. Its
/// difficulty, 1e-10, is below 2^-32: the share target saturates at 2^256 - 1, so every
/// well-formed share is accepted and the accept and duplicate paths are reached.
#[cfg(feature = "json")]
const FUZZ_JOB: &str = r#"{"extranonce1": "57a6f098", "extranonce2_size": 4,
  "version_mask": "1fffe000", "difficulty": 1e-10, "notify": ["1",
  "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000",
  "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c",
  "ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000",
  ["175335649d5e8746982969ec88f52e85ac9917106fba5468e699c8879ab974a1",
   "d5644ab3e708c54cd68dc5aedc92b8d3037449687f92ec41ed6e37673d969d4a",
   "5c9ec187517edc0698556cca5ce27e54c96acb014770599ed9df4d4937fbf2b0"],
  "20000000", "192495f8", "64b3f3ec", false]}"#;

/// The `mining.notify` parser never panics, what it accepts round-trips through
/// `to_params`, and every accepted field means what the Stratum protocol says, checked
/// from the raw JSON without the parser's helpers: `prevhash` is the header's internal
/// bytes with each 4-byte word reversed (a round trip cannot tell this from a full
/// reversal, both being their own inverse), `version`/`nbits`/`ntime` are big-endian hex
/// `u32`s, the branch hashes and coinbase parts are raw bytes as sent.
#[cfg(feature = "json")]
pub fn notify_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(n) = crate::stratum::Notify::from_json(&text) else {
        return;
    };
    let back = crate::stratum::Notify::from_params(&n.to_params()).expect("round trip");
    assert_eq!(back, n);
    let v: serde_json::Value = serde_json::from_str(&text).expect("accepted text is JSON");
    let p = v.get("params").unwrap_or(&v);
    let field = |i: usize| p[i].as_str().expect("accepted field is a string");
    let raw = hex::decode(field(1)).expect("prevhash hex");
    let mut internal = [0u8; 32];
    for w in 0..8 {
        for k in 0..4 {
            internal[4 * w + k] = raw[4 * w + 3 - k];
        }
    }
    assert_eq!(n.prevhash.to_le_bytes(), internal, "prevhash");
    assert_eq!(n.coinb1, hex::decode(field(2)).expect("coinb1"));
    assert_eq!(n.coinb2, hex::decode(field(3)).expect("coinb2"));
    let branch = p[4].as_array().expect("branch array");
    assert_eq!(n.merkle_branch.len(), branch.len());
    for (h, s) in n.merkle_branch.iter().zip(branch) {
        let s = s.as_str().expect("branch hash");
        assert_eq!(
            h.to_le_bytes().to_vec(),
            hex::decode(s).expect("branch hex")
        );
    }
    let u = |i: usize| u32::from_str_radix(field(i), 16).expect("u32 hex");
    assert_eq!(
        (n.version, n.nbits.to_consensus(), n.ntime),
        (u(5), u(6), u(7))
    );
    assert_eq!(n.clean_jobs, p[8].as_bool().expect("clean_jobs"));
}

/// The job-file and share-line readers never panic; a job file that parses gives a
/// working validator.
#[cfg(feature = "json")]
pub fn job_and_shares_readers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(spec) = crate::validate::JobSpec::from_json(&text) {
        assert!(spec.difficulty > 0.0);
        let _ = crate::validate::Validator::new(spec.difficulty).expect("checked difficulty");
    }
    for line in text.lines() {
        if let Ok(s) = crate::validate::Submission::from_json(line) {
            // What parses re-encodes (canonical hex) to the same submission.
            let mut params = alloc::vec![
                serde_json::Value::from(s.worker.clone()),
                s.job_id.clone().into(),
                hex::encode(&s.extranonce2).into(),
                alloc::format!("{:08x}", s.ntime).into(),
                alloc::format!("{:08x}", s.nonce).into(),
            ];
            if let Some(v) = s.version_bits {
                params.push(alloc::format!("{v:08x}").into());
            }
            let back = crate::validate::Submission::from_params(&params.into());
            assert_eq!(back.as_ref(), Ok(&s));
        }
    }
}

/// Arbitrary share lines against a real job: never a panic, exactly one verdict per line,
/// and the batch verdicts equal the one-at-a-time verdicts.
#[cfg(feature = "json")]
pub fn validate_shares(data: &[u8]) {
    use crate::validate::{Submission, Validator};
    let spec = crate::validate::JobSpec::from_json(FUZZ_JOB).expect("valid job");
    let text = String::from_utf8_lossy(data);
    let lines: alloc::vec::Vec<&str> = text.lines().collect();
    let mut one = Validator::new(spec.difficulty).expect("difficulty");
    one.add_job(spec.job.clone());
    let singles: alloc::vec::Vec<_> = lines.iter().map(|l| one.validate_json(l)).collect();
    let mut batch = Validator::new(spec.difficulty).expect("difficulty");
    batch.add_job(spec.job);
    let parsed: alloc::vec::Vec<_> = lines.iter().map(|l| Submission::from_json(l)).collect();
    let batched = batch.validate_batch(parsed.iter().map(|r| r.as_ref()));
    assert_eq!(singles.len(), lines.len());
    assert_eq!(singles, batched);
    assert_eq!(one.stats(), batch.stats());
}

/// Builds share lines from raw bytes so that a fuzzer reaches the hash checks: every 10
/// bytes make one share of the fuzz job (extranonce2, ntime offset, nonce, version bits),
/// with the odd malformed line when a byte says so.
///
/// Each line's verdict is checked against a reason computed here from how the line was
/// built, in the validator's documented check order, without the validator's code:
/// malformed, unknown job, bad extranonce2 size, version bits outside the mask, ntime
/// outside `[job ntime, job ntime + DEFAULT_NTIME_WINDOW]`, a header already accepted
/// (duplicate), else accepted (the fuzz job's target is 2^256 - 1).
#[cfg(feature = "json")]
pub fn validate_structured(data: &[u8]) {
    use crate::validate::{DEFAULT_NTIME_WINDOW, Reason, Validator};
    const JOB_NTIME: u32 = 0x64b3_f3ec;
    let mut text = String::new();
    let mut expected: alloc::vec::Vec<Option<Reason>> = alloc::vec::Vec::new();
    let mut accepted = std::collections::HashSet::new();
    for c in data.chunks(10) {
        let b = |i: usize| c.get(i).copied().unwrap_or(0);
        let en2 = alloc::format!("{:02x}{:02x}0000", b(0), b(1));
        let ntime = JOB_NTIME.wrapping_add(b(2) as u32 * 40).wrapping_sub(200);
        let nonce = u32::from_le_bytes([b(3), b(4), b(5), b(6)]);
        let bits = ((b(7) as u32) << 13) & 0x1fff_e000 | if b(8) == 0xff { 1 } else { 0 };
        let ntime_ok = (JOB_NTIME..=JOB_NTIME + DEFAULT_NTIME_WINDOW).contains(&ntime);
        // A well-formed share of job 1: its reason from the version bits and ntime, or a
        // duplicate of an accepted header (same extranonce2, ntime, nonce, version).
        let mut share = |version_bits: u32| {
            if version_bits & !0x1fff_e000 != 0 {
                Some(Reason::VersionOutsideMask)
            } else if !ntime_ok {
                Some(Reason::NtimeOutOfRange)
            } else if !accepted.insert((en2.clone(), ntime, nonce, 0x2000_0000 | version_bits)) {
                Some(Reason::Duplicate)
            } else {
                None
            }
        };
        let (line, reason) = match b(9) % 8 {
            0 => (
                alloc::format!("[\"w\", \"1\", \"{en2}\", \"{ntime:08x}\", \"{nonce:08x}\"]"),
                share(0),
            ),
            1 => (
                "[\"w\", \"1\", \"00\", \"64b3f3ec\", \"00000000\"]".into(),
                Some(Reason::BadExtranonce2),
            ),
            2 => ("{not json".into(), Some(Reason::Malformed)),
            3 => (
                alloc::format!("[\"w\", \"9\", \"{en2}\", \"{ntime:08x}\", \"{nonce:08x}\"]"),
                Some(Reason::UnknownJob),
            ),
            _ => (
                alloc::format!(
                    "[\"w\", \"1\", \"{en2}\", \"{ntime:08x}\", \"{nonce:08x}\", \"{bits:08x}\"]"
                ),
                share(bits),
            ),
        };
        text.push_str(&line);
        text.push('\n');
        expected.push(reason);
        // Repeat some lines to exercise duplicates.
        if b(9) >= 0xf0 {
            let again = match reason {
                None => Some(Reason::Duplicate),
                other => other,
            };
            text.push_str(&line);
            text.push('\n');
            expected.push(again);
        }
    }
    let spec = crate::validate::JobSpec::from_json(FUZZ_JOB).expect("valid job");
    let mut v = Validator::new(spec.difficulty).expect("difficulty");
    v.add_job(spec.job);
    for (line, want) in text.lines().zip(&expected) {
        assert_eq!(v.validate_json(line).reason, *want, "{line}");
    }
    validate_shares(text.as_bytes());
}

/// The ASIC wire decoders never panic, and what decodes re-encodes to the same bytes:
/// Icarus work, BM1397 job packets and commands, BM13xx result frames of every family,
/// cgminer getwork data and midstates; a decoded work item's verdict is consistent.
///
/// The hash of work as chips receive it is checked against an oracle that shares no code
/// with it: the first 80 input bytes (zero-padded) as a header, turned into Icarus work,
/// a work item, rolled work and a getwork round trip, must hash for a nonce taken from the
/// input exactly as the `sha2` crate hashes that header with that nonce.
pub fn asic_decoders(data: &[u8]) {
    use crate::asic::{
        Bm1397Job, ChipFamily, ChipResult, IcarusWork, NonceValidator, RolledWork, WorkItem,
        header_from_getwork, midstate_from_cgminer,
    };
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let header = Header::from_bytes(&core::array::from_fn(byte));
    let nonce = u32::from_le_bytes([byte(80), byte(81), byte(82), byte(83)]) ^ header.nonce;
    let oracle = |h: &Header| BlockHash::from_le_bytes(crate::sha256d(&h.to_bytes()));
    let want = oracle(&header.with_nonce(nonce));
    let item = WorkItem {
        nonce,
        ..WorkItem::from_header(&header)
    };
    assert_eq!(item.hash(), want);
    assert_eq!(IcarusWork::from_header(&header).item(nonce).hash(), want);
    let icarus = IcarusWork::from_bytes(&IcarusWork::from_header(&header).to_bytes())
        .expect("encoded Icarus work decodes");
    assert_eq!(icarus.item(nonce).hash(), want);
    let rolled = RolledWork::from_header(&header, 0x0000_6000, 4);
    for slot in 0..4 {
        if let (Some(version), Ok(item)) = (rolled.version(slot), rolled.item(slot, nonce)) {
            let h = Header { version, ..header }.with_nonce(nonce);
            assert_eq!(item.hash(), oracle(&h), "rolled slot {slot}");
        }
    }
    if let Ok(w) = IcarusWork::from_bytes(data) {
        assert_eq!(&w.to_bytes()[..], data);
        let item = w.item(0);
        let v = NonceValidator::new(Target::EASIEST).check(&item);
        assert_eq!(v.hash(), Some(item.hash()));
    }
    if let Ok(j) = Bm1397Job::from_bytes(data) {
        assert_eq!(&j.to_bytes()[..], data);
    }
    if let Ok(j) = Bm1397Job::from_command(data) {
        assert_eq!(&j.to_command()[..], data);
    }
    for family in [
        ChipFamily::Bm1397,
        ChipFamily::Bm1366,
        ChipFamily::Bm1368,
        ChipFamily::Bm1370,
    ] {
        if let Ok(r) = ChipResult::from_frame(family, data) {
            assert_eq!(ChipResult::from_frame(family, &r.to_frame()), Ok(r));
            let _ = r.origin(data.first().map_or(1, |&b| b as u16));
        }
    }
    if let Ok(h) = header_from_getwork(data) {
        assert_eq!(
            header_from_getwork(&crate::asic::header_to_getwork(&h)),
            Ok(h)
        );
    }
    if let Ok(m) = midstate_from_cgminer(data) {
        assert_eq!(&m.to_le_words_bytes()[..], data);
    }
}
