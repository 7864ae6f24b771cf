//! The nonce-search core: one file per instruction set behind one dispatch, and
//! [`Backend`], the value that chooses between them.
//!
//! A [`Backend`] is a proof: it holds a private `Kind`, which holds a token from
//! `kind.rs`, and the only way to make a token checks (with CPUID, with or without
//! `std`) that the CPU has every feature of that kernel and of the narrower kernels that
//! take its leftover lanes. The SIMD word types hold a zero-sized proof made from the
//! token. So safe code cannot run
//! a kernel on a CPU that lacks its feature, and the compiler checks it: every `unsafe`
//! call of a `#[target_feature]` entry point has a token in hand.
//!
//! `unsafe` is allowed in this module tree only (the crate is `#![deny(unsafe_code)]`).
//!
//! [`Backend::detect`] ("auto") measures every available backend once per process (see
//! [`Calibration`]) and caches the choice. `SHA256D_BACKEND` is read by
//! [`Backend::from_env`] (and so by the CLI), never by [`Backend::detect`].

#![deny(unsafe_op_in_unsafe_fn)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{BlockHash, Header, Midstate};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(feature = "std")]
mod calibrate;
pub(crate) mod kernel;
mod kind;
pub(crate) mod scalar;
#[cfg(target_arch = "x86_64")]
mod shani;
#[cfg(target_arch = "x86_64")]
mod sse41;

#[cfg(feature = "std")]
pub use calibrate::Calibration;
pub(crate) use kernel::Prepared;
use kernel::Task;
use kind::Kind;

/// The name of the environment variable that forces a backend in [`Backend::from_env`].
pub const BACKEND_ENV: &str = "SHA256D_BACKEND";

/// An 80-byte header split where SHA-256 splits it: the midstate after its first
/// 64 bytes, and its last 16 bytes (merkle-root tail, time, bits, nonce, in header byte
/// order). The form in which ASICs receive work, and the input of
/// [`Backend::finish_headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SplitHeader {
    /// The SHA-256 state after the header's first 64 bytes.
    pub midstate: Midstate,
    /// Header bytes 64..80.
    pub tail: [u8; 16],
}

impl SplitHeader {
    /// Splits a header (one compression for the midstate).
    pub fn from_header(header: &Header) -> SplitHeader {
        SplitHeader {
            midstate: Midstate::from_header(header),
            tail: header.tail(),
        }
    }
}

/// A nonce-search backend that this CPU can run.
///
/// ```
/// use sha256d_engine::Backend;
/// let best = Backend::detect();
/// assert!(Backend::all_available().contains(&best));
/// assert_eq!(Backend::scalar().name(), "scalar");
/// assert_eq!(Backend::from_name("Scalar")?, Backend::scalar());
/// assert!(Backend::from_name("quantum").is_err());
/// # Ok::<(), sha256d_engine::BackendError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backend {
    kind: Kind,
}

/// Why a backend could not be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendError {
    /// Not one of [`Backend::NAMES`] or `auto`.
    Unknown(String),
    /// A backend this CPU (or this build's target) cannot run.
    Unavailable(&'static str),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Unknown(name) => write!(
                f,
                "unknown backend {name:?} (expected one of: auto, {})",
                Backend::NAMES.join(", ")
            ),
            BackendError::Unavailable(name) => {
                write!(f, "backend {name} is not available on this CPU")
            }
        }
    }
}

impl core::error::Error for BackendError {}

