//! The CLI contract: the default run finds the embedded block, `--json` has the agreed
//! shape, and bad input exits non-zero with one line that names the problem.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sha256d-engine"))
        .args(args)
        .env_remove("SHA256D_BACKEND")
        .output()
        .expect("run the binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn no_arguments_finds_the_embedded_block() {
    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "found block 125552: 00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d"
        ),
        "{out}"
    );
}

#[test]
fn scan_json_shape() {
    let o = run(&[
        "scan",
        "--json",
        "--backend",
        "scalar",
        "--start",
        "2504433000",
        "--count",
        "2000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    assert_eq!(v["backend"], "scalar");
    // Default: every core.
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(v["threads"], cores as u64);
    assert_eq!(v["start"], 2504433000u64);
    assert_eq!(v["count"], 2000);
    assert_eq!(v["hashes"], 2000);
    assert!(v["seconds"].as_f64().unwrap() > 0.0);
    assert!(v["mhs"].as_f64().unwrap() > 0.0);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["nonce"], 2504433986u64);
    assert_eq!(
        hits[0]["hash"],
        "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d"
    );
}

#[test]
fn scan_with_explicit_header_and_targets() {
    let genesis = concat!(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
        "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    );
    for tgt in [
        vec!["--bits", "1d00ffff"],
        vec!["--difficulty", "1"],
        vec![
            "--target",
            "00000000ffff0000000000000000000000000000000000000000000000000000",
        ],
    ] {
        let mut args = vec![
            "scan",
            "--json",
            "--header",
            genesis,
            "--start",
            "2083236000",
            "--count",
            "1000",
        ];
        args.extend(tgt.iter());
        let o = run(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["hits"][0]["nonce"], 2083236893u64, "{args:?}");
    }
    // A scan that reaches u32::MAX includes it.
    let o = run(&[
        "scan",
        "--json",
        "--header",
        genesis,
        "--difficulty",
        "1e-12",
        "--start",
        "4294967290",
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["count"], 6);
    assert_eq!(
        v["hits"].as_array().unwrap().last().unwrap()["nonce"],
        4294967295u64
    );
}

#[test]
fn scan_threads_give_the_same_hits() {
    let mut outs = Vec::new();
    for threads in ["1", "2", "3"] {
        let o = run(&[
            "scan",
            "--json",
            "--threads",
            threads,
            "--difficulty",
            "0.0001",
            "--start",
            "1000",
            "--count",
            "300000",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["threads"].to_string(), threads);
        assert_eq!(v["hashes"], 300000);
        assert!(!v["hits"].as_array().unwrap().is_empty());
        outs.push(v["hits"].clone());
    }
    assert!(outs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn bench_threads_all_reports_each_count() {
    let o = run(&[
        "bench",
        "--json",
        "--backend",
        "auto",
        "--threads",
        "all",
        "--seconds",
        "0.05",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let rows = v.as_array().unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(rows.len(), cores);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["threads"], (i + 1) as u64);
        assert_eq!(r["backend"], sha256d_engine::Backend::detect().name());
        assert!(r["mhs"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn bench_json_lists_every_available_backend() {
    let o = run(&["bench", "--json", "--seconds", "0.05"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let rows = v.as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = sha256d_engine::Backend::all_available()
        .iter()
        .map(|b| b.name())
        .collect();
    assert_eq!(names, want);
    for r in rows {
        assert!(r["mhs"].as_f64().unwrap() > 0.0);
        assert_eq!(r["threads"], 1);
    }
}

/// Every bad input: non-zero exit, exactly one line on stderr that names the problem,
/// nothing on stdout, and no panic.
#[test]
fn bad_input_is_one_line_and_non_zero() {
    let cases: &[(&[&str], &str)] = &[
        (&["scan", "--header", "zz"], "invalid hex character"),
        (&["scan", "--header", "00"], "expected 80 bytes"),
        (&["scan", "--bits", "04923456"], "negative"),
        (&["scan", "--bits", "ff123456"], "overflows"),
        (&["scan", "--bits", "01803456"], "zero"),
        (&["scan", "--bits", "1d00ff"], "expected 4 bytes"),
        (&["scan", "--target", &"0".repeat(64)], "zero"),
        (
            &["scan", "--difficulty", "-3"],
            "not a finite positive number",
        ),
        (&["scan", "--difficulty", "abc"], "not a number"),
        (
            &["scan", "--start", "4294967295", "--count", "2"],
            "past the end of the nonce space",
        ),
        (&["scan", "--count", "0"], "at least 1"),
        (&["scan", "--start", "-1"], "--start"),
        (&["scan", "--backend", "quantum"], "unknown backend"),
        (
            &["scan", "--bits", "1d00ffff", "--difficulty", "2"],
            "cannot be used with",
        ),
        (&["bench", "--seconds", "0"], "--seconds"),
        (&["bench", "--threads", "0"], "--threads"),
        (&["bench", "--threads", "many"], "--threads"),
        (&["scan", "--threads", "0"], "--threads"),
        (&["bench", "--backend", "nope"], "unknown backend"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let o = run(args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn env_backend_is_honoured_and_checked() {
    let o = Command::new(env!("CARGO_BIN_EXE_sha256d-engine"))
        .args(["scan", "--json", "--count", "10"])
        .env("SHA256D_BACKEND", "scalar")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["backend"], "scalar");
    let o = Command::new(env!("CARGO_BIN_EXE_sha256d-engine"))
        .args(["scan", "--count", "10"])
        .env("SHA256D_BACKEND", "bogus")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown backend"));
}
