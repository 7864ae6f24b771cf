//! `asic`: ASIC results checked with the library's reference (`sha256d_engine::asic`),
//! one JSON object per input line, one verdict per line, as `validate` does for shares.
//!
//! Input lines (hex strings; a blank line is skipped):
//! - `{"kind":"header","header":HEX160}`: a whole header, nonce included;
//! - `{"kind":"icarus","work":HEX128,"nonce":HEX8}`: 64-byte Icarus work and the four
//!   bytes the device returned;
//! - `{"kind":"cgminer","data":HEX256,"midstate":HEX64?}`: cgminer's 128-byte getwork
//!   data (nonce included) and, if given, the midstate the chip was sent;
//! - `{"kind":"bm13xx","family":"bm1366","job":HEX160,"frame":HEX,"mask":HEX8?,
//!   "midstates":N?}`: a BM13xx result frame and the job's header (BIP 320 mask by
//!   default; BM1397 results name one of `midstates` (default 4) rolled midstates).

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use serde_json::Value;
use sha256d_engine::Header;
use sha256d_engine::asic::{
    ChipFamily, ChipResult, ChipStats, IcarusWork, RolledWork, Validator, Verdict, WireNonce,
    WorkItem, header_from_getwork, midstate_from_cgminer,
};
use sha256d_engine::target::Target;
use sha256d_engine::work::BIP320_VERSION_MASK;

use crate::output::Out;
use crate::parse::{self, fmt_difficulty, plural};
use crate::{EXIT_OK, Fail, fail};

#[derive(Args)]
pub struct AsicArgs {
    /// One result per line (see the README for the kinds); `-` or absent: standard input.
    #[arg(long, value_name = "RESULTS.jsonl")]
    results: Option<PathBuf>,
    /// The target being checked, as a pool difficulty.
    #[arg(long, value_name = "F", default_value = "1", value_parser = parse::difficulty)]
    difficulty: Target,
    /// The chip's own target (its ticket mask) as a difficulty: a result below it is a
    /// hardware error.
    #[arg(long, value_name = "F", default_value = "1", value_parser = parse::difficulty)]
    chip_difficulty: Target,
    /// Chips on the chain, to count BM13xx results per chip and core (summary on stderr).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    chips: Option<u16>,
    /// JSON lines: one {"type":"result"} per input line, then one {"type":"summary"}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct JsonResult {
    r#type: &'static str,
    line: u64,
    kind: Option<String>,
    /// Not a hardware error.
    good: bool,
    /// Good, and meets `--difficulty`.
    share: bool,
    /// The hardware error, or why the line could not be read.
    error: Option<String>,
    /// The line could not be read (its `error` says why); not a verdict.
    malformed: bool,
    hash: Option<String>,
    difficulty: Option<f64>,
    chip: Option<u16>,
    core: Option<u16>,
}

#[derive(Serialize)]
struct JsonSummary {
    r#type: &'static str,
    results: u64,
    good: u64,
    shares: u64,
    hardware_errors: u64,
    malformed: u64,
    blank_lines: u64,
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = v
        .get(name)
        .ok_or_else(|| format!("{name} is missing"))?
        .as_str()
        .ok_or_else(|| format!("{name} is not a string"))?;
    decode_hex(s).map_err(|e| format!("{name}: {e}"))
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("invalid hex at position {i}"))
        })
        .collect()
}

fn family(name: &str) -> Result<ChipFamily, String> {
    match name.to_ascii_lowercase().as_str() {
        "bm1397" => Ok(ChipFamily::Bm1397),
        "bm1366" => Ok(ChipFamily::Bm1366),
        "bm1368" => Ok(ChipFamily::Bm1368),
        "bm1370" => Ok(ChipFamily::Bm1370),
        other => Err(format!(
            "unknown chip family {other:?} (expected bm1397, bm1366, bm1368 or bm1370)"
        )),
    }
}

/// One checked line: the verdict and, for a BM13xx frame, the result it came from.
struct Checked {
    kind: String,
    verdict: Verdict,
    chip: Option<ChipResult>,
}

