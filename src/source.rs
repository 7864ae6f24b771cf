//! Sources of headers to search, rolled past the 2^32 nonces of one header:
//! [`WorkSource`], the trait the multi-threaded scanner consumes and the Stratum job
//! implements, and [`FixedHeader`], one header that rolls only its version.
//!
//! Named `source`, not `work`, because rust-bitcoin's `Work` is the chain-work number
//! ([`crate::Work`]); a `WorkSource` hands out headers, not work. (Formerly `work`, with
//! `FixedHeader` named `HeaderTemplate`, easily confused with getblocktemplate's
//! [`BlockTemplate`](crate::template::BlockTemplate).) Version rolling itself is in
//! [`crate::rolling`].
//!
//! Rolling order, innermost first: the nonce; then the version bits inside the mask (a new
//! midstate per version); then extranonce2 (a new coinbase, merkle root and midstate);
//! then, optionally, ntime within a bound.

use crate::Header;
use crate::rolling::{BIP320_VERSION_MASK, VersionRolling};

/// A source of header templates: the header to hash for each extranonce2 value, and the
/// version bits that may be rolled.
///
/// Implemented by [`FixedHeader`] (one fixed header) and by the Stratum V1 job, which
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

    /// The version-rolling mask and rule: [`version_mask`](Self::version_mask) under
    /// BIP 310's rule unless the source says otherwise. The scanner rolls through
    /// [`VersionRolling::nth_version`], so `k = 0` is the source's own version.
    fn version_rolling(&self) -> VersionRolling {
        VersionRolling::new(self.version_mask())
    }
}

/// One fixed header: no extranonce2 to roll, version bits rolled inside `version_mask`
/// (BIP 320's by default).
///
/// ```
/// use sha256d_engine::source::{FixedHeader, WorkSource};
/// use sha256d_engine::rolling::BIP320_VERSION_MASK;
/// use sha256d_engine::Header;
/// let h = Header::from_bytes(&[0; 80]);
/// let t = FixedHeader::new(h);
/// assert_eq!(t.version_mask(), BIP320_VERSION_MASK);
/// assert_eq!(t.extranonce2_count(), 1);
/// assert_eq!(t.header(0), Some(h));
/// assert_eq!(t.header(1), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// The header (its nonce is ignored).
    pub header: Header,
    /// The version bits that may be rolled.
    pub version_mask: u32,
}

impl FixedHeader {
    /// A template that rolls BIP 320's version bits.
    pub const fn new(header: Header) -> Self {
        FixedHeader {
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

impl WorkSource for FixedHeader {
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
