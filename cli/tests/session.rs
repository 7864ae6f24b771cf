//! The validator as a Stratum session: the faults of issue 10 (one test each, with the
//! right value), the session model, replay of the recorded public-pool session, and the
//! `validate` CLI as a Unix tool (stdin, blank lines, line numbers, plurals). In the CLI
//! package because some tests run the `sha256d-engine` binary.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sha256d_engine::job::{Job, Notify};
use sha256d_engine::rolling::RollingRule;
use sha256d_engine::validate::{
    Event, JobSpec, Reason, Session, SessionOptions, Submission, Validator, format_difficulty,
    replay,
};
use sha256d_engine::{Target, sha256d};

const PUBLICPOOL: &str = "stratum/publicpool_testnet_share_version_rolling.json";

struct PublicPool {
    file: Value,
    /// The job file of the CLI.
    spec: Value,
    /// The accepted submit's params.
    params: Value,
}

fn publicpool(what: &str) -> Option<PublicPool> {
    let dir = common::testdata(what)?;
    let file: Value = serde_json::from_str(&common::read(&dir, PUBLICPOOL)).unwrap();
    let m = &file["messages"];
    let spec = json!({
        "extranonce1": m["subscribe_response_extranonce1"],
        "extranonce2_size": m["extranonce2_size"],
        "version_mask": file["inputs"]["version_mask"],
        "difficulty": m["set_difficulty"],
        "notify": m["notify_params"],
    });
    let submit: Value = serde_json::from_str(m["submit"].as_str().unwrap()).unwrap();
    Some(PublicPool {
        params: submit["params"].clone(),
        spec,
        file,
    })
}

