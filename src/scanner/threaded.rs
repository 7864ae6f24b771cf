//! The multi-threaded scanner: every core on one header's nonce range, or on rolling work
//! until stopped.
//!
//! A [`Scanner`] owns a rayon thread pool (never the global one), a [`Backend`] and a
//! chunk size. Work is cut into chunks of `chunk_size` nonces; a thread checks the stop
//! flag and adds its chunk to the hash counter between chunks, so stopping takes at most
//! one chunk's time (about 4 ms by default, see [`default_chunk`]) and the hot loop never
//! touches an atomic.
//!
//! [`Scanner::scan`] returns exactly the hits of a single-threaded [`Backend::scan`], in
//! nonce order, whatever the thread count. [`Scanner::search`] keeps every thread busy on
//! a [`WorkSource`], rolling the nonce, then the version bits inside the mask, then
//! extranonce2, then (optionally) ntime, and reports each hit as soon as it is found.

use std::fmt;
use std::ops::RangeInclusive;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::single::{Hit, scan_prepared};
use crate::backend::{Backend, Prepared};
use crate::source::WorkSource;
use crate::{BlockHash, Header, Target};

/// Nonces per chunk unless set otherwise: about 4 ms of one thread's work on each
/// backend (2^14 nonces for scalar up to 2^17 for SHA-NI and AVX-512), so a stop
/// lands within a few milliseconds even with several threads per core.
pub fn default_chunk(backend: Backend) -> u32 {
    backend.chunk_hint()
}

/// Why a scanner could not be built or a search failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum ScannerError {
    /// Zero threads or a zero chunk size.
    InvalidConfig(&'static str),
    /// rayon could not start the thread pool.
    ThreadPool(String),
    /// The hit callback panicked; the search was stopped. The payload's message, if it
    /// was a string.
    CallbackPanicked(String),
}

impl fmt::Display for ScannerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScannerError::InvalidConfig(what) => write!(f, "invalid scanner setting: {what}"),
            ScannerError::ThreadPool(e) => write!(f, "could not start the thread pool: {e}"),
            ScannerError::CallbackPanicked(msg) => {
                write!(
                    f,
                    "the hit callback panicked ({msg}); the search was stopped"
                )
            }
        }
    }
}

impl core::error::Error for ScannerError {}

/// A handle shared between the caller and a running scan: request a stop, read progress.
/// One `Control` per run; share it by reference (or in an `Arc`) with the thread that
/// watches or stops the scan.
#[derive(Debug)]
pub struct Control {
    stop: AtomicBool,
    hashes: AtomicU64,
    started: Instant,
}

impl Default for Control {
    fn default() -> Self {
        Control::new()
    }
}

impl Control {
    /// A fresh handle; its clock starts now.
    pub fn new() -> Control {
        Control {
            stop: AtomicBool::new(false),
            hashes: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Asks the scan to stop; it does within one chunk per thread.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Nonces hashed so far (updated once per finished chunk).
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Time since the handle was created.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Average rate since the handle was created, in hashes per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.hashes() as f64 / secs
        } else {
            0.0
        }
    }

    fn add(&self, n: u64) {
        self.hashes.fetch_add(n, Ordering::Relaxed);
    }
}

/// Configures a [`Scanner`].
#[derive(Clone, Debug, Default)]
pub struct ScannerBuilder {
    backend: Option<Backend>,
    threads: Option<usize>,
    chunk: Option<u32>,
}

impl ScannerBuilder {
    /// The backend (default: [`Backend::detect`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Worker threads (default: every core, `std::thread::available_parallelism`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Nonces per chunk (default [`default_chunk`] of the backend). Smaller stops sooner;
    /// larger costs less bookkeeping. Rounded up to a multiple of 64 so every backend's
    /// lanes fill.
    pub fn chunk_size(mut self, nonces: u32) -> Self {
        self.chunk = Some(nonces);
        self
    }

