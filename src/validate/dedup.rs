//! The duplicate cache: the headers of accepted shares, keyed by their hash, as ckpool and
//! the Stratum V2 reference key duplicates.
//!
//! Equal headers give equal hashes, whatever job id, worker name or hex case they were
//! submitted with; different headers give different hashes unless SHA-256d collides. The
//! cache keeps the 128 low-order bits of each hash (the uniformly random end: a share's
//! hash has its zero bits at the high end), 16 bytes a share: two different accepted
//! headers agree there with probability 2^-128 per pair, and grinding for such a pair
//! costs about 2^64 shares that each meet the share target.
//!
//! The cache holds the shares of live work only: the validator clears it when it retires
//! every job (a `clean_jobs` notify or a new previous-block hash). Clearing keeps the
//! table's allocation, so a long session reuses it instead of growing.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};

use crate::BlockHash;

/// A share's identity: the low 128 bits of its header hash.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ShareKey(u128);

impl Hash for ShareKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The bits are already uniform: one word, mixed with the key, is plenty.
        state.write_u64((self.0 as u64) ^ ((self.0 >> 64) as u64));
    }
}

/// The accepted shares of the live work.
pub(crate) struct DupCache {
    seen: HashSet<ShareKey, KeyedMix>,
}

impl DupCache {
    pub(crate) fn new(key: u64) -> DupCache {
        DupCache {
            seen: HashSet::with_hasher(KeyedMix(key)),
        }
    }

    /// Records an accepted share; `false` when its header was already recorded.
    pub(crate) fn insert(&mut self, hash: &BlockHash) -> bool {
        let b = hash.to_le_bytes();
        let mut low = [0u8; 16];
        low.copy_from_slice(&b[..16]);
        self.seen.insert(ShareKey(u128::from_le_bytes(low)))
    }

    /// Forgets every share (the work they were for was retired).
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.seen.reserve(n);
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Hashes a key by mixing its 64-bit words with a per-validator random key: cheap, and a
/// miner who grinds hashes cannot aim them at one bucket without knowing the key.
#[derive(Clone, Copy)]
pub(crate) struct KeyedMix(pub(crate) u64);

impl BuildHasher for KeyedMix {
    type Hasher = KeyedMixHasher;
    fn build_hasher(&self) -> KeyedMixHasher {
        KeyedMixHasher {
            key: self.0,
            state: self.0,
        }
    }
}

pub(crate) struct KeyedMixHasher {
    key: u64,
    state: u64,
}

impl Hasher for KeyedMixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let v = (self.state ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.state = v.rotate_left(29) ^ self.key;
    }
    fn finish(&self) -> u64 {
        self.state.wrapping_mul(0xff51_afd7_ed55_8ccd)
    }
}
