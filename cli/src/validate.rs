//! `validate`: mining.submit shares against a Stratum job (`--job`, `--shares`), or a whole
//! recorded Stratum session (`--session`), on the library's `validate::Session`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use sha256d_engine::job::Subscription;
use sha256d_engine::rolling::RollingRule;
use sha256d_engine::validate::{DEFAULT_NTIME_WINDOW, RunError, Session, SessionOptions, replay};

use crate::output::write_error;
use crate::{EXIT_OK, Fail, fail, jobfile, parse};

/// Skipped log lines reported one by one on standard error; the rest are only counted.
const REPORTED_SKIPS: u64 = 20;

#[derive(Args)]
pub struct ValidateArgs {
    /// The job: {"extranonce1","extranonce2_size","version_mask"?,"difficulty","notify":[...]}.
    #[arg(long, value_name = "JOB.json", required_unless_present = "session")]
    job: Option<PathBuf>,
    /// One mining.submit params array (or whole message) per line; `-` or absent: standard
    /// input.
    #[arg(long, value_name = "SHARES.jsonl", conflicts_with = "session")]
    shares: Option<PathBuf>,
    /// Replay a recorded Stratum session: one JSON-RPC message per line, both directions
    /// in wire order (`-`: standard input).
    #[arg(long, value_name = "LOG.jsonl", conflicts_with = "job")]
    session: Option<PathBuf>,
    /// Seconds a share's ntime may be above the job's.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_NTIME_WINDOW)]
    ntime_window: u32,
    /// How submitted version bits combine with the job's version: bip310 (BIP 310),
    /// or (ckpool, cgminer, ESP-Miner), xor (public-pool, btcpool).
    #[arg(long, value_name = "RULE", default_value = "bip310",
          value_parser = ["bip310", "or", "xor"])]
    rolling: String,
    /// Backend for the batch hash, any case (default: $SHA256D_BACKEND, else auto).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// JSON lines: one {"type":"share"} (or {"type":"submit"}) per share, then one
    /// {"type":"summary"}.
    #[arg(long)]
    json: bool,
}

/// A reader for a path, `-` meaning standard input.
fn open(path: Option<&Path>) -> Result<Box<dyn BufRead>, Fail> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let file = std::fs::File::open(p).map_err(|e| fail(format!("{}: {e}", p.display())))?;
            Ok(Box::new(std::io::BufReader::new(file)))
        }
        _ => Ok(Box::new(std::io::stdin().lock())),
    }
}

pub fn run(args: ValidateArgs) -> Result<u8, Fail> {
    let rolling = match args.rolling.as_str() {
        "or" => RollingRule::Or,
        "xor" => RollingRule::Xor,
        _ => RollingRule::Bip310,
    };
    let options = SessionOptions::default()
        .with_ntime_window(args.ntime_window)
        .with_rolling(rolling)
        .with_backend(parse::backend(args.backend.as_deref())?);
    let mut session = Session::new(options);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = if let Some(log) = &args.session {
        let input = open(Some(log))?;
        let mut reported = 0u64;
        replay::replay_session(&mut session, input, &mut out, args.json, |line, issue| {
            reported += 1;
            if reported <= REPORTED_SKIPS {
                eprintln!("{}: line {line} skipped: {issue}", log.display());
            }
        })
    } else {
        let Some(job_path) = args.job.as_deref() else {
            return Err(fail("validate needs --job or --session"));
        };
        let (job, difficulty) = jobfile::read(job_path)?;
        session
            .set_difficulty(difficulty)
            .map_err(|e| fail(format!("{}: {e}", job_path.display())))?;
        session.subscribe(Subscription {
            extranonce1: job.extranonce1().to_vec(),
            extranonce2_size: job.extranonce2_size(),
        });
        session.set_version_mask(job.version_mask());
        session.add_job(job);
        replay::validate_shares(
            &mut session,
            open(args.shares.as_deref())?,
            &mut out,
            args.json,
        )
    };
    match result {
        Ok(summary) => {
            out.flush().map_err(write_error)?;
            eprintln!("{summary}");
            Ok(EXIT_OK)
        }
        Err(RunError::Write(e)) => Err(write_error(e)),
        Err(e) => Err(fail(e.to_string())),
    }
}