impl Backend {
    /// Every backend name, narrowest first. The list grows with new instruction sets.
    pub const NAMES: &'static [&'static str] = &["scalar", "sse41", "avx2", "avx512", "shani"];

    /// The order in which [`Backend::detect`] breaks near-ties (and, without `std`, its
    /// whole choice): the first of these within 3% of the fastest wins. AVX-512 first
    /// because where it exists it is the fastest or close (Intel Xeon, Zen 4); SHA-NI next
    /// (its unit is the fastest path on Zen 3 and Zen 5).
    pub const PREFERENCE: &'static [&'static str] = &["avx512", "shani", "avx2", "sse41", "scalar"];

    /// The portable scalar backend, always available.
    pub const fn scalar() -> Backend {
        Backend { kind: Kind::Scalar }
    }

    /// The 4-lane backend, if this CPU has SSE4.1 (and SSSE3). Where the CPU also has
    /// AVX-512VL, it runs the EVEX form of the same kernel (`vprord`, `vpternlogd` on xmm
    /// registers), which measured about twice as fast.
    pub fn sse41() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = kind::Sse41::detect() {
            return Some(Backend {
                kind: Kind::Sse41(t),
            });
        }
        None
    }

    /// The 8-lane backend, if this CPU has AVX2 (and SSE4.1 for its leftover nonces).
    /// Where the CPU also has AVX-512VL, it runs the EVEX form of the kernel on ymm
    /// registers.
    pub fn avx2() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = kind::Avx2::detect() {
            return Some(Backend {
                kind: Kind::Avx2(t),
            });
        }
        None
    }

    /// The 16-lane AVX-512 backend, if this CPU has AVX-512F (and AVX2 and SSE4.1 for its
    /// leftover nonces).
    pub fn avx512() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = kind::Avx512::detect() {
            return Some(Backend {
                kind: Kind::Avx512(t),
            });
        }
        None
    }

    /// The SHA-NI multi-stream backend, if this CPU has the SHA extensions (and SSSE3 and
    /// SSE4.1, which its kernel also uses).
    pub fn shani() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = kind::ShaNi::detect() {
            return Some(Backend {
                kind: Kind::ShaNi(t),
            });
        }
        None
    }

    /// The fastest backend on this CPU ("auto").
    ///
    /// With `std`, the first call measures every available backend on a short fixed
    /// workload (about 30 ms; see [`Calibration`]) and caches the winner for the process;
    /// near-ties (within 3%) go to the first in [`Backend::PREFERENCE`], so the choice is
    /// stable from run to run. Without `std` there is no clock: the first available
    /// backend in [`Backend::PREFERENCE`] is chosen. The environment is not read.
    pub fn detect() -> Backend {
        #[cfg(feature = "std")]
        {
            Self::calibration().chosen
        }
        #[cfg(not(feature = "std"))]
        Self::by_preference(&Self::all_available())
    }

    /// The calibration behind [`Backend::detect`]: run on the first call, then cached.
    #[cfg(feature = "std")]
    pub fn calibration() -> &'static Calibration {
        static CAL: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        CAL.get_or_init(Calibration::run)
    }

    /// The first of `candidates` in [`Backend::PREFERENCE`] order.
    pub(crate) fn by_preference(candidates: &[Backend]) -> Backend {
        Self::PREFERENCE
            .iter()
            .find_map(|name| candidates.iter().find(|b| b.name() == *name))
            .copied()
            .unwrap_or_else(Self::scalar)
    }

    /// Every backend this CPU has, narrowest first (the order of [`Backend::NAMES`]).
    pub fn all_available() -> Vec<Backend> {
        [
            Some(Self::scalar()),
            Self::sse41(),
            Self::avx2(),
            Self::avx512(),
            Self::shani(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The backend with this name, in any case; `auto` is [`Backend::detect`].
    ///
    /// # Errors
    ///
    /// [`BackendError::Unknown`] for a name not in [`Backend::NAMES`] (nor `auto`), and
    /// [`BackendError::Unavailable`] for a backend this CPU lacks.
    pub fn from_name(name: &str) -> Result<Backend, BackendError> {
        if name.eq_ignore_ascii_case("auto") {
            return Ok(Self::detect());
        }
        let Some(&known) = Self::NAMES.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
            return Err(BackendError::Unknown(name.into()));
        };
        let found = match known {
            "scalar" => Some(Self::scalar()),
            "sse41" => Self::sse41(),
            "avx2" => Self::avx2(),
            "avx512" => Self::avx512(),
            _ => Self::shani(),
        };
        found.ok_or(BackendError::Unavailable(known))
    }

    /// The backend that `SHA256D_BACKEND` names, or [`Backend::detect`] when it is unset,
    /// empty or `auto`. Only this function (and the CLI, which calls it) reads the
    /// variable.
    ///
    /// # Errors
    ///
    /// As [`Backend::from_name`]; a value that is not UTF-8 is [`BackendError::Unknown`].
    #[cfg(feature = "std")]
    pub fn from_env() -> Result<Backend, BackendError> {
        match std::env::var(BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => Self::from_name(name.trim()),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Self::detect()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(BackendError::Unknown("<not unicode>".into()))
            }
        }
    }

    /// The backend's name as `from_name` and the CLI take it.
    pub const fn name(&self) -> &'static str {
        match self.kind {
            Kind::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41(_) => "sse41",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2(_) => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512(_) => "avx512",
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi(_) => "shani",
        }
    }

    /// Nonces hashed per kernel step: SIMD lanes, or interleaved SHA-NI streams.
    pub const fn lanes(&self) -> usize {
        match self.kind.wide() {
            Some((lanes, _)) => lanes,
            None => scalar::LANES,
        }
    }

    /// Nonces per unit of work that take a few milliseconds on one thread of this backend
    /// (about 4 ms at the rates measured): the scanner's default chunk.
    #[cfg(feature = "rayon")]
    pub(crate) const fn chunk_hint(&self) -> u32 {
        match self.kind {
            Kind::Scalar => 1 << 14,
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41(_) => 1 << 15,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2(_) => 1 << 16,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512(_) | Kind::ShaNi(_) => 1 << 17,
        }
    }

    /// Pushes every nonce in `start ..= end` that passes the kernel's early test onto `out`
    /// in nonce order. A superset of the hits: the caller re-checks each one exactly.
    pub(crate) fn candidates(&self, p: &Prepared, start: u32, end: u32, out: &mut Vec<u32>) {
        if start > end {
            return;
        }
        // The whole nonce space is 2^32 nonces, one more than a u32 counts: split it.
        if start == 0 && end == u32::MAX {
            self.candidates(p, 0, u32::MAX / 2, out);
            self.candidates(p, u32::MAX / 2 + 1, u32::MAX, out);
            return;
        }
        self.kind.candidates(p, start, end - start + 1, out);
    }

    /// Block hashes of independent 80-byte headers, computed `lanes()` at a time: the
    /// full three compressions each, no state shared between headers. The same hashes
    /// as [`Header::block_hash`], in the same order.
    ///
    /// ```
    /// use sha256d_engine::{Backend, Header};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// ))?;
    /// let headers: Vec<[u8; 80]> = (0..10).map(|n| genesis.with_nonce(n).to_bytes()).collect();
    /// let hashes = Backend::detect().hash_headers(&headers);
    /// assert_eq!(hashes[7], genesis.with_nonce(7).block_hash());
    /// # Ok::<(), sha256d_engine::HeaderError>(())
    /// ```
    pub fn hash_headers(&self, headers: &[[u8; 80]]) -> Vec<BlockHash> {
        let mut mids = alloc::vec![Midstate(crate::sha256::IV); headers.len()];
        self.kind.midstates(headers, &mut mids);
        let items: Vec<SplitHeader> = headers
            .iter()
            .zip(mids)
            .map(|(h, midstate)| {
                let mut tail = [0u8; 16];
                tail.copy_from_slice(&h[64..]);
                SplitHeader { midstate, tail }
            })
            .collect();
        self.finish_headers(&items)
    }

    /// Block hashes of split headers, computed `lanes()` at a time: two compressions
    /// each. Items may share a midstate (shares of one job and version) or not.
    ///
    /// ```
    /// use sha256d_engine::{Backend, Header, SplitHeader};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// ))?;
    /// let items: Vec<SplitHeader> =
    ///     (0..5).map(|n| SplitHeader::from_header(&genesis.with_nonce(n))).collect();
    /// let hashes = Backend::detect().finish_headers(&items);
    /// assert_eq!(hashes[3], genesis.with_nonce(3).block_hash());
    /// # Ok::<(), sha256d_engine::HeaderError>(())
    /// ```
    pub fn finish_headers(&self, items: &[SplitHeader]) -> Vec<BlockHash> {
        let mut out = alloc::vec![[0u8; 32]; items.len()];
        self.kind.finish(items, &mut out);
        out.into_iter().map(BlockHash::from_le_bytes).collect()
    }

    /// [`Backend::finish_headers`] into a caller's buffer, hashes in internal byte order
    /// (as [`BlockHash::to_le_bytes`]): no allocation.
    ///
    /// # Panics
    ///
    /// If `out` is not exactly as long as `items`.
    pub fn finish_headers_into(&self, items: &[SplitHeader], out: &mut [[u8; 32]]) {
        assert_eq!(
            items.len(),
            out.len(),
            "finish_headers_into: {} items but room for {} hashes",
            items.len(),
            out.len()
        );
        self.kind.finish(items, out);
    }
}

