//! End-to-end tests of `sha256d-engine mine --node` against the test node, whose every
//! verdict is Bitcoin Core's consensus engine (libbitcoinkernel).
//!
//! The binary comes from `SHA256D_ENGINE_BIN` (a release build of
//! `sha256d-engine-cli`); `.ci/run` builds it and sets the variable.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::absolute::LockTime;
use bitcoin::blockdata::script::Builder;
use bitcoin::hashes::Hash;
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Witness,
};
use serde_json::Value;
use sha256d_engine_e2e_node::{Faults, NodeAuth, TestNode, regtest_subsidy};

fn binary() -> String {
    match std::env::var("SHA256D_ENGINE_BIN") {
        Ok(p) if std::path::Path::new(&p).is_file() => p,
        Ok(p) => panic!(
            "SHA256D_ENGINE_BIN={p} is not a file: build it with `cargo build --release -p sha256d-engine-cli`"
        ),
        Err(_) => panic!(
            "set SHA256D_ENGINE_BIN to the sha256d-engine binary (`cargo build --release -p sha256d-engine-cli`, then target/release/sha256d-engine)"
        ),
    }
}

/// A running `mine` process; killed and waited for when dropped, pass or fail.
struct Miner {
    child: Child,
    events: Receiver<(Instant, Value)>,
    stderr: Arc<Mutex<String>>,
    seen: Vec<(Instant, Value)>,
}

impl Miner {
    fn start(args: &[&str]) -> Miner {
        let mut child = Command::new(binary())
            .arg("mine")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sha256d-engine");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("not a JSON line: {line}"));
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr_pipe.read_to_string(&mut s);
            sink.lock().unwrap().push_str(&s);
        });
        Miner {
            child,
            events,
            stderr,
            seen: Vec::new(),
        }
    }

    /// The next event meeting `pred`, within `timeout`.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> (Instant, Value) {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((at, v)) => {
                    self.seen.push((at, v.clone()));
                    if pred(&v) {
                        return (at, v);
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {what} within {timeout:?}; stderr: {}",
                    self.stderr.lock().unwrap()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the miner ended before {what}; stderr: {}",
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// Waits for the process to end; then every event it printed is in `seen`.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Drain what is left of stdout.
                while let Ok(e) = self.events.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(e);
                }
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() > end {
                panic!(
                    "the miner did not end within {timeout:?}; stderr: {}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(ok.success());
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn of_type(&self, t: &str) -> Vec<Value> {
        self.seen
            .iter()
            .filter(|(_, v)| v["type"] == t)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn op_true_p2wsh() -> ScriptBuf {
    let witness_script = ScriptBuf::from(vec![0x51]);
    ScriptBuf::new_p2wsh(&witness_script.wscript_hash())
}

fn cookie_args(node: &TestNode) -> Vec<String> {
    vec![
        "--node".into(),
        node.url().into(),
        "--rpc-cookie".into(),
        node.cookie().display().to_string(),
    ]
}

fn args<'a>(base: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    base.iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect()
}

/// Spends output 0 of `prev` (P2WSH of OP_TRUE, `value` sats) to the same script, paying
/// `fee`.
fn spend(prev: bitcoin::Txid, value: u64, fee: u64) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: prev,
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[vec![0x51u8]]),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(value - fee),
            script_pubkey: op_true_p2wsh(),
        }],
    }
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// The test's own block on the node's tip: a coinbase paying bare OP_TRUE, ground to
/// regtest's target.
fn outside_block(node: &TestNode) -> Block {
    let height = node.height() + 1;
    let prev: BlockHash = node.tip_hash().parse().unwrap();
    let (_, mtp) = node.tip_times();
    let coinbase = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: Builder::new()
                .push_int(i64::from(height))
                .push_slice(b"outside")
                .into_script(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(regtest_subsidy(height)),
            script_pubkey: ScriptBuf::from(vec![0x51]),
        }],
    };
    let mut block = Block {
        header: bitcoin::block::Header {
            version: bitcoin::block::Version::from_consensus(0x2000_0000),
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::all_zeros(),
            time: now().max(mtp + 1),
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata: vec![coinbase],
    };
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    while block.header.validate_pow(block.header.target()).is_err() {
        block.header.nonce += 1;
    }
    block
}

