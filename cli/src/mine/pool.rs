//! `mine --pool`: mining on a Stratum V1 pool (issue 13), on the library's
//! [`Client`](sha256d_engine::client::Client).
//!
//! Output: one line per event on stdout (text, or `--json` objects each with a `"type"`:
//! `connecting`, `connected`, `difficulty`, `version_mask`, `extranonce`, `job`,
//! `submitted`, `accepted`, `rejected`, `block`, `discarded`, `message`, `reconnect`,
//! `error`, with `--json` a `status` each second (the running totals), and a final
//! `summary`); a status line on stderr when it is a terminal. SIGINT and SIGTERM stop the
//! client cleanly and print the totals (status 130 / 143).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sha256d_engine::client::{Client, ClientConfig, ClientStats, Event, PoolAddress};
use signal_hook::consts::{SIGINT, SIGTERM};

use super::CommonArgs;
use crate::output::Out;
use crate::parse::{self, fmt_difficulty};
use crate::scan::catch_signals;
use crate::{EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, Fail, fail, sysinfo};

#[derive(Args)]
pub struct PoolArgs {
    /// The pool, as stratum+tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub pool: Option<String>,
    /// The worker name for mining.authorize and mining.submit (needed with --pool).
    #[arg(long, value_name = "NAME", requires = "pool")]
    pub user: Option<String>,
    /// The password for mining.authorize.
    #[arg(long, value_name = "P", default_value = "x", requires = "pool")]
    pub password: String,
    /// Ask the pool for this share difficulty (mining.suggest_difficulty).
    #[arg(long, value_name = "D", value_parser = parse::difficulty_value, requires = "pool")]
    pub suggest_difficulty: Option<f64>,
}

