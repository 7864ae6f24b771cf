//! Version rolling: the header version bits a miner may change (BIP 310's negotiated mask,
//! BIP 320's general-purpose bits), and the one place where submitted bits become a header
//! version.
//!
//! Three formulas are deployed, and they agree only while the job's version has no bits
//! inside the mask (as pools send it). [`RollingRule`] names each; [`VersionRolling`] pairs
//! it with a mask and offers the operations every path uses: the scanner (the `k`-th
//! version to hash), the Stratum job and the share validator (submitted bits to a header
//! version), and the ASIC result decoders.
//!
//! ```
//! use sha256d_engine::rolling::{RollingRule, VersionRolling, BIP320_VERSION_MASK};
//! let r = VersionRolling::new(BIP320_VERSION_MASK);
//! assert_eq!(r.rule, RollingRule::Bip310);
//! // A job version with a bit inside the mask: the three rules part ways.
//! let job = 0x2000_2000;
//! assert_eq!(r.apply(job, 0x0000_4000), Ok(0x2000_4000));
//! assert_eq!(r.with_rule(RollingRule::Or).apply(job, 0x0000_4000), Ok(0x2000_6000));
//! assert_eq!(r.with_rule(RollingRule::Xor).apply(job, 0x0000_2000), Ok(0x2000_0000));
//! // Bits outside the mask are refused by every rule.
//! assert!(r.apply(job, 0x0000_1000).is_err());
//! ```

use core::fmt;

/// BIP 320's general-purpose version bits: 16 bits, 13..=28.
pub const BIP320_VERSION_MASK: u32 = 0x1fff_e000;

/// Version bits outside the negotiated mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionOutsideMask {
    /// The bits that were given.
    pub bits: u32,
    /// The mask they had to fit in.
    pub mask: u32,
}

impl fmt::Display for VersionOutsideMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version bits {:08x} outside mask {:08x} (offending bits {:08x})",
            self.bits,
            self.mask,
            self.bits & !self.mask
        )
    }
}

impl core::error::Error for VersionOutsideMask {}

/// How submitted version bits combine with the job's version.
///
/// All three refuse bits outside the mask, and all three give the same version when the
/// job's version has no bits inside the mask.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RollingRule {
    /// BIP 310's rule, `(version & !mask) | (bits & mask)`: the submitted bits replace the
    /// job's bits inside the mask. The default, and what this crate's validator applies.
    #[default]
    Bip310,
    /// `version | bits`: the submitted bits are ORed in, so a job bit inside the mask
    /// cannot be cleared. ckpool, cgminer and ESP-Miner (`job_version | (field << 13)` for
    /// BM13xx results) build the header this way.
    Or,
    /// `version ^ bits`: the submitted bits flip the job's bits. public-pool and btcpool
    /// build the header this way.
    Xor,
}

impl RollingRule {
    /// Every rule, in declaration order.
    pub const ALL: &'static [RollingRule] =
        &[RollingRule::Bip310, RollingRule::Or, RollingRule::Xor];

    /// The rule's short name: `bip310`, `or` or `xor`.
    pub const fn name(self) -> &'static str {
        match self {
            RollingRule::Bip310 => "bip310",
            RollingRule::Or => "or",
            RollingRule::Xor => "xor",
        }
    }
}