#[test]
fn mines_120_blocks_then_witness_transactions() {
    let node = TestNode::start();
    let script = op_true_p2wsh();
    let script_hex = hex::encode(script.as_bytes());
    let base = cookie_args(&node);
    let t0 = Instant::now();
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--payout-script",
            &script_hex,
            "--blocks",
            "120",
            "--threads",
            "1",
            "--json",
            "--coinbase-tag",
            "e2e",
        ],
    ));
    let status = miner.wait_exit(Duration::from_secs(300));
    assert!(status.success(), "{status:?}: {}", miner.stderr());
    eprintln!("120 blocks in {:.1} s", t0.elapsed().as_secs_f64());
    assert_eq!(node.height(), 120);

    let submits = miner.of_type("submit");
    let accepted = submits.iter().filter(|s| s["accepted"] == true).count();
    assert_eq!(accepted, 120, "{submits:?}");
    assert!(submits.iter().all(|s| s["accepted"] == true), "{submits:?}");
    let summary = miner.of_type("summary");
    assert_eq!(summary[0]["accepted"], 120);
    // --json also gives the running totals once a second while mining: heights, hashes
    // and counts only grow, and never pass the summary's.
    let statuses = miner.of_type("status");
    if t0.elapsed() >= Duration::from_secs(3) {
        assert!(
            !statuses.is_empty(),
            "no status event in a run of {:?}",
            t0.elapsed()
        );
    }
    let field = |v: &Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    for pair in statuses.windows(2) {
        for k in ["height", "hashes", "found", "accepted"] {
            assert!(field(&pair[0], k) <= field(&pair[1], k), "{k}: {pair:?}");
        }
    }
    for st in &statuses {
        assert!(
            field(st, "accepted") <= 120 && field(st, "height") <= 121,
            "{st}"
        );
        assert!(st["rate"].as_f64().unwrap() >= 0.0, "{st}");
    }
    // The node's submissions agree, each judged by the kernel.
    assert_eq!(
        node.submissions()
            .iter()
            .filter(|s| s.answer.is_null())
            .count(),
        120
    );

    for height in 1..=120u32 {
        let block = node.block_at(height);
        let coinbase = &block.txdata[0];
        assert_eq!(coinbase.output[0].script_pubkey, script, "height {height}");
        assert_eq!(coinbase.output[0].value.to_sat(), regtest_subsidy(height));
        let sig = coinbase.input[0].script_sig.as_bytes();
        if height <= 16 {
            // OP_1 .. OP_16, as `CScript() << nHeight` writes them.
            assert_eq!(sig[0], 0x50 + height as u8, "height {height}");
        } else {
            assert_eq!(&sig[..2], &[0x01, height as u8], "height {height}");
        }
        // The 8-byte extranonce, then the tag.
        let push_len = if height <= 16 { 1 } else { 2 };
        assert_eq!(&sig[push_len + 8..], b"e2e", "height {height}");
        // Segwit coinbase: the commitment output and the 32-byte reserved value.
        assert_eq!(coinbase.input[0].witness.len(), 1);
        assert_eq!(coinbase.input[0].witness.nth(0).unwrap().len(), 32);
    }

    // Real witness transactions spending matured coinbases (heights 1 to 3), one
    // chained on another: the kernel checks the merkle root over 4 transactions and the
    // witness commitment.
    let cb = |h: u32| node.block_at(h).txdata[0].compute_txid();
    let fifty = regtest_subsidy(1);
    let a = spend(cb(1), fifty, 10_000);
    let b = spend(cb(2), fifty, 20_000);
    let c = spend(a.compute_txid(), fifty - 10_000, 30_000);
    let d = spend(cb(3), fifty, 40_000);
    for (tx, fee) in [(&a, 10_000), (&b, 20_000), (&c, 30_000), (&d, 40_000)] {
        node.add_transaction(tx.clone(), fee);
    }
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--payout-script",
            &script_hex,
            "--blocks",
            "1",
            "--threads",
            "1",
            "--json",
        ],
    ));
    let status = miner.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{}", miner.stderr());
    assert_eq!(node.height(), 121);
    let block = node.block_at(121);
    let txids: Vec<_> = block.txdata.iter().map(Transaction::compute_txid).collect();
    assert_eq!(
        &txids[1..],
        &[
            a.compute_txid(),
            b.compute_txid(),
            c.compute_txid(),
            d.compute_txid()
        ]
    );
    assert_eq!(
        block.txdata[0].output[0].value.to_sat(),
        regtest_subsidy(121) + 100_000
    );
    let template = &miner.of_type("template")[0];
    assert_eq!(template["transactions"], 4);

    // Again without the node's default_witness_commitment (the miner computes it) and
    // without long polling (the miner polls).
    node.set_faults(Faults {
        omit_default_witness_commitment: true,
        no_longpoll: true,
        ..Faults::default()
    });
    let e = spend(cb(4), fifty, 5_000);
    let f = spend(e.compute_txid(), fifty - 5_000, 5_000);
    node.add_transaction(e.clone(), 5_000);
    node.add_transaction(f.clone(), 5_000);
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--payout-script",
            &script_hex,
            "--blocks",
            "1",
            "--threads",
            "1",
            "--json",
        ],
    ));
    let status = miner.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{}", miner.stderr());
    assert_eq!(node.height(), 122);
    let block = node.block_at(122);
    assert_eq!(block.txdata.len(), 3);
    assert_eq!(block.txdata[2].compute_txid(), f.compute_txid());
    assert_eq!(miner.of_type("template")[0]["longpoll"], false);
}