impl Kind {
    /// For a SIMD kind: its lanes per step, and the narrower kind that takes the leftover
    /// items (its token is part of this kind's, see `kind.rs`). `None` for scalar.
    const fn wide(self) -> Option<(usize, Kind)> {
        match self {
            Kind::Scalar => None,
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41(_) => Some((sse41::LANES, Kind::Scalar)),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2(t) => Some((avx2::LANES, Kind::Sse41(t.narrower))),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512(t) => Some((avx512::LANES, Kind::Avx2(t.narrower))),
            // Fewer items than streams are left: the scalar code takes them.
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi(_) => Some((shani::LANES, Kind::Scalar)),
        }
    }

    /// Runs a task of whole lane groups on this kind's kernel (the token is the proof).
    fn run(self, task: Task<'_>) {
        match self {
            Kind::Scalar => unreachable!("the scalar kind has no lane-group kernel"),
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41(t) => sse41::run(t, task),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2(t) => avx2::run(t, task),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512(t) => avx512::run(t, task),
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi(t) => shani::run(t, task),
        }
    }

    /// `count` nonces from `start` (the range stays inside the nonce space). Whole lane
    /// groups go to this kind's kernel; the leftover nonces at the end go to the next
    /// narrower kind, so results stay in nonce order.
    fn candidates(self, p: &Prepared, start: u32, count: u32, out: &mut Vec<u32>) {
        let Some((lanes, narrower)) = self.wide() else {
            return scalar::candidates(p, start, count, out);
        };
        let groups = count / lanes as u32;
        self.run(Task::Candidates {
            p,
            start,
            groups,
            out,
        });
        let done = groups * lanes as u32;
        narrower.candidates(p, start.wrapping_add(done), count - done, out);
    }

