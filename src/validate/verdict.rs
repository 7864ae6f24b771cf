//! Verdicts: the rejection [`Reason`]s with their Stratum error codes, [`Rejection`],
//! [`Verdict`] and the running [`Stats`].

use std::collections::BTreeMap;
use std::fmt;

use crate::BlockHash;

/// Why a share was rejected.
///
/// Each reason has a kebab-case name ([`Reason::as_str`]) and the conventional Stratum
/// error code a pool answers with ([`Reason::code`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Not JSON, not UTF-8, a line over the length limit, the wrong number of params, a
    /// non-string, bad hex, a value too large for its field. Code 20.
    Malformed,
    /// A session only: the submit came before the pool's `mining.subscribe` answer, so the
    /// session has no extranonce1. Code 25.
    NotSubscribed,
    /// A session only: the pool refused the worker's `mining.authorize`. Code 24.
    Unauthorized,
    /// No job with this id. Code 21.
    UnknownJob,
    /// The job was retired by a later `clean_jobs` notify or a new previous-block hash.
    /// Code 21.
    StaleJob,
    /// An extranonce2 of the wrong size. Code 20.
    BadExtranonce2,
    /// Version bits outside the negotiated mask. Code 20.
    VersionOutsideMask,
    /// ntime below the job's, or too far above it. Code 20.
    NtimeOutOfRange,
    /// The same header as an earlier accepted share. Code 22.
    Duplicate,
    /// The hash meets neither the share target nor the network target. Code 23.
    LowDifficulty,
}