#[test]
fn switches_to_a_new_tip_within_a_second() {
    let node = TestNode::start();
    let base = cookie_args(&node);
    // A search target harder than regtest's, so that blocks take a while and the miner
    // is mid-search when the tip moves.
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--payout-script",
            "51",
            "--blocks",
            "4",
            "--threads",
            "1",
            "--json",
            "--search-difficulty",
            "0.002",
        ],
    ));
    miner.wait_for("an accepted block", Duration::from_secs(120), |v| {
        v["type"] == "submit" && v["accepted"] == true
    });
    // Mining on the tip it just made: build and process a block of our own on it.
    let (old_tip, injected, injected_at) = loop {
        let old_tip = node.tip_hash();
        let block = outside_block(&node);
        let bytes = bitcoin::consensus::serialize(&block);
        let answer = node.process_block(&bytes);
        if answer.is_null() {
            break (old_tip, block.block_hash().to_string(), Instant::now());
        }
        // The miner extended the tip meanwhile: our block lost the race; again.
    };
    let (switched_at, v) =
        miner.wait_for("the switch to the new tip", Duration::from_secs(5), |v| {
            v["type"] == "template" && v["previous_block_hash"] == injected.as_str()
        });
    let switch = switched_at.saturating_duration_since(injected_at);
    eprintln!("switched in {switch:?} ({v})");
    assert!(switch < Duration::from_secs(1), "switched after {switch:?}");
    let status = miner.wait_exit(Duration::from_secs(300));
    assert!(status.success(), "{}", miner.stderr());
    let new_tips = miner.of_type("new_tip");
    assert!(
        new_tips
            .iter()
            .any(|t| t["previous_block_hash"] == injected.as_str()),
        "{new_tips:?}"
    );
    // After the switch, nothing was built on the old tip.
    let later: Vec<_> = node
        .submissions()
        .into_iter()
        .filter(|s| s.at >= switched_at)
        .collect();
    assert!(!later.is_empty());
    assert!(later.iter().all(|s| s.prev != old_tip), "{later:?}");
    assert!(later.iter().all(|s| s.answer.is_null()), "{later:?}");
    let answers: Vec<_> = node
        .submissions()
        .iter()
        .map(|s| s.answer.to_string())
        .collect();
    eprintln!("the node's answers: {answers:?}");
}