    /// Midstates of `headers` into `out` (as long).
    fn midstates(self, headers: &[[u8; 80]], out: &mut [Midstate]) {
        let Some((lanes, narrower)) = self.wide() else {
            for (h, o) in headers.iter().zip(out) {
                let mut block = [0u8; 64];
                block.copy_from_slice(&h[..64]);
                *o = Midstate::from_first_block(&block);
            }
            return;
        };
        let n = headers.len() / lanes * lanes;
        let (headers, rest) = headers.split_at(n);
        let (out, rest_out) = out.split_at_mut(n);
        self.run(Task::Midstates { headers, out });
        narrower.midstates(rest, rest_out);
    }

    /// sha256d of split headers into `out` (as long), hashes in internal byte order.
    fn finish(self, items: &[SplitHeader], out: &mut [[u8; 32]]) {
        let Some((lanes, narrower)) = self.wide() else {
            for (it, o) in items.iter().zip(out) {
                *o = it.midstate.finish_header(&it.tail);
            }
            return;
        };
        let n = items.len() / lanes * lanes;
        let (items, rest) = items.split_at(n);
        let (out, rest_out) = out.split_at_mut(n);
        self.run(Task::Finish { items, out });
        narrower.finish(rest, rest_out);
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Backend({})", self.name())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
