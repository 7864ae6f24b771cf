//! Shared helpers of the CLI tests: run the built binary, find the shared test data.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The built `sha256d-engine`, with `SHA256D_BACKEND` cleared.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sha256d-engine"));
    c.env_remove("SHA256D_BACKEND");
    c
}

/// Runs the binary with these arguments.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run the binary")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every stdout line as JSON.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The shared test-data folder, as the library's tests find it: `$SHA256D_TESTDATA`,
/// else `../shared/testdata` beside the workspace. `None` with one SKIPPED line when it
/// is missing, unless `REQUIRE_TESTDATA=1`.
pub fn testdata(what: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("SHA256D_TESTDATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata"),
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
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {what}: no test data at {} (set SHA256D_TESTDATA)",
        dir.display()
    );
    None
}

/// A scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sha256d-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads a file under the test-data folder.
pub fn read(dir: &std::path::Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// The `bitcoin` crate's view of a header (an oracle that shares no code with ours).
pub fn to_bitcoin(h: &sha256d_engine::Header) -> bitcoin::block::Header {
    bitcoin::consensus::deserialize(&h.to_bytes()).expect("80 bytes")
}
