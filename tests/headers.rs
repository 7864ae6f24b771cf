//! Every real header in the shared test data: parse, re-serialise, hash, proof of work,
//! and for a sample, a scan that finds the real nonce with every backend.

mod common;

use sha256d_engine::{BlockHash, CompactTarget, Header, Target, TxMerkleNode};

struct Row {
    file: &'static str,
    height: u32,
    header_hex: String,
    hash: String,
    nbits: String,
    version: String,
    time: u32,
    nonce: u32,
    prev: String,
    merkle: String,
}

const FILES: [&str; 4] = [
    "headers/mainnet_checkpoint_headers.tsv",
    "headers/testnet3_checkpoint_headers.tsv",
    "headers/signet_checkpoint_headers.tsv",
    "headers/mainnet_headers_0_to_438.tsv",
];

fn rows(dir: &std::path::Path) -> Vec<Row> {
    let mut out = Vec::new();
    for file in FILES {
        let text = common::read(dir, file);
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().expect("header line").split('\t').collect();
        assert_eq!(
            &head[..3],
            &["height", "header_hex", "block_hash"],
            "{file}"
        );
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let c: Vec<&str> = line.split('\t').collect();
            out.push(Row {
                file,
                height: c[0].parse().expect("height"),
                header_hex: c[1].into(),
                hash: c[2].into(),
                nbits: c[3].into(),
                version: c[4].into(),
                time: c[5].parse().expect("time"),
                nonce: c[6].parse().expect("nonce"),
                prev: c[7].into(),
                merkle: c[8].into(),
            });
        }
    }
    out
}

#[test]
fn every_header_parses_hashes_and_meets_its_target() {
    let Some(dir) = common::testdata("real headers") else {
        return;
    };
    let rows = rows(&dir);
    assert_eq!(rows.len(), 436 + 1792 + 114 + 439, "row count");
    for r in &rows {
        let ctx = format!("{} height {}", r.file, r.height);
        let h = Header::from_hex(&r.header_hex).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(h.to_hex(), r.header_hex, "{ctx}: round trip");
        assert_eq!(h.block_hash().to_string(), r.hash, "{ctx}: hash");
        assert_eq!(
            h.bits,
            CompactTarget::from_be_hex(&r.nbits).unwrap(),
            "{ctx}"
        );
        assert_eq!(format!("{:08x}", h.version), r.version, "{ctx}: version");
        assert_eq!((h.time, h.nonce), (r.time, r.nonce), "{ctx}");
        assert_eq!(
            h.prev_blockhash,
            BlockHash::from_be_hex(&r.prev).unwrap(),
            "{ctx}"
        );
        assert_eq!(
            h.merkle_root,
            TxMerkleNode::from_be_hex(&r.merkle).unwrap(),
            "{ctx}"
        );
        let target = h.target().unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert!(target.is_met_by(&h.block_hash()), "{ctx}: proof of work");
        // nBits is canonical in every real header, so the lossy encoding round-trips.
        assert_eq!(
            target.to_compact_lossy(),
            h.bits,
            "{ctx}: compact round trip"
        );
        // The bitcoin crate agrees on the hash and on the target.
        let b = common::to_bitcoin(&h);
        assert_eq!(
            b.block_hash().to_string(),
            r.hash,
            "{ctx}: bitcoin crate hash"
        );
        assert_eq!(
            bitcoin::Target::from_compact(b.bits).to_le_bytes(),
            target.to_le_bytes(),
            "{ctx}: bitcoin crate target"
        );
    }
}

#[test]
fn consecutive_headers_link() {
    let Some(dir) = common::testdata("consecutive mainnet headers") else {
        return;
    };
    let text = common::read(&dir, "headers/mainnet_headers_0_to_438.tsv");
    let headers: Vec<Header> = text
        .lines()
        .skip(1)
        .map(|l| Header::from_hex(l.split('\t').nth(1).unwrap()).unwrap())
        .collect();
    assert_eq!(headers.len(), 439);
    assert_eq!(
        headers[0].block_hash().to_string(),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
    for pair in headers.windows(2) {
        assert_eq!(pair[1].prev_blockhash, pair[0].block_hash());
    }
}

#[test]
fn genesis_json() {
    let Some(dir) = common::testdata("genesis.json") else {
        return;
    };
    let v: serde_json::Value =
        serde_json::from_str(&common::read(&dir, "headers/genesis.json")).unwrap();
    let h = Header::from_hex(v["header_hex"].as_str().unwrap()).unwrap();
    assert_eq!(
        h.block_hash().to_string(),
        v["block_hash"].as_str().unwrap()
    );
    assert_eq!(h.nonce as u64, v["nonce"].as_u64().unwrap());
    assert_eq!(h.time as u64, v["time"].as_u64().unwrap());
    assert_eq!(
        h.merkle_root.to_string(),
        v["merkle_root"].as_str().unwrap()
    );
    // The genesis coinbase is the only transaction: its txid is the merkle root.
    let coinbase = hex::decode(v["coinbase_tx_hex"].as_str().unwrap()).unwrap();
    assert_eq!(
        sha256d_engine::sha256d(&coinbase),
        h.merkle_root.to_le_bytes()
    );
}

/// A scan over a window around the real nonce finds exactly that nonce, with every
/// backend, for a sample of headers from every network (including windows that start at
/// 0 or end at u32::MAX when the real nonce is near either end).
#[test]
fn scans_find_the_real_nonce() {
    let Some(dir) = common::testdata("real-header scans") else {
        return;
    };
    let rows = rows(&dir);
    let backends = common::backends();
    const HALF: u32 = 3000;
    let mut scanned = 0;
    for (i, r) in rows.iter().enumerate() {
        if i % 23 != 0 {
            continue;
        }
        let h = Header::from_hex(&r.header_hex).unwrap();
        let target = h.target().unwrap();
        let start = h.nonce.saturating_sub(HALF);
        let end = h.nonce.saturating_add(HALF);
        for b in &backends {
            let hits = b.scan(&h, &target, start..=end);
            assert_eq!(hits.len(), 1, "{} height {} backend {b}", r.file, r.height);
            assert_eq!(hits[0].nonce, h.nonce);
            assert_eq!(hits[0].hash, h.block_hash());
        }
        scanned += 1;
    }
    assert!(scanned > 100, "sampled {scanned} headers");
}

#[test]
fn difficulty_of_real_targets_matches_bitcoin_crate() {
    let Some(dir) = common::testdata("real-header difficulty") else {
        return;
    };
    for r in rows(&dir).iter().filter(|r| r.file.contains("mainnet")) {
        let h = Header::from_hex(&r.header_hex).unwrap();
        let ours = h.target().unwrap().difficulty();
        let b = bitcoin::Target::from_compact(common::to_bitcoin(&h).bits);
        let theirs = b.difficulty_float();
        assert!(
            ((ours - theirs) / theirs).abs() < 1e-12,
            "height {}: {ours} vs {theirs}",
            r.height
        );
        // Difficulty -> target -> difficulty is exact up to f64 rounding.
        let back = Target::from_difficulty(ours).unwrap().difficulty();
        assert!(((back - ours) / ours).abs() < 1e-15, "height {}", r.height);
    }
}
