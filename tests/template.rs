//! `getblocktemplate` work: BIP 34 height pushes, the coinbase builder (checked with the
//! `bitcoin` crate), a template assembled from the real segwit block 481829, the Stratum
//! job built from a template, and bad templates.

mod common;

use std::path::Path;

use bitcoin::hashes::Hash as _;
use serde_json::{Value, json};
use sha256d_engine::hash::Wtxid;
use sha256d_engine::merkle::{self, witness_commitment, witness_commitment_script};
use sha256d_engine::source::WorkSource;
use sha256d_engine::stratum::JobError;
use sha256d_engine::template::{
    BlockTemplate, COINBASE_TX_VERSION, TemplateError, bip34_height_push, script_num,
};
use sha256d_engine::{Header, Txid};

#[test]
fn bip34_height_encodings() {
    let cases: [(u32, &[u8]); 16] = [
        (0, &[0x00]),
        (1, &[0x51]),
        (2, &[0x52]),
        (16, &[0x60]),
        (17, &[0x01, 0x11]),
        (127, &[0x01, 0x7f]),
        (128, &[0x02, 0x80, 0x00]),
        (255, &[0x02, 0xff, 0x00]),
        (256, &[0x02, 0x00, 0x01]),
        (32767, &[0x02, 0xff, 0x7f]),
        (32768, &[0x03, 0x00, 0x80, 0x00]),
        (65535, &[0x03, 0xff, 0xff, 0x00]),
        (8_388_607, &[0x03, 0xff, 0xff, 0x7f]),
        (8_388_608, &[0x04, 0x00, 0x00, 0x80, 0x00]),
        (481_829, &[0x03, 0x25, 0x5a, 0x07]),
        (u32::MAX, &[0x05, 0xff, 0xff, 0xff, 0xff, 0x00]),
    ];
    for (height, want) in cases {
        assert_eq!(bip34_height_push(height), want, "height {height}");
        // Bitcoin Core's `CScript() << nHeight`, which the `bitcoin` crate's push_int
        // mirrors (small integers as OP_0 / OP_1..OP_16).
        let core = bitcoin::script::Builder::new()
            .push_int(i64::from(height))
            .into_bytes();
        assert_eq!(
            bip34_height_push(height),
            core,
            "height {height} vs push_int"
        );
    }
    for n in [
        0i64,
        1,
        -1,
        127,
        128,
        -128,
        255,
        256,
        -32768,
        0x7fff_ffff,
        -0x7fff_ffff,
        1 << 40,
    ] {
        let mut buf = [0u8; 8];
        let len = bitcoin::script::write_scriptint(&mut buf, n);
        assert_eq!(script_num(n), &buf[..len], "CScriptNum {n}");
    }
}

#[test]
fn real_coinbases_open_with_our_height_push() {
    let Some(dir) = common::testdata("BIP 34 heights of real coinbases") else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("blocks")).expect("blocks/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("block") || !name.ends_with(".json") {
            continue;
        }
        let b: Value =
            serde_json::from_str(&common::read(&dir, &format!("blocks/{name}"))).unwrap();
        let (Some(height), Some(in_cb)) = (
            b["height_from_filename"].as_u64(),
            b["bip34_height_in_coinbase"].as_u64(),
        ) else {
            continue;
        };
        if height != in_cb {
            continue; // before BIP 34, the coinbase starts with something else
        }
        let tx: bitcoin::Transaction =
            bitcoin::consensus::encode::deserialize_hex(b["coinbase_tx_hex"].as_str().unwrap())
                .unwrap();
        let sig = tx.input[0].script_sig.as_bytes();
        let push = bip34_height_push(height as u32);
        assert_eq!(&sig[..push.len()], push, "{name}");
        checked += 1;
    }
    assert!(checked >= 8, "checked {checked} coinbases");
}

/// What the test needs of block 481829.
struct Block481829 {
    json: Value,
    block: bitcoin::Block,
    payout_script: Vec<u8>,
    value: u64,
    commitment_script: Vec<u8>,
}

