//! `hash`: one header's block hash, and its difficulty against difficulty 1, against
//! the header's own nBits and against an optional pool difficulty.

use clap::Args;
use serde::Serialize;
use sha256d_engine::{Header, Target};

use crate::output::Out;
use crate::parse::{self, fmt_difficulty};
use crate::{EXIT_OK, Fail};

#[derive(Args)]
pub struct HashArgs {
    /// The 80-byte header as 160 hex digits.
    #[arg(value_name = "HEADER_HEX", value_parser = parse::header)]
    header: Header,
    /// Also say whether the hash meets this pool difficulty.
    #[arg(long, value_name = "F", value_parser = parse::difficulty_value)]
    difficulty: Option<f64>,
    /// One JSON line ({"type":"hash"}) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonHash {
    r#type: &'static str,
    hash: String,
    /// DIFF1 / hash.
    difficulty: f64,
    bits: String,
    /// The difficulty of the header's own nBits target, or null when nBits is invalid.
    bits_difficulty: Option<f64>,
    /// Whether the hash meets the header's own nBits target (a valid block's proof of
    /// work), or null when nBits is invalid.
    meets_bits: Option<bool>,
    /// Why nBits is invalid.
    bits_error: Option<String>,
    pool_difficulty: Option<f64>,
    meets_pool_difficulty: Option<bool>,
}

pub fn run(args: HashArgs) -> Result<u8, Fail> {
    let header = args.header;
    let hash = header.block_hash();
    let own = header.target();
    let pool = match args.difficulty {
        Some(d) => Some((d, Target::from_difficulty(d)?)),
        None => None,
    };
    let report = JsonHash {
        r#type: "hash",
        hash: hash.to_string(),
        difficulty: hash.difficulty(),
        bits: header.bits.to_string(),
        bits_difficulty: own.as_ref().ok().map(Target::difficulty),
        meets_bits: own.as_ref().ok().map(|t| t.is_met_by(&hash)),
        bits_error: own.as_ref().err().map(|e| e.to_string()),
        pool_difficulty: pool.map(|(d, _)| d),
        meets_pool_difficulty: pool.map(|(_, t)| t.is_met_by(&hash)),
    };
    let mut out = Out::stdout();
    if args.json {
        out.json(&report)?;
    } else {
        let yes = |b: bool| if b { "meets it" } else { "does not meet it" };
        out.line(&format!("hash {}", report.hash))?;
        out.line(&format!(
            "difficulty {} (against difficulty 1)",
            fmt_difficulty(report.difficulty)
        ))?;
        match &own {
            Ok(t) => out.line(&format!(
                "nBits {}: difficulty {}, target {}: the hash {}",
                report.bits,
                fmt_difficulty(t.difficulty()),
                t.to_be_hex(),
                yes(t.is_met_by(&hash))
            ))?,
            Err(e) => out.line(&format!("nBits {}: invalid ({e})", report.bits))?,
        }
        if let Some((d, t)) = pool {
            out.line(&format!(
                "--difficulty {}: the hash {}",
                fmt_difficulty(d),
                yes(t.is_met_by(&hash))
            ))?;
        }
    }
    out.flush()?;
    Ok(EXIT_OK)
}
