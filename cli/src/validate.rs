//! `validate`: mining.submit shares, one per line, against a Stratum job.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use sha256d_engine::validate::{DEFAULT_NTIME_WINDOW, Stats, Submission, Validator};

use crate::output::Out;
use crate::parse::{self, fmt_difficulty, plural};
use crate::{EXIT_OK, Fail, fail, jobfile};

/// Shares validated per batch: memory stays bounded, and batch verdicts equal
/// sequential ones.
const BATCH: usize = 4096;

#[derive(Args)]
pub struct ValidateArgs {
    /// The job: {"extranonce1","extranonce2_size","version_mask"?,"difficulty","notify":[...]}.
    #[arg(long, value_name = "JOB.json")]
    job: PathBuf,
    /// One mining.submit params array per line; `-` or absent: standard input.
    #[arg(long, value_name = "SHARES.jsonl")]
    shares: Option<PathBuf>,
    /// Seconds a share's ntime may be above the job's.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_NTIME_WINDOW)]
    ntime_window: u32,
    /// Backend for the batch hash, any case (default: $SHA256D_BACKEND, else auto).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// JSON lines: one {"type":"share"} per share, then one {"type":"summary"}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonShare<'a> {
    r#type: &'static str,
    line: u64,
    worker: Option<&'a str>,
    job_id: Option<&'a str>,
    accepted: bool,
    reason: Option<&'static str>,
    detail: Option<&'a str>,
    hash: Option<String>,
    difficulty: Option<f64>,
    block: bool,
}

#[derive(Serialize)]
struct JsonSummary {
    r#type: &'static str,
    shares: u64,
    accepted: u64,
    rejected: u64,
    blocks: u64,
    blank_lines: u64,
    reasons: serde_json::Map<String, serde_json::Value>,
}

/// The summary line, with correct plurals.
fn summary_text(stats: &Stats, blank: u64) -> String {
    let rejected: u64 = stats.rejected.values().sum();
    let mut s = format!(
        "{}: {} accepted, {} rejected",
        plural(stats.total(), "share", "shares"),
        stats.accepted,
        rejected
    );
    if rejected > 0 {
        let parts: Vec<String> = stats
            .rejected
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        s += &format!(" ({})", parts.join(", "));
    }
    s += &format!(", {}", plural(stats.blocks, "block", "blocks"));
    if blank > 0 {
        s += &format!("; {} skipped", plural(blank, "blank line", "blank lines"));
    }
    s
}

pub fn run(args: ValidateArgs) -> Result<u8, Fail> {
    let backend = parse::backend(args.backend.as_deref())?;
    let (job, difficulty) = jobfile::read(&args.job)?;
    let mut validator = Validator::new(difficulty)
        .map_err(|e| fail(format!("{}: {e}", args.job.display())))?
        .with_ntime_window(args.ntime_window);
    validator = validator.with_backend(backend);
    validator.add_job(job);

    let (input, name): (Box<dyn BufRead>, String) = match &args.shares {
        Some(p) if p.as_os_str() != "-" => {
            let file = std::fs::File::open(p).map_err(|e| fail(format!("{}: {e}", p.display())))?;
            (
                Box::new(std::io::BufReader::new(file)),
                p.display().to_string(),
            )
        }
        _ => (
            Box::new(std::io::stdin().lock()),
            "standard input".to_string(),
        ),
    };
    let mut lines = input.lines();
    let mut out = Out::buffered();
    let mut line_no = 0u64;
    let mut blank = 0u64;
    loop {
        // (line number, parsed submission) for the next batch of non-blank lines.
        let mut batch = Vec::with_capacity(BATCH);
        for line in lines.by_ref() {
            let line = line.map_err(|e| fail(format!("{name}: {e}")))?;
            line_no += 1;
            let line = line.trim();
            if line.is_empty() {
                blank += 1;
                continue;
            }
            batch.push((line_no, Submission::from_json(line)));
            if batch.len() == BATCH {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let verdicts = validator.validate_batch(batch.iter().map(|(_, r)| r.as_ref()));
        for ((n, sub), v) in batch.iter().zip(&verdicts) {
            let sub = sub.as_ref().ok();
            if args.json {
                out.json(&JsonShare {
                    r#type: "share",
                    line: *n,
                    worker: sub.map(|s| s.worker.as_str()),
                    job_id: sub.map(|s| s.job_id.as_str()),
                    accepted: v.accepted(),
                    reason: v.reason.map(|r| r.as_str()),
                    detail: v.detail.as_deref(),
                    hash: v.hash.map(|h| h.to_string()),
                    difficulty: v.difficulty,
                    block: v.block,
                })?;
            } else {
                let hash = v.hash.map_or_else(|| "-".into(), |h| h.to_string());
                let diff = v.difficulty.map_or_else(|| "-".into(), fmt_difficulty);
                let who = sub.map_or_else(String::new, |s| {
                    format!(" worker {} job {}", s.worker, s.job_id)
                });
                out.line(&match &v.reason {
                    None => format!(
                        "{n}: accepted difficulty {diff} hash {hash}{who}{}",
                        if v.block { " BLOCK" } else { "" }
                    ),
                    Some(r) => format!(
                        "{n}: rejected {r} ({}) difficulty {diff} hash {hash}{who}",
                        v.detail.as_deref().unwrap_or("")
                    ),
                })?;
            }
        }
    }
    let stats = validator.stats();
    if args.json {
        out.json(&JsonSummary {
            r#type: "summary",
            shares: stats.total(),
            accepted: stats.accepted,
            rejected: stats.rejected.values().sum(),
            blocks: stats.blocks,
            blank_lines: blank,
            reasons: stats
                .rejected
                .iter()
                .map(|(r, n)| (r.as_str().to_string(), (*n).into()))
                .collect(),
        })?;
    }
    out.flush()?;
    eprintln!("{}", summary_text(stats, blank));
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::summary_text;
    use sha256d_engine::validate::{Reason, Stats};

    #[test]
    fn summary_plurals() {
        let mut s = Stats {
            accepted: 1,
            blocks: 1,
            ..Stats::default()
        };
        assert_eq!(
            summary_text(&s, 0),
            "1 share: 1 accepted, 0 rejected, 1 block"
        );
        s.rejected.insert(Reason::Duplicate, 2);
        s.blocks = 0;
        assert_eq!(
            summary_text(&s, 1),
            "3 shares: 1 accepted, 2 rejected (duplicate 2), 0 blocks; 1 blank line skipped"
        );
    }
}