#[test]
fn rejected_blocks_carry_the_kernels_reason() {
    let node = TestNode::start();
    let base = cookie_args(&node);
    for (faults, reason) in [
        (
            Faults {
                height_offset: 1,
                ..Faults::default()
            },
            "bad-cb-height",
        ),
        (
            Faults {
                coinbase_value_extra: 1,
                ..Faults::default()
            },
            "bad-cb-amount",
        ),
    ] {
        node.set_faults(faults);
        let mut miner = Miner::start(&args(
            &base,
            &[
                "--payout-script",
                "51",
                "--blocks",
                "1",
                "--threads",
                "1",
                "--json",
            ],
        ));
        let (_, v) = miner.wait_for("a rejection", Duration::from_secs(60), |v| {
            v["type"] == "submit"
        });
        assert_eq!(v["accepted"], false, "{v}");
        assert_eq!(v["reason"], reason, "{v}");
        miner.interrupt();
        let status = miner.wait_exit(Duration::from_secs(10));
        assert_eq!(status.code(), Some(130), "{}", miner.stderr());
        assert_eq!(miner.of_type("summary")[0]["accepted"], 0);
        assert_eq!(node.height(), 0);
    }
    // The judge's other answers, on blocks of the test's own: a hash above the target,
    // and a block seen twice.
    node.set_faults(Faults::default());
    let mut block = outside_block(&node);
    block.header.nonce += 1;
    while block.header.validate_pow(block.header.target()).is_ok() {
        block.header.nonce += 1;
    }
    let answer = node.process_block(&bitcoin::consensus::serialize(&block));
    assert_eq!(answer, "high-hash");
    let block = outside_block(&node);
    let bytes = bitcoin::consensus::serialize(&block);
    assert_eq!(node.process_block(&bytes), Value::Null);
    assert_eq!(node.process_block(&bytes), "duplicate");
    assert_eq!(node.height(), 1);
}

#[test]
fn wrong_credentials_fail_clearly() {
    let node = TestNode::start_with(NodeAuth::UserPass("miner".into(), "secret".into()));
    let mut miner = Miner::start(&[
        "--node",
        node.url(),
        "--rpc-user",
        "miner",
        "--rpc-password",
        "wrong",
        "--payout-script",
        "51",
        "--threads",
        "1",
    ]);
    let status = miner.wait_exit(Duration::from_secs(20));
    let err = miner.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("refused the credentials"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // The right ones work.
    let mut miner = Miner::start(&[
        "--node",
        node.url(),
        "--rpc-user",
        "miner",
        "--rpc-password",
        "secret",
        "--payout-script",
        "51",
        "--threads",
        "1",
        "--blocks",
        "1",
        "--json",
    ]);
    assert!(
        miner.wait_exit(Duration::from_secs(60)).success(),
        "{}",
        miner.stderr()
    );
    assert_eq!(node.height(), 1);
}

#[test]
fn mainnet_address_on_regtest_fails_clearly() {
    let node = TestNode::start();
    let base = cookie_args(&node);
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--address",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "--threads",
            "1",
        ],
    ));
    let status = miner.wait_exit(Duration::from_secs(20));
    let err = miner.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("not for the node's network (regtest)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A regtest address is fine, and pays where it says.
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--address",
            "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
            "--threads",
            "1",
            "--blocks",
            "1",
            "--json",
        ],
    ));
    assert!(
        miner.wait_exit(Duration::from_secs(60)).success(),
        "{}",
        miner.stderr()
    );
    assert_eq!(
        hex::encode(
            node.block_at(1).txdata[0].output[0]
                .script_pubkey
                .as_bytes()
        ),
        "0014751e76e8199196d454941c45d1b3a323f1433bd6"
    );
}