impl fmt::Display for RollingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version-rolling mask and the rule that turns submitted bits into a header version.
///
/// Besides [`apply`](Self::apply) (submitted bits to a version), it enumerates the versions
/// a miner can reach from a job's version: [`count`](Self::count) of them, the `k`-th
/// with [`nth_version`](Self::nth_version) and the bits to submit for it with
/// [`nth_bits`](Self::nth_bits). `k = 0` is always the job's own version, and
/// `k = 0 .. count` reaches every reachable version exactly once, in the order of the
/// bits of `k` scattered into the mask's free positions, lowest first (ESP-Miner's order
/// for a job whose version has no bits inside the mask).
///
/// ```
/// use sha256d_engine::rolling::{RollingRule, VersionRolling};
/// let r = VersionRolling::new(0x1fffe000);
/// assert_eq!(r.count(0x2000_0000), 1 << 16);
/// assert_eq!(r.nth_version(0x2000_0000, 0), Some(0x2000_0000));
/// assert_eq!(r.nth_version(0x2000_0000, 3), Some(0x2000_6000));
/// assert_eq!(r.nth_bits(0x2000_0000, 3), Some(0x0000_6000));
/// // ESP-Miner's sequence for mask 00ffff00.
/// assert_eq!(VersionRolling::new(0x00ffff00).nth_version(0x2000_0004, 1), Some(0x2000_0104));
/// // Under OR a job bit inside the mask stays set: one free bit fewer.
/// let or = r.with_rule(RollingRule::Or);
/// assert_eq!(or.count(0x2000_2000), 1 << 15);
/// assert_eq!(or.nth_version(0x2000_2000, 1), Some(0x2000_6000));
/// assert_eq!(or.nth_version(0x2000_2000, 1 << 15), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VersionRolling {
    /// The bits a miner may change (0: no rolling).
    pub mask: u32,
    /// How submitted bits combine with the job's version.
    pub rule: RollingRule,
}

impl VersionRolling {
    /// No rolling: mask 0.
    pub const NONE: VersionRolling = VersionRolling::new(0);

    /// BIP 320's mask under BIP 310's rule.
    pub const BIP320: VersionRolling = VersionRolling::new(BIP320_VERSION_MASK);

    /// Rolling inside `mask` under BIP 310's rule.
    pub const fn new(mask: u32) -> Self {
        VersionRolling {
            mask,
            rule: RollingRule::Bip310,
        }
    }

    /// The same mask under another rule.
    pub const fn with_rule(self, rule: RollingRule) -> Self {
        VersionRolling { rule, ..self }
    }

    /// The same rule with another mask.
    pub const fn with_mask(self, mask: u32) -> Self {
        VersionRolling { mask, ..self }
    }

    /// The header version for submitted version `bits` on a job whose version is
    /// `job_version`, under this rule.
    ///
    /// # Errors
    ///
    /// [`VersionOutsideMask`] when `bits` has a bit outside the mask.
    pub const fn apply(&self, job_version: u32, bits: u32) -> Result<u32, VersionOutsideMask> {
        let mask = self.mask;
        if bits & !mask != 0 {
            return Err(VersionOutsideMask { bits, mask });
        }
        Ok(match self.rule {
            RollingRule::Bip310 => (job_version & !mask) | bits,
            RollingRule::Or => job_version | bits,
            RollingRule::Xor => job_version ^ bits,
        })
    }

    /// The mask bits that rolling may change from `job_version`: the whole mask, except
    /// under OR, where the job's own bits inside the mask stay set.
    const fn free_bits(&self, job_version: u32) -> u32 {
        match self.rule {
            RollingRule::Or => self.mask & !job_version,
            RollingRule::Bip310 | RollingRule::Xor => self.mask,
        }
    }

    /// How many distinct versions are reachable from `job_version`:
    /// 2^(number of free mask bits), between 1 and 2^32.
    pub const fn count(&self, job_version: u32) -> u64 {
        1u64 << self.free_bits(job_version).count_ones()
    }

    /// An upper bound of [`count`](Self::count) for every job version: 2^(set bits of
    /// the mask).
    pub const fn max_count(&self) -> u64 {
        1u64 << self.mask.count_ones()
    }

    /// The `k`-th reachable version from `job_version`: the job's version with the bits
    /// of `k` scattered into the free mask positions, lowest first, flipped. `k = 0` is
    /// `job_version` itself; `None` when `k >= count(job_version)`.
    pub const fn nth_version(&self, job_version: u32, k: u64) -> Option<u32> {
        match scatter(k, self.free_bits(job_version)) {
            Some(flip) => Some(job_version ^ flip),
            None => None,
        }
    }