fn block481829(dir: &Path) -> Block481829 {
    let json: Value = serde_json::from_str(&common::read(dir, "blocks/block481829.json")).unwrap();
    let raw = std::fs::read(dir.join("blocks/raw/block481829.dat")).expect("raw block");
    let block: bitcoin::Block = bitcoin::consensus::deserialize(&raw).expect("block parses");
    let cb = &block.txdata[0];
    Block481829 {
        payout_script: cb.output[0].script_pubkey.to_bytes(),
        value: cb.output.iter().map(|o| o.value.to_sat()).sum(),
        commitment_script: cb.output[1].script_pubkey.to_bytes(),
        json,
        block,
    }
}

/// A template from the block's own fields and transactions (with or without their data
/// and the node's witness commitment).
fn template_json(b: &Block481829, with_data: bool, default_commitment: bool) -> Value {
    let j = &b.json;
    let txids = j["txids"].as_array().unwrap();
    let wtxids = j["wtxids"].as_array().unwrap();
    let transactions: Vec<Value> = txids
        .iter()
        .zip(wtxids)
        .zip(&b.block.txdata)
        .skip(1)
        .map(|((t, w), tx)| {
            let mut o = json!({"txid": t, "hash": w, "depends": [], "fee": 0});
            if with_data {
                o["data"] = json!(bitcoin::consensus::encode::serialize_hex(tx));
            }
            o
        })
        .collect();
    let mut t = json!({
        "capabilities": ["proposal"],
        "version": u32::from_str_radix(j["version"].as_str().unwrap(), 16).unwrap(),
        "rules": ["csv", "segwit"],
        "previousblockhash": j["prev_hash"],
        "transactions": transactions,
        "coinbasevalue": b.value,
        "bits": j["nbits"],
        "curtime": j["time"],
        "height": 481829,
        "mintime": 1503540000,
    });
    if default_commitment {
        t["default_witness_commitment"] = json!(hex::encode(&b.commitment_script));
    }
    t
}

fn bitcoin_header(h: &Header) -> bitcoin::block::Header {
    bitcoin::consensus::deserialize(&h.to_bytes()).unwrap()
}

