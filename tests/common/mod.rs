//! Shared helpers for the integration tests: where the shared test data lives, which
//! backends to test, and independent oracles (the `bitcoin` crate).

#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;

/// Prints a line that the test harness does not capture, so a skip is always visible
/// in the test output.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

use sha256d_engine::{Backend, Header, Hit, Target};

/// The shared test-data folder: `$SHA256D_TESTDATA`, else `../shared/testdata` next to the
/// crate. `None` (with a line saying what was skipped) when it is missing, unless
/// `REQUIRE_TESTDATA=1`, which turns the skip into a failure.
pub fn testdata(what: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("SHA256D_TESTDATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("REQUIRE_TESTDATA").is_ok_and(|v| v == "1") {
        panic!(
            "REQUIRE_TESTDATA=1 but the test data is missing at {} ({what})",
            dir.display()
        );
    }
    report_once(&format!(
        "SKIPPED {what}: no test data at {} (set SHA256D_TESTDATA)",
        dir.display()
    ));
    None
}

/// [`report`], once per test binary for each distinct line: a proptest that skips on
/// every case, or a group of tests that skip for the same reason, says so once.
pub fn report_once(line: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.iter().any(|l| l == line) {
        seen.push(line.to_string());
        report(line);
    }
}

/// Reads a file under the test-data folder.
pub fn read(dir: &std::path::Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// Every backend this CPU has. Prints one line per backend it lacks; a backend named in
/// `REQUIRE_BACKENDS` (comma separated) that is missing fails the test instead.
pub fn backends() -> Vec<Backend> {
    let required: Vec<String> = std::env::var("REQUIRE_BACKENDS")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for name in &required {
        assert!(
            Backend::NAMES.contains(&name.as_str()),
            "REQUIRE_BACKENDS names an unknown backend {name:?}"
        );
    }
    for name in Backend::NAMES {
        if Backend::from_name(name).is_err() {
            assert!(
                !required.iter().any(|r| r == name),
                "REQUIRE_BACKENDS includes {name}, which this CPU or build lacks"
            );
            report_once(&format!(
                "SKIPPED backend {name}: not available on this CPU"
            ));
        }
    }
    Backend::all_available()
}

/// The `bitcoin` crate's view of a header.
pub fn to_bitcoin(h: &Header) -> bitcoin::block::Header {
    bitcoin::consensus::deserialize(&h.to_bytes()).expect("80 bytes")
}

/// Brute-force oracle: every nonce in the range whose hash, computed by the `bitcoin`
/// crate, meets the target (compared by the `bitcoin` crate).
pub fn oracle_scan(h: &Header, target: &Target, start: u32, end: u32) -> Vec<Hit> {
    let t = bitcoin::Target::from_le_bytes(target.to_le_bytes());
    let mut b = to_bitcoin(h);
    let mut hits = Vec::new();
    for nonce in start..=end {
        b.nonce = nonce;
        let hash = b.block_hash();
        if t.is_met_by(hash) {
            use bitcoin::hashes::Hash as _;
            hits.push(Hit {
                nonce,
                hash: sha256d_engine::BlockHash::from_le_bytes(hash.to_byte_array()),
            });
        }
        if nonce == u32::MAX {
            break;
        }
    }
    hits
}