    /// Starts the thread pool.
    ///
    /// # Errors
    ///
    /// [`ScannerError::InvalidConfig`] for zero threads or a zero chunk size;
    /// [`ScannerError::ThreadPool`] when rayon cannot start the pool.
    pub fn build(self) -> Result<Scanner, ScannerError> {
        let threads = match self.threads {
            Some(0) => return Err(ScannerError::InvalidConfig("threads must be at least 1")),
            Some(n) => n,
            None => default_threads(),
        };
        let backend = self.backend.unwrap_or_else(Backend::detect);
        let chunk = match self.chunk {
            Some(0) => return Err(ScannerError::InvalidConfig("chunk size must be at least 1")),
            Some(n) => n.checked_next_multiple_of(64).unwrap_or(u32::MAX - 63),
            None => default_chunk(backend),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sha256d-scan-{i}"))
            .build()
            .map_err(|e| ScannerError::ThreadPool(e.to_string()))?;
        Ok(Scanner {
            pool,
            backend,
            threads,
            chunk,
        })
    }
}

/// Every core of this machine (1 if that cannot be determined).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The result of [`Scanner::scan_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanReport {
    /// Every hit found, in nonce order (all of them unless the scan was stopped).
    pub hits: Vec<Hit>,
    /// Nonces hashed.
    pub hashes: u64,
    /// Whether the scan was stopped before the end of the range.
    pub stopped: bool,
}

/// A hit found by [`Scanner::search`]: the full header that meets the target (with the
/// rolled version and time and the winning nonce) and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The header, nonce included, whose hash meets the target.
    pub header: Header,
    /// Its block hash.
    pub hash: BlockHash,
    /// The extranonce2 counter value the source built the header for.
    pub extranonce2: u64,
    /// Seconds added to the source's time (ntime rolling), 0 when not rolled.
    pub ntime_offset: u32,
}

/// Options for [`Scanner::search`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchOptions {
    /// The nonces of each header (default: all of them).
    pub nonces: RangeInclusive<u32>,
    /// Roll ntime up to this many seconds past the source's time, after extranonce2 is
    /// used up (default 0: never).
    pub ntime_roll: u32,
    /// Overrides the source's version-rolling mask (`Some(0)` disables rolling).
    pub version_mask: Option<u32>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            nonces: 0..=u32::MAX,
            ntime_roll: 0,
            version_mask: None,
        }
    }
}

/// The result of [`Scanner::search`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchReport {
    /// Nonces hashed.
    pub hashes: u64,
    /// Hits reported.
    pub hits: u64,
    /// Whether every work unit was scanned (the search ended by itself).
    pub exhausted: bool,
}

/// A multi-threaded scanner with its own thread pool.
///
/// ```
/// use sha256d_engine::{scanner::Scanner, Backend, Header};
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let scanner = Scanner::builder().threads(2).build().unwrap();
/// let target = genesis.target().unwrap();
/// let range = 2_083_000_000..=2_083_400_000;
/// let hits = scanner.scan(&genesis, &target, range.clone());
/// assert_eq!(hits, Backend::scalar().scan(&genesis, &target, range));
/// assert_eq!(hits[0].nonce, 2_083_236_893);
/// ```
pub struct Scanner {
    pool: rayon::ThreadPool,
    backend: Backend,
    threads: usize,
    chunk: u32,
}

impl fmt::Debug for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scanner")
            .field("backend", &self.backend)
            .field("threads", &self.threads)
            .field("chunk", &self.chunk)
            .finish()
    }
}

/// A work unit of a search: which header, before the nonce.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Unit {
    ntime_offset: u32,
    extranonce2: u64,
    version_index: u64,
}

impl Scanner {
    /// The detected backend on every core.
    ///
    /// # Errors
    ///
    /// As [`ScannerBuilder::build`].
    pub fn new() -> Result<Scanner, ScannerError> {
        Scanner::builder().build()
    }

    /// A builder to choose the backend, thread count and chunk size.
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    /// The backend every thread runs.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Nonces per chunk.
    pub fn chunk_size(&self) -> u32 {
        self.chunk
    }

    /// Every hit in `nonces`, in nonce order: exactly what a single-threaded
    /// [`Backend::scan`] returns.
    pub fn scan(&self, header: &Header, target: &Target, nonces: RangeInclusive<u32>) -> Vec<Hit> {
        self.scan_with(header, target, nonces, &Control::new()).hits
    }

