//! NIST CAVP SHA-256 vectors (ShortMsg, LongMsg, Monte) through the crate's `sha256` and
//! `sha256d` helpers and through its own scalar compression function.

mod common;

use sha256d_engine::sha256::{IV, compress, sha256, state_to_bytes};

/// (message, digest) records of a ShortMsg/LongMsg `.rsp` file. `Len` is in bits; the
/// `Len = 0` record carries `Msg = 00`, which must be ignored.
fn records(text: &str) -> Vec<(Vec<u8>, [u8; 32])> {
    let mut out = Vec::new();
    let mut len = None;
    let mut msg = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Len = ") {
            len = Some(v.parse::<usize>().unwrap() / 8);
        } else if let Some(v) = line.strip_prefix("Msg = ") {
            let mut m = hex::decode(v).unwrap();
            m.truncate(len.expect("Len before Msg"));
            msg = Some(m);
        } else if let Some(v) = line.strip_prefix("MD = ") {
            let md: [u8; 32] = hex::decode(v).unwrap().try_into().unwrap();
            out.push((msg.take().expect("Msg before MD"), md));
        }
    }
    out
}

/// SHA-256 with the crate's own `compress` and FIPS 180-4 padding.
fn own_sha256(msg: &[u8]) -> [u8; 32] {
    let mut padded = msg.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((msg.len() as u64) * 8).to_be_bytes());
    let mut state = IV;
    for block in padded.chunks_exact(64) {
        compress(&mut state, block.try_into().unwrap());
    }
    state_to_bytes(&state)
}

#[test]
fn short_and_long_messages() {
    let Some(dir) = common::testdata("NIST ShortMsg/LongMsg") else {
        return;
    };
    for (file, count) in [
        ("sha256_nist/SHA256ShortMsg.rsp", 65),
        ("sha256_nist/SHA256LongMsg.rsp", 64),
    ] {
        let recs = records(&common::read(&dir, file));
        assert_eq!(recs.len(), count, "{file}");
        for (msg, md) in recs {
            assert_eq!(sha256(&msg), md, "{file} len {}", msg.len());
            assert_eq!(
                own_sha256(&msg),
                md,
                "{file} len {} (own compress)",
                msg.len()
            );
            // sha256d is sha256 applied to the digest.
            assert_eq!(sha256d_engine::sha256d(&msg), sha256(&md), "{file}");
        }
    }
}

#[test]
fn monte_carlo() {
    let Some(dir) = common::testdata("NIST Monte") else {
        return;
    };
    let text = common::read(&dir, "sha256_nist/SHA256Monte.rsp");
    let seed = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Seed = "))
        .expect("seed");
    let expected: Vec<[u8; 32]> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("MD = "))
        .map(|v| hex::decode(v).unwrap().try_into().unwrap())
        .collect();
    assert_eq!(expected.len(), 100);
    let mut seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
    for (j, want) in expected.iter().enumerate() {
        let mut md = [seed, seed, seed];
        for _ in 3..1003 {
            let mut m = Vec::with_capacity(96);
            for d in &md {
                m.extend_from_slice(d);
            }
            // Alternate the two implementations so both are exercised on every chain.
            let next = if j % 2 == 0 {
                sha256(&m)
            } else {
                own_sha256(&m)
            };
            md = [md[1], md[2], next];
        }
        assert_eq!(&md[2], want, "checkpoint {j}");
        seed = md[2];
    }
}
