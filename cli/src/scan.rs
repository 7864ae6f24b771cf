//! `scan`: one header's nonces, every core, each hit printed as soon as it is found.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use sha256d_engine::scanner::{Control, Found, Scanner, SearchOptions};
use sha256d_engine::work::HeaderTemplate;
use sha256d_engine::{CompactTarget, Header, Target};
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::output::Out;
use crate::parse::{self, fmt_difficulty, plural};
use crate::progress::Progress;
use crate::{EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, Fail, fail, sysinfo};

/// Block 125552's header (the worked example of the Bitcoin wiki's "Block hashing
/// algorithm" page): mainnet, nBits 1a44b9f2, nonce 2504433986.
pub const EMBEDDED_HEADER: &str = concat!(
    "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e320b6c2ff",
    "fc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2b9441a42a14695"
);
/// The embedded header's height, for the human-readable output.
const EMBEDDED_HEIGHT: u32 = 125_552;
/// Nonces scanned around the embedded header's real nonce by default.
const EMBEDDED_WINDOW: u64 = 1 << 22;

#[derive(Args, Default)]
#[command(allow_negative_numbers = true)]
pub struct ScanArgs {
    /// The 80-byte header as 160 hex digits (default: block 125552, embedded).
    #[arg(long, value_name = "HEX160", value_parser = parse::header)]
    header: Option<Header>,
    /// Target as compact nBits, 8 hex digits (default: the header's own nBits).
    #[arg(long, value_name = "HEX8", value_parser = parse::bits, group = "tgt")]
    bits: Option<CompactTarget>,
    /// Target as 64 hex digits, big-endian as explorers print targets.
    #[arg(long, value_name = "HEX64", value_parser = parse::target, group = "tgt")]
    target: Option<Target>,
    /// Target as a pool difficulty (difficulty 1 = 0x00000000ffff0000...).
    #[arg(long, value_name = "F", value_parser = parse::difficulty, group = "tgt")]
    difficulty: Option<Target>,
    /// First nonce, decimal or 0x hex (default: 0; for the embedded header, 2^21 below
    /// its real nonce).
    #[arg(long, value_name = "N", value_parser = parse::nonce)]
    start: Option<u32>,
    /// Number of nonces, decimal or 0x hex (default: to the end of the nonce space; for
    /// the embedded header with no --start, a window of 2^22).
    #[arg(long, value_name = "N", value_parser = parse::count)]
    count: Option<u64>,
    /// auto, scalar, sse41, avx2, avx512 or shani, any case (default: $SHA256D_BACKEND, else auto).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// Worker threads (default: every core; more than the cores is allowed, with a note).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Stop after this many hits.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_hits: Option<u64>,
    /// Stop at the first hit (--max-hits 1).
    #[arg(long, conflicts_with = "max_hits")]
    first: bool,
    /// JSON lines: one {"type":"hit"} per hit as found, then one {"type":"summary"}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonHit {
    r#type: &'static str,
    nonce: u32,
    hash: String,
    difficulty: f64,
    block: bool,
}

#[derive(Serialize)]
struct JsonSummary {
    r#type: &'static str,
    backend: &'static str,
    threads: usize,
    start: u32,
    count: u64,
    hashes: u64,
    hits: u64,
    seconds: f64,
    mhs: f64,
    complete: bool,
    stopped_by: Option<&'static str>,
}

/// What the hit callback shares between the worker threads.
struct Printer {
    out: Out<std::io::Stdout>,
    printed: u64,
    error: Option<Fail>,
}

/// Installs the SIGINT and SIGTERM handlers: the first signal sets `signal` to its
/// number; a second one ends the program at once with 128 + its number.
pub fn catch_signals(signal: &Arc<AtomicUsize>) -> Result<(), Fail> {
    let seen = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&seen))
            .map_err(|e| fail(format!("installing the signal handler: {e}")))?;
        signal_hook::flag::register(sig, Arc::clone(&seen))
            .map_err(|e| fail(format!("installing the signal handler: {e}")))?;
        signal_hook::flag::register_usize(sig, Arc::clone(signal), sig as usize)
            .map_err(|e| fail(format!("installing the signal handler: {e}")))?;
    }
    Ok(())
}

