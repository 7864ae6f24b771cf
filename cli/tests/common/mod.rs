//! Shared helpers of the CLI tests: run the built binary, find the shared test data.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

#[path = "../../../tests/common/data.rs"]
mod data;
#[allow(unused_imports)] // not every test binary uses every helper
pub use data::*;

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

/// A scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sha256d-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
