//! `sha256d-engine`: scan, bench, validate, hash and asic from the command line.
//!
//! With no arguments it runs `scan` on an embedded real mainnet header (block 125552)
//! over a window of 4,194,304 nonces around its real nonce, and finds that block.
//!
//! Conventions that every command follows:
//! - results go to stdout, as text or (`--json`) as JSON lines, each with a `"type"`;
//! - progress goes to stderr, and only when stderr is a terminal;
//! - the program's own errors are one line, `error: ...`, exit status 1; usage errors are
//!   clap's whole message, exit status 2;
//! - a closed stdout (`| head -1`) ends the program quietly with status 141, as a shell
//!   reports a program killed by SIGPIPE; any other write error is one line, status 1;
//! - `scan` stops cleanly on SIGINT (status 130) and SIGTERM (status 143), after printing
//!   what it found and a partial summary.

#![forbid(unsafe_code)]

mod asic;
mod bench;
mod hash;
mod jobfile;
mod mine;
mod output;
mod parse;
mod progress;
mod scan;
mod sysinfo;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sha256d-engine",
    version,
    about = "Bitcoin nonce search with double SHA-256 on the CPU, and exact share and ASIC result checks",
    long_about = "Bitcoin nonce search with double SHA-256 on the CPU, and exact share and \
                  ASIC result checks.\n\nWith no subcommand, runs `scan` on an embedded real \
                  mainnet header (block 125552) around its real nonce.\n\nExit status: 0 \
                  success, 1 input or runtime error, 2 usage error, 130 interrupted (SIGINT), \
                  143 terminated (SIGTERM), 141 standard output closed."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Search a header's nonces for hashes that meet a target; print each hit as found.
    Scan(scan::ScanArgs),
    /// Measure MH/s per backend and thread count.
    Bench(bench::BenchArgs),
    /// Check mining.submit shares against a Stratum job.
    Validate(validate::ValidateArgs),
    /// Hash one header: its block hash and difficulty.
    Hash(hash::HashArgs),
    /// Check ASIC results (BM13xx frames, Icarus and cgminer work with nonces).
    Asic(asic::AsicArgs),
    /// Mine for real: solo from a node (--node) or on a Stratum V1 pool (--pool).
    Mine(mine::MineArgs),
}

/// Why a command ended early.
pub enum Fail {
    /// An error for the user: printed as one line, exit status 1.
    Msg(String),
    /// Standard output was closed: exit quietly.
    BrokenPipe,
}

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail::Msg(e.to_string())
    }
}

/// A failure with this message.
pub fn fail(msg: impl Into<String>) -> Fail {
    Fail::Msg(msg.into())
}

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status for an input or runtime error.
pub const EXIT_ERROR: u8 = 1;
/// Exit status after SIGINT (128 + 2).
pub const EXIT_SIGINT: u8 = 130;
/// Exit status when standard output was closed (128 + SIGPIPE).
pub const EXIT_BROKEN_PIPE: u8 = 141;
/// Exit status after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

fn main() -> ExitCode {
    // Usage errors: clap's whole message (it names every missing argument) and status 2;
    // help and version: stdout, status 0.
    let cli = Cli::parse();
    let result = match cli.command {
        None => scan::run(scan::ScanArgs::default()),
        Some(Command::Scan(args)) => scan::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Validate(args)) => validate::run(args),
        Some(Command::Hash(args)) => hash::run(args),
        Some(Command::Asic(args)) => asic::run(args),
        Some(Command::Mine(args)) => mine::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fail::BrokenPipe) => ExitCode::from(EXIT_BROKEN_PIPE),
        Err(Fail::Msg(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
