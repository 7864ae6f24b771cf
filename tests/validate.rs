//! The share validator: every shared Stratum case through the library and the CLI, the
//! order of the checks, duplicates, stale jobs, and batch == one at a time. The CLI
//! `validate` command is tested in `cli/tests/validate.rs`.

mod common;

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};
use sha256d_engine::Backend;
use sha256d_engine::stratum::{Job, Notify};
use sha256d_engine::validate::{JobSpec, Reason, Submission, Validator, Verdict};

fn json_file(dir: &Path, rel: &str) -> Value {
    serde_json::from_str(&common::read(dir, rel)).expect("JSON test data")
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

/// The public-pool session as a job file (JOB.json of the CLI).
fn publicpool_spec(dir: &Path) -> (Value, Value) {
    let f = json_file(dir, "stratum/publicpool_testnet_share_version_rolling.json");
    let m = &f["messages"];
    let spec = json!({
        "extranonce1": m["subscribe_response_extranonce1"],
        "extranonce2_size": m["extranonce2_size"],
        "version_mask": f["inputs"]["version_mask"],
        "difficulty": m["set_difficulty"],
        "notify": m["notify_params"],
    });
    let submit: Value = serde_json::from_str(s(&m["submit"])).unwrap();
    (spec, submit["params"].clone())
}

fn validator(spec: &Value) -> Validator {
    let spec = JobSpec::from_json(&spec.to_string()).expect("job file");
    let mut v = Validator::new(spec.difficulty).unwrap();
    v.add_job(spec.job);
    v
}

fn with(params: &Value, i: usize, x: &str) -> Value {
    let mut p = params.clone();
    p[i] = Value::from(x);
    p
}

#[test]
fn publicpool_share_accepted_then_duplicate() {
    let Some(dir) = common::testdata("public-pool share") else {
        return;
    };
    let (spec, params) = publicpool_spec(&dir);
    let f = json_file(
        &dir,
        "stratum/publicpool_testnet_share_version_rolling.json",
    );
    let mut v = validator(&spec);
    let share = Submission::from_params(&params).unwrap();
    let verdict = v.validate(&share);
    assert!(verdict.accepted(), "{verdict:?}");
    assert_eq!(
        verdict.hash.unwrap().to_string(),
        s(&f["computed"]["block_hash"])
    );
    let want = f["computed"]["share_difficulty"].as_f64().unwrap();
    assert!((verdict.difficulty.unwrap() - want).abs() < 1e-6 * want);
    assert!(!verdict.block);
    // Again: duplicate, with its hash; another worker name and upper-case hex too.
    assert_eq!(v.validate(&share).reason, Some(Reason::Duplicate));
    let mut other = share.clone();
    other.worker = "someone.else".into();
    assert_eq!(v.validate(&other).reason, Some(Reason::Duplicate));
    let upper: Value = params
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Value::from(s(x).to_uppercase()))
        .collect();
    let dup = v.validate(&Submission::from_params(&upper).unwrap());
    assert_eq!(dup.reason, Some(Reason::Duplicate));
    assert_eq!(dup.hash, verdict.hash);
    // The same share at a pool difficulty above its own: low difficulty.
    let mut spec_hi = spec.clone();
    spec_hi["difficulty"] = json!(670.0);
    let mut hi = validator(&spec_hi);
    let low = hi.validate(&share);
    assert_eq!(low.reason, Some(Reason::LowDifficulty));
    assert_eq!(low.hash, verdict.hash);
    // A rejected share does not count for duplicates: at 669 it is accepted afterwards.
    let mut spec_ok = spec.clone();
    spec_ok["difficulty"] = json!(669.0);
    assert!(validator(&spec_ok).validate(&share).accepted());
}

/// A coinbase given whole as a job with 4-byte extranonce1 and 8-byte extranonce2.
fn job_from_coinbase(coinbase: &[u8], branch: &Value, f: &Value, version: &str) -> (Job, Vec<u8>) {
    let at = coinbase.len() - 40;
    let (coinb1, rest) = coinbase.split_at(at);
    let (e1, rest) = rest.split_at(4);
    let (e2, coinb2) = rest.split_at(8);
    let i = &f["inputs"];
    let notify = Notify::from_params(&json!([
        "job",
        i["prevhash_stratum"],
        hex::encode(coinb1),
        hex::encode(coinb2),
        branch,
        version,
        i["nbits"],
        i["ntime"],
        true
    ]))
    .unwrap();
    (Job::new(notify, e1.to_vec(), 8, 0).unwrap(), e2.to_vec())
}

