//! Test helpers shared by the library's tests (`tests/common`) and the CLI package's
//! (`cli/tests/common`, which includes this file): the shared test data, skip reports,
//! and the `bitcoin` crate as an oracle.

use std::io::Write as _;
use std::path::PathBuf;

/// Prints a line that the test harness does not capture, so a skip is always visible
/// in the test output.
pub fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The shared test-data folder: `$SHA256D_TESTDATA`, else `../shared/testdata` beside the
/// workspace root (the folder that holds `.ci/`, whichever package's tests ask). `None`
/// (with a line saying what was skipped) when it is missing, unless `REQUIRE_TESTDATA=1`,
/// which turns the skip into a failure.
pub fn testdata(what: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("SHA256D_TESTDATA") {
        Some(d) => PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .find(|d| d.join(".ci").is_dir())
            .unwrap_or(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("../shared/testdata"),
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

/// The `bitcoin` crate's view of a header.
pub fn to_bitcoin(h: &sha256d_engine::Header) -> bitcoin::block::Header {
    bitcoin::consensus::deserialize(&h.to_bytes()).expect("80 bytes")
}