#[test]
fn template_from_block_481829() {
    let Some(dir) = common::testdata("template from block 481829") else {
        return;
    };
    let b = block481829(&dir);
    let json = template_json(&b, true, false);
    let t = BlockTemplate::from_json(&json.to_string())
        .expect("template")
        .with_payout_script(b.payout_script.clone());
    // The RPC response form reads the same.
    let rpc = json!({"result": json, "error": null, "id": "x"}).to_string();
    assert_eq!(
        BlockTemplate::from_json(&rpc)
            .unwrap()
            .with_payout_script(b.payout_script.clone()),
        t
    );
    assert_eq!(t.transactions.len(), 2019);
    assert!(t.is_segwit());

    let extranonce = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
    let cb = t.coinbase(&extranonce).expect("coinbase");
    assert_eq!(&cb.as_bytes()[cb.extranonce_range()], extranonce);
    assert_eq!(
        [cb.coinb1(), &extranonce, cb.coinb2()].concat(),
        cb.as_bytes()
    );

    // The `bitcoin` crate reads it as the coinbase we meant.
    let tx: bitcoin::Transaction = bitcoin::consensus::deserialize(cb.as_bytes()).expect("parses");
    assert!(tx.is_coinbase());
    assert_eq!(tx.version.0, COINBASE_TX_VERSION as i32);
    assert_eq!(tx.lock_time.to_consensus_u32(), 0);
    assert_eq!(tx.input[0].sequence.0, u32::MAX);
    assert_eq!(tx.output.len(), 2);
    assert_eq!(tx.output[0].value.to_sat(), b.value);
    assert_eq!(tx.output[0].script_pubkey.as_bytes(), b.payout_script);
    assert_eq!(tx.compute_txid().to_byte_array(), cb.txid().to_le_bytes());
    let sig = tx.input[0].script_sig.as_bytes();
    assert_eq!(sig, [&[0x03, 0x25, 0x5a, 0x07][..], &extranonce].concat());

    // The witness commitment output is the block's own: the same wtxids, and the block's
    // witness nonce is zero, as ours.
    assert_eq!(tx.output[1].value.to_sat(), 0);
    assert_eq!(tx.output[1].script_pubkey.as_bytes(), b.commitment_script);
    let wtxids: Vec<Wtxid> = b.json["wtxids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| Wtxid::from_be_hex(w.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        t.computed_witness_commitment(),
        witness_commitment(&wtxids, [0; 32])
    );
    assert_eq!(
        tx.output[1].script_pubkey.as_bytes(),
        witness_commitment_script(witness_commitment(&wtxids, [0; 32]))
    );
    // The node's default_witness_commitment gives the same coinbase.
    let with_default = BlockTemplate::from_json(&template_json(&b, false, true).to_string())
        .unwrap()
        .with_payout_script(b.payout_script.clone());
    assert_eq!(
        with_default.coinbase(&extranonce).unwrap().as_bytes(),
        cb.as_bytes()
    );

    // The header's merkle root is over (our coinbase txid, the block's other txids).
    let header = t.header(&extranonce, t.curtime, 12345).expect("header");
    let mut txids: Vec<Txid> = b.json["txids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Txid::from_be_hex(x.as_str().unwrap()).unwrap())
        .collect();
    txids[0] = cb.txid();
    assert_eq!(
        header.merkle_root,
        merkle::merkle_root(&txids).unwrap().root
    );
    assert_eq!(
        header.prev_blockhash.to_le_bytes(),
        b.block.header.prev_blockhash.to_byte_array()
    );
    assert_eq!(header.bits.to_consensus(), 0x1801_3ce9);
    assert_eq!(
        (header.version, header.time, header.nonce),
        (0x2000_0002, 1_503_545_437, 12345)
    );
    assert_eq!(
        with_default.header(&extranonce, t.curtime, 12345).unwrap(),
        header
    );

    // The whole block: our coinbase (with its witness nonce) and the real transactions,
    // which the `bitcoin` crate accepts (merkle root, witness commitment, BIP 34 height).
    let raw = t.block_bytes(&header, &cb).expect("block bytes");
    let block: bitcoin::Block = bitcoin::consensus::deserialize(&raw).expect("block parses");
    assert_eq!(block.header, bitcoin_header(&header));
    assert_eq!(block.txdata.len(), 2020);
    assert!(block.check_merkle_root());
    assert!(block.check_witness_commitment());
    assert_eq!(block.bip34_block_height().unwrap(), 481_829);
    let witness: Vec<&[u8]> = block.txdata[0].input[0].witness.iter().collect();
    assert_eq!(witness, [&[0u8; 32][..]]);
    assert_eq!(
        block.txdata[0].compute_txid().to_byte_array(),
        cb.txid().to_le_bytes()
    );
    assert_eq!(block.txdata[1..], b.block.txdata[1..]);
    // Without the transactions' data there is no block to assemble.
    assert_eq!(
        with_default.block_bytes(&header, &cb),
        Err(TemplateError::MissingTransactionData { index: 0 })
    );
}

#[test]
fn to_job_rolls_the_same_work() {
    let Some(dir) = common::testdata("template to job") else {
        return;
    };
    let b = block481829(&dir);
    let t = BlockTemplate::from_json(&template_json(&b, false, false).to_string())
        .unwrap()
        .with_payout_script(b.payout_script.clone());
    for tag in [&b""[..], &b"/sha256d-engine/"[..]] {
        let t = t.clone().with_coinbase_tag(tag.to_vec());
        let extranonce1 = [0xe1, 0xe2, 0xe3];
        let job = t.to_job(&b.payout_script, &extranonce1, 4).expect("job");
        assert_eq!(job.prevhash(), t.previous_block_hash);
        assert_eq!(
            (job.version(), job.ntime(), job.nbits()),
            (t.version, t.curtime, t.bits)
        );
        assert_eq!(job.notify().merkle_branch.len(), 11); // ceil(log2(2020))
        for counter in [0u64, 1, 0xdead_beef, u64::from(u32::MAX)] {
            let en2 = job.extranonce2_for(counter);
            let full = [&extranonce1[..], &en2].concat();
            assert_eq!(
                job.coinbase(&en2).unwrap(),
                t.coinbase(&full).unwrap().as_bytes(),
                "counter {counter}"
            );
            assert_eq!(
                job.share_header(&en2, t.curtime + 7, 99, None).unwrap(),
                t.header(&full, t.curtime + 7, 99).unwrap(),
                "counter {counter}"
            );
            assert_eq!(
                WorkSource::header(&job, counter),
                Some(t.header(&full, t.curtime, 0).unwrap())
            );
        }
        assert_eq!(WorkSource::header(&job, 1 << 32), None);
    }
    assert_eq!(
        t.to_job(&b.payout_script, &[], 0).unwrap_err(),
        TemplateError::Job(JobError::Extranonce2Size(0))
    );
    assert_eq!(
        t.to_job(&[], &[1], 4).unwrap_err(),
        TemplateError::NoPayoutScript
    );
}

fn minimal() -> Value {
    json!({
        "version": 536870912,
        "previousblockhash": "000000000000000000bc331eb461d522cb3673b3881217dc30c6a5cf91710f23",
        "transactions": [],
        "coinbasevalue": 625000000,
        "bits": "18013ce9",
        "curtime": 1700000000,
        "height": 800000
    })
}

fn field_of(e: TemplateError) -> &'static str {
    match e {
        TemplateError::Malformed { field, .. } => field,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn coinbase_without_segwit_has_one_output() {
    let t = BlockTemplate::from_json(&minimal().to_string())
        .unwrap()
        .with_payout_script(vec![0x51]);
    assert!(t.witness_commitment_script().is_none());
    let cb = t.coinbase(&[0; 4]).unwrap();
    assert!(!cb.has_witness_commitment());
    assert_eq!(cb.to_block_bytes(), cb.as_bytes());
    let tx: bitcoin::Transaction = bitcoin::consensus::deserialize(cb.as_bytes()).unwrap();
    assert_eq!(tx.output.len(), 1);
    assert_eq!(tx.output[0].value.to_sat(), 625_000_000);
    // A lone coinbase is the merkle root.
    assert_eq!(
        t.header(&[0; 4], 1, 2).unwrap().merkle_root.to_le_bytes(),
        cb.txid().to_le_bytes()
    );
    // Negative versions (as Core prints a version with the top bit set) are read as bits.
    let mut v = minimal();
    v["version"] = json!(-1);
    assert_eq!(
        BlockTemplate::from_json(&v.to_string()).unwrap().version,
        u32::MAX
    );
    // BIP 22's older form: only `hash`, which is the txid.
    let mut v = minimal();
    v["transactions"] = json!([{"hash": "11".repeat(32)}]);
    let t2 = BlockTemplate::from_json(&v.to_string()).unwrap();
    assert_eq!(t2.transactions[0].wtxid, Wtxid::from_le_bytes([0x11; 32]));
    assert_eq!(t2.transactions[0].txid.to_le_bytes(), [0x11; 32]);
}

#[test]
fn bad_templates_are_typed_errors() {
    let parse = |v: &Value| BlockTemplate::from_json(&v.to_string());
    assert!(parse(&minimal()).is_ok());
    assert_eq!(field_of(BlockTemplate::from_json("{").unwrap_err()), "json");
    assert_eq!(
        field_of(BlockTemplate::from_json("[]").unwrap_err()),
        "result"
    );
    for field in [
        "version",
        "previousblockhash",
        "transactions",
        "coinbasevalue",
        "bits",
        "curtime",
        "height",
    ] {
        let mut v = minimal();
        v.as_object_mut().unwrap().remove(field);
        assert_eq!(field_of(parse(&v).unwrap_err()), field, "missing {field}");
    }
    let bad: [(&str, Value); 14] = [
        ("version", json!("20000000")),
        ("version", json!(1u64 << 32)),
        ("previousblockhash", json!("00")),
        ("previousblockhash", json!(5)),
        ("transactions", json!({})),
        ("coinbasevalue", json!(-1)),
        ("coinbasevalue", json!(21_000_000u64 * 100_000_000 + 1)),
        ("coinbasevalue", json!(1.5)),
        ("bits", json!("1d00ffff00")),
        ("curtime", json!(1u64 << 32)),
        ("height", json!(-5)),
        ("default_witness_commitment", json!("6a24aa21a9ed")),
        ("default_witness_commitment", json!("zz")),
        ("rules", json!("segwit")),
    ];
    for (field, value) in bad {
        let mut v = minimal();
        v[field] = value.clone();
        let e = parse(&v).unwrap_err();
        assert!(!e.to_string().contains('\n'));
        assert_eq!(field_of(e), field, "{field} = {value}");
    }
    let bad_txs: [(&str, Value); 5] = [
        ("transactions", json!([5])),
        ("transactions[].txid", json!([{"data": "00"}])),
        ("transactions[].txid", json!([{"txid": "12"}])),
        (
            "transactions[].hash",
            json!([{"txid": "11".repeat(32), "hash": 7}]),
        ),
        (
            "transactions[].data",
            json!([{"txid": "11".repeat(32), "data": "0"}]),
        ),
    ];
    for (field, txs) in bad_txs {
        let mut v = minimal();
        v["transactions"] = txs.clone();
        let e = parse(&v).unwrap_err();
        assert!(e.to_string().contains("transaction 0"), "{e}");
        assert_eq!(field_of(e), field, "{txs}");
    }
    assert!(matches!(
        BlockTemplate::from_json(r#"{"result":null,"error":{"code":-10,"message":"IBD"},"id":1}"#),
        Err(TemplateError::Rpc(_))
    ));

    // Coinbase limits.
    let t = parse(&minimal()).unwrap();
    assert_eq!(t.header(&[0; 4], 0, 0), Err(TemplateError::NoPayoutScript));
    let t = t.with_payout_script(vec![0x51]);
    let long = t.clone().with_coinbase_tag(vec![0; 100]);
    assert_eq!(long.coinbase(&[]), Err(TemplateError::ScriptSigLength(104)));
    let mut low = minimal();
    low["height"] = json!(5);
    let low = parse(&low).unwrap().with_payout_script(vec![0x51]);
    assert_eq!(low.coinbase(&[]), Err(TemplateError::ScriptSigLength(1)));
    assert!(low.coinbase(&[0]).is_ok());
    // A template whose last two transactions are the same makes a mutated tree.
    let mut dup = minimal();
    dup["transactions"] =
        json!([{"txid": "22".repeat(32)}, {"txid": "33".repeat(32)}, {"txid": "33".repeat(32)}]);
    let dup = parse(&dup).unwrap().with_payout_script(vec![0x51]);
    assert_eq!(
        dup.header(&[0; 4], 0, 0),
        Err(TemplateError::MutatedMerkleTree)
    );
    // The Stratum path refuses it too: no extranonce2 can repair the repeat.
    assert_eq!(
        dup.to_job(&[0x51], &[1, 2, 3, 4], 4),
        Err(TemplateError::MutatedMerkleTree)
    );
    // The same template without the repeat makes a job.
    let mut ok = minimal();
    ok["transactions"] = json!([{"txid": "22".repeat(32)}, {"txid": "33".repeat(32)}]);
    let ok = parse(&ok).unwrap().with_payout_script(vec![0x51]);
    assert!(ok.to_job(&[0x51], &[1, 2, 3, 4], 4).is_ok());
}