    /// [`Scanner::scan`] with a [`Control`] to stop it and watch its progress. A stopped
    /// scan returns the hits of the chunks it finished (still in nonce order, but with
    /// gaps where chunks were skipped).
    pub fn scan_with(
        &self,
        header: &Header,
        target: &Target,
        nonces: RangeInclusive<u32>,
        control: &Control,
    ) -> ScanReport {
        let (start, end) = (*nonces.start() as u64, *nonces.end() as u64);
        if start > end {
            return ScanReport {
                hits: Vec::new(),
                hashes: 0,
                stopped: false,
            };
        }
        let p = Prepared::from_header(header, *target);
        let chunk = self.chunk as u64;
        let chunks = (end - start) / chunk + 1;
        let backend = self.backend;
        let parts: Vec<Option<Vec<Hit>>> = self.pool.install(|| {
            (0..chunks)
                .into_par_iter()
                .map(|i| {
                    if control.is_stopped() {
                        return None;
                    }
                    let lo = start + i * chunk;
                    let hi = end.min(lo + chunk - 1);
                    let mut hits = Vec::new();
                    let n = scan_prepared(backend, &p, lo as u32, hi as u32, &mut hits);
                    control.add(n);
                    Some(hits)
                })
                .collect()
        });
        let stopped = parts.iter().any(Option::is_none);
        let hashes = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .map(|(i, _)| {
                let lo = start + i as u64 * chunk;
                end.min(lo + chunk - 1) - lo + 1
            })
            .sum();
        ScanReport {
            hits: parts.into_iter().flatten().flatten().collect(),
            hashes,
            stopped,
        }
    }