fn check_line(line: &str, validator: &Validator) -> Result<Checked, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("expected a JSON object with a \"kind\"".into());
    }
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("\"kind\" is missing or not a string")?
        .to_string();
    let item = |item: WorkItem| validator.check(&item);
    let (verdict, chip) = match kind.as_str() {
        "header" => {
            let h = Header::from_bytes(
                &hex_field(&v, "header")?
                    .try_into()
                    .map_err(|_| "header: expected 80 bytes")?,
            );
            (item(WorkItem::from_header(&h)), None)
        }
        "icarus" => {
            let work = IcarusWork::from_bytes(&hex_field(&v, "work")?)
                .map_err(|e| format!("work: {e}"))?;
            let nonce = WireNonce::from_slice(&hex_field(&v, "nonce")?)
                .map_err(|e| format!("nonce: {e}"))?;
            (item(work.item(nonce.header_nonce())), None)
        }
        "cgminer" => {
            let header =
                header_from_getwork(&hex_field(&v, "data")?).map_err(|e| format!("data: {e}"))?;
            let mut w = WorkItem::from_header(&header);
            if v.get("midstate").is_some() {
                w.midstate = midstate_from_cgminer(&hex_field(&v, "midstate")?)
                    .map_err(|e| format!("midstate: {e}"))?;
            }
            (item(w), None)
        }
        "bm13xx" => {
            let fam = family(
                v.get("family")
                    .and_then(Value::as_str)
                    .ok_or("\"family\" is missing or not a string")?,
            )?;
            let job = Header::from_bytes(
                &hex_field(&v, "job")?
                    .try_into()
                    .map_err(|_| "job: expected an 80-byte header")?,
            );
            let mask = match v.get("mask") {
                None | Some(Value::Null) => BIP320_VERSION_MASK,
                Some(_) => {
                    let b: [u8; 4] = hex_field(&v, "mask")?
                        .try_into()
                        .map_err(|_| "mask: expected 4 bytes (8 hex digits)")?;
                    u32::from_be_bytes(b)
                }
            };
            let r = ChipResult::from_frame(fam, &hex_field(&v, "frame")?)
                .map_err(|e| format!("frame: {e}"))?;
            let verdict = match r.midstate_index() {
                Some(slot) => {
                    let count = match v.get("midstates") {
                        None | Some(Value::Null) => 4,
                        Some(n) => n
                            .as_u64()
                            .filter(|n| (1..=4).contains(n))
                            .ok_or("midstates: expected 1 to 4")?
                            as usize,
                    };
                    validator.check_slot(&RolledWork::from_header(&job, mask, count), slot, r.nonce)
                }
                None => {
                    let h = r.header(&job, mask).map_err(|e| format!("frame: {e}"))?;
                    item(WorkItem::from_header(&h))
                }
            };
            (verdict, Some(r))
        }
        other => {
            return Err(format!(
                "unknown kind {other:?} (expected header, icarus, cgminer or bm13xx)"
            ));
        }
    };
    Ok(Checked {
        kind,
        verdict,
        chip,
    })
}

pub fn run(args: AsicArgs) -> Result<u8, Fail> {
    let validator = Validator::new(args.difficulty).with_chip_target(args.chip_difficulty);
    let (input, name): (Box<dyn BufRead>, String) = match &args.results {
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
    let mut out = Out::buffered();
    let mut stats = ChipStats::default();
    let mut sum = JsonSummary {
        r#type: "summary",
        results: 0,
        good: 0,
        shares: 0,
        hardware_errors: 0,
        malformed: 0,
        blank_lines: 0,
    };
    for (i, line) in input.lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.map_err(|e| fail(format!("{name}: {e}")))?;
        if line.trim().is_empty() {
            sum.blank_lines += 1;
            continue;
        }
        let mut row = JsonResult {
            r#type: "result",
            line: n,
            ..JsonResult::default()
        };
        match check_line(line.trim(), &validator) {
            Err(e) => {
                sum.malformed += 1;
                row.malformed = true;
                row.error = Some(e);
            }
            Ok(c) => {
                sum.results += 1;
                row.kind = Some(c.kind);
                row.good = c.verdict.is_good();
                row.share = c.verdict.is_share();
                sum.good += row.good as u64;
                sum.shares += row.share as u64;
                if let Verdict::HardwareError(e) = &c.verdict {
                    sum.hardware_errors += 1;
                    row.error = Some(e.to_string());
                }
                row.hash = c.verdict.hash().map(|h| h.to_string());
                row.difficulty = c.verdict.difficulty();
                if let (Some(r), Some(chips)) = (c.chip, args.chips)
                    && let Ok(origin) = r.origin(chips)
                {
                    stats.record(origin, &c.verdict);
                    row.chip = Some(origin.chip);
                    row.core = Some(origin.core);
                }
            }
        }
        if args.json {
            out.json(&row)?;
        } else {
            let what = if row.malformed {
                format!("malformed: {}", row.error.as_deref().unwrap_or(""))
            } else if let Some(e) = &row.error {
                format!("hardware error: {e}")
            } else {
                format!(
                    "{} difficulty {} hash {}",
                    if row.share {
                        "share"
                    } else {
                        "good, below target"
                    },
                    row.difficulty.map_or_else(|| "-".into(), fmt_difficulty),
                    row.hash.as_deref().unwrap_or("-")
                )
            };
            let origin = match (row.chip, row.core) {
                (Some(chip), Some(core)) => format!(" (chip {chip} core {core})"),
                _ => String::new(),
            };
            out.line(&format!(
                "{n}: {}{what}{origin}",
                row.kind
                    .as_deref()
                    .map_or_else(String::new, |k| format!("{k} "))
            ))?;
        }
    }
    if args.json {
        out.json(&sum)?;
    }
    out.flush()?;
    eprintln!(
        "{}: {} good ({} share{}), {}; {} malformed{}",
        plural(sum.results, "result", "results"),
        sum.good,
        sum.shares,
        if sum.shares == 1 { "" } else { "s" },
        plural(sum.hardware_errors, "hardware error", "hardware errors"),
        sum.malformed,
        if sum.blank_lines > 0 {
            format!(
                "; {} skipped",
                plural(sum.blank_lines, "blank line", "blank lines")
            )
        } else {
            String::new()
        }
    );
    if args.chips.is_some() {
        for (chip, counts) in stats.chips() {
            eprintln!("chip {chip}: {counts}");
        }
    }
    Ok(EXIT_OK)
}
