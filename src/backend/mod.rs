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

pub(crate) mod kernel;
pub(crate) mod scalar;

pub(crate) use kernel::Prepared;

/// The name of the environment variable that forces a backend.
pub const BACKEND_ENV: &str = "SHA256D_BACKEND";

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
enum Kind {
    Scalar,
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

    /// The SSE4.1 4-way backend, if this CPU has SSE4.1.
    pub fn sse41() -> Option<Backend> {
        None
    }

    /// The AVX2 8-way backend, if this CPU has AVX2.
    pub fn avx2() -> Option<Backend> {
        None
    }

    /// The SHA-NI multi-stream backend, if this CPU has the SHA extensions.
    pub fn shani() -> Option<Backend> {
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
        }
    }

    /// Nonces hashed per kernel step: SIMD lanes, or interleaved SHA-NI streams.
    pub const fn lanes(&self) -> usize {
        match self.kind {
            Kind::Scalar => scalar::LANES,
        }
    }

    /// Pushes every nonce in `start ..= end` that passes the kernel's early test onto `out`
    /// in nonce order. A superset of the hits: the caller re-checks each one exactly.
    pub(crate) fn candidates(&self, p: &Prepared, start: u32, end: u32, out: &mut Vec<u32>) {
        if start > end {
            return;
        }
        // Fits in u32 unless the range is all 2^32 nonces, which the callers split.
        let count = (end - start) as u64 + 1;
        let mut next = start as u64;
        let mut left = count;
        while left > 0 {
            let n = left.min(u32::MAX as u64) as u32;
            match self.kind {
                Kind::Scalar => scalar::candidates(p, next as u32, n, out),
            }
            next += n as u64;
            left -= n as u64;
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
