//! Work that can be rolled past the 2^32 nonces of one header: [`WorkSource`], the trait
//! the multi-threaded scanner consumes and the Stratum job implements, and the version
//! rolling arithmetic (BIP 310 / BIP 320) both share.
//!
//! Rolling order, innermost first: the nonce; then the version bits inside the mask (a new
//! midstate per version); then extranonce2 (a new coinbase, merkle root and midstate);
//! then, optionally, ntime within a bound.

#![forbid(unsafe_code)]

use crate::Header;
pub use crate::rolling::{BIP320_VERSION_MASK, VersionOutsideMask};

/// A source of header templates: the header to hash for each extranonce2 value, and the
/// version bits that may be rolled.
///
/// Implemented by [`HeaderTemplate`] (one fixed header) and by the Stratum V1 job, which
/// builds a new coinbase and merkle root for each extranonce2.
pub trait WorkSource: Sync {
    /// The header for extranonce2 counter value `extranonce2` (its nonce is ignored), or
    /// `None` when the value is outside the source's extranonce2 space.
    fn header(&self, extranonce2: u64) -> Option<Header>;

    /// How many extranonce2 values there are (1 for a source that cannot roll it). The
    /// scanner asks for `0 .. extranonce2_count()`.
    fn extranonce2_count(&self) -> u64;

    /// The version bits the scanner may roll (0: none).
    fn version_mask(&self) -> u32;
}

/// One fixed header: no extranonce2 to roll, version bits rolled inside `version_mask`
/// (BIP 320's by default).
///
/// ```
/// use sha256d_engine::work::{HeaderTemplate, WorkSource, BIP320_VERSION_MASK};
/// use sha256d_engine::Header;
/// let h = Header::from_bytes(&[0; 80]);
/// let t = HeaderTemplate::new(h);
/// assert_eq!(t.version_mask(), BIP320_VERSION_MASK);
/// assert_eq!(t.extranonce2_count(), 1);
/// assert_eq!(t.header(0), Some(h));
/// assert_eq!(t.header(1), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderTemplate {
    /// The header (its nonce is ignored).
    pub header: Header,
    /// The version bits that may be rolled.
    pub version_mask: u32,
}

impl HeaderTemplate {
    /// A template that rolls BIP 320's version bits.
    pub const fn new(header: Header) -> Self {
        HeaderTemplate {
            header,
            version_mask: BIP320_VERSION_MASK,
        }
    }

    /// The same template with another rolling mask (0 disables version rolling).
    pub const fn with_version_mask(mut self, mask: u32) -> Self {
        self.version_mask = mask;
        self
    }
}

impl WorkSource for HeaderTemplate {
    fn header(&self, extranonce2: u64) -> Option<Header> {
        (extranonce2 == 0).then_some(self.header)
    }
    fn extranonce2_count(&self) -> u64 {
        1
    }
    fn version_mask(&self) -> u32 {
        self.version_mask
    }
}

/// The header version for submitted version bits (BIP 310):
/// `(job_version & !mask) | (bits & mask)`. Bits outside the mask are an error.
///
/// ```
/// use sha256d_engine::work::apply_version_bits;
/// assert_eq!(apply_version_bits(0x20000000, 0x1fffe000, 0x00002000), Ok(0x20002000));
/// assert!(apply_version_bits(0x20000000, 0x1fffe000, 0x00001000).is_err());
/// ```
pub const fn apply_version_bits(
    job_version: u32,
    mask: u32,
    bits: u32,
) -> Result<u32, VersionOutsideMask> {
    if bits & !mask != 0 {
        return Err(VersionOutsideMask { bits, mask });
    }
    Ok((job_version & !mask) | (bits & mask))
}

/// How many versions rolling inside `mask` reaches: 2^(set bits of the mask).
pub const fn version_count(mask: u32) -> u64 {
    1u64 << mask.count_ones()
}

/// The `k`-th rolled version: the bits of `k` scattered into the mask's positions, lowest
/// first, XORed into the base version. `k = 0` is the base version itself, and
/// `k = 0 .. version_count(mask)` reaches every value of the masked bits exactly once
/// (the bits of `k` above the mask's popcount are ignored).
///
/// ```
/// use sha256d_engine::work::rolled_version;
/// assert_eq!(rolled_version(0x20000000, 0x1fffe000, 0), 0x20000000);
/// assert_eq!(rolled_version(0x20000000, 0x1fffe000, 1), 0x20002000);
/// assert_eq!(rolled_version(0x20000000, 0x1fffe000, 3), 0x20006000);
/// // ESP-Miner's sequence for mask 00ffff00.
/// assert_eq!(rolled_version(0x20000004, 0x00ffff00, 1), 0x20000104);
/// ```
pub const fn rolled_version(base: u32, mask: u32, k: u64) -> u32 {
    let mut bits = 0u32;
    let mut m = mask;
    let mut k = k;
    while m != 0 && k != 0 {
        let lowest = m & m.wrapping_neg();
        if k & 1 == 1 {
            bits |= lowest;
        }
        k >>= 1;
        m &= m - 1;
    }
    base ^ bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_covers_the_mask_once() {
        let mask = 0x0000_f0f0;
        let mut seen = alloc::collections::BTreeSet::new();
        for k in 0..version_count(mask) {
            let v = rolled_version(0x2000_0a0a, mask, k);
            assert_eq!(v & !mask, 0x2000_0a0a & !mask);
            assert!(seen.insert(v));
        }
        assert_eq!(seen.len(), 256);
        assert_eq!(version_count(0), 1);
        assert_eq!(rolled_version(7, 0, 5), 7);
    }
}