pub fn run(args: PoolArgs, common: CommonArgs) -> Result<u8, Fail> {
    sysinfo::warn_if_unoptimised();
    let url = args.pool.ok_or_else(|| fail("--pool URL is required"))?;
    let address = PoolAddress::parse(&url)?;
    let user = args
        .user
        .ok_or_else(|| fail("mine --pool needs --user NAME (the worker name)"))?;
    let scanner = common.scanner()?;
    let (backend, threads) = (scanner.backend(), scanner.threads());
    let mut config = ClientConfig::new(address, user);
    config.password = args.password;
    config.suggest_difficulty = args.suggest_difficulty;
    let client = Client::new(config)?;
    let handle = client.handle();

    let signal = Arc::new(AtomicUsize::new(0));
    catch_signals(&signal)?;

    // Shared by the event writer and the watcher's JSON status lines, a line at a time.
    let out = Mutex::new(Out::stdout());
    let lock = || out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let json = common.json;
    if !json {
        lock().line(&format!(
            "mining on {url}: backend {backend}, {threads} thread{}",
            if threads == 1 { "" } else { "s" }
        ))?;
    }
    let write_error: Mutex<Option<Fail>> = Mutex::new(None);
    let first_error = |e: Fail| {
        let mut slot = write_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.get_or_insert(e);
    };
    let status_done = std::sync::atomic::AtomicBool::new(false);
    let totals = std::thread::scope(|s| {
        let watcher = &handle;
        let signal = &signal;
        let done = &status_done;
        let (lock, first_error) = (&lock, &first_error);
        s.spawn(move || {
            let bar = std::io::stderr().is_terminal().then(|| {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b
            });
            let mut ticks = 0u32;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                if signal.load(Ordering::Relaxed) != 0 && !watcher.is_stopped() {
                    watcher.stop();
                }
                ticks += 1;
                if let Some(b) = &bar
                    && ticks.is_multiple_of(25)
                {
                    b.set_message(status_line(&watcher.stats()));
                    b.tick();
                }
                if json
                    && ticks.is_multiple_of(50)
                    && let Err(e) = lock().json(&status_json(&watcher.stats()))
                {
                    first_error(e);
                    watcher.stop();
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        let result = client.run(&scanner, |event| {
            if let Err(e) = print_event(&mut lock(), json, &event) {
                first_error(e);
                handle.stop();
            }
        });
        status_done.store(true, Ordering::Relaxed);
        result
    });
    if let Some(e) = write_error
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        return Err(e);
    }
    let totals = totals?;
    let mut out = lock();
    let sig = signal.load(Ordering::Relaxed) as i32;
    match sig {
        SIGINT => eprintln!("sha256d-engine: SIGINT received, mining stopped"),
        SIGTERM => eprintln!("sha256d-engine: SIGTERM received, mining stopped"),
        _ => {}
    }
    let secs = totals.elapsed.as_secs_f64();
    if json {
        out.json(&json!({
            "type": "summary",
            "backend": backend.name(),
            "threads": threads,
            "hashes": totals.hashes,
            "seconds": secs,
            "mhs": totals.hash_rate() / 1e6,
            "submitted": totals.submitted,
            "accepted": totals.accepted,
            "rejected": totals.rejected,
            "rejected_by_reason": totals.rejected_by_reason,
            "blocks": totals.blocks,
            "discarded": totals.discarded,
            "reconnects": totals.reconnects,
        }))?;
    } else {
        out.line(&format!(
            "totals: {} submitted, {} accepted, {} rejected, {} blocks, {} discarded, {} reconnects; {} hashes in {secs:.1} s: {:.2} MH/s",
            totals.submitted,
            totals.accepted,
            totals.rejected,
            totals.blocks,
            totals.discarded,
            totals.reconnects,
            totals.hashes,
            totals.hash_rate() / 1e6,
        ))?;
    }
    out.flush()?;
    Ok(match sig {
        SIGINT => EXIT_SIGINT,
        SIGTERM => EXIT_SIGTERM,
        _ => EXIT_OK,
    })
}

/// The running totals as a `--json` `status` event.
fn status_json(s: &ClientStats) -> Value {
    json!({
        "type": "status",
        "seconds": s.elapsed.as_secs_f64(),
        "hashes": s.hashes,
        "mhs": s.hash_rate() / 1e6,
        "difficulty": s.difficulty,
        "connected": s.connected,
        "submitted": s.submitted,
        "accepted": s.accepted,
        "rejected": s.rejected,
        "blocks": s.blocks,
    })
}

fn status_line(s: &ClientStats) -> String {
    format!(
        "{:.2} MH/s  difficulty {}  accepted {}  rejected {}  blocks {}{}",
        s.hash_rate() / 1e6,
        fmt_difficulty(s.difficulty),
        s.accepted,
        s.rejected,
        s.blocks,
        if s.connected { "" } else { "  (not connected)" }
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One event as a JSON object and as a text line.
fn describe(e: &Event) -> (Value, String) {
    match e {
        Event::Connecting { pool, attempt } => (
            json!({"type": "connecting", "pool": pool, "attempt": attempt}),
            format!("connecting to {pool} (attempt {attempt})"),
        ),
        Event::Connected {
            pool,
            extranonce1,
            extranonce2_size,
            version_mask,
        } => (
            json!({"type": "connected", "pool": pool, "extranonce1": hex::encode(extranonce1),
                   "extranonce2_size": extranonce2_size, "version_mask": format!("{version_mask:08x}")}),
            format!(
                "connected to {pool}: extranonce1 {}, extranonce2 size {extranonce2_size}, version mask {version_mask:08x}",
                hex::encode(extranonce1)
            ),
        ),
        Event::Difficulty { difficulty } => (
            json!({"type": "difficulty", "difficulty": difficulty}),
            format!("difficulty {}", fmt_difficulty(*difficulty)),
        ),
        Event::VersionMask { mask } => (
            json!({"type": "version_mask", "mask": format!("{mask:08x}")}),
            format!("version mask {mask:08x}"),
        ),
        Event::Extranonce {
            extranonce1,
            extranonce2_size,
        } => (
            json!({"type": "extranonce", "extranonce1": hex::encode(extranonce1),
                   "extranonce2_size": extranonce2_size}),
            format!(
                "extranonce1 {}, extranonce2 size {extranonce2_size} for the next jobs",
                hex::encode(extranonce1)
            ),
        ),
        Event::Job {
            job_id,
            clean_jobs,
            prevhash,
            difficulty,
            latency,
        } => (
            json!({"type": "job", "job_id": job_id, "clean_jobs": clean_jobs,
                   "prevhash": prevhash.to_string(), "difficulty": difficulty,
                   "latency_ms": ms(*latency)}),
            format!(
                "job {job_id}{} at difficulty {}, hashing {:.1} ms after the notify",
                if *clean_jobs { " (clean)" } else { "" },
                fmt_difficulty(*difficulty),
                ms(*latency)
            ),
        ),
        Event::Submitted(share) => {
            let s = &share.submission;
            (
                json!({"type": "submitted", "id": share.id, "job_id": s.job_id,
                       "extranonce2": hex::encode(&s.extranonce2),
                       "ntime": format!("{:08x}", s.ntime), "nonce": format!("{:08x}", s.nonce),
                       "version_bits": s.version_bits.map(|b| format!("{b:08x}")),
                       "hash": share.hash.map(|h| h.to_string()), "difficulty": share.difficulty,
                       "block": share.block, "checked": share.checked}),
                format!(
                    "submitted #{}: job {} nonce {:08x} difficulty {}{}",
                    share.id,
                    s.job_id,
                    s.nonce,
                    share
                        .difficulty
                        .map_or_else(|| "unchecked".to_string(), fmt_difficulty),
                    if share.block { " (block)" } else { "" }
                ),
            )
        }
        Event::Accepted {
            id,
            job_id,
            hash,
            difficulty,
        } => (
            json!({"type": "accepted", "id": id, "job_id": job_id,
                   "hash": hash.map(|h| h.to_string()), "difficulty": difficulty}),
            format!("accepted #{id} (job {job_id})"),
        ),
        Event::Rejected {
            id,
            job_id,
            code,
            reason,
        } => (
            json!({"type": "rejected", "id": id, "job_id": job_id, "code": code, "reason": reason}),
            format!(
                "rejected #{id} (job {job_id}): {}{reason}",
                code.map(|c| format!("{c} ")).unwrap_or_default()
            ),
        ),
        Event::Block { job_id, hash } => (
            json!({"type": "block", "job_id": job_id, "hash": hash.to_string()}),
            format!("block {hash} (job {job_id})"),
        ),
        Event::Discarded {
            job_id,
            reason,
            detail,
        } => (
            json!({"type": "discarded", "job_id": job_id,
                   "reason": reason.map(|r| r.as_str()), "detail": detail}),
            format!(
                "not submitted (job {job_id}): {}{detail}",
                reason.map(|r| format!("{r}: ")).unwrap_or_default()
            ),
        ),
        Event::Message { text } => (
            json!({"type": "message", "text": text}),
            format!("pool says: {text}"),
        ),
        Event::Reconnect { reason, after } => (
            json!({"type": "reconnect", "reason": reason, "after_s": after.as_secs_f64()}),
            format!("{reason}; reconnecting in {:.1} s", after.as_secs_f64()),
        ),
        Event::Error { message } => (
            json!({"type": "error", "message": message}),
            format!("pool error: {message}"),
        ),
        other => (
            json!({"type": "other", "event": format!("{other:?}")}),
            format!("{other:?}"),
        ),
    }
}

fn print_event(out: &mut Out<std::io::Stdout>, json: bool, e: &Event) -> Result<(), Fail> {
    let (value, text) = describe(e);
    if json {
        out.json(&value)
    } else {
        out.line(&text)
    }
}
