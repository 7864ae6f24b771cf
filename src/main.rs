//! `sha256d-engine`: scan, bench and validate from the command line.
//!
//! With no arguments it runs `scan` on an embedded real mainnet header (block 125552)
//! over a window of 4,194,304 nonces around its real nonce, and finds that block.

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use sha256d_engine::scanner::{Control, Scanner, SearchOptions, default_threads};
use sha256d_engine::work::HeaderTemplate;
use sha256d_engine::{Backend, CompactTarget, Header, Hit, Target};

/// Block 125552's header (the worked example of the Bitcoin wiki's "Block hashing
/// algorithm" page): mainnet, nBits 1a44b9f2, nonce 2504433986.
const EMBEDDED_HEADER: &str = concat!(
    "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e320b6c2ff",
    "fc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2b9441a42a14695"
);
/// The embedded header's height, for the human-readable output.
const EMBEDDED_HEIGHT: u32 = 125_552;
/// Nonces scanned around the embedded header's real nonce by default.
const EMBEDDED_WINDOW: u64 = 1 << 22;

#[derive(Parser)]
#[command(
    name = "sha256d-engine",
    version,
    about = "Bitcoin nonce search with double SHA-256 on the CPU, and an exact share validator",
    long_about = "Bitcoin nonce search with double SHA-256 on the CPU, and an exact share \
                  validator.\n\nWith no subcommand, runs `scan` on an embedded real mainnet \
                  header (block 125552) around its real nonce."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Search a header's nonces for hashes that meet a target.
    Scan(ScanArgs),
    /// Measure MH/s per backend.
    Bench(BenchArgs),
    /// Check mining.submit shares against a Stratum job.
    Validate(ValidateArgs),
}