#[test]
fn espminer_mainnet_share_diff683() {
    let Some(dir) = common::testdata("ESP-Miner diff 683") else {
        return;
    };
    let f = json_file(&dir, "stratum/espminer_mainnet_share_diff683.json");
    let coinbase = hex::decode(s(&f["inputs"]["coinbase_tx"])).unwrap();
    // The README: the share only works with version 0x20000004 in the header.
    let (job, e2) = job_from_coinbase(&coinbase, &f["inputs"]["merkle_branches"], &f, "20000004");
    let nonce = s(&f["inputs"]["nonce"]);
    let line = json!([
        "esp",
        "job",
        hex::encode(&e2),
        s(&f["inputs"]["ntime"]),
        nonce
    ]);
    for (difficulty, accepted) in [(512.0, true), (683.0, true), (684.0, false)] {
        let mut v = Validator::new(difficulty).unwrap();
        v.add_job(job.clone());
        let verdict = v.validate_json(&line.to_string());
        assert_eq!(verdict.accepted(), accepted, "{difficulty}: {verdict:?}");
        assert_eq!(
            verdict.hash.unwrap().to_string(),
            s(&f["computed"]["block_hash"])
        );
        assert!((verdict.difficulty.unwrap() - 683.51).abs() < 0.01);
        assert!(!verdict.block);
    }
}

#[test]
fn braiins_caveat_share() {
    let Some(dir) = common::testdata("braiins CAVEAT share") else {
        return;
    };
    let f = json_file(&dir, "stratum/braiins_slushpool_testnet_job_CAVEAT.json");
    let m = &f["messages"];
    let sub = sha256d_engine::stratum::Subscription::from_json(s(&m["subscribe_result"])).unwrap();
    let mask = sha256d_engine::stratum::parse_configure_result(s(&m["configure_response"]))
        .unwrap()
        .unwrap();
    let job = Job::new(
        Notify::from_params(&m["notify_params"]).unwrap(),
        sub.extranonce1,
        sub.extranonce2_size,
        mask,
    )
    .unwrap();
    let mut v = Validator::new(m["set_difficulty"].as_f64().unwrap()).unwrap();
    v.add_job(job);
    // As written in the source: not a valid share (the README's flawed example).
    let given: Value = serde_json::from_str(s(&m["submit_as_in_source"])).unwrap();
    let verdict = v.validate_json(&given["params"].to_string());
    assert_eq!(verdict.reason, Some(Reason::LowDifficulty), "{verdict:?}");
    // Reconstructed: extranonce2 01000000 and the nonce byte-swapped.
    let r = &f["reconstructed_valid_share"];
    let mut fixed = given["params"].clone();
    fixed[2] = r["extranonce2"].clone();
    fixed[4] = r["nonce_standard_hex"].clone();
    let verdict = v.validate_json(&fixed.to_string());
    assert!(verdict.accepted(), "{verdict:?}");
    assert!((verdict.difficulty.unwrap() - 10.56).abs() < 0.01);
}

/// Each reason, and that the first failing check names it when several fail.
#[test]
fn check_order_and_every_reason() {
    let Some(dir) = common::testdata("validator check order") else {
        return;
    };
    let (spec, p) = publicpool_spec(&dir);
    let cases: Vec<(Value, Reason)> = vec![
        (json!("not a params array"), Reason::Malformed),
        (json!(["w", "1", "c7080000", "64b3f3ec"]), Reason::Malformed),
        (with(&p, 3, "64b3f3e"), Reason::Malformed),
        (with(&p, 4, "1ed460d91"), Reason::Malformed),
        (with(&p, 2, "c70800zz"), Reason::Malformed),
        (with(&p, 5, "+0002000"), Reason::Malformed),
        // Unknown job beats everything after it.
        (with(&with(&p, 1, "2"), 2, "c708"), Reason::UnknownJob),
        (
            with(&with(&p, 2, "c708"), 5, "40000000"),
            Reason::BadExtranonce2,
        ),
        (
            with(&with(&p, 5, "40000000"), 3, "00000000"),
            Reason::VersionOutsideMask,
        ),
        (with(&p, 3, "64b3f3eb"), Reason::NtimeOutOfRange),
        (with(&p, 3, "64b41100"), Reason::NtimeOutOfRange),
        (with(&p, 4, "00000000"), Reason::LowDifficulty),
    ];
    for (params, reason) in &cases {
        let mut v = validator(&spec);
        let verdict = v.validate_json(&params.to_string());
        assert_eq!(verdict.reason, Some(*reason), "{params}: {verdict:?}");
        assert!(verdict.detail.is_some());
        // A hash exactly where one can be computed: from the ntime check on.
        let hashed = matches!(
            reason,
            Reason::NtimeOutOfRange | Reason::Duplicate | Reason::LowDifficulty
        );
        assert_eq!(verdict.hash.is_some(), hashed, "{params}");
        assert_eq!(verdict.difficulty.is_some(), hashed, "{params}");
    }
    // The ntime window is configurable: 64b41100 is 7444 s above the job's ntime.
    let mut v = validator(&spec).with_ntime_window(8000);
    let verdict = v.validate_json(&with(&p, 3, "64b41100").to_string());
    assert_eq!(verdict.reason, Some(Reason::LowDifficulty));
}

