//! Merkle roots, Stratum coinbase branches and the BIP 141 witness commitment, checked
//! against every real block in the shared test data and against the `bitcoin` crate.

mod common;

use bitcoin::hashes::Hash as _;
use proptest::prelude::*;
use serde_json::Value;
use sha256d_engine::hash::Wtxid;
use sha256d_engine::merkle::{
    MerkleError, coinbase_branch, commitment_from_script, merkle_root, root_from_branch,
    witness_commitment, witness_commitment_script,
};
use sha256d_engine::{Header, TxMerkleNode, Txid};

const BLOCK_FILES: [&str; 11] = [
    "blocks/block169482.json",
    "blocks/block227835.json",
    "blocks/block227836.json",
    "blocks/block363703.json",
    "blocks/block370661.json",
    "blocks/block383616.json",
    "blocks/block481815.json",
    "blocks/block481829.json",
    "blocks/block_testnet21066.json",
    "blocks/block_testnet32768.json",
    "blocks/block_testnet700000.json",
];

fn json(dir: &std::path::Path, rel: &str) -> Value {
    serde_json::from_str(&common::read(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("field {key} is not a string"))
}

/// A list of display-order hex hashes.
fn txids(v: &Value, key: &str) -> Vec<Txid> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array"))
        .iter()
        .map(|t| Txid::from_be_hex(t.as_str().expect("hex string")).expect("64 hex digits"))
        .collect()
}

/// The root check every real block goes through: `merkle_root`, the branch route, and
/// the `bitcoin` crate, all against the header's root.
fn check_block(ctx: &str, ids: &[Txid], header_root: TxMerkleNode) {
    let root = merkle_root(ids).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(root.root, header_root, "{ctx}: merkle root");
    assert!(!root.mutated, "{ctx}: a real block is not mutated");
    let branch = coinbase_branch(ids);
    assert_eq!(
        branch.len(),
        (usize::BITS - (ids.len() - 1).leading_zeros()) as usize,
        "{ctx}: branch length is ceil(log2(n))"
    );
    assert_eq!(
        root_from_branch(ids[0], &branch),
        header_root,
        "{ctx}: root from coinbase branch"
    );
}

#[test]
fn every_block_file_root_matches_its_header() {
    let Some(dir) = common::testdata("merkle roots of blocks/*.json") else {
        return;
    };
    for file in BLOCK_FILES {
        let b = json(&dir, file);
        let ids = txids(&b, "txids");
        assert_eq!(ids.len() as u64, b["tx_count"].as_u64().unwrap(), "{file}");
        let header = Header::from_hex(s(&b, "header_hex")).expect("header");
        assert_eq!(
            header.merkle_root,
            TxMerkleNode::from_be_hex(s(&b, "merkle_root")).unwrap(),
            "{file}"
        );
        check_block(file, &ids, header.merkle_root);
    }
}

#[test]
fn mainnet_blocks_0_to_438() {
    let Some(dir) = common::testdata("merkle roots of mainnet blocks 0..=438") else {
        return;
    };
    let blocks = json(&dir, "blocks/mainnet_blocks_0_to_438_txids.json");
    let blocks = blocks.as_array().expect("array");
    assert_eq!(blocks.len(), 439);
    let mut multi = 0;
    for b in blocks {
        let ctx = format!("height {}", b["height"]);
        let ids = txids(b, "txids");
        multi += usize::from(ids.len() > 1);
        let header = Header::from_hex(s(b, "header_hex")).expect("header");
        check_block(&ctx, &ids, header.merkle_root);
    }
    assert!(multi > 0, "some early blocks have more than a coinbase");
}

#[test]
fn witness_commitment_of_block_481829() {
    let Some(dir) = common::testdata("witness commitment of block 481829") else {
        return;
    };
    let b = json(&dir, "blocks/block481829.json");
    let wtxids: Vec<Wtxid> = txids(&b, "wtxids")
        .iter()
        .map(|t| Wtxid::from_le_bytes(t.to_le_bytes()))
        .collect();
    let coinbase_hex = s(&b, "coinbase_tx_hex");
    let coinbase: bitcoin::Transaction =
        bitcoin::consensus::encode::deserialize_hex(coinbase_hex).expect("coinbase parses");
    // The witness nonce is the coinbase input's single witness item.
    let witness: Vec<&[u8]> = coinbase.input[0].witness.iter().collect();
    assert_eq!(witness.len(), 1);
    let nonce: [u8; 32] = witness[0].try_into().expect("32-byte witness nonce");
    // The commitment is the last output in the aa21a9ed form.
    let script = coinbase
        .output
        .iter()
        .rev()
        .map(|o| o.script_pubkey.as_bytes())
        .find(|s| commitment_from_script(s).is_some())
        .expect("a commitment output");

    let commitment = witness_commitment(&wtxids, nonce);
    assert_eq!(&witness_commitment_script(commitment)[..], script);
    assert_eq!(commitment_from_script(script), Some(commitment));
    // The coinbase's own wtxid slot is ignored.
    let mut other = wtxids.clone();
    other[0] = Wtxid::from_le_bytes([0xee; 32]);
    assert_eq!(witness_commitment(&other, nonce), commitment);
    // A different nonce gives a different commitment.
    assert_ne!(witness_commitment(&wtxids, [1; 32]), commitment);

    // The `bitcoin` crate agrees, from the raw block.
    let raw = std::fs::read(dir.join("blocks/raw/block481829.dat")).expect("raw block");
    let block: bitcoin::Block = bitcoin::consensus::deserialize(&raw).expect("block parses");
    assert!(block.check_witness_commitment());
    let root = block.witness_root().expect("witness root");
    assert_eq!(
        bitcoin::Block::compute_witness_commitment(&root, &nonce).to_byte_array(),
        commitment.to_le_bytes()
    );
}