pub fn run(args: ScanArgs) -> Result<u8, Fail> {
    sysinfo::warn_if_unoptimised();
    let backend = parse::backend(args.backend.as_deref())?;
    let threads = parse::threads(args.threads)?;
    let scanner = Scanner::builder()
        .backend(backend)
        .threads(threads)
        .build()?;
    let embedded = args.header.is_none();
    let header = match args.header {
        Some(h) => h,
        None => Header::from_hex(EMBEDDED_HEADER)?,
    };
    let target = match (args.bits, args.target, args.difficulty) {
        (Some(bits), _, _) => Target::from_compact(bits)?,
        (_, Some(t), _) | (_, _, Some(t)) => t,
        _ => header
            .target()
            .map_err(|e| fail(format!("the header's own nBits: {e}")))?,
    };
    let block_target = header.target().ok();
    let implicit_start = embedded && args.start.is_none();
    let start = match args.start {
        Some(s) => s,
        None if embedded => header.nonce.saturating_sub((EMBEDDED_WINDOW / 2) as u32),
        None => 0,
    };
    let count = match args.count {
        Some(c) => c,
        None if implicit_start => EMBEDDED_WINDOW,
        None => (1u64 << 32) - u64::from(start),
    };
    if count == 0 {
        return Err(fail("--count must be at least 1"));
    }
    let end = u64::from(start) + count - 1;
    if end > u64::from(u32::MAX) {
        let from = if implicit_start {
            format!("from the embedded window's start {start} (no --start given)")
        } else {
            format!("from --start {start}")
        };
        return Err(fail(format!(
            "--count {count} {from} runs past the end of the nonce space (the last nonce is {} = 0xffffffff)",
            u32::MAX
        )));
    }
    let end = end as u32;
    if implicit_start && args.count.is_some() {
        eprintln!(
            "note: no --start: the embedded header's window starts at nonce {start} \
             (0x{start:08x}), 2^21 below block {EMBEDDED_HEIGHT}'s real nonce"
        );
    }
    let max_hits = if args.first { Some(1) } else { args.max_hits };

    let mut out = Out::stdout();
    if !args.json {
        let what = if embedded {
            format!("block {EMBEDDED_HEIGHT} (embedded)")
        } else {
            "header".to_string()
        };
        out.line(&format!("scanning {what} {}", header.to_hex()))?;
        out.line(&format!(
            "nonces {start}..={end} ({count}), target {}, backend {backend}, {}",
            target.to_be_hex(),
            plural(threads as u64, "thread", "threads")
        ))?;
    }

    let signal = Arc::new(AtomicUsize::new(0));
    catch_signals(&signal)?;

    let printer = Mutex::new(Printer {
        out,
        printed: 0,
        error: None,
    });
    let hits = AtomicU64::new(0);
    let control = Control::new();
    let done = AtomicBool::new(false);
    let on_hit = |f: Found| {
        let mut p = printer.lock().unwrap_or_else(|e| e.into_inner());
        if p.error.is_some() || max_hits.is_some_and(|m| p.printed >= m) {
            return;
        }
        let nonce = f.header.nonce;
        let difficulty = f.hash.difficulty();
        let block = block_target.is_some_and(|t| t.is_met_by(&f.hash));
        let written = if args.json {
            p.out.json(&JsonHit {
                r#type: "hit",
                nonce,
                hash: f.hash.to_string(),
                difficulty,
                block,
            })
        } else {
            p.out
                .line(&format!(
                    "hit: nonce {nonce} (0x{nonce:08x}) difficulty {} hash {}{}",
                    fmt_difficulty(difficulty),
                    f.hash,
                    if block { " BLOCK" } else { "" }
                ))
                .and_then(|()| {
                    if embedded && nonce == header.nonce {
                        p.out
                            .line(&format!("found block {EMBEDDED_HEIGHT}: {}", f.hash))
                    } else {
                        Ok(())
                    }
                })
        };
        match written {
            Ok(()) => {
                p.printed += 1;
                hits.store(p.printed, Ordering::Relaxed);
                if max_hits.is_some_and(|m| p.printed >= m) {
                    control.stop();
                }
            }
            Err(e) => {
                p.error = Some(e);
                control.stop();
            }
        }
    };

    let template = HeaderTemplate::new(header).with_version_mask(0);
    let options = SearchOptions {
        nonces: start..=end,
        ntime_roll: 0,
        version_mask: Some(0),
    };
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            let mut progress = Progress::new(count);
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                if signal.load(Ordering::Relaxed) != 0 {
                    control.stop();
                }
                progress.update(&control, hits.load(Ordering::Relaxed));
            }
            progress.finish();
        });
        let report = scanner.search(&template, &target, &options, &control, on_hit);
        done.store(true, Ordering::Relaxed);
        report
    })?;

    let Printer {
        mut out,
        printed,
        error,
    } = printer.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = error {
        return Err(e);
    }
    let seconds = control.elapsed().as_secs_f64();
    let mhs = report.hashes as f64 / seconds / 1e6;
    let sig = signal.load(Ordering::Relaxed);
    let stopped_by = match sig as i32 {
        SIGINT => Some("sigint"),
        SIGTERM => Some("sigterm"),
        _ if !report.exhausted || report.hits > printed => Some("max-hits"),
        _ => None,
    };
    let complete = stopped_by.is_none();
    match sig as i32 {
        SIGINT => eprintln!("sha256d-engine: SIGINT received, scan stopped"),
        SIGTERM => eprintln!("sha256d-engine: SIGTERM received, scan stopped"),
        _ => {}
    }
    if args.json {
        out.json(&JsonSummary {
            r#type: "summary",
            backend: backend.name(),
            threads,
            start,
            count,
            hashes: report.hashes,
            hits: printed,
            seconds,
            mhs,
            complete,
            stopped_by,
        })?;
    } else {
        let why = match stopped_by {
            Some("sigint") => "; interrupted (SIGINT) before the end of the range",
            Some("sigterm") => "; terminated (SIGTERM) before the end of the range",
            Some(_) => "; stopped at --max-hits",
            None => "",
        };
        out.line(&format!(
            "{}; {} hashes in {seconds:.3} s: {mhs:.2} MH/s{why}",
            plural(printed, "hit", "hits"),
            report.hashes,
        ))?;
    }
    out.flush()?;
    Ok(match sig as i32 {
        SIGINT => EXIT_SIGINT,
        SIGTERM => EXIT_SIGTERM,
        _ => EXIT_OK,
    })
}
