//! The nonce-search core: one file per instruction set, each with the same leaf API
//! (`LANES` and `candidates(prepared, start, count, out)`), and [`Backend`], the value that
//! chooses between them.
//!
//! A [`Backend`] is a proof: its kind is private, and the only ways to get one check that
//! the CPU has the instruction set (`Backend::avx2()` returns `None` on a CPU without
//! AVX2). The dispatch below relies on that proof to call the `#[target_feature]` kernels,
//! so safe code cannot run a kernel on a CPU that lacks its feature.
//!
//! Detection runs once and is cached. `SHA256D_BACKEND` is read by
//! [`Backend::from_env`], never by [`Backend::detect`].

#![deny(unsafe_op_in_unsafe_fn)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{BlockHash, Midstate};

#[cfg(target_arch = "x86_64")]
mod avx2;
pub(crate) mod kernel;
pub(crate) mod scalar;
#[cfg(target_arch = "x86_64")]
mod shani;
#[cfg(target_arch = "x86_64")]
mod sse41;

pub(crate) use kernel::Prepared;

/// The name of the environment variable that forces a backend.
pub const BACKEND_ENV: &str = "SHA256D_BACKEND";

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
enum Kind {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Sse41,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// `avx`: the CPU also has AVX, so the kernel clears the upper register halves.
    #[cfg(target_arch = "x86_64")]
    ShaNi {
        avx: bool,
    },
}

/// Whether the CPU has these x86 features: detected at run time with `std`, or known at
/// compile time without it.
#[cfg(target_arch = "x86_64")]
macro_rules! cpu_has {
    ($($feature:tt),+) => {{
        #[cfg(feature = "std")]
        let has = true $(&& std::arch::is_x86_feature_detected!($feature))+;
        #[cfg(not(feature = "std"))]
        let has = true $(&& cfg!(target_feature = $feature))+;
        has
    }};
}

/// A nonce-search backend that this CPU can run.
///
/// ```
/// use sha256d_engine::Backend;
/// let best = Backend::detect();
/// assert!(Backend::all_available().contains(&best));
/// assert_eq!(Backend::scalar().name(), "scalar");
/// assert_eq!(Backend::from_name("scalar").unwrap(), Backend::scalar());
/// assert!(Backend::from_name("quantum").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backend {
    kind: Kind,
}

/// Why a backend could not be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// Not one of `scalar`, `sse41`, `avx2`, `shani`, `auto`.
    Unknown(String),
    /// A backend this CPU (or this build) cannot run.
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

#[cfg(feature = "std")]
impl std::error::Error for BackendError {}

impl Backend {
    /// Every backend name, narrowest first.
    pub const NAMES: [&'static str; 4] = ["scalar", "sse41", "avx2", "shani"];

    /// The portable scalar backend, always available.
    pub const fn scalar() -> Backend {
        Backend { kind: Kind::Scalar }
    }

    /// The SSE4.1 4-way backend, if this CPU has SSE4.1 (and SSSE3, which every SSE4.1
    /// CPU has).
    pub fn sse41() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if cpu_has!("sse4.1", "ssse3") {
            return Some(Backend { kind: Kind::Sse41 });
        }
        None
    }

