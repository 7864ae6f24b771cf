//! Single-threaded scan of one header over an inclusive nonce range.

use alloc::vec::Vec;
use core::ops::RangeInclusive;

use crate::backend::{Backend, Prepared};
use crate::{BlockHash, Header, Target};

/// A nonce whose header hash meets the target, with that hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Hit {
    /// The nonce (the header's u32 field value).
    pub nonce: u32,
    /// The block hash of the header with this nonce.
    pub hash: BlockHash,
}

/// Nonces per kernel call in [`scan_prepared`]; bounds the candidate buffer when the
/// target is so easy that most nonces survive the early test.
const CHUNK: u64 = 1 << 16;

/// Scans `nonces` of `header` with the [detected](Backend::detect) backend and returns
/// every hit, in nonce order. The range is inclusive: `0..=u32::MAX` is the whole nonce
/// space. An empty range (start above end) has no hits.
///
/// ```
/// use sha256d_engine::{scan, Header, Target};
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let target = genesis.target().unwrap();
/// let hits = scan(&genesis, &target, 2083236000..=2083237000);
/// assert_eq!(hits.len(), 1);
/// assert_eq!(hits[0].nonce, 2083236893);
/// ```
pub fn scan(header: &Header, target: &Target, nonces: RangeInclusive<u32>) -> Vec<Hit> {
    Backend::detect().scan(header, target, nonces)
}

impl Backend {
    /// Scans `nonces` of `header` with this backend and returns every hit, in nonce order.
    /// Every backend returns exactly the same hits.
    pub fn scan(&self, header: &Header, target: &Target, nonces: RangeInclusive<u32>) -> Vec<Hit> {
        let p = Prepared::from_header(header, *target);
        let mut hits = Vec::new();
        scan_prepared(*self, &p, *nonces.start(), *nonces.end(), &mut hits);
        hits
    }
}

/// Scans `start ..= end` of a prepared header, appending hits in nonce order. Returns the
/// number of nonces hashed.
pub(crate) fn scan_prepared(
    backend: Backend,
    p: &Prepared,
    start: u32,
    end: u32,
    hits: &mut Vec<Hit>,
) -> u64 {
    if start > end {
        return 0;
    }
    let end = end as u64;
    let mut next = start as u64;
    let mut candidates = Vec::new();
    while next <= end {
        let chunk_end = end.min(next + CHUNK - 1);
        backend.candidates(p, next as u32, chunk_end as u32, &mut candidates);
        // The early test only rejects; every survivor is hashed in full and compared
        // exactly, so the kernels can never decide that a nonce is a hit.
        for nonce in candidates.drain(..) {
            let hash = BlockHash::from_le_bytes(p.hash_nonce(nonce));
            if p.target.is_met_by(&hash) {
                hits.push(Hit { nonce, hash });
            }
        }
        next = chunk_end + 1;
    }
    end - start as u64 + 1
}