#[derive(Args)]
struct ValidateArgs {
    /// The job: {"extranonce1","extranonce2_size","version_mask"?,"difficulty","notify":[...]}.
    #[arg(long, value_name = "JOB.json", required_unless_present = "session")]
    job: Option<std::path::PathBuf>,
    /// One mining.submit params array per line (`-` or absent: standard input).
    #[arg(long, value_name = "SHARES.jsonl", conflicts_with = "session")]
    shares: Option<std::path::PathBuf>,
    /// Replay a recorded Stratum session: one JSON-RPC message per line, both directions
    /// (`-`: standard input).
    #[arg(long, value_name = "LOG.jsonl", conflicts_with = "job")]
    session: Option<std::path::PathBuf>,
    /// Seconds a share's ntime may be above the job's.
    #[arg(long, value_name = "SECONDS", default_value_t = sha256d_engine::validate::DEFAULT_NTIME_WINDOW)]
    ntime_window: u32,
    /// How version bits combine with the job's version: bip310, or (ckpool), xor (public-pool).
    #[arg(long, value_name = "RULE", default_value = "bip310", value_parser = ["bip310", "or", "xor"])]
    rolling: String,
    /// Backend for the batch hash (default: $SHA256D_BACKEND, else auto).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// One JSON object per share instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Default)]
#[command(allow_negative_numbers = true)]
struct ScanArgs {
    /// The 80-byte header as 160 hex digits (default: block 125552, embedded).
    #[arg(long, value_name = "HEX160", value_parser = parse_header)]
    header: Option<Header>,
    /// Target as compact nBits, 8 hex digits (default: the header's own nBits).
    #[arg(long, value_name = "HEX8", value_parser = parse_bits, group = "tgt")]
    bits: Option<CompactTarget>,
    /// Target as 64 hex digits, big-endian as explorers print targets.
    #[arg(long, value_name = "HEX64", value_parser = parse_target, group = "tgt")]
    target: Option<Target>,
    /// Target as a pool difficulty (difficulty 1 = 0x00000000ffff0000...).
    #[arg(long, value_name = "F", value_parser = parse_difficulty, group = "tgt")]
    difficulty: Option<Target>,
    /// First nonce (default: 0, or the embedded header's window start).
    #[arg(long, value_name = "N")]
    start: Option<u32>,
    /// Number of nonces (default: to the end of the nonce space, or the embedded window).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// auto, scalar, sse41, avx2 or shani (default: $SHA256D_BACKEND, else auto).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct BenchArgs {
    /// `all` or one backend name (auto, scalar, sse41, avx2, shani).
    #[arg(long, value_name = "NAME", default_value = "all")]
    backend: String,
    /// Worker threads: a number, or `all` for every count from 1 to the number of cores.
    #[arg(long, value_name = "N|all", default_value = "1")]
    threads: String,
    /// Seconds to measure each backend at each thread count.
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    seconds: f64,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_header(s: &str) -> Result<Header, String> {
    Header::from_hex(s).map_err(|e| e.to_string())
}
fn parse_bits(s: &str) -> Result<CompactTarget, String> {
    let bits = CompactTarget::from_be_hex(s).map_err(|e| format!("bad nBits: {e}"))?;
    Target::from_compact(bits).map_err(|e| e.to_string())?;
    Ok(bits)
}
fn parse_target(s: &str) -> Result<Target, String> {
    Target::from_be_hex(s).map_err(|e| e.to_string())
}
fn parse_difficulty(s: &str) -> Result<Target, String> {
    let d: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    Target::from_difficulty(d).map_err(|e| e.to_string())
}

/// An error for the user: printed as one line, exit status 1.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return ExitCode::SUCCESS;
            }
            // clap's message is several lines (usage, hints); the first names the problem.
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid arguments");
            eprintln!("error: {}", first.trim_start_matches("error: ").trim());
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        None => run_scan(ScanArgs::default()),
        Some(Command::Scan(args)) => run_scan(args),
        Some(Command::Bench(args)) => run_bench(args),
        Some(Command::Validate(args)) => run_validate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `--backend` if given, else `SHA256D_BACKEND`, else the detected one.
fn choose_backend(name: Option<&str>) -> Result<Backend, Failure> {
    Ok(match name {
        Some(n) => Backend::from_name(n)?,
        None => Backend::from_env()?,
    })
}

fn scanner(backend: Backend, threads: usize) -> Result<Scanner, Failure> {
    if threads == 0 {
        return Err(Failure("--threads must be at least 1".into()));
    }
    Ok(Scanner::builder()
        .backend(backend)
        .threads(threads)
        .build()?)
}

/// A progress bar on stderr for a scan of `count` nonces, shown only when stderr is a
/// terminal and the scan has run for a second. Stops when `done` is set.
fn progress_bar(control: &Control, count: u64, done: &AtomicBool) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let mut bar: Option<indicatif::ProgressBar> = None;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if control.elapsed() < Duration::from_secs(1) {
            continue;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(count);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {percent:>3}% {human_pos}/{human_len} nonces {msg} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        b.set_position(control.hashes());
        b.set_message(format!("{:.2} MH/s", control.rate() / 1e6));
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

#[derive(Serialize)]
struct JsonHit {
    nonce: u32,
    hash: String,
}

#[derive(Serialize)]
struct ScanReport {
    backend: &'static str,
    threads: usize,
    start: u32,
    count: u64,
    hashes: u64,
    seconds: f64,
    mhs: f64,
    hits: Vec<JsonHit>,
}

fn run_scan(args: ScanArgs) -> Result<(), Failure> {
    let backend = choose_backend(args.backend.as_deref())?;
    let threads = args.threads.unwrap_or_else(default_threads);
    let scanner = scanner(backend, threads)?;
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
            .map_err(|e| Failure(format!("the header's own nBits: {e}")))?,
    };
    let (default_start, default_count) = if embedded {
        let start = header.nonce.saturating_sub((EMBEDDED_WINDOW / 2) as u32);
        (start, EMBEDDED_WINDOW)
    } else {
        (0, 1u64 << 32)
    };
    let start = args.start.unwrap_or(default_start);
    let count = match args.count {
        Some(c) => c,
        None if args.start.is_some() || !embedded => (1u64 << 32) - start as u64,
        None => default_count,
    };
    if count == 0 {
        return Err(Failure("--count must be at least 1".into()));
    }
    let end = start as u64 + count - 1;
    if end > u32::MAX as u64 {
        return Err(Failure(format!(
            "--start {start} --count {count} runs past the end of the nonce space (the last nonce is {})",
            u32::MAX
        )));
    }
    let end = end as u32;

    if !args.json {
        let what = if embedded {
            format!("block {EMBEDDED_HEIGHT} (embedded)")
        } else {
            "header".to_string()
        };
        println!("scanning {what} {}", header.to_hex());
        println!(
            "nonces {start}..={end} ({count}), target {}, backend {backend}, {} thread(s)",
            target.to_be_hex(),
            threads
        );
    }
    let control = Control::new();
    let done = AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        if !args.json {
            s.spawn(|| progress_bar(&control, count, &done));
        }
        let report = scanner.scan_with(&header, &target, start..=end, &control);
        done.store(true, Ordering::Relaxed);
        report
    });
    let seconds = control.elapsed().as_secs_f64();
    let mhs = report.hashes as f64 / seconds / 1e6;
    let hits = report.hits;

    if args.json {
        let report = ScanReport {
            backend: backend.name(),
            threads,
            start,
            count,
            hashes: report.hashes,
            seconds,
            mhs,
            hits: hits
                .iter()
                .map(|h| JsonHit {
                    nonce: h.nonce,
                    hash: h.hash.to_string(),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for Hit { nonce, hash } in &hits {
            println!("hit: nonce {nonce} (0x{nonce:08x}) hash {hash}");
        }
        if embedded && hits.iter().any(|h| h.nonce == header.nonce) {
            println!("found block {EMBEDDED_HEIGHT}: {}", header.block_hash());
        }
        println!(
            "{} hit(s); {count} hashes in {seconds:.3} s: {mhs:.2} MH/s",
            hits.len()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct BenchRow {
    backend: &'static str,
    threads: usize,
    mhs: f64,
}

/// Searches the embedded header (rolling version bits when a header's nonces run out)
/// for `seconds` with `threads` threads; returns the total MH/s of all threads.
fn measure(backend: Backend, threads: usize, seconds: f64) -> Result<f64, Failure> {
    let header = Header::from_hex(EMBEDDED_HEADER)?;
    let target = header.target()?;
    let scanner = scanner(backend, threads)?;
    let control = Control::new();
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            // Stop after `seconds`, checking often so a fast search does not wait.
            while control.elapsed().as_secs_f64() < seconds && !control.is_stopped() {
                std::thread::sleep(Duration::from_millis(5));
            }
            control.stop();
        });
        let report = scanner.search(
            &HeaderTemplate::new(header),
            &target,
            &SearchOptions::default(),
            &control,
            |_| {},
        );
        control.stop();
        report
    })?;
    Ok(report.hashes as f64 / control.elapsed().as_secs_f64() / 1e6)
}

fn run_bench(args: BenchArgs) -> Result<(), Failure> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(Failure(format!(
            "--seconds {}: must be a positive number",
            args.seconds
        )));
    }
    let thread_counts: Vec<usize> = if args.threads == "all" {
        (1..=default_threads()).collect()
    } else {
        match args.threads.parse::<usize>() {
            Ok(n) if n >= 1 => vec![n],
            _ => {
                return Err(Failure(format!(
                    "--threads {:?}: expected a number of threads (at least 1) or `all`",
                    args.threads
                )));
            }
        }
    };
    let backends = if args.backend == "all" {
        Backend::all_available()
    } else {
        vec![Backend::from_name(&args.backend)?]
    };
    let mut rows = Vec::new();
    if !args.json {
        println!("{:<8} {:>7} {:>10}", "backend", "threads", "MH/s");
    }
    for backend in backends {
        for &threads in &thread_counts {
            let mhs = measure(backend, threads, args.seconds)?;
            if !args.json {
                println!("{:<8} {:>7} {:>10.2}", backend.name(), threads, mhs);
            }
            rows.push(BenchRow {
                backend: backend.name(),
                threads,
                mhs,
            });
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

/// `validate`: a thin wrapper over `sha256d_engine::validate::replay`.
fn run_validate(args: ValidateArgs) -> Result<(), Failure> {
    use sha256d_engine::rolling::RollingRule;
    use sha256d_engine::validate::{JobSpec, Session, SessionOptions, replay};
    let rolling = match args.rolling.as_str() {
        "or" => RollingRule::Or,
        "xor" => RollingRule::Xor,
        _ => RollingRule::Bip310,
    };
    let options = SessionOptions::default()
        .with_ntime_window(args.ntime_window)
        .with_rolling(rolling)
        .with_backend(choose_backend(args.backend.as_deref())?);
    let mut session = Session::new(options);
    let open = |path: Option<&std::path::Path>| -> Result<Box<dyn std::io::BufRead>, Failure> {
        match path {
            None => Ok(Box::new(std::io::stdin().lock())),
            Some(p) if p.as_os_str() == "-" => Ok(Box::new(std::io::stdin().lock())),
            Some(p) => std::fs::File::open(p)
                .map(|f| Box::new(std::io::BufReader::new(f)) as Box<dyn std::io::BufRead>)
                .map_err(|e| Failure(format!("{}: {e}", p.display()))),
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = if let Some(log) = &args.session {
        let input = open(Some(log))?;
        let mut reported = 0u64;
        replay::replay_session(&mut session, input, &mut out, args.json, |line, issue| {
            reported += 1;
            if reported <= 20 {
                eprintln!("{}: line {line} skipped: {issue}", log.display());
            }
        })
    } else {
        let job = args.job.as_deref().unwrap_or(std::path::Path::new("-"));
        let text =
            std::fs::read_to_string(job).map_err(|e| Failure(format!("{}: {e}", job.display())))?;
        let spec =
            JobSpec::from_json(&text).map_err(|e| Failure(format!("{}: {e}", job.display())))?;
        session
            .set_difficulty(spec.difficulty)
            .map_err(|e| Failure(format!("{}: {e}", job.display())))?;
        session.subscribe(sha256d_engine::job::Subscription {
            extranonce1: spec.job.extranonce1().to_vec(),
            extranonce2_size: spec.job.extranonce2_size(),
        });
        session.set_version_mask(spec.job.version_mask());
        session.add_job(spec.job);
        let input = open(args.shares.as_deref())?;
        replay::validate_shares(&mut session, input, &mut out, args.json)
    };
    match result {
        Ok(summary) => {
            eprintln!("{summary}");
            Ok(())
        }
        // A closed pipe (`| head`): stop quietly.
        Err(e) if e.io_error().kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure(e.to_string())),
    }
}