    /// Searches `work` on every thread until `control` is stopped or every work unit is
    /// scanned, calling `on_hit` (from the worker threads) as soon as each hit is found.
    ///
    /// Order: each header's `options.nonces`, then the next version inside the mask (a new
    /// midstate), then the next extranonce2 (a new header from the source), then, if
    /// `options.ntime_roll` allows, the next second of ntime. Threads take chunks from one
    /// shared counter, so every chunk of every unit is scanned exactly once.
    ///
    /// A panic in `on_hit` stops the search and is returned as
    /// [`ScannerError::CallbackPanicked`]; the other threads finish their current chunk
    /// and return.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use sha256d_engine::{scanner::{Control, Scanner, SearchOptions}, source::FixedHeader};
    /// use sha256d_engine::{Header, Target};
    /// let header = Header::from_bytes(&[0; 80]);
    /// let easy = Target::from_difficulty(1.0 / 65536.0).unwrap(); // ~1 hit per 65536
    /// let options = SearchOptions { nonces: 0..=99_999, ..SearchOptions::default() };
    /// let found = Mutex::new(Vec::new());
    /// let control = Control::new();
    /// let scanner = Scanner::builder().threads(2).build().unwrap();
    /// let report = scanner
    ///     .search(&FixedHeader::new(header).with_version_mask(0x6000), &easy, &options, &control,
    ///             |f| found.lock().unwrap().push(f))
    ///     .unwrap();
    /// assert!(report.exhausted);
    /// assert_eq!(report.hashes, 4 * 100_000); // 4 versions of 100,000 nonces
    /// assert_eq!(report.hits as usize, found.lock().unwrap().len());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ScannerError::CallbackPanicked`] when `on_hit` panicked (the search was stopped).
    pub fn search<W, F>(
        &self,
        work: &W,
        target: &Target,
        options: &SearchOptions,
        control: &Control,
        on_hit: F,
    ) -> Result<SearchReport, ScannerError>
    where
        W: WorkSource + ?Sized,
        F: Fn(Found) + Sync,
    {
        let (lo, hi) = (*options.nonces.start() as u64, *options.nonces.end() as u64);
        if lo > hi {
            return Ok(SearchReport {
                hashes: 0,
                hits: 0,
                exhausted: true,
            });
        }
        let mut rolling = work.version_rolling();
        if let Some(mask) = options.version_mask {
            rolling.mask = mask;
        }
        // Units are (version, extranonce2, ntime) triples. Each factor fits in 64 bits and
        // their product may not fit in 128 (2^32 versions, 2^64 extranonce2 values, 2^32
        // seconds), so it saturates: a search that large never ends by itself anyway.
        let versions = rolling.max_count() as u128;
        let extranonces = work.extranonce2_count().max(1) as u128;
        // ntime never wraps: at most up to 0xffffffff from the source's first header.
        let ntime_roll = match work.header(0) {
            Some(h) => options.ntime_roll.min(u32::MAX - h.time),
            None => options.ntime_roll,
        };
        let units = versions
            .checked_mul(extranonces)
            .and_then(|u| u.checked_mul(u128::from(ntime_roll) + 1))
            .unwrap_or(u128::MAX);
        let chunk = self.chunk as u64;
        let chunks_per_unit = (hi - lo) / chunk + 1;
        let total = units
            .checked_mul(u128::from(chunks_per_unit))
            .map_or(u64::MAX, |t| u64::try_from(t).unwrap_or(u64::MAX));

        let next = AtomicU64::new(0);
        let hits = AtomicU64::new(0);
        let hashes = AtomicU64::new(0);
        let panicked: Mutex<Option<String>> = Mutex::new(None);
        let backend = self.backend;

        let unit_of = |u: u64| -> Unit {
            let u = u as u128;
            Unit {
                version_index: (u % versions) as u64,
                extranonce2: (u / versions % extranonces) as u64,
                // At most `ntime_roll` while `units` is exact; when it saturated,
                // versions × extranonces > 2^96 > u, so the quotient is 0.
                ntime_offset: (u / (versions * extranonces)) as u32,
            }
        };

        let worker = || {
            let mut cached: Option<(Unit, Option<(Header, Prepared)>)> = None;
            let mut found = Vec::new();
            while !control.is_stopped() {
                let idx = next.fetch_add(1, Ordering::Relaxed);
                if idx >= total {
                    break;
                }
                let unit = unit_of(idx / chunks_per_unit);
                if cached.as_ref().map(|(u, _)| *u) != Some(unit) {
                    let prepared = work.header(unit.extranonce2).and_then(|mut h| {
                        // Under the OR rule fewer versions may be reachable than the
                        // mask allows, and a source's later headers may have a later
                        // time: skip a unit that would repeat a version or wrap ntime.
                        h.version = rolling.nth_version(h.version, unit.version_index)?;
                        h.time = h.time.checked_add(unit.ntime_offset)?;
                        let p = Prepared::from_header(&h, *target);
                        Some((h, p))
                    });
                    cached = Some((unit, prepared));
                }
                // A source may have fewer extranonce2 values than it claimed, or the unit
                // may be out of reach (above): skip.
                let Some((_, Some((header, p)))) = &cached else {
                    continue;
                };
                let start = lo + (idx % chunks_per_unit) * chunk;
                let end = hi.min(start + chunk - 1);
                found.clear();
                let n = scan_prepared(backend, p, start as u32, end as u32, &mut found);
                hashes.fetch_add(n, Ordering::Relaxed);
                control.add(n);
                for hit in &found {
                    hits.fetch_add(1, Ordering::Relaxed);
                    let f = Found {
                        header: header.with_nonce(hit.nonce),
                        hash: hit.hash,
                        extranonce2: unit.extranonce2,
                        ntime_offset: unit.ntime_offset,
                    };
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| on_hit(f))) {
                        let msg = payload
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "non-string panic payload".into());
                        if let Ok(mut slot) = panicked.lock() {
                            slot.get_or_insert(msg);
                        }
                        control.stop();
                        return;
                    }
                }
            }
        };
        self.pool.broadcast(|_| worker());

        if let Some(msg) = panicked.lock().ok().and_then(|mut p| p.take()) {
            return Err(ScannerError::CallbackPanicked(msg));
        }
        Ok(SearchReport {
            hashes: hashes.load(Ordering::Relaxed),
            hits: hits.load(Ordering::Relaxed),
            // A thread checks the stop flag before it takes a chunk, never after, so every
            // chunk handed out was scanned: all were handed out means all were scanned.
            exhausted: next.load(Ordering::Relaxed) >= total,
        })
    }
}