#[test]
fn stale_jobs_after_clean_jobs() {
    let Some(dir) = common::testdata("stale jobs") else {
        return;
    };
    let (spec, p) = publicpool_spec(&dir);
    let mut v = validator(&spec);
    let mut clean = spec["notify"].clone();
    clean[0] = json!("2");
    clean[8] = json!(true);
    let job2 = JobSpec::from_json(
        &json!({"notify": clean, "extranonce1": spec["extranonce1"],
        "extranonce2_size": 4, "difficulty": 1})
        .to_string(),
    )
    .unwrap()
    .job;
    v.add_job(job2);
    assert_eq!(
        v.validate_json(&p.to_string()).reason,
        Some(Reason::StaleJob)
    );
    assert_eq!(
        v.validate_json(&with(&p, 1, "7").to_string()).reason,
        Some(Reason::UnknownJob)
    );
}

/// Shares of the public-pool job: some accepted at a tiny difficulty, duplicates,
/// malformed lines, every reason.
fn mixed_lines(p: &Value, seeds: &[(u16, u8, u32, u8, u8)]) -> Vec<String> {
    let mut lines = Vec::new();
    for &(e2, t, nonce, vbits, kind) in seeds {
        let en2 = format!("{e2:04x}0000");
        let ntime = format!("{:08x}", 0x64b3_f3ecu32 + t as u32 * 30);
        let nonce = format!("{nonce:08x}");
        let version = format!("{:08x}", (vbits as u32) << 13);
        let line = match kind % 10 {
            0 => "garbage".to_string(),
            1 => with(p, 1, "nope").to_string(),
            2 => json!(["w", "1", en2, ntime, nonce]).to_string(),
            3 => json!(["w", "1", "00", ntime, nonce]).to_string(),
            _ => json!(["w", "1", en2, ntime, nonce, version]).to_string(),
        };
        lines.push(line.clone());
        if kind >= 200 {
            lines.push(line);
        }
    }
    lines
}

fn run_both(spec: &Value, lines: &[String], backend: Backend) -> (Vec<Verdict>, Vec<Verdict>) {
    let mut one = validator(spec);
    let singles: Vec<Verdict> = lines.iter().map(|l| one.validate_json(l)).collect();
    let mut batch = validator(spec).with_backend(backend);
    let parsed: Vec<_> = lines.iter().map(|l| Submission::from_json(l)).collect();
    let batched = batch.validate_batch(parsed.iter().map(|r| r.as_ref()));
    assert_eq!(one.stats(), batch.stats());
    (singles, batched)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Batch verdicts equal one-at-a-time verdicts on every backend.
    #[test]
    fn batch_equals_one_at_a_time(
        seeds in proptest::collection::vec(any::<(u16, u8, u32, u8, u8)>(), 0..80),
        difficulty in prop_oneof![Just(1e-9), Just(1e-6), Just(512.0)],
    ) {
        let Some(dir) = common::testdata("batch validation") else { return Ok(()); };
        let (mut spec, p) = publicpool_spec(&dir);
        spec["difficulty"] = json!(difficulty);
        let lines = mixed_lines(&p, &seeds);
        for backend in Backend::all_available() {
            let (singles, batched) = run_both(&spec, &lines, backend);
            prop_assert_eq!(&singles, &batched, "backend {}", backend);
        }
    }
}
