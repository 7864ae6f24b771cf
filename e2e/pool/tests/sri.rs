//! `sha256d-engine mine --pool` against the Stratum reference pool (SRI `pool_sv2` 0.7)
//! through its Stratum V1 translator (`translator_sv2` 0.6), with the test Template
//! Provider of this crate feeding the pool regtest templates.
//!
//! 1. The provider, the pool and the translator start on free ports on 127.0.0.1, with
//!    their configs in a temporary folder.
//! 2. `mine --pool --json` runs until the pool has accepted at least 10 shares.
//! 3. The pool's own log agrees with the client's count, with no rejects; the provider
//!    received one solution per block the client reported (on regtest nBits `207fffff`
//!    about every share is also a block).
//! 4. Midway, the provider sends a new previous-block hash: the client switches to the
//!    clean job and never submits on an earlier job afterwards.
//! 5. Deliberately bad shares go through the library's `ClientHandle::submit_unchecked`,
//!    and the pool side's reasons come back in `Event::Rejected`; a good share with rolled
//!    version bits (BIP 310) is accepted, by the pool too.
//!
//! Needs `pool_sv2` and `translator_sv2` (`$POOL_SV2`, `$TRANSLATOR_SV2`, `PATH` or
//! `~/.cargo/bin`) and a release build of the CLI (`$SHA256D_ENGINE`, else
//! `target/release/sha256d-engine` at the repository root); `.ci/run` provides all three.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha256d_engine::client::{Client, ClientConfig, Event, PoolAddress};
use sha256d_engine::scanner::Scanner;
use sha256d_engine::validate::Submission;
use sha256d_engine::{BlockHash, CompactTarget, Target};
use sha256d_engine_e2e_pool::{
    Proc, REGTEST_BITS, TempDir, TemplateProvider, authority_keys, find_binary, free_port,
    wait_listening,
};

/// The CLI run's time limit.
const RUN_LIMIT: Duration = Duration::from_secs(300);

fn miner_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SHA256D_ENGINE") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("target/release/sha256d-engine");
    assert!(
        p.is_file(),
        "no {} (build it with `cargo build --release -p sha256d-engine-cli`, or set SHA256D_ENGINE)",
        p.display()
    );
    p
}

/// The miner process; killed and waited for on drop.
struct Miner {
    child: Child,
    lines: Receiver<String>,
}

impl Drop for Miner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pool's verdicts, counted from its log: accepted (a valid share, a batch
/// acknowledgement, or a block) and rejected (`SubmitSharesError`).
#[derive(Debug, Default, PartialEq)]
struct PoolCounts {
    received: usize,
    accepted: usize,
    blocks: usize,
    rejected: usize,
    /// Of `rejected`, those the pool answered `stale-share`.
    stale: usize,
}

