//! `validate` as a Unix tool: a file or standard input, JSON lines with the detail, the
//! line, the job id and the worker, blank lines skipped, one-line errors.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use common::{bin, json_lines, scratch, stderr};
use serde_json::{Value, json};

/// The public-pool session of the shared test data as a job file, and its share.
fn publicpool(dir: &Path) -> (Value, Value) {
    let text =
        std::fs::read_to_string(dir.join("stratum/publicpool_testnet_share_version_rolling.json"))
            .expect("test data");
    let f: Value = serde_json::from_str(&text).unwrap();
    let m = &f["messages"];
    let spec = json!({
        "extranonce1": m["subscribe_response_extranonce1"],
        "extranonce2_size": m["extranonce2_size"],
        "version_mask": f["inputs"]["version_mask"],
        "difficulty": m["set_difficulty"],
        "notify": m["notify_params"],
    });
    let submit: Value = serde_json::from_str(m["submit"].as_str().unwrap()).unwrap();
    (spec, submit["params"].clone())
}

fn with(params: &Value, i: usize, x: &str) -> Value {
    let mut p = params.clone();
    p[i] = Value::from(x);
    p
}

/// One JSON line per share in input order with the detail, the line number, the job id
/// and the worker; a malformed line does not stop the run; a blank line is counted,
/// not judged; the summary on stderr has correct plurals.
#[test]
fn json_verdicts_from_a_file() {
    let Some(dir) = common::testdata("validate CLI") else {
        return;
    };
    let (spec, p) = publicpool(&dir);
    let tmp = scratch("validate-json");
    let job_path = tmp.join("job.json");
    std::fs::write(&job_path, spec.to_string()).unwrap();
    let lines = [
        p.to_string(),
        "{oops".to_string(),
        String::new(),
        p.to_string(),
        with(&p, 1, "x").to_string(),
        with(&p, 2, "c70800").to_string(),
        with(&p, 5, "00001000").to_string(),
        with(&p, 3, "00000001").to_string(),
        with(&p, 4, "00000000").to_string(),
    ];
    let shares_path = tmp.join("shares.jsonl");
    std::fs::write(&shares_path, lines.join("\n") + "\n").unwrap();
    let o = bin()
        .args(["validate", "--json", "--job"])
        .arg(&job_path)
        .arg("--shares")
        .arg(&shares_path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = json_lines(&o);
    let (shares, summary) = out.split_at(out.len() - 1);
    let reasons: Vec<&Value> = shares.iter().map(|v| &v["reason"]).collect();
    assert_eq!(
        reasons,
        [
            &Value::Null,
            &json!("malformed"),
            &json!("duplicate"),
            &json!("unknown-job"),
            &json!("bad-extranonce2"),
            &json!("version-outside-mask"),
            &json!("ntime-out-of-range"),
            &json!("low-difficulty"),
        ]
    );
    // Input line numbers: the blank third line is skipped, not judged.
    let numbers: Vec<u64> = shares.iter().map(|v| v["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 4, 5, 6, 7, 8, 9]);
    assert_eq!(shares[0]["type"], "share");
    assert_eq!(shares[0]["accepted"], true);
    assert_eq!(
        shares[0]["hash"],
        "000000000061d52983863e5c424c00d9e0981874fddf6a8493433e73928a3e4e"
    );
    assert!((shares[0]["difficulty"].as_f64().unwrap() - 669.87).abs() < 0.01);
    assert_eq!(shares[0]["worker"], p[0]);
    assert_eq!(shares[0]["job_id"], p[1]);
    assert!(shares[0]["detail"].is_null());
    // A malformed line has no worker or job; a rejection carries its detail.
    assert!(shares[1]["worker"].is_null() && shares[1]["job_id"].is_null());
    assert_eq!(shares[3]["job_id"], "x");
    for v in &shares[1..] {
        assert_eq!(v["accepted"], false);
        assert!(!v["detail"].as_str().unwrap().is_empty(), "{v}");
    }
    assert!(shares[1]["hash"].is_null() && shares[2]["hash"].is_string());
    assert_eq!(summary[0]["type"], "summary");
    assert_eq!(summary[0]["shares"], 8);
    assert_eq!(summary[0]["accepted"], 1);
    assert_eq!(summary[0]["blank_lines"], 1);
    assert_eq!(summary[0]["rejected"]["duplicate"], 1);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("8 shares: 1 accepted, 7 rejected") && err.contains("0 blocks"),
        "{err}"
    );
    assert!(err.contains("1 blank line skipped"), "{err}");

    // The same shares from standard input, with `--shares -` and with no --shares.
    for args in [&["--shares", "-"][..], &[]] {
        let mut child = bin()
            .args(["validate", "--json", "--job"])
            .arg(&job_path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all((lines.join("\n") + "\n").as_bytes())
            .unwrap();
        drop(stdin);
        let o2 = child.wait_with_output().unwrap();
        assert!(o2.status.success(), "{}", stderr(&o2));
        assert_eq!(json_lines(&o2), out, "{args:?}");
    }

    // Text mode: one line per share, the worker and job named.
    let o = bin()
        .args(["validate", "--job"])
        .arg(&job_path)
        .arg("--shares")
        .arg(&shares_path)
        .output()
        .unwrap();
    let text = common::stdout(&o);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("1: accepted difficulty 669.8"), "{first}");
    assert!(
        first.contains(&format!("job {}", p[1].as_str().unwrap())),
        "{first}"
    );
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("2: rejected malformed")
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Bad inputs to the CLI itself: one line that names the file and the problem, exit 1.
#[test]
fn bad_job_files_are_one_line() {
    let tmp = scratch("validate-bad");
    let shares = tmp.join("shares.jsonl");
    std::fs::write(&shares, "\n").unwrap();
    std::fs::write(tmp.join("partial.json"), r#"{"extranonce1": "57a6f098"}"#).unwrap();
    std::fs::write(tmp.join("array.json"), "[1, 2]").unwrap();
    std::fs::write(tmp.join("text.json"), "hello").unwrap();
    for (job, shares, needle) in [
        (tmp.join("partial.json"), shares.clone(), "extranonce2_size"),
        (tmp.join("array.json"), shares.clone(), "found an array"),
        (tmp.join("text.json"), shares.clone(), "not JSON"),
        (tmp.join("missing.json"), shares.clone(), "missing.json"),
        (tmp.join("array.json"), tmp.join("none.jsonl"), "array.json"),
    ] {
        let o = bin()
            .args(["validate", "--job"])
            .arg(&job)
            .arg("--shares")
            .arg(&shares)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