#[test]
fn node_stopped_mid_run_ends_the_miner() {
    let mut node = TestNode::start();
    let base = cookie_args(&node);
    // Difficulty 1 on one thread: no block for minutes, so the miner is mid-search.
    let mut miner = Miner::start(&args(
        &base,
        &[
            "--payout-script",
            "51",
            "--threads",
            "1",
            "--json",
            "--search-difficulty",
            "1",
            "--give-up-after",
            "3",
        ],
    ));
    miner.wait_for("a template", Duration::from_secs(30), |v| {
        v["type"] == "template"
    });
    let stopped = Instant::now();
    node.stop();
    let status = miner.wait_exit(Duration::from_secs(30));
    eprintln!("the miner ended {:?} after the node", stopped.elapsed());
    let err = miner.stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: gave up after"), "{err}");
    assert!(!miner.of_type("error").is_empty());
}

/// `bench` on one thread: MH/s and the backend it ran.
fn bench_once(backend: &str, secs: u64) -> (f64, String) {
    let out = Command::new(binary())
        .args([
            "bench",
            "--backend",
            backend,
            "--threads",
            "1",
            "--repeat",
            "1",
            "--json",
        ])
        .args(["--seconds", &secs.to_string()])
        .output()
        .expect("bench");
    assert!(out.status.success());
    let row = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "bench")
        .expect("a bench row");
    (
        row["mhs"].as_f64().unwrap() * 1e6,
        row["backend"].as_str().unwrap().to_owned(),
    )
}

/// `mine --node`'s hash rate against `bench`'s, same backend and one thread, alternated
/// four times; the medians are compared, so that one run disturbed by other work on the
/// machine does not decide. The search target is difficulty 10^6, far harder than regtest's, so no block
/// interrupts the search. The bar is a loss of at most 3%; a shared CI machine is
/// noisier than that, so this asserts 10% and prints the figures. Opt-in (speed is
/// measured by hand, never by a timed test in CI: on a shared 2-core machine one-second
/// rates swing by 2x): `cargo test -- --ignored mining_speed_matches_bench`.
#[test]
#[ignore = "a speed measurement, run by hand; CI never times tests"]
fn mining_speed_matches_bench() {
    let node = TestNode::start();
    let base = cookie_args(&node);
    let secs: u64 = std::env::var("E2E_SPEED_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    // The backend `auto` picks, then that one by name for both, so that a calibration
    // on a busy machine cannot pick two different ones.
    let requested = std::env::var("SHA256D_BACKEND").unwrap_or_else(|_| "auto".into());
    let (_, backend) = bench_once(&requested, 1);
    let mut mine_rates = Vec::new();
    let mut bench_rates = Vec::new();
    for _ in 0..4 {
        bench_rates.push(bench_once(&backend, secs).0);
        let mut miner = Miner::start(&args(
            &base,
            &[
                "--payout-script",
                "51",
                "--threads",
                "1",
                "--json",
                "--backend",
                &backend,
                "--search-difficulty",
                "1000000",
            ],
        ));
        miner.wait_for("a template", Duration::from_secs(30), |v| {
            v["type"] == "template"
        });
        std::thread::sleep(Duration::from_secs(secs));
        miner.interrupt();
        assert_eq!(miner.wait_exit(Duration::from_secs(10)).code(), Some(130));
        let summary = &miner.of_type("summary")[0];
        mine_rates.push(summary["rate"].as_f64().unwrap());
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    let ratio = median(&mine_rates) / median(&bench_rates);
    eprintln!(
        "backend {backend}: mine --node {mine_rates:.0?} H/s, bench {bench_rates:.0?} H/s, median/median {ratio:.3}"
    );
    assert!(ratio > 0.9, "mine --node at {ratio:.3} of bench");
}