#[test]
fn cve_2012_2459_duplicate_pairs_are_flagged() {
    let t = |b: u8| Txid::from_le_bytes([b; 32]);
    // Five transactions: the last is paired with itself by the algorithm, no mutation.
    let odd = [t(1), t(2), t(3), t(4), t(5)];
    let r = merkle_root(&odd).unwrap();
    assert!(!r.mutated);
    // Appending the duplicate explicitly gives the same root: the mutated block.
    let mut dup = odd.to_vec();
    dup.push(t(5));
    let m = merkle_root(&dup).unwrap();
    assert_eq!(m.root, r.root);
    assert!(m.mutated);
    // A duplicate one level up: 6 leaves become 3 nodes; duplicating the last two
    // leaves' pair gives 8 leaves whose level 1 has a duplicate pair.
    let six = [t(1), t(2), t(3), t(4), t(5), t(6)];
    let eight = [t(1), t(2), t(3), t(4), t(5), t(6), t(5), t(6)];
    let (r6, r8) = (merkle_root(&six).unwrap(), merkle_root(&eight).unwrap());
    assert_eq!(r6.root, r8.root);
    assert!(!r6.mutated);
    assert!(r8.mutated);
    // Equal neighbours in different pairs are no mutation.
    assert!(!merkle_root(&[t(1), t(2), t(2), t(3)]).unwrap().mutated);
    assert_eq!(merkle_root(&[]), Err(MerkleError::Empty));
    assert!(!MerkleError::Empty.to_string().is_empty());
}

fn bitcoin_root(ids: &[[u8; 32]]) -> [u8; 32] {
    bitcoin::merkle_tree::calculate_root(
        ids.iter()
            .map(|b| bitcoin::hashes::sha256d::Hash::from_byte_array(*b)),
    )
    .expect("non-empty")
    .to_byte_array()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn root_matches_the_bitcoin_crate(ids in prop::collection::vec(any::<[u8; 32]>(), 1..70)) {
        let txids: Vec<Txid> = ids.iter().copied().map(Txid::from_le_bytes).collect();
        let root = merkle_root(&txids).unwrap();
        prop_assert_eq!(root.root.to_le_bytes(), bitcoin_root(&ids));
        prop_assert!(!root.mutated, "random hashes never collide");
        prop_assert_eq!(root_from_branch(txids[0], &coinbase_branch(&txids)), root.root);
    }

    /// Any odd list of 3 or more and the same list with its last hash repeated have the
    /// same root, and only the second is flagged.
    #[test]
    fn duplicating_the_last_of_an_odd_list_is_flagged(
        ids in prop::collection::vec(any::<[u8; 32]>(), 1..40)
            .prop_filter("odd, at least 3", |v| v.len() % 2 == 1 && v.len() >= 3)
    ) {
        let txids: Vec<Txid> = ids.iter().copied().map(Txid::from_le_bytes).collect();
        let mut dup = txids.clone();
        dup.push(*txids.last().unwrap());
        let (a, b) = (merkle_root(&txids).unwrap(), merkle_root(&dup).unwrap());
        prop_assert_eq!(a.root, b.root);
        prop_assert!(!a.mutated);
        prop_assert!(b.mutated);
    }

    #[test]
    fn witness_commitment_matches_the_bitcoin_crate(
        ids in prop::collection::vec(any::<[u8; 32]>(), 1..30),
        nonce in any::<[u8; 32]>(),
    ) {
        let mut leaves = ids.clone();
        leaves[0] = [0; 32];
        let root = bitcoin::WitnessMerkleNode::from_byte_array(bitcoin_root(&leaves));
        let expected = bitcoin::Block::compute_witness_commitment(&root, &nonce);
        let ids: Vec<Wtxid> = ids.into_iter().map(Wtxid::from_le_bytes).collect();
        prop_assert_eq!(witness_commitment(&ids, nonce).to_le_bytes(), expected.to_byte_array());
    }
}
