//! Value parsers shared by the commands' arguments.

use sha256d_engine::{BACKEND_ENV, Backend, CompactTarget, Header, Target};

use crate::{Fail, fail};

pub fn header(s: &str) -> Result<Header, String> {
    Header::from_hex(s.trim()).map_err(|e| e.to_string())
}

pub fn bits(s: &str) -> Result<CompactTarget, String> {
    let bits = CompactTarget::from_be_hex(s).map_err(|e| format!("bad nBits: {e}"))?;
    Target::from_compact(bits).map_err(|e| e.to_string())?;
    Ok(bits)
}

pub fn target(s: &str) -> Result<Target, String> {
    Target::from_be_hex(s).map_err(|e| e.to_string())
}

pub fn difficulty(s: &str) -> Result<Target, String> {
    let d: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    Target::from_difficulty(d).map_err(|e| e.to_string())
}

/// A positive, finite difficulty, kept as a number.
pub fn difficulty_value(s: &str) -> Result<f64, String> {
    let d: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    Target::from_difficulty(d).map_err(|e| e.to_string())?;
    Ok(d)
}

/// Decimal, or hex with a `0x` prefix (the form the output prints nonces in).
fn unsigned(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| format!("{s:?} is not a non-negative integer (decimal, or hex as 0x...)"))
}

pub fn nonce(s: &str) -> Result<u32, String> {
    let n = unsigned(s)?;
    u32::try_from(n).map_err(|_| format!("{s} is above the last nonce, {} (0xffffffff)", u32::MAX))
}

pub fn count(s: &str) -> Result<u64, String> {
    let n = unsigned(s)?;
    if n > 1 << 32 {
        return Err(format!("{s} is more than the 2^32 nonces of a header"));
    }
    Ok(n)
}

/// A backend name, case-insensitive: `--backend` if given, else `SHA256D_BACKEND`, else
/// the detected one. An error names where the bad name came from.
pub fn backend(flag: Option<&str>) -> Result<Backend, Fail> {
    if let Some(name) = flag {
        return Backend::from_name(&name.trim().to_ascii_lowercase())
            .map_err(|e| fail(format!("--backend {name}: {e}")));
    }
    match std::env::var(BACKEND_ENV) {
        Ok(name) if !name.trim().is_empty() => {
            Backend::from_name(&name.trim().to_ascii_lowercase())
                .map_err(|e| fail(format!("{BACKEND_ENV}={name}: {e}")))
        }
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Backend::detect()),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(fail(format!("{BACKEND_ENV} is not valid Unicode")))
        }
    }
}

/// Worker threads: at least 1; above the core count is allowed, with a note on stderr.
pub fn threads(n: Option<usize>) -> Result<usize, Fail> {
    let cores = sha256d_engine::scanner::default_threads();
    match n {
        None => Ok(cores),
        Some(0) => Err(fail("--threads must be at least 1")),
        Some(n) => {
            if n > cores {
                eprintln!(
                    "note: --threads {n} is more than the {cores} core{} of this machine; \
                     the threads will share them",
                    if cores == 1 { "" } else { "s" }
                );
            }
            Ok(n)
        }
    }
}

/// `n thing` or `n things`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A difficulty for people: 4 decimals, or scientific notation below 0.01.
pub fn fmt_difficulty(d: f64) -> String {
    if d >= 0.01 || d == 0.0 {
        format!("{d:.4}")
    } else {
        format!("{d:.4e}")
    }
}
