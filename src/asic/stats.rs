//! Per-chip and per-core counts of good results and hardware errors.

use alloc::collections::BTreeMap;
use core::fmt;

use super::NonceVerdict;

// ---------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------

/// Which chip and core returned a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ResultOrigin {
    /// The chip's index on its chain.
    pub chip: u16,
    /// The core's id on the chip.
    pub core: u16,
}

/// Counts of results.
///
/// ```
/// use sha256d_engine::asic::Counts;
/// let c = Counts { good: 3, shares: 1, hardware_errors: 1 };
/// assert_eq!(c.results(), 4);
/// assert_eq!(c.hardware_error_rate(), 0.25);
/// assert_eq!(c.to_string(), "4 results: 3 good (1 shares), 1 hardware errors (25.00%)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Results that are not hardware errors.
    pub good: u64,
    /// Good results that also meet the target being checked.
    pub shares: u64,
    /// Hardware errors.
    pub hardware_errors: u64,
}

impl Counts {
    /// All results counted.
    pub const fn results(&self) -> u64 {
        self.good.saturating_add(self.hardware_errors)
    }

    /// Hardware errors as a fraction of all results (0 when there are none).
    pub fn hardware_error_rate(&self) -> f64 {
        match self.results() {
            0 => 0.0,
            // Counts far below 2^53: the conversions are exact in practice.
            n => self.hardware_errors as f64 / n as f64,
        }
    }

    fn add(&mut self, verdict: &NonceVerdict) {
        match verdict {
            NonceVerdict::Good(c) => {
                self.good = self.good.saturating_add(1);
                if c.meets_target {
                    self.shares = self.shares.saturating_add(1);
                }
            }
            NonceVerdict::HardwareError(_) => {
                self.hardware_errors = self.hardware_errors.saturating_add(1);
            }
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} results: {} good ({} shares), {} hardware errors ({:.2}%)",
            self.results(),
            self.good,
            self.shares,
            self.hardware_errors,
            100.0 * self.hardware_error_rate()
        )
    }
}

/// Good results and hardware errors per chip, per core and in total.
///
/// ```
/// use sha256d_engine::asic::{ChipStats, HardwareError, ResultOrigin, NonceValidator, NonceVerdict};
/// use sha256d_engine::{BlockHash, Target};
/// let v = NonceValidator::new(Target::DIFF1);
/// let good = v.check_hash(BlockHash::ZERO);
/// let bad = NonceVerdict::HardwareError(HardwareError::EmptyMidstate { index: 1 });
/// let mut stats = ChipStats::new();
/// stats.record(ResultOrigin { chip: 0, core: 5 }, &good);
/// stats.record(ResultOrigin { chip: 0, core: 5 }, &bad);
/// stats.record(ResultOrigin { chip: 1, core: 2 }, &good);
/// assert_eq!(stats.totals().results(), 3);
/// assert_eq!(stats.chip(0).hardware_errors, 1);
/// assert_eq!(stats.core(1, 2).good, 1);
/// assert_eq!(stats.core(7, 7).results(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChipStats {
    chips: BTreeMap<u16, Counts>,
    cores: BTreeMap<ResultOrigin, Counts>,
    totals: Counts,
}

impl ChipStats {
    /// No results yet.
    pub const fn new() -> Self {
        ChipStats {
            chips: BTreeMap::new(),
            cores: BTreeMap::new(),
            totals: Counts {
                good: 0,
                shares: 0,
                hardware_errors: 0,
            },
        }
    }

    /// Counts one verdict for the chip and core that returned it.
    pub fn record(&mut self, origin: ResultOrigin, verdict: &NonceVerdict) {
        self.chips.entry(origin.chip).or_default().add(verdict);
        self.cores.entry(origin).or_default().add(verdict);
        self.totals.add(verdict);
    }

    /// The counts of one chip (zero if it returned nothing).
    pub fn chip(&self, chip: u16) -> Counts {
        self.chips.get(&chip).copied().unwrap_or_default()
    }

    /// The counts of one core of one chip (zero if it returned nothing).
    pub fn core(&self, chip: u16, core: u16) -> Counts {
        self.cores
            .get(&ResultOrigin { chip, core })
            .copied()
            .unwrap_or_default()
    }

    /// The counts over every chip.
    pub const fn totals(&self) -> Counts {
        self.totals
    }

    /// Every chip that returned a result, in index order, with its counts.
    pub fn chips(&self) -> impl Iterator<Item = (u16, Counts)> + '_ {
        self.chips.iter().map(|(&c, &n)| (c, n))
    }

    /// Every core that returned a result, in (chip, core) order, with its counts.
    pub fn cores(&self) -> impl Iterator<Item = (ResultOrigin, Counts)> + '_ {
        self.cores.iter().map(|(&o, &n)| (o, n))
    }
}

impl fmt::Display for ChipStats {
    /// The totals, then one line per chip and, indented, per core.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "total: {}", self.totals)?;
        for (chip, counts) in self.chips() {
            write!(f, "\nchip {chip}: {counts}")?;
            for (origin, core_counts) in self.cores.range(
                ResultOrigin { chip, core: 0 }..=ResultOrigin {
                    chip,
                    core: u16::MAX,
                },
            ) {
                write!(f, "\n  core {}: {core_counts}", origin.core)?;
            }
        }
        Ok(())
    }
}