impl PublicPool {
    fn hash(&self) -> &str {
        self.file["computed"]["block_hash"].as_str().unwrap()
    }
    fn share(&self) -> Submission {
        Submission::from_params(&self.params).unwrap()
    }
    /// The job with its notify params changed.
    fn job(&self, change: impl FnOnce(&mut Value)) -> Job {
        let mut spec = self.spec.clone();
        change(&mut spec["notify"]);
        JobSpec::from_json(&spec.to_string()).unwrap().job
    }
    fn validator(&self, difficulty: f64) -> Validator {
        let mut v = Validator::new(difficulty).unwrap();
        v.add_job(self.job(|_| {}));
        v
    }
    /// The recorded session as a log: the subscribe exchange (its answer rebuilt from the
    /// recorded extranonce1 and size), then the recorded configure exchange,
    /// set_difficulty, notify, submit and the pool's answer, verbatim.
    fn log(&self) -> Vec<String> {
        let m = &self.file["messages"];
        vec![
            json!({"id": 1, "method": "mining.subscribe", "params": ["bitaxe/2.0"]}).to_string(),
            json!({"id": 1, "error": null, "result": [[["mining.notify", "1"]],
                m["subscribe_response_extranonce1"], m["extranonce2_size"]]})
            .to_string(),
            m["configure_request"].as_str().unwrap().to_string(),
            m["configure_response"].as_str().unwrap().to_string(),
            json!({"id": null, "method": "mining.set_difficulty", "params": [m["set_difficulty"]]})
                .to_string(),
            json!({"id": null, "method": "mining.notify", "params": m["notify_params"]})
                .to_string(),
            m["submit"].as_str().unwrap().to_string(),
            m["submit_response"].as_str().unwrap().to_string(),
        ]
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sha256d-engine"));
    c.env_remove("SHA256D_BACKEND");
    c
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sha256d-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the CLI with `stdin` as standard input.
fn run(args: &[&str], dir: &Path, stdin: &[u8]) -> (bool, String, String) {
    let mut child = bin()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------- fault 1

/// A non-UTF-8 line and an over-long line are one malformed verdict each, and the run
/// goes on: every line before and after gets its verdict, in order.
#[test]
fn undecodable_and_overlong_lines_are_malformed_and_the_run_goes_on() {
    let Some(pp) = publicpool("undecodable lines") else {
        return;
    };
    let dir = tmpdir("undecodable");
    std::fs::write(dir.join("job.json"), pp.spec.to_string()).unwrap();
    let mut input = Vec::new();
    for i in 0..5000u32 {
        let mut p = pp.params.clone();
        p[4] = json!(format!("{i:08x}"));
        input.extend_from_slice(p.to_string().as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"[\"w\xff\xfe\", \"1\"]\n");
    input.extend_from_slice(&vec![b' '; replay::MAX_LINE_BYTES + 10]);
    input.extend_from_slice(b"x\n");
    input.extend_from_slice(pp.params.to_string().as_bytes());
    input.push(b'\n');
    let (ok, out, err) = run(
        &["validate", "--job", "job.json", "--shares", "-", "--json"],
        &dir,
        &input,
    );
    assert!(ok, "{err}");
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["shares"].clone(), summary["accepted"].clone()),
        (json!(5003), json!(1))
    );
    assert!(lines.iter().all(|l| l["type"] == "share"));
    assert_eq!(lines.len(), 5003);
    assert_eq!(lines[5000]["reason"], "malformed");
    assert!(lines[5000]["detail"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[5001]["reason"], "malformed");
    assert!(lines[5001]["detail"].as_str().unwrap().contains("limit"));
    assert_eq!(lines[5002]["accepted"], true, "{}", lines[5002]);
    assert_eq!(lines[5002]["line"], 5003);
    assert!(
        err.contains("5003 shares: 1 accepted, 5002 rejected"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The line reader: CRLF endings, blank lines, invalid UTF-8 and over-long lines, each one
/// line with its number.
#[test]
fn line_reader_numbers_every_line() {
    use replay::LineContent;
    let mut input = b"a\r\n\n  \t\r\nb\xffc\n".to_vec();
    input.extend(vec![b'x'; replay::MAX_LINE_BYTES + 1]);
    input.extend(b"\nlast");
    let mut r = replay::LineReader::new(&input[..]);
    let mut got = Vec::new();
    while let Some((n, c)) = r.next_line().unwrap() {
        got.push((n, c.clone().into_owned_kind()));
    }
    assert_eq!(
        got,
        [
            (1, "text a".to_string()),
            (2, "blank".into()),
            (3, "blank".into()),
            (4, "bad".into()),
            (5, "bad".into()),
            (6, "text last".into()),
        ]
    );
    trait Kind {
        fn into_owned_kind(self) -> String;
    }
    impl Kind for LineContent<'_> {
        fn into_owned_kind(self) -> String {
            match self {
                LineContent::Text(t) => format!("text {t}"),
                LineContent::Blank => "blank".into(),
                LineContent::Bad(_) => "bad".into(),
            }
        }
    }
}

// ---------------------------------------------------------------- fault 2

#[test]
fn duplicates_are_keyed_by_the_header_not_the_job_slot() {
    let Some(pp) = publicpool("duplicates by work") else {
        return;
    };
    let share = pp.share();
    // The identical notify re-sent (same id, clean_jobs false).
    let mut v = pp.validator(512.0);
    assert!(v.validate(&share).accepted());
    v.add_job(pp.job(|_| {}));
    assert_eq!(v.validate(&share).reason, Some(Reason::Duplicate));
    // A refreshed job with a later ntime under a second id: the same header is a
    // duplicate under either id.
    let mut v = pp.validator(512.0);
    v.add_job(pp.job(|n| {
        n[0] = json!("2");
        n[7] = json!("64b3f3e0");
    }));
    assert!(v.validate(&share).accepted());
    let mut again = share.clone();
    again.job_id = "2".into();
    let d = v.validate(&again);
    assert_eq!(d.reason, Some(Reason::Duplicate));
    assert_eq!(d.hash.unwrap().to_string(), pp.hash());
    assert_eq!(v.stats().accepted, 1);
}

// ---------------------------------------------------------------- fault 3

/// With the network target easier than the share target (regtest's nBits), the share is
/// a block: accepted, `block: true`, and a duplicate of it is not a second block.
#[test]
fn a_block_below_the_share_target_is_accepted() {
    let Some(pp) = publicpool("block below share target") else {
        return;
    };
    let job = pp.job(|n| n[6] = json!("207fffff"));
    // The first nonce whose header meets regtest's target, by the `bitcoin` crate.
    let regtest =
        bitcoin::Target::from_compact(bitcoin::CompactTarget::from_consensus(0x207f_ffff));
    let mut share = pp.share();
    share.nonce = (0..64u32)
        .find(|&n| {
            let h = job
                .share_header(&share.extranonce2, share.ntime, n, share.version_bits)
                .unwrap();
            regtest.is_met_by(common::to_bitcoin(&h).block_hash())
        })
        .expect("half of all hashes meet regtest's target");
    let mut v = Validator::new(1e6).unwrap();
    v.add_job(job);
    let verdict = v.validate(&share);
    assert!(verdict.accepted(), "{verdict:?}");
    assert!(verdict.block);
    assert!(verdict.difficulty.unwrap() < 1e-6);
    let dup = v.validate(&share);
    assert_eq!(dup.reason, Some(Reason::Duplicate));
    assert!(dup.block);
    assert_eq!((v.stats().accepted, v.stats().blocks), (1, 1));
    // A share that is not a block at regtest's target is still low difficulty.
    let mut miss = share.clone();
    miss.nonce = (0..64u32)
        .find(|&n| {
            let h = pp
                .job(|n| n[6] = json!("207fffff"))
                .share_header(&share.extranonce2, share.ntime, n, share.version_bits)
                .unwrap();
            !regtest.is_met_by(common::to_bitcoin(&h).block_hash())
        })
        .unwrap();
    let low = v.validate(&miss);
    assert_eq!(
        (low.reason, low.block),
        (Some(Reason::LowDifficulty), false)
    );
    // Not a block at the real nBits: low difficulty.
    let mut real = pp.validator(1e6);
    let low = real.validate(&pp.share());
    assert_eq!(
        (low.reason, low.block),
        (Some(Reason::LowDifficulty), false)
    );

    // The CLI marks it, and counts one block.
    let dir = tmpdir("block");
    let mut spec = pp.spec.clone();
    spec["notify"][6] = json!("207fffff");
    spec["difficulty"] = json!(1e6);
    std::fs::write(dir.join("job.json"), spec.to_string()).unwrap();
    let mut params = pp.params.clone();
    params[4] = json!(format!("{:08x}", share.nonce));
    let input = format!("{params}\n{params}\n");
    let (ok, out, err) = run(&["validate", "--job", "job.json"], &dir, input.as_bytes());
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("1: accepted") && lines[0].contains(" BLOCK"),
        "{out}"
    );
    assert!(lines[1].starts_with("2: rejected duplicate [22]"), "{out}");
    assert!(
        err.contains("2 shares: 1 accepted, 1 rejected (duplicate 1), 1 block\n"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- fault 4

/// The share's difficulty is 669.868291956...: at a pool difficulty of 669.8683 it is
/// rejected, and its printed difficulty must not read 669.8683 (rounded to nearest).
#[test]
fn printed_difficulty_is_rounded_toward_zero() {
    let Some(pp) = publicpool("printed difficulty") else {
        return;
    };
    let share = pp.share();
    let mut v = pp.validator(669.8683);
    let verdict = v.validate(&share);
    assert_eq!(verdict.reason, Some(Reason::LowDifficulty));
    assert_eq!(format_difficulty(verdict.difficulty.unwrap()), "669.8682");
    // Pool difficulties a few ulps around the share's own: "printed >= pool" implies
    // accepted, and the verdict agrees with the exact compare.
    let hash = verdict.hash.unwrap();
    let mut d = hash.difficulty();
    for _ in 0..6 {
        d = d.next_down();
    }
    for _ in 0..12 {
        let mut v = pp.validator(d);
        let verdict = v.validate(&share);
        let exact = Target::from_difficulty(d).unwrap().is_met_by(&hash);
        assert_eq!(verdict.accepted(), exact, "{d}");
        let reported = verdict.difficulty.unwrap();
        if reported >= d {
            assert!(
                verdict.accepted(),
                "reported {reported} >= pool {d} but rejected"
            );
        }
        let printed: f64 = format_difficulty(reported).parse().unwrap();
        assert!(printed <= reported);
        d = d.next_up();
    }
    // Scientific notation truncates too.
    assert_eq!(format_difficulty(9.99999e-5), "9.9999e-5");
}

// ---------------------------------------------------------------- fault 5

/// Retiring work frees it: jobs, ids, slots and accepted shares stay bounded by the live
/// jobs over a long session.
#[test]
fn memory_is_bounded_by_the_live_jobs() {
    let Some(pp) = publicpool("bounded memory") else {
        return;
    };
    let mut v = Validator::new(1e-12).unwrap();
    let mut max = v.footprint();
    for j in 0..300u32 {
        let clean = j % 10 == 0;
        v.add_job(pp.job(|n| {
            n[0] = json!(format!("job{j}"));
            n[2] = json!(format!("{}{j:08x}", n[2].as_str().unwrap()));
            n[8] = json!(clean);
        }));
        // The same id re-sent does not take a second slot.
        v.add_job(pp.job(|n| {
            n[0] = json!(format!("job{j}"));
            n[2] = json!(format!("{}{j:08x}", n[2].as_str().unwrap()));
        }));
        for i in 0..20u32 {
            let mut s = pp.share();
            s.job_id = format!("job{j}");
            s.nonce = i;
            assert!(v.validate(&s).accepted());
        }
        let f = v.footprint();
        max.live_jobs = max.live_jobs.max(f.live_jobs);
        max.job_slots = max.job_slots.max(f.job_slots);
        max.retired_ids = max.retired_ids.max(f.retired_ids);
        max.accepted_shares = max.accepted_shares.max(f.accepted_shares);
    }
    assert_eq!(max.live_jobs, 10);
    assert_eq!(max.job_slots, 10);
    assert_eq!(max.retired_ids, 10);
    assert_eq!(max.accepted_shares, 200);
    // A job of the last retirement is stale; an older one is unknown.
    let mut s = pp.share();
    s.job_id = "job289".into();
    assert_eq!(v.validate(&s).reason, Some(Reason::StaleJob));
    s.job_id = "job5".into();
    assert_eq!(v.validate(&s).reason, Some(Reason::UnknownJob));
}

// ---------------------------------------------------------------- the session model

fn submit_line(id: u64, params: &Value) -> String {
    json!({"id": id, "method": "mining.submit", "params": params}).to_string()
}

fn verdict_of(e: Event) -> sha256d_engine::validate::Verdict {
    match e {
        Event::Submit(s) => s.verdict,
        other => panic!("not a submit: {other:?}"),
    }
}

/// A session up to (not including) the notify, from the recorded log.
fn session_before_notify(pp: &PublicPool, options: SessionOptions) -> Session {
    let mut s = Session::new(options);
    for line in &pp.log()[..5] {
        assert!(matches!(s.handle_line(line), Event::Applied), "{line}");
    }
    s
}

fn notify_line(params: &Value) -> String {
    json!({"id": null, "method": "mining.notify", "params": params}).to_string()
}

#[test]
fn difficulty_applies_to_jobs_notified_after_it() {
    let Some(pp) = publicpool("per-job difficulty") else {
        return;
    };
    let mut s = session_before_notify(&pp, SessionOptions::default());
    let notify = &pp.file["messages"]["notify_params"];
    s.handle_line(&notify_line(notify));
    // The pool raises the difficulty above the share's 669.87, then sends job 2.
    s.handle_line(r#"{"id":null,"method":"mining.set_difficulty","params":[1000]}"#);
    let mut n2 = notify.clone();
    n2[0] = json!("2");
    s.handle_line(&notify_line(&n2));
    assert_eq!(s.validator().job_difficulty("1"), Some(512.0));
    assert_eq!(s.validator().job_difficulty("2"), Some(1000.0));
    // Job 1 is judged at 512, job 2 at 1000.
    assert!(verdict_of(s.handle_line(&submit_line(5, &pp.params))).accepted());
    let mut p2 = pp.params.clone();
    p2[1] = json!("2");
    p2[4] = json!("00000001");
    let v = verdict_of(s.handle_line(&submit_line(6, &p2)));
    assert_eq!(v.reason, Some(Reason::LowDifficulty));
    assert!(v.detail.unwrap().contains("below 1000"));
}

#[test]
fn version_mask_changes_at_once_and_rules_differ() {
    let Some(pp) = publicpool("version mask") else {
        return;
    };
    let mut s = session_before_notify(&pp, SessionOptions::default());
    s.handle_line(&notify_line(&pp.file["messages"]["notify_params"]));
    // The mask shrinks to 00004000 before the submit: bits 00002000 are now outside.
    s.handle_line(r#"{"id":null,"method":"mining.set_version_mask","params":["00004000"]}"#);
    let v = verdict_of(s.handle_line(&submit_line(5, &pp.params)));
    assert_eq!(v.reason, Some(Reason::VersionOutsideMask));
    assert_eq!(v.code(), Some(20));
    // Back to the granted mask, with 1 to 8 digit version bits (left-padded).
    s.handle_line(r#"{"id":null,"method":"mining.set_version_mask","params":["1fffe000"]}"#);
    let mut short = pp.params.clone();
    short[5] = json!("2000");
    assert!(verdict_of(s.handle_line(&submit_line(6, &short))).accepted());

    // A job version with bit 13 set: the rules part ways. With bits 00002000, BIP 310
    // and OR give version 20002000 (the recorded share); XOR clears the bit.
    for (rule, accepted) in [
        (RollingRule::Bip310, true),
        (RollingRule::Or, true),
        (RollingRule::Xor, false),
    ] {
        let mut v = Validator::new(512.0).unwrap().with_rolling_rule(rule);
        v.add_job(pp.job(|n| n[5] = json!("20002000")));
        let verdict = v.validate(&pp.share());
        assert_eq!(verdict.accepted(), accepted, "{rule}: {verdict:?}");
        if accepted {
            assert_eq!(verdict.hash.unwrap().to_string(), pp.hash());
        }
    }
}

#[test]
fn set_extranonce_applies_to_later_jobs() {
    let Some(pp) = publicpool("set_extranonce") else {
        return;
    };
    let mut s = session_before_notify(&pp, SessionOptions::default());
    let notify = &pp.file["messages"]["notify_params"];
    s.handle_line(&notify_line(notify));
    s.handle_line(r#"{"id":null,"method":"mining.set_extranonce","params":["01020304",8]}"#);
    let mut n2 = notify.clone();
    n2[0] = json!("2");
    s.handle_line(&notify_line(&n2));
    // Job 1 keeps its extranonce: the recorded share is accepted on it.
    assert!(verdict_of(s.handle_line(&submit_line(5, &pp.params))).accepted());
    // Job 2 wants 8 extranonce2 bytes.
    let mut p2 = pp.params.clone();
    p2[1] = json!("2");
    let v = verdict_of(s.handle_line(&submit_line(6, &p2)));
    assert_eq!(v.reason, Some(Reason::BadExtranonce2));
    p2[2] = json!("c708000000000000");
    let v = verdict_of(s.handle_line(&submit_line(7, &p2)));
    // An oracle for the header: coinbase with the new extranonce1, then the merkle root.
    let m = &pp.file["messages"];
    let coinbase = hex::decode(format!(
        "{}01020304c708000000000000{}",
        notify[2].as_str().unwrap(),
        notify[3].as_str().unwrap()
    ))
    .unwrap();
    let mut root = sha256d(&coinbase);
    for b in notify[4].as_array().unwrap() {
        let mut cat = root.to_vec();
        cat.extend(hex::decode(b.as_str().unwrap()).unwrap());
        root = sha256d(&cat);
    }
    let job2 = pp.job(|n| n[0] = json!("2"));
    let mut header = job2
        .share_header(&[0xc7, 8, 0, 0], 0x64b3_f3ec, 0xed46_0d91, Some(0x2000))
        .unwrap();
    header.merkle_root = sha256d_engine::TxMerkleNode::from_le_bytes(root);
    assert_eq!(v.hash, Some(header.block_hash()));
    assert_eq!(m["extranonce2_size"], 4);
}

#[test]
fn session_codes_unsubscribed_and_unauthorized() {
    let Some(pp) = publicpool("session codes") else {
        return;
    };
    let mut s = Session::new(SessionOptions::default());
    let v = verdict_of(s.handle_line(&submit_line(5, &pp.params)));
    assert_eq!(
        (v.reason, v.code()),
        (Some(Reason::NotSubscribed), Some(25))
    );
    let mut s = session_before_notify(&pp, SessionOptions::default());
    s.handle_line(&notify_line(&pp.file["messages"]["notify_params"]));
    s.handle_line(r#"{"id":3,"method":"mining.authorize","params":["bad.worker","x"]}"#);
    s.handle_line(r#"{"id":3,"result":false,"error":[24,"Unauthorized worker",null]}"#);
    let mut p = pp.params.clone();
    p[0] = json!("bad.worker");
    let v = verdict_of(s.handle_line(&submit_line(5, &p)));
    assert_eq!((v.reason, v.code()), (Some(Reason::Unauthorized), Some(24)));
    // Other workers (the log holds no authorize for them) are judged.
    assert!(verdict_of(s.handle_line(&submit_line(6, &pp.params))).accepted());
    let codes: Vec<u8> = Reason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes, [20, 25, 24, 21, 21, 20, 20, 20, 22, 23]);
}

// ---------------------------------------------------------------- replay

/// The recorded public-pool session: the reference agrees with the pool's `true`.
#[test]
fn replay_publicpool_session_agrees_with_the_pool() {
    let Some(pp) = publicpool("public-pool replay") else {
        return;
    };
    let log = pp.log().join("\n") + "\n";
    for rule in [RollingRule::Bip310, RollingRule::Xor] {
        let mut s = Session::new(SessionOptions::default().with_rolling(rule));
        let mut out = Vec::new();
        let summary =
            replay::replay_session(&mut s, log.as_bytes(), &mut out, true, |_, i| panic!("{i}"))
                .unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let r = &lines[0];
        assert_eq!(r["id"], 5);
        assert_eq!(r["line"], 7);
        assert_eq!(r["accepted"], true);
        assert_eq!(r["pool_accepted"], true);
        assert_eq!(r["agrees"], true);
        assert_eq!(r["hash"], pp.hash());
        assert_eq!(r["code"], Value::Null);
        assert_eq!(r["worker"], pp.params[0]);
        assert_eq!(lines[1]["disagreements"], 0);
        assert_eq!(lines[1]["pool_answers"], 1);
        assert_eq!((summary.accepted, summary.disagreements), (1, 0));
    }
}

/// Bad log lines are counted and reported and never stop the replay; a pool that
/// accepted a low-difficulty share disagrees with the reference; the CLI reads the log.
#[test]
fn replay_counts_bad_lines_and_disagreements() {
    let Some(pp) = publicpool("replay disagreements") else {
        return;
    };
    let mut log = pp.log();
    log.insert(2, "{not json".into());
    log.insert(
        3,
        r#"{"id":null,"method":"mining.frobnicate","params":[]}"#.into(),
    );
    log.insert(4, r#"{"id":99,"result":true,"error":null}"#.into());
    log.insert(5, String::new());
    // A low-difficulty share (nonce 0) that the pool "accepted", and a good share with no
    // answer.
    let mut low = pp.params.clone();
    low[4] = json!("00000000");
    log.push(submit_line(8, &low));
    log.push(r#"{"id":8,"result":true,"error":null}"#.into());
    let mut other = pp.params.clone();
    other[0] = json!("w2");
    log.push(submit_line(9, &other));
    let dir = tmpdir("replay");
    std::fs::write(dir.join("log.jsonl"), log.join("\n") + "\n").unwrap();
    let (ok, out, err) = run(&["validate", "--session", "log.jsonl", "--json"], &dir, b"");
    assert!(ok, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[1]["reason"], "low-difficulty");
    assert_eq!(lines[1]["code"], 23);
    assert_eq!(
        (
            lines[1]["pool_accepted"].clone(),
            lines[1]["agrees"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(lines[2]["reason"], "duplicate");
    assert_eq!(lines[2]["pool_accepted"], Value::Null);
    let sum = &lines[3];
    assert_eq!(sum["shares"], 3);
    assert_eq!(sum["disagreements"], 1);
    assert_eq!(sum["pool_accepted_reference_rejected"], 1);
    assert_eq!(sum["blank_lines"], 1);
    assert_eq!(
        sum["skipped_lines"],
        json!({"not-json": 1, "unknown-method": 1, "unmatched-response": 1})
    );
    assert!(err.contains("line 3 skipped: not-json"), "{err}");
    assert!(err.contains("line 4 skipped: unknown-method"), "{err}");
    assert!(err.contains("1 disagreement"), "{err}");
    // Text mode.
    let (ok, out, _) = run(&["validate", "--session", "log.jsonl"], &dir, b"");
    assert!(ok);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .ends_with("pool accepted, agrees"),
        "{out}"
    );
    assert!(out.contains("pool accepted, DISAGREES"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- the CLI as a Unix tool

#[test]
fn cli_reads_stdin_skips_blank_lines_and_uses_plurals() {
    let Some(pp) = publicpool("validate stdin") else {
        return;
    };
    let dir = tmpdir("stdin");
    std::fs::write(dir.join("job.json"), pp.spec.to_string()).unwrap();
    let input = format!("\n{}\n   \n", pp.params);
    for args in [
        &["validate", "--job", "job.json"][..],
        &["validate", "--job", "job.json", "--shares", "-"][..],
    ] {
        let (ok, out, err) = run(args, &dir, input.as_bytes());
        assert!(ok, "{err}");
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.starts_with("2: accepted difficulty 669.8682 hash"),
            "{out}"
        );
        assert_eq!(
            err,
            "1 share: 1 accepted, 0 rejected, 0 blocks; 2 blank lines skipped\n"
        );
    }
    let (_, out, _) = run(
        &["validate", "--job", "job.json", "--json"],
        &dir,
        input.as_bytes(),
    );
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["type"], "share");
    assert_eq!(
        (v["line"].clone(), v["job_id"].clone()),
        (json!(2), json!("1"))
    );
    // A job file that is not an object says so.
    std::fs::write(dir.join("array.json"), "[1, 2]").unwrap();
    let (ok, _, err) = run(&["validate", "--job", "array.json"], &dir, b"");
    assert!(!ok);
    assert!(
        err.contains("is a JSON object") && err.contains("found an array"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Notify built by hand must parse: a guard that the helpers above build real jobs.
#[test]
fn helpers_build_the_recorded_job() {
    let Some(pp) = publicpool("helpers") else {
        return;
    };
    let n = Notify::from_params(&pp.file["messages"]["notify_params"]).unwrap();
    assert_eq!(pp.job(|_| {}).notify(), &n);
}