    /// The version bits to submit for [`nth_version`](Self::nth_version)`(job_version, k)`:
    /// [`apply`](Self::apply)`(job_version, bits)` gives that version. Always inside the
    /// mask; `None` when `k >= count(job_version)`.
    pub const fn nth_bits(&self, job_version: u32, k: u64) -> Option<u32> {
        let Some(flip) = scatter(k, self.free_bits(job_version)) else {
            return None;
        };
        Some(match self.rule {
            // Replace the masked bits by the rolled version's.
            RollingRule::Bip310 => (job_version ^ flip) & self.mask,
            // Set or flip exactly the scattered bits (under OR they are all clear in
            // the job's version).
            RollingRule::Or | RollingRule::Xor => flip,
        })
    }
}

/// The bits of `k` scattered into the set positions of `positions`, lowest first; `None`
/// when `k` has a bit beyond the positions' count.
const fn scatter(k: u64, positions: u32) -> Option<u32> {
    // At most 32 positions, so the shift is in range.
    if k >> positions.count_ones() != 0 {
        return None;
    }
    let mut out = 0u32;
    let mut m = positions;
    let mut k = k;
    while m != 0 && k != 0 {
        let lowest = m & m.wrapping_neg();
        if k & 1 == 1 {
            out |= lowest;
        }
        k >>= 1;
        m &= m - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;

    /// The versions reachable by submitting every subset of the mask, by brute force
    /// through `apply`: the oracle for `count` and `nth_*`.
    fn reachable(r: VersionRolling, v: u32) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        let mut sub = 0u32;
        loop {
            out.insert(r.apply(v, sub).unwrap());
            sub = sub.wrapping_sub(r.mask) & r.mask;
            if sub == 0 {
                break;
            }
        }
        out
    }

    #[test]
    fn nth_enumerates_every_reachable_version_once() {
        for &rule in RollingRule::ALL {
            for (mask, v) in [
                (0x0000_f0f0, 0x2000_0a0a),
                (0x0000_f0f0, 0x2000_0000),
                (0x0000_00ff, 0xffff_ffff),
                (0, 0x2000_0000),
            ] {
                let r = VersionRolling::new(mask).with_rule(rule);
                let want = reachable(r, v);
                assert_eq!(r.count(v), want.len() as u64, "{rule} {mask:x} {v:x}");
                assert!(r.count(v) <= r.max_count());
                assert_eq!(r.nth_version(v, 0), Some(v), "k = 0 is the job's version");
                let mut seen = BTreeSet::new();
                for k in 0..r.count(v) {
                    let got = r.nth_version(v, k).unwrap();
                    let bits = r.nth_bits(v, k).unwrap();
                    assert_eq!(bits & !mask, 0);
                    assert_eq!(r.apply(v, bits), Ok(got), "{rule} k={k}");
                    assert!(seen.insert(got), "{rule} k={k} repeats {got:x}");
                }
                assert_eq!(seen, want);
                assert_eq!(r.nth_version(v, r.count(v)), None);
                assert_eq!(r.nth_bits(v, r.count(v)), None);
            }
        }
    }

    #[test]
    fn rules_agree_without_job_bits_in_the_mask() {
        let v = 0x2000_0004;
        for bits in [0, 0x2000, 0x1fff_e000, 0x0a96_6000] {
            let want = v | bits;
            for &rule in RollingRule::ALL {
                let r = VersionRolling::BIP320.with_rule(rule);
                assert_eq!(r.apply(v, bits), Ok(want), "{rule}");
            }
        }
    }

    #[test]
    fn full_mask_counts_to_two_to_the_32() {
        let r = VersionRolling::new(u32::MAX);
        assert_eq!(r.count(0), 1 << 32);
        assert_eq!(r.nth_version(0, u32::MAX as u64), Some(u32::MAX));
        assert_eq!(r.nth_version(0, 1 << 32), None);
        assert_eq!(r.nth_version(5, u64::MAX), None);
        assert_eq!(VersionRolling::NONE.count(7), 1);
        assert_eq!(VersionRolling::NONE.nth_version(7, 1), None);
    }

    #[test]
    fn outside_mask_is_an_error_for_every_rule() {
        for &rule in RollingRule::ALL {
            let r = VersionRolling::new(0x1fff_e000).with_rule(rule);
            assert_eq!(
                r.apply(0x2000_0000, 0x2000_1000),
                Err(VersionOutsideMask {
                    bits: 0x2000_1000,
                    mask: 0x1fff_e000
                })
            );
        }
    }
}