fn pool_counts(log: &str) -> PoolCounts {
    let mut c = PoolCounts::default();
    for line in log.lines() {
        if line.contains("Received SubmitSharesExtended")
            || line.contains("Received SubmitSharesStandard")
        {
            c.received += 1;
        } else if line.contains("Block Found") {
            c.accepted += 1;
            c.blocks += 1;
        } else if (line.contains("SubmitSharesExtended:") || line.contains("SubmitSharesStandard:"))
            && line.contains('✅')
        {
            c.accepted += 1;
        } else if line.contains("SubmitSharesError") {
            c.rejected += 1;
            c.stale += line.contains("stale-share") as usize;
        }
    }
    c
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The hash as the client prints it, from the provider's internal bytes.
fn display(prev: [u8; 32]) -> String {
    BlockHash::from_le_bytes(prev).to_string()
}

/// The provider, the pool and the translator, running; dropped in reverse order.
struct Chain {
    url: String,
    tp: TemplateProvider,
    tproxy: Proc,
    pool: Proc,
    _dir: TempDir,
}

/// Starts the chain; the translator asks for one share a second at `hashrate`.
fn start_chain(hashrate: f64) -> Chain {
    let Some(pool_bin) = find_binary("pool_sv2", "POOL_SV2") else {
        panic!("pool_sv2 not found: cargo install --locked pool_sv2@^0.7 (or set POOL_SV2)");
    };
    let Some(tproxy_bin) = find_binary("translator_sv2", "TRANSLATOR_SV2") else {
        panic!(
            "translator_sv2 not found: cargo install --locked translator_sv2@^0.6 (or set TRANSLATOR_SV2)"
        );
    };
    let dir = TempDir::new("sri");
    let seed = format!("{}-{:?}", std::process::id(), Instant::now());

    // 1. Provider, pool, translator.
    let tp = TemplateProvider::start(
        authority_keys(format!("tp {seed}").as_bytes()),
        Duration::from_secs(5),
    );
    let (pool_pk, pool_sk) = authority_keys(format!("pool {seed}").as_bytes());
    let pool_port = free_port();
    let pool_toml = dir.path("pool.toml");
    std::fs::write(
        &pool_toml,
        format!(
            r#"authority_public_key = "{pool_pk}"
authority_secret_key = "{pool_sk}"
cert_validity_sec = 3600
listen_address = "127.0.0.1:{pool_port}"
coinbase_reward_script = "raw(00140000000000000000000000000000000000000000)"
server_id = 1
pool_signature = "sha256d-engine e2e"
shares_per_minute = 60.0
share_batch_size = 1

[template_provider_type.Sv2Tp]
address = "127.0.0.1:{}"
"#,
            tp.port
        ),
    )
    .unwrap();
    let mut cmd = Command::new(&pool_bin);
    cmd.arg("-c")
        .arg(&pool_toml)
        .current_dir(&dir.0)
        .env("RUST_LOG", "info");
    let mut pool = Proc::spawn("pool_sv2", cmd, dir.path("pool.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    // The pool listens once it has a template and a previous-block hash.
    while !(tp.connected() && pool.log_text().contains("ready to accept connections")) {
        assert!(
            Instant::now() < deadline && pool.running(),
            "pool_sv2 did not start (provider error {:?}):\n{}",
            tp.error(),
            tail(&pool.log_text())
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let tproxy_port = free_port();
    let tproxy_toml = dir.path("tproxy.toml");
    std::fs::write(
        &tproxy_toml,
        format!(
            r#"downstream_address = "127.0.0.1"
downstream_port = {tproxy_port}
max_supported_version = 2
min_supported_version = 2
downstream_extranonce2_size = 4
verify_payout = false
aggregate_channels = false
supported_extensions = []

[downstream_difficulty_config]
min_individual_miner_hashrate = {hashrate:.1}
shares_per_minute = 60.0
enable_vardiff = false
job_keepalive_interval_secs = 60

[[upstreams]]
address = "127.0.0.1"
port = {pool_port}
authority_pubkey = "{pool_pk}"
user_identity = "e2e"
"#
        ),
    )
    .unwrap();
    let mut cmd = Command::new(&tproxy_bin);
    cmd.arg("-c")
        .arg(&tproxy_toml)
        .current_dir(&dir.0)
        .env("RUST_LOG", "info");
    let mut tproxy = Proc::spawn("translator_sv2", cmd, dir.path("tproxy.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !wait_listening(tproxy_port, Duration::from_millis(200)) {
        assert!(
            Instant::now() < deadline && tproxy.running(),
            "translator_sv2 did not start:\n{}",
            tail(&tproxy.log_text())
        );
    }
    Chain {
        url: format!("stratum+tcp://127.0.0.1:{tproxy_port}"),
        tp,
        tproxy,
        pool,
        _dir: dir,
    }
}

#[test]
fn mines_on_the_reference_pool_through_the_translator() {
    let miner_bin = miner_binary();
    // One share a second at 10 MH/s: about 10 to 30 s for the run on one thread.
    let chain = start_chain(10e6);
    let Chain {
        url,
        tp,
        mut tproxy,
        mut pool,
        _dir,
    } = chain;

    // 2. The CLI until the pool has accepted 10 shares, a new block midway.
    let mut child = Command::new(&miner_bin)
        .args([
            "mine",
            "--pool",
            &url,
            "--user",
            "e2e.cli",
            "--threads",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the miner");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let miner = Miner { child, lines: rx };

    let started = Instant::now();
    let mut accepted = 0u64;
    let mut client_blocks = 0u64;
    let mut rejected = Vec::new();
    let mut new_block: Option<String> = None;
    let mut old_jobs: HashSet<String> = HashSet::new();
    let mut jobs_seen: Vec<(String, String)> = Vec::new();
    let mut switched_at: Option<usize> = None;
    let mut switch_ms = f64::NAN;
    let mut after_switch = 0u64;
    // Shares submitted between the new block's injection and the clean job reaching the
    // miner: the pool switched first, so these may reach it as stale (a race of any pool,
    // not a miner fault). Only they may be rejected, and only as `stale-share`.
    let mut injected = false;
    let mut in_switch_window = 0u64;
    let mut events = Vec::new();
    let failure = |events: &[Value], why: &str| -> String {
        format!(
            "{why}\nlast events:\n{}\npool log:\n{}\ntranslator log:\n{}",
            events[events.len().saturating_sub(20)..]
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            tail(&pool.log_text()),
            tail(&tproxy.log_text())
        )
    };
    while !(accepted >= 10 && after_switch >= 3) {
        let left = RUN_LIMIT.saturating_sub(started.elapsed());
        let line = match miner.lines.recv_timeout(left) {
            Ok(l) => l,
            Err(_) => panic!(
                "{}",
                failure(&events, "the miner ended or the time limit passed")
            ),
        };
        let e: Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("the miner printed a non-JSON line {line:?}: {err}"));
        events.push(e.clone());
        match e["type"].as_str().unwrap_or_default() {
            "job" => {
                let id = e["job_id"].as_str().unwrap().to_string();
                let prev = e["prevhash"].as_str().unwrap().to_string();
                if let Some(nb) = &new_block
                    && switched_at.is_none()
                    && prev == *nb
                {
                    assert_eq!(e["clean_jobs"], true, "the new block's job is clean: {e}");
                    let latency = e["latency_ms"].as_f64().unwrap();
                    assert!(latency < 50.0, "switched {latency} ms after the notify");
                    switch_ms = latency;
                    old_jobs = jobs_seen
                        .iter()
                        .filter(|(_, p)| p != nb)
                        .map(|(j, _)| j.clone())
                        .collect();
                    switched_at = Some(events.len());
                }
                jobs_seen.push((id, prev));
            }
            "submitted" => {
                if injected && switched_at.is_none() {
                    in_switch_window += 1;
                }
                let job = e["job_id"].as_str().unwrap();
                if switched_at.is_some() {
                    assert!(
                        !old_jobs.contains(job),
                        "{}",
                        failure(
                            &events,
                            &format!("submitted on retired job {job} after the switch")
                        )
                    );
                }
                assert_eq!(e["checked"], true);
                assert_eq!(
                    e["version_bits"].as_str().map(str::len),
                    Some(8),
                    "version bits are sent: {e}"
                );
            }
            "accepted" => {
                accepted += 1;
                if switched_at.is_some() {
                    after_switch += 1;
                }
                if accepted == 5 && new_block.is_none() {
                    // The translator answers shares itself and forwards them: wait until
                    // the pool has received the shares answered so far, so that the
                    // injection does not race the share that triggered it.
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while pool_counts(&pool.log_text()).received < accepted as usize {
                        assert!(
                            Instant::now() < deadline,
                            "{}",
                            failure(&events, "the pool did not receive the accepted shares")
                        );
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let before = tp.prevhashes().len();
                    injected = true;
                    tp.new_block();
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while tp.prevhashes().len() == before {
                        assert!(
                            Instant::now() < deadline,
                            "the provider did not send a block"
                        );
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    new_block = Some(display(*tp.prevhashes().last().unwrap()));
                }
            }
            "block" => client_blocks += 1,
            "rejected" => rejected.push(e.clone()),
            "reconnect" | "error" | "discarded" => {
                panic!("{}", failure(&events, &format!("unexpected event {e}")))
            }
            _ => {}
        }
    }
    let run_secs = started.elapsed().as_secs_f64();
    assert!(
        rejected.is_empty(),
        "{}",
        failure(&events, "the pool side rejected shares")
    );

    // Ctrl-C: a clean stop with the totals, status 130.
    let pid = miner.child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let mut summary = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(line) = miner
        .lines
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        let e: Value = serde_json::from_str(&line).unwrap();
        match e["type"].as_str().unwrap_or_default() {
            "accepted" => accepted += 1,
            "block" => client_blocks += 1,
            "rejected" => panic!("{}", failure(&events, &format!("rejected: {e}"))),
            "summary" => summary = Some(e),
            _ => {}
        }
    }
    let mut miner = miner;
    let code = miner.child.wait().unwrap().code();
    assert_eq!(code, Some(130), "SIGINT gives status 130");
    let summary = summary.expect("a summary line after SIGINT");
    assert_eq!(summary["accepted"], accepted, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["blocks"], client_blocks, "{summary}");
    let submitted = summary["submitted"].as_u64().unwrap();
    // A share in flight at Ctrl-C has no answer yet.
    assert!(
        submitted >= accepted && submitted <= accepted + 1,
        "{summary}"
    );

    // 3. The pool's own log agrees: every share it received, it accepted, but for shares
    // in flight while the new block reached the miner (`stale-share`, checked below).
    let deadline = Instant::now() + Duration::from_secs(10);
    let counts = loop {
        let c = pool_counts(&pool.log_text());
        if (c.accepted + c.stale) as u64 >= accepted || Instant::now() > deadline {
            break c;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "e2e: CLI {accepted} accepted, {client_blocks} blocks, {submitted} submitted in {run_secs:.1} s, {:.2} MH/s, clean switch {switch_ms:.2} ms after the notify; pool log {counts:?}; provider solutions {}",
        summary["mhs"].as_f64().unwrap_or_default(),
        tp.solutions().len()
    );
    assert_eq!(
        counts.rejected,
        counts.stale,
        "pool rejections other than stale-share:\n{}",
        tail(&pool.log_text())
    );
    assert!(
        counts.stale as u64 <= in_switch_window,
        "{} stale shares, {in_switch_window} submitted while the new block reached the miner:\n{}",
        counts.stale,
        tail(&pool.log_text())
    );
    let answered = (counts.accepted + counts.stale) as u64;
    assert!(
        answered == submitted || answered == accepted,
        "the pool accepted {} shares, the client counted {accepted} accepted of {submitted} submitted:\n{}",
        counts.accepted,
        tail(&pool.log_text())
    );
    assert_eq!(counts.received, counts.accepted + counts.stale);
    // Regtest: the shares that meet the network target reached the provider as solutions.
    assert_eq!(counts.blocks, tp.solutions().len(), "{:?}", tp.solutions());
    assert!(client_blocks <= accepted);

    // 5. Bad shares through the library API: the pool side's reasons come back.
    let mut config = ClientConfig::new(PoolAddress::parse(&url).unwrap(), "e2e.lib");
    config.idle_timeout = Duration::from_secs(120);
    let client = Client::new(config).unwrap();
    let handle = client.handle();
    let (etx, erx) = mpsc::channel();
    let lib = std::thread::spawn(move || {
        let scanner = Scanner::builder().threads(1).build().unwrap();
        client.run(&scanner, |e| {
            let _ = etx.send(e);
        })
    });
    let wait = |what: &str, f: &mut dyn FnMut(&Event) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let e = erx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no {what} from the library client"));
            if f(&e) {
                return e;
            }
        }
    };
    wait("job", &mut |e| matches!(e, Event::Job { .. }));
    let (job, difficulty) = handle.current_job().unwrap();
    let share_target = Target::from_difficulty(difficulty).unwrap();
    let network = Target::from_compact(CompactTarget::from_consensus(REGTEST_BITS)).unwrap();
    assert_eq!(job.nbits().to_consensus(), REGTEST_BITS);
    let extranonce2 = job.extranonce2_for(0xdead_beef);
    let bits = (job.version_mask() != 0).then_some(0);
    let nonce = (0u32..)
        .find(|&n| {
            let h = job
                .share_header(&extranonce2, job.ntime(), n, bits)
                .unwrap()
                .block_hash();
            !share_target.is_met_by(&h) && !network.is_met_by(&h)
        })
        .unwrap();
    let low = Submission {
        worker: "e2e.lib".into(),
        job_id: job.job_id().into(),
        extranonce2: extranonce2.clone(),
        ntime: job.ntime(),
        nonce,
        version_bits: bits,
    };
    let unknown = Submission {
        job_id: "999999".into(),
        ..low.clone()
    };
    let mut reasons = Vec::new();
    for s in [low, unknown] {
        let id = handle.submit_unchecked(s).unwrap();
        let e = wait(
            "answer",
            &mut |e| matches!(e, Event::Rejected { id: i, .. } | Event::Accepted { id: i, .. } if *i == id),
        );
        match e {
            Event::Rejected { code, reason, .. } => reasons.push((code, reason)),
            other => panic!("a bad share was accepted: {other:?}"),
        }
    }
    // A good share with rolled version bits (BIP 310), found here by the crate's own
    // scan: the pool accepts the rolled version.
    let rolled = job.version_mask() & 0x0000_6000;
    assert_ne!(rolled, 0, "the translator granted no version rolling");
    let header = job
        .share_header(&extranonce2, job.ntime(), 0, Some(rolled))
        .unwrap();
    let backend = sha256d_engine::Backend::detect();
    let hit = (0u32..1024)
        .find_map(|i| {
            let lo = i << 22;
            backend
                .scan(&header, &share_target, lo..=lo + ((1 << 22) - 1))
                .first()
                .copied()
        })
        .expect("a share in the nonce range");
    let good = Submission {
        worker: "e2e.lib".into(),
        job_id: job.job_id().into(),
        extranonce2,
        ntime: job.ntime(),
        nonce: hit.nonce,
        version_bits: Some(rolled),
    };
    let id = handle.submit_unchecked(good).unwrap();
    let e = wait(
        "answer",
        &mut |e| matches!(e, Event::Rejected { id: i, .. } | Event::Accepted { id: i, .. } if *i == id),
    );
    assert!(matches!(e, Event::Accepted { .. }), "{e:?}");
    handle.stop();
    lib.join().unwrap().unwrap();
    let version = format!("version=0x{:08x}", header.version);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pool.log_text().contains(&version) {
        assert!(
            Instant::now() < deadline,
            "the rolled share did not reach the pool:\n{}",
            tail(&pool.log_text())
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let end = pool_counts(&pool.log_text());
    assert_eq!(
        end.rejected,
        0,
        "pool rejections:\n{}",
        tail(&pool.log_text())
    );
    assert_eq!(end.received, end.accepted);
    eprintln!(
        "e2e: bad shares answered {reasons:?} (by the translator: the pool received none, {end:?}); rolled version {:08x} accepted",
        header.version
    );
    assert_eq!(reasons[0].0, Some(23), "{reasons:?}");
    assert!(reasons[0].1.contains("Low difficulty"), "{reasons:?}");
    assert_eq!(reasons[1].0, Some(21), "{reasons:?}");
    assert!(reasons[1].1.contains("Job not found"), "{reasons:?}");
    assert!(tp.error().is_none(), "{:?}", tp.error());
    assert!(pool.running() && tproxy.running());
}

/// The client's own hash rate over a long run on the reference pool, against `bench` on
/// the same backend and threads right after. Opt-in: `E2E_SPEED_SECONDS=120
/// E2E_THREADS=2 cargo test -- --ignored --nocapture`.
#[test]
#[ignore]
fn hash_rate_through_the_client_matches_bench() {
    let miner_bin = miner_binary();
    let seconds: u64 = std::env::var("E2E_SPEED_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let threads = std::env::var("E2E_THREADS").unwrap_or_else(|_| "1".into());
    let backend = std::env::var("E2E_BACKEND").unwrap_or_else(|_| "auto".into());
    // About one share every 6 s at 16 MH/s.
    let chain = start_chain(1e8);
    let bench_before = bench(&miner_bin, &backend, &threads);
    let mut child = Command::new(&miner_bin)
        .args([
            "mine",
            "--pool",
            &chain.url,
            "--user",
            "e2e.speed",
            "--json",
        ])
        .args(["--threads", &threads, "--backend", &backend])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the miner");
    let stdout = child.stdout.take().unwrap();
    let mut miner = Miner {
        child,
        lines: mpsc::channel().1,
    };
    std::thread::sleep(Duration::from_secs(seconds));
    let pid = miner.child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let summary = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find(|e| e["type"] == "summary")
        .expect("a summary");
    let _ = miner.child.wait();
    let bench_after = bench(&miner_bin, summary["backend"].as_str().unwrap(), &threads);
    let client = summary["mhs"].as_f64().unwrap();
    let bench_mhs = (bench_before + bench_after) / 2.0;
    eprintln!(
        "e2e speed: client {client:.2} MH/s over {:.0} s ({} accepted) on {} with {threads} thread(s); bench before {bench_before:.2}, after {bench_after:.2} MH/s: ratio {:.3}\n{summary}",
        summary["seconds"].as_f64().unwrap_or_default(),
        summary["accepted"],
        summary["backend"],
        client / bench_mhs
    );
    assert_eq!(summary["rejected"], 0);
}

/// `bench`'s median MH/s over 3 runs of 5 s.
fn bench(miner: &PathBuf, backend: &str, threads: &str) -> f64 {
    let out = Command::new(miner)
        .args(["bench", "--backend", backend, "--threads", threads])
        .args(["--seconds", "5", "--repeat", "3", "--json"])
        .output()
        .expect("running bench");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["type"] == "bench")
        .and_then(|e| e["mhs"].as_f64())
        .expect("a bench row")
}
