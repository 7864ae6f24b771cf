//! The measurement behind [`Backend::detect`]: which backend is fastest on this CPU.
//!
//! No fixed order is right everywhere. On an Intel Xeon (Sapphire/Emerald Rapids) a
//! `sha256rnds2` issues about every 3 cycles, so SHA-NI stops near 18 MH/s per core while
//! AVX-512 does about twice that; on AMD Zen 5 the SHA unit reaches about 32 MH/s; on
//! Zen 4 the two are within 15%. So "auto" measures.
//!
//! The workload is fixed: one header, a target no hash meets (so the kernels' early test
//! rejects every nonce and nothing else runs), each backend timed alone on one thread. A
//! short pilot sizes each backend's round to about 2 ms; then [`Calibration::ROUNDS`]
//! rounds visit the backends alternately (so a burst of load elsewhere hits all of them,
//! not one), and each backend's rate is the median of its rounds. About 30 ms in all with
//! five backends. The fastest is the highest rate; the chosen one is the first in
//! [`Backend::PREFERENCE`] within [`Calibration::TIE`] of it, so that two backends that
//! measure alike do not swap from run to run.

use std::time::{Duration, Instant};

use alloc::vec::Vec;

use super::{Backend, Prepared};
use crate::{Header, Target};

/// What the calibration measured, and what it chose.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// Every available backend, narrowest first, with its measured rate in MH/s on one
    /// thread (the median of its rounds).
    pub rates: Vec<(Backend, f64)>,
    /// The backend with the highest rate.
    pub fastest: Backend,
    /// What [`Backend::detect`] uses: the first backend of [`Backend::PREFERENCE`] whose
    /// rate is within [`Calibration::TIE`] of the fastest.
    pub chosen: Backend,
    /// How long the calibration took.
    pub elapsed: Duration,
}

impl Calibration {
    /// Rates within this fraction of the fastest count as a tie.
    pub const TIE: f64 = 0.03;
    /// Timed rounds per backend, alternated.
    pub const ROUNDS: usize = 3;
    /// The length of one timed round.
    pub const ROUND: Duration = Duration::from_millis(2);

    /// Measures every available backend now (a fresh measurement; [`Backend::detect`]
    /// keeps the first one of the process, see [`Backend::calibration`]).
    pub fn run() -> Calibration {
        Self::measure(&Backend::all_available())
    }

    /// Measures `backends` (at least one).
    pub(crate) fn measure(backends: &[Backend]) -> Calibration {
        let started = Instant::now();
        // The genesis header; the zero target is met by no hash (and the early test
        // lets through about one nonce in 2^32).
        let mut header = Header::from_bytes(&[0; 80]);
        header.bits = crate::CompactTarget::from_consensus(0x1d00ffff);
        let p = Prepared::from_header(&header, Target::from_le_bytes([0; 32]));
        let mut out = Vec::new();
        let mut time = |b: Backend, start: u32, count: u32| -> f64 {
            let t = Instant::now();
            b.candidates(&p, start, start + (count - 1), &mut out);
            out.clear();
            t.elapsed().as_secs_f64().max(1e-9)
        };
        // Pilot: size each backend's round to about ROUND.
        let counts: Vec<u32> = backends
            .iter()
            .map(|&b| {
                let pilot = 64 * b.lanes() as u32;
                time(b, 0, pilot); // warm up caches and the branch predictor
                let secs = time(b, 0, pilot);
                let n = (pilot as f64 / secs * Self::ROUND.as_secs_f64()) as u32;
                n.clamp(pilot, 1 << 24)
            })
            .collect();
        let mut samples: Vec<Vec<f64>> = alloc::vec![Vec::new(); backends.len()];
        let mut start = 1u32 << 20;
        for _ in 0..Self::ROUNDS {
            for (i, &b) in backends.iter().enumerate() {
                let secs = time(b, start, counts[i]);
                samples[i].push(counts[i] as f64 / secs / 1e6);
                start = start.wrapping_add(counts[i]) & 0x7fff_ffff;
            }
        }
        let rates: Vec<(Backend, f64)> = backends
            .iter()
            .zip(samples)
            .map(|(&b, mut s)| {
                s.sort_by(f64::total_cmp);
                (b, s[s.len() / 2])
            })
            .collect();
        let (fastest, chosen) = Self::choose(&rates);
        Calibration {
            rates,
            fastest,
            chosen,
            elapsed: started.elapsed(),
        }
    }

    /// The fastest of `rates`, and the first of [`Backend::PREFERENCE`] within
    /// [`Calibration::TIE`] of it.
    pub(crate) fn choose(rates: &[(Backend, f64)]) -> (Backend, Backend) {
        let fastest = rates
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(Backend::scalar(), |r| r.0);
        let best = rates.iter().map(|r| r.1).fold(0.0, f64::max);
        let close: Vec<Backend> = rates
            .iter()
            .filter(|r| r.1 >= best * (1.0 - Self::TIE))
            .map(|r| r.0)
            .collect();
        (fastest, Backend::by_preference(&close))
    }

    /// The measured rate of `backend`, in MH/s, if it was measured.
    pub fn rate(&self, backend: Backend) -> Option<f64> {
        self.rates.iter().find(|r| r.0 == backend).map(|r| r.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_preference_order() {
        let s = Backend::scalar();
        // Only scalar exists everywhere; the rule is the same with one backend.
        assert_eq!(Calibration::choose(&[(s, 3.0)]), (s, s));
        if let (Some(a), Some(x)) = (Backend::avx2(), Backend::sse41()) {
            // sse41 2% behind avx2 ... avx2 comes first in PREFERENCE either way.
            assert_eq!(Calibration::choose(&[(x, 10.0), (a, 10.1)]), (a, a));
            assert_eq!(Calibration::choose(&[(x, 10.2), (a, 10.0)]), (x, a));
            assert_eq!(Calibration::choose(&[(x, 11.0), (a, 10.0)]), (x, x));
        }
    }
}