    /// The AVX2 8-way backend, if this CPU has AVX2 (and SSE4.1, which takes its
    /// leftover nonces).
    pub fn avx2() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if cpu_has!("avx2", "sse4.1", "ssse3") {
            return Some(Backend { kind: Kind::Avx2 });
        }
        None
    }

    /// The SHA-NI multi-stream backend, if this CPU has the SHA extensions (and SSE4.1,
    /// which its kernel also uses).
    pub fn shani() -> Option<Backend> {
        #[cfg(target_arch = "x86_64")]
        if cpu_has!("sha", "sse2", "ssse3", "sse4.1") {
            let avx = cpu_has!("avx");
            return Some(Backend {
                kind: Kind::ShaNi { avx },
            });
        }
        None
    }

    /// The fastest backend this CPU has (SHA-NI, then AVX2, then SSE4.1, then scalar).
    /// Detection runs once per process; the environment is not read.
    pub fn detect() -> Backend {
        #[cfg(feature = "std")]
        {
            static BEST: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
            *BEST.get_or_init(Self::best)
        }
        #[cfg(not(feature = "std"))]
        Self::best()
    }

    fn best() -> Backend {
        Self::shani()
            .or_else(Self::avx2)
            .or_else(Self::sse41)
            .unwrap_or_else(Self::scalar)
    }

    /// Every backend this CPU has, narrowest first.
    pub fn all_available() -> Vec<Backend> {
        [
            Some(Self::scalar()),
            Self::sse41(),
            Self::avx2(),
            Self::shani(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The backend with this name; `auto` is [`Backend::detect`]. An unknown name or a
    /// backend the CPU lacks is an error.
    pub fn from_name(name: &str) -> Result<Backend, BackendError> {
        let found = match name {
            "auto" => return Ok(Self::detect()),
            "scalar" => Some(Self::scalar()),
            "sse41" => Self::sse41(),
            "avx2" => Self::avx2(),
            "shani" => Self::shani(),
            other => return Err(BackendError::Unknown(other.into())),
        };
        found.ok_or(BackendError::Unavailable(match name {
            "sse41" => "sse41",
            "avx2" => "avx2",
            _ => "shani",
        }))
    }

    /// The backend that `SHA256D_BACKEND` names, or [`Backend::detect`] when it is unset,
    /// empty or `auto`.
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
            Kind::Sse41 => "sse41",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi { .. } => "shani",
        }
    }

    /// Nonces hashed per kernel step: SIMD lanes, or interleaved SHA-NI streams.
    pub const fn lanes(&self) -> usize {
        match self.kind {
            Kind::Scalar => scalar::LANES,
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41 => sse41::LANES,
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => avx2::LANES,
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi { .. } => shani::LANES,
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
    /// as [`Header::block_hash`](crate::Header::block_hash), in the same order.
    ///
    /// ```
    /// use sha256d_engine::{Backend, Header};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// )).unwrap();
    /// let headers: Vec<[u8; 80]> = (0..10).map(|n| genesis.with_nonce(n).to_bytes()).collect();
    /// let hashes = Backend::detect().hash_headers(&headers);
    /// assert_eq!(hashes[7], genesis.with_nonce(7).block_hash());
    /// ```
    pub fn hash_headers(&self, headers: &[[u8; 80]]) -> Vec<BlockHash> {
        let mut mids = alloc::vec![Midstate(crate::sha256::IV); headers.len()];
        self.kind.midstates(headers, &mut mids);
        let items: Vec<(Midstate, [u8; 16])> = headers
            .iter()
            .zip(mids)
            .map(|(h, m)| {
                let mut tail = [0u8; 16];
                tail.copy_from_slice(&h[64..]);
                (m, tail)
            })
            .collect();
        self.finish_headers(&items)
    }

    /// Block hashes of headers given as (midstate, last 16 bytes), computed `lanes()` at
    /// a time: two compressions each. Items may share a midstate (shares of one job and
    /// version) or not.
    ///
    /// ```
    /// use sha256d_engine::{Backend, Header, Midstate};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// )).unwrap();
    /// let mid = Midstate::from_header(&genesis);
    /// let items: Vec<_> = (0..5).map(|n| (mid, genesis.with_nonce(n).tail())).collect();
    /// let hashes = Backend::detect().finish_headers(&items);
    /// assert_eq!(hashes[3], genesis.with_nonce(3).block_hash());
    /// ```
    pub fn finish_headers(&self, items: &[(Midstate, [u8; 16])]) -> Vec<BlockHash> {
        let mut out = alloc::vec![[0u8; 32]; items.len()];
        self.kind.finish(items, &mut out);
        out.into_iter().map(BlockHash::from_le_bytes).collect()
    }

    /// [`Backend::finish_headers`] into a caller's buffer of the same length, hashes in
    /// internal byte order (as [`BlockHash::to_le_bytes`]). Only as many items as `out`
    /// has room for are hashed.
    pub fn finish_headers_into(&self, items: &[(Midstate, [u8; 16])], out: &mut [[u8; 32]]) {
        let n = items.len().min(out.len());
        self.kind.finish(&items[..n], &mut out[..n]);
    }
}

/// Runs `$kernel` on the whole lane groups of `$items` / `$out` (one `unsafe` call, whose
/// safety is the Kind's proof) and hands the leftover items to `$narrower`.
macro_rules! lanes_then {
    ($items:expr, $out:expr, $lanes:expr, $narrower:expr, $method:ident, |$i:ident, $o:ident| $kernel:expr) => {{
        let n = $items.len() / $lanes * $lanes;
        let ($i, rest) = $items.split_at(n);
        let ($o, rest_out) = $out.split_at_mut(n);
        $kernel;
        $narrower.$method(rest, rest_out);
    }};
}

impl Kind {
    /// Midstates of `headers` (as long as `out`).
    fn midstates(self, headers: &[[u8; 80]], out: &mut [Midstate]) {
        match self {
            Kind::Scalar => {
                for (h, o) in headers.iter().zip(out) {
                    let mut block = [0u8; 64];
                    block.copy_from_slice(&h[..64]);
                    *o = Midstate::from_first_block(&block);
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41 => lanes_then!(
                headers,
                out,
                sse41::LANES,
                Kind::Scalar,
                midstates,
                |h, o| {
                    // SAFETY: a Kind::Sse41 exists only if Backend::sse41() found SSE4.1 and SSSE3.
                    unsafe { sse41::midstates(h, o) }
                }
            ),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => lanes_then!(headers, out, avx2::LANES, Kind::Sse41, midstates, |h, o| {
                // SAFETY: a Kind::Avx2 exists only if Backend::avx2() found AVX2 (and SSE4.1).
                unsafe { avx2::midstates(h, o) }
            }),
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi { avx } => lanes_then!(
                headers,
                out,
                shani::LANES,
                Kind::Scalar,
                midstates,
                |h, o| {
                    // SAFETY: a Kind::ShaNi exists only if Backend::shani() found SHA, SSE2,
                    // SSSE3 and SSE4.1, and it set `avx` only if the CPU has AVX.
                    unsafe { shani::midstates(h, avx, o) }
                }
            ),
        }
    }

    /// sha256d of (midstate, tail) items (as long as `out`), hashes in internal order.
    fn finish(self, items: &[(Midstate, [u8; 16])], out: &mut [[u8; 32]]) {
        match self {
            Kind::Scalar => {
                for ((m, tail), o) in items.iter().zip(out) {
                    *o = m.finish_header(tail);
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41 => lanes_then!(items, out, sse41::LANES, Kind::Scalar, finish, |i, o| {
                // SAFETY: a Kind::Sse41 exists only if Backend::sse41() found SSE4.1 and SSSE3.
                unsafe { sse41::finish(i, o) }
            }),
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => lanes_then!(items, out, avx2::LANES, Kind::Sse41, finish, |i, o| {
                // SAFETY: a Kind::Avx2 exists only if Backend::avx2() found AVX2 (and SSE4.1).
                unsafe { avx2::finish(i, o) }
            }),
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi { avx } => {
                lanes_then!(items, out, shani::LANES, Kind::Scalar, finish, |i, o| {
                    // SAFETY: a Kind::ShaNi exists only if Backend::shani() found SHA, SSE2,
                    // SSSE3 and SSE4.1, and it set `avx` only if the CPU has AVX.
                    unsafe { shani::finish(i, avx, o) }
                })
            }
        }
    }

    /// `count` nonces from `start` (the range stays inside the nonce space). Whole lane
    /// groups go to this kind's kernel; the leftover nonces at the end go to the next
    /// narrower kind, so results stay in nonce order.
    fn candidates(self, p: &Prepared, start: u32, count: u32, out: &mut Vec<u32>) {
        match self {
            Kind::Scalar => scalar::candidates(p, start, count, out),
            #[cfg(target_arch = "x86_64")]
            Kind::Sse41 => {
                let groups = count / sse41::LANES as u32;
                // SAFETY: a Kind::Sse41 exists only in a Backend built by Backend::sse41(),
                // which checked that the CPU has SSE4.1 and SSSE3.
                unsafe { sse41::candidates(p, start, groups, out) };
                let done = groups * sse41::LANES as u32;
                Kind::Scalar.candidates(p, start.wrapping_add(done), count - done, out);
            }
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => {
                let groups = count / avx2::LANES as u32;
                // SAFETY: a Kind::Avx2 exists only in a Backend built by Backend::avx2(),
                // which checked that the CPU has AVX2, SSE4.1 and SSSE3.
                unsafe { avx2::candidates(p, start, groups, out) };
                let done = groups * avx2::LANES as u32;
                // AVX2 implies SSE4.1 here: Backend::avx2() checked both.
                Kind::Sse41.candidates(p, start.wrapping_add(done), count - done, out);
            }
            #[cfg(target_arch = "x86_64")]
            Kind::ShaNi { avx } => {
                let groups = count / shani::LANES as u32;
                // SAFETY: a Kind::ShaNi exists only in a Backend built by Backend::shani(),
                // which checked SHA, SSE2, SSSE3 and SSE4.1, and set `avx` only if the CPU
                // has AVX.
                unsafe { shani::candidates(p, start, groups, avx, out) };
                let done = groups * shani::LANES as u32;
                // Fewer nonces than streams are left: the scalar kernel takes them.
                Kind::Scalar.candidates(p, start.wrapping_add(done), count - done, out);
            }
        }
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