impl Reason {
    /// Every reason, in check order.
    pub const ALL: &'static [Reason] = &[
        Reason::Malformed,
        Reason::NotSubscribed,
        Reason::Unauthorized,
        Reason::UnknownJob,
        Reason::StaleJob,
        Reason::BadExtranonce2,
        Reason::VersionOutsideMask,
        Reason::NtimeOutOfRange,
        Reason::Duplicate,
        Reason::LowDifficulty,
    ];

    /// The reason as the CLI prints it (`low-difficulty`, `duplicate`, ...).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::NotSubscribed => "not-subscribed",
            Reason::Unauthorized => "unauthorized",
            Reason::UnknownJob => "unknown-job",
            Reason::StaleJob => "stale-job",
            Reason::BadExtranonce2 => "bad-extranonce2",
            Reason::VersionOutsideMask => "version-outside-mask",
            Reason::NtimeOutOfRange => "ntime-out-of-range",
            Reason::Duplicate => "duplicate",
            Reason::LowDifficulty => "low-difficulty",
        }
    }

    /// The conventional Stratum V1 error code for this rejection, as ckpool, public-pool
    /// and the Stratum V2 translator answer `mining.submit`: 20 other (malformed, bad
    /// extranonce2, version bits, ntime), 21 job not found or stale, 22 duplicate, 23 low
    /// difficulty, 24 unauthorized worker, 25 not subscribed.
    ///
    /// ```
    /// use sha256d_engine::validate::Reason;
    /// assert_eq!(Reason::StaleJob.code(), 21);
    /// assert_eq!(Reason::LowDifficulty.code(), 23);
    /// ```
    pub const fn code(&self) -> u8 {
        match self {
            Reason::Malformed
            | Reason::BadExtranonce2
            | Reason::VersionOutsideMask
            | Reason::NtimeOutOfRange => 20,
            Reason::UnknownJob | Reason::StaleJob => 21,
            Reason::Duplicate => 22,
            Reason::LowDifficulty => 23,
            Reason::Unauthorized => 24,
            Reason::NotSubscribed => 25,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection before any hash: the reason and what exactly was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The reason.
    pub reason: Reason,
    /// One line naming the problem.
    pub detail: String,
}

impl Rejection {
    /// A rejection for this reason.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }

    /// A `malformed` rejection.
    pub fn malformed(detail: impl Into<String>) -> Rejection {
        Rejection::new(Reason::Malformed, detail)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

impl std::error::Error for Rejection {}

/// The outcome of one submission.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `None` when accepted, else the first check that failed.
    pub reason: Option<Reason>,
    /// For a rejection, one line naming the problem.
    pub detail: Option<String>,
    /// The block hash, where the header could be built.
    pub hash: Option<BlockHash>,
    /// The share difficulty DIFF1 / hash as f64, where the hash could be computed. When
    /// the hash misses the job's share target it is kept below the share difficulty, so
    /// that a difficulty printed rounded toward zero (see [`format_difficulty`]) is at
    /// least the pool's only for a share that meets the share target.
    pub difficulty: Option<f64>,
    /// Whether the hash meets the network target from the job's nBits.
    pub block: bool,
}

impl Verdict {
    /// Whether the share was accepted.
    pub fn accepted(&self) -> bool {
        self.reason.is_none()
    }

    /// The Stratum error code of the rejection (see [`Reason::code`]); `None` when
    /// accepted.
    pub fn code(&self) -> Option<u8> {
        self.reason.map(|r| r.code())
    }

    /// A verdict for a rejection before any hash.
    pub fn rejected(r: Rejection) -> Verdict {
        Verdict {
            reason: Some(r.reason),
            detail: Some(r.detail),
            hash: None,
            difficulty: None,
            block: false,
        }
    }
}

/// Formats a share difficulty rounded toward zero: 4 decimals from 0.01 up, else 4
/// decimals of scientific notation. Rounding toward zero (not to nearest) means that a
/// printed difficulty at least the pool's implies that the share met the share target.
///
/// ```
/// use sha256d_engine::validate::format_difficulty;
/// assert_eq!(format_difficulty(669.86829), "669.8682");
/// assert_eq!(format_difficulty(511.99999999), "511.9999");
/// assert_eq!(format_difficulty(0.000123456), "1.2345e-4");
/// ```
pub fn format_difficulty(d: f64) -> String {
    if !d.is_finite() {
        return d.to_string();
    }
    // Rust formats an f64 from its exact binary value, correctly rounded at the given
    // precision. 40 digits is far below the distance from any f64 in range to the next
    // 4-decimal number (at least 2^-60 * 10^-4), so truncating the text is truncating
    // the value.
    if d.abs() >= 0.01 {
        let s = format!("{d:.40}");
        let dot = s.find('.').unwrap_or(s.len());
        s[..(dot + 5).min(s.len())].to_string()
    } else if d == 0.0 {
        "0.0000".to_string()
    } else {
        let s = format!("{d:.40e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let dot = mantissa.find('.').unwrap_or(mantissa.len());
        format!("{}e{exp}", &mantissa[..(dot + 5).min(mantissa.len())])
    }
}

/// Counts of verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Shares accepted.
    pub accepted: u64,
    /// Accepted shares whose hash met the network target: distinct blocks, since a
    /// duplicate of a block is rejected.
    pub blocks: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<Reason, u64>,
}

impl Stats {
    /// Every share counted.
    pub fn total(&self) -> u64 {
        self.accepted + self.rejected_total()
    }

    /// Every rejection counted.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Counts one verdict.
    pub fn record(&mut self, v: &Verdict) {
        match v.reason {
            None => {
                self.accepted += 1;
                self.blocks += v.block as u64;
            }
            Some(r) => *self.rejected.entry(r).or_default() += 1,
        }
    }
}

/// `1 share`, `2 shares`: a count and a noun with the right plural.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Stats {
    /// `3 shares: 1 accepted, 2 rejected (duplicate 1, low-difficulty 1), 0 blocks`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rejected = self.rejected_total();
        write!(
            f,
            "{}: {} accepted, {} rejected",
            plural(self.total(), "share", "shares"),
            self.accepted,
            rejected
        )?;
        if rejected > 0 {
            let parts: Vec<String> = self
                .rejected
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        write!(f, ", {}", plural(self.blocks, "block", "blocks"))
    }
}
