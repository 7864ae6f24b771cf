//! The multi-threaded scanner: thread-count independence, stop latency, rolling order,
//! hit delivery while running, no duplicate or missing work, callback panics.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha256d_engine::scanner::{Control, Found, Scanner, ScannerError, SearchOptions};
use sha256d_engine::source::{FixedHeader, WorkSource};
use sha256d_engine::{Backend, Header, Target};

fn header(seed: u8) -> Header {
    let mut b = [0u8; 80];
    for (i, x) in b.iter_mut().enumerate() {
        *x = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    Header::from_bytes(&b)
}

/// About one hit per 2^bits nonces.
fn easy(bits: u32) -> Target {
    Target::from_difficulty(1.0 / 65536.0 / 65536.0 * (1u64 << bits) as f64).unwrap()
}

#[test]
fn same_hits_for_every_thread_count_and_backend() {
    let h = header(1);
    let target = easy(9);
    // Neither the start nor the length is a multiple of the chunk size (1000 -> 1024).
    let range = 123_457..=123_457 + 50_000;
    let reference = Backend::scalar().scan(&h, &target, range.clone());
    assert!(reference.len() > 50, "{} hits", reference.len());
    for backend in common::backends() {
        for threads in [1, 2, 3, 8] {
            let s = Scanner::builder()
                .backend(backend)
                .threads(threads)
                .chunk_size(1000)
                .build()
                .unwrap();
            assert_eq!(s.chunk_size(), 1024);
            assert_eq!(
                s.scan(&h, &target, range.clone()),
                reference,
                "{backend} x {threads}"
            );
        }
    }
}

#[test]
#[allow(clippy::reversed_empty_ranges)] // the empty range is one of the cases
fn ranges_at_the_ends_of_the_nonce_space() {
    let h = header(2);
    let target = easy(6);
    for range in [0..=70_000u32, u32::MAX - 70_000..=u32::MAX, 5..=5, 9..=8] {
        let want = Backend::scalar().scan(&h, &target, range.clone());
        for threads in [1, 3] {
            let s = Scanner::builder()
                .threads(threads)
                .chunk_size(4096)
                .build()
                .unwrap();
            let report = s.scan_with(&h, &target, range.clone(), &Control::new());
            assert_eq!(report.hits, want, "{range:?} x {threads}");
            assert!(!report.stopped);
            let len = if range.start() > range.end() {
                0
            } else {
                *range.end() as u64 - *range.start() as u64 + 1
            };
            assert_eq!(report.hashes, len);
        }
    }
}

#[test]
fn bad_settings_are_errors() {
    assert!(matches!(
        Scanner::builder().threads(0).build(),
        Err(ScannerError::InvalidConfig(_))
    ));
    assert!(matches!(
        Scanner::builder().chunk_size(0).build(),
        Err(ScannerError::InvalidConfig(_))
    ));
}

/// A source with `n` extranonce2 values whose headers differ in the merkle root.
struct Rolling {
    base: Header,
    n: u64,
    mask: u32,
}

impl WorkSource for Rolling {
    fn header(&self, extranonce2: u64) -> Option<Header> {
        (extranonce2 < self.n).then(|| {
            let mut h = self.base;
            let mut root = h.merkle_root.to_le_bytes();
            root[..8].copy_from_slice(&extranonce2.to_le_bytes());
            h.merkle_root = sha256d_engine::TxMerkleNode::from_le_bytes(root);
            h
        })
    }
    fn extranonce2_count(&self) -> u64 {
        self.n
    }
    fn version_mask(&self) -> u32 {
        self.mask
    }
}

/// With a target every hash meets, every (ntime, extranonce2, version, nonce) is reported
/// exactly once, and the hits are real.
#[test]
fn search_covers_every_work_unit_once() {
    let src = Rolling {
        base: header(3),
        n: 3,
        mask: 0x0001_8000,
    };
    let options = SearchOptions {
        nonces: 1000..=3999,
        ntime_roll: 1,
        version_mask: None,
    };
    for threads in [1, 2, 5] {
        let s = Scanner::builder()
            .threads(threads)
            .chunk_size(700)
            .build()
            .unwrap();
        let seen = Mutex::new(Vec::<Found>::new());
        let control = Control::new();
        let report = s
            .search(&src, &Target::EASIEST, &options, &control, |f| {
                seen.lock().unwrap().push(f)
            })
            .unwrap();
        let seen = seen.into_inner().unwrap();
        let units = 2 * 3 * 4;
        assert!(report.exhausted);
        assert_eq!(report.hashes, units * 3000);
        assert_eq!(report.hits, units * 3000);
        assert_eq!(control.hashes(), units * 3000);
        let keys: BTreeSet<(u32, u64, u32, u32)> = seen
            .iter()
            .map(|f| {
                (
                    f.ntime_offset,
                    f.extranonce2,
                    f.header.version,
                    f.header.nonce,
                )
            })
            .collect();
        assert_eq!(
            keys.len() as u64,
            units * 3000,
            "duplicates with {threads} threads"
        );
        for f in &seen {
            let base = src.header(f.extranonce2).unwrap();
            assert_eq!(f.header.merkle_root, base.merkle_root);
            assert_eq!(f.header.time, base.time + f.ntime_offset);
            assert_eq!(f.header.version & !src.mask, base.version & !src.mask);
            assert!((1000..=3999).contains(&f.header.nonce));
            assert_eq!(f.header.block_hash(), f.hash);
        }
        if threads == 1 {
            // One thread reports in exactly the rolling order: nonce, then version, then
            // extranonce2, then ntime.
            let order: Vec<(u32, u64, u32)> = seen
                .iter()
                .map(|f| (f.ntime_offset, f.extranonce2, f.header.version))
                .collect();
            let mut expected = Vec::new();
            for t in 0..2 {
                for e in 0..3 {
                    for k in 0..4 {
                        let v = sha256d_engine::rolling::VersionRolling::new(src.mask)
                            .nth_version(src.base.version, k)
                            .unwrap();
                        expected.extend(std::iter::repeat_n((t, e, v), 3000));
                    }
                }
            }
            assert_eq!(order, expected);
            let nonces: Vec<u32> = seen.iter().take(3000).map(|f| f.header.nonce).collect();
            assert_eq!(nonces, (1000..=3999).collect::<Vec<_>>());
        }
    }
}

/// The version mask of the options overrides the source's; 0 disables version rolling.
#[test]
fn version_mask_override() {
    let src = FixedHeader::new(header(4));
    let s = Scanner::builder()
        .threads(2)
        .chunk_size(64)
        .build()
        .unwrap();
    let options = SearchOptions {
        nonces: 0..=99,
        ntime_roll: 0,
        version_mask: Some(0),
    };
    let n = AtomicU64::new(0);
    let report = s
        .search(&src, &Target::EASIEST, &options, &Control::new(), |f| {
            assert_eq!(f.header.version, src.header.version);
            n.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    assert!(report.exhausted);
    assert_eq!(n.into_inner(), 100);
}

/// Hits reach the caller while the search still runs.
#[test]
fn hits_are_delivered_while_running() {
    let s = Scanner::builder().threads(2).build().unwrap();
    let control = Control::new();
    let (tx, rx) = std::sync::mpsc::channel::<Found>();
    let target = easy(16);
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            s.search(
                &FixedHeader::new(header(5)),
                &target,
                &SearchOptions::default(),
                &control,
                |f| {
                    let _ = tx.send(f);
                },
            )
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a hit within 30 s");
        assert!(!handle.is_finished(), "the search should still be running");
        assert!(target.is_met_by(&first.hash));
        assert_eq!(first.header.block_hash(), first.hash);
        control.stop();
        let report = handle.join().unwrap().unwrap();
        assert!(!report.exhausted);
        assert!(report.hits >= 1);
    });
}

/// A stop is honoured within 50 ms at any thread count, plus the time the threads need
/// to finish the chunk they hold at the speed they were actually getting. On an idle
/// machine that extra time is a few ms; on a loaded 2-core VM with 8 threads each thread
/// gets a fraction of a core and its last chunk takes longer, so the bound is measured
/// relative to the observed hash rate instead of being a fixed number that flakes.
/// Measures the time from `stop()` to `search` returning; best of three tries.
#[test]
fn stop_is_honoured_within_50_ms() {
    // Target 1: no hash will meet it, so the search runs until stopped.
    let mut one = [0u8; 32];
    one[0] = 1;
    let impossible = Target::from_le_bytes(one);
    for threads in [1, 2, 8] {
        let s = Scanner::builder().threads(threads).build().unwrap();
        let chunk = s.chunk_size() as f64;
        let mut best = (Duration::MAX, Duration::ZERO);
        for _ in 0..3 {
            let control = Control::new();
            let (latency, allowance) = std::thread::scope(|scope| {
                let handle = scope.spawn(|| {
                    s.search(
                        &FixedHeader::new(header(6)),
                        &impossible,
                        &SearchOptions::default(),
                        &control,
                        |_| {},
                    )
                });
                while control.hashes() == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let (h0, t0) = (control.hashes(), Instant::now());
                std::thread::sleep(Duration::from_millis(30));
                let rate = (control.hashes() - h0) as f64 / t0.elapsed().as_secs_f64();
                let asked = Instant::now();
                control.stop();
                handle.join().unwrap().unwrap();
                // Each thread's share of the observed rate finishes one held chunk.
                let per_thread = rate.max(1.0) / threads as f64;
                let chunk_time = Duration::from_secs_f64((chunk / per_thread).min(10.0));
                (asked.elapsed(), chunk_time)
            });
            if latency.saturating_sub(allowance) < best.0.saturating_sub(best.1) {
                best = (latency, allowance);
            }
        }
        let (latency, allowance) = best;
        common::report(&format!(
            "stop latency, {threads} thread(s): {latency:?} (one chunk at the observed rate: {allowance:?})"
        ));
        assert!(
            latency < Duration::from_millis(50) + allowance,
            "{threads} threads: {latency:?}, allowance {allowance:?}"
        );
    }
}

/// A panicking callback stops the search and comes back as an error: no hang.
#[test]
fn callback_panic_does_not_hang() {
    let s = Scanner::builder()
        .threads(4)
        .chunk_size(1024)
        .build()
        .unwrap();
    let result = s.search(
        &FixedHeader::new(header(7)),
        &easy(4),
        &SearchOptions::default(),
        &Control::new(),
        |_| panic!("boom"),
    );
    match result {
        Err(ScannerError::CallbackPanicked(msg)) => assert_eq!(msg, "boom"),
        other => panic!("expected CallbackPanicked, got {other:?}"),
    }
}

/// Progress is readable while a scan runs, and counts every nonce at the end.
#[test]
fn progress_while_running() {
    let s = Scanner::builder().threads(2).build().unwrap();
    let control = Control::new();
    let h = header(8);
    let range = 0..=(1u32 << 24) - 1;
    let mut samples = Vec::new();
    let report = std::thread::scope(|scope| {
        let handle = scope.spawn(|| s.scan_with(&h, &Target::DIFF1, range.clone(), &control));
        while !handle.is_finished() {
            samples.push(control.hashes());
            std::thread::sleep(Duration::from_millis(2));
        }
        handle.join().unwrap()
    });
    assert_eq!(report.hashes, 1 << 24);
    assert_eq!(control.hashes(), 1 << 24);
    assert!(samples.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        samples.iter().any(|&x| x > 0 && x < 1 << 24),
        "no intermediate progress seen in {} samples",
        samples.len()
    );
}

/// A source as large as a source can be: 2^64 extranonce2 values (an 8-byte or larger
/// extranonce2), every version bit rollable, time 0.
struct Huge(Header);

impl WorkSource for Huge {
    fn header(&self, _extranonce2: u64) -> Option<Header> {
        Some(self.0)
    }
    fn extranonce2_count(&self) -> u64 {
        u64::MAX
    }
    fn version_mask(&self) -> u32 {
        u32::MAX
    }
}

/// 2^32 versions × 2^64 extranonce2 values × 2^32 seconds overflows even 128 bits while
/// counting chunks: the count saturates (test builds have overflow checks on), and the
/// search starts at the first unit as usual.
#[test]
fn search_space_beyond_128_bits_does_not_overflow() {
    let mut base = header(9);
    base.time = 0;
    let src = Huge(base);
    let s = Scanner::builder()
        .threads(2)
        .chunk_size(64)
        .build()
        .unwrap();
    let options = SearchOptions {
        nonces: 0..=0,
        ntime_roll: u32::MAX,
        version_mask: None,
    };
    let control = Control::new();
    let seen = Mutex::new(Vec::<Found>::new());
    let report = s
        .search(&src, &Target::EASIEST, &options, &control, |f| {
            let mut seen = seen.lock().unwrap();
            seen.push(f);
            if seen.len() >= 100 {
                control.stop();
            }
        })
        .unwrap();
    assert!(!report.exhausted);
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 100);
    // The first units are the first versions of extranonce2 0 at the source's time.
    let first = seen.iter().find(|f| f.header.version == base.version);
    let first = first.expect("k = 0 (the source's own version) is scanned");
    assert_eq!((first.extranonce2, first.ntime_offset), (0, 0));
    for f in &seen {
        assert_eq!((f.extranonce2, f.ntime_offset, f.header.time), (0, 0, 0));
        assert_eq!(f.header.block_hash(), f.hash);
    }
}

/// A source whose extranonce2 `e` has time `t0 + 8·e`.
struct LateTimes {
    base: Header,
    n: u64,
}

impl WorkSource for LateTimes {
    fn header(&self, extranonce2: u64) -> Option<Header> {
        (extranonce2 < self.n).then(|| {
            let mut h = self.base;
            h.time += 8 * extranonce2 as u32;
            h
        })
    }
    fn extranonce2_count(&self) -> u64 {
        self.n
    }
    fn version_mask(&self) -> u32 {
        0
    }
}

/// ntime rolling stops at 0xffffffff: a job with ntime fffffff8 and a roll of 15 scans
/// the 8 seconds fffffff8..=ffffffff and never wraps to 00000000; a later header of the
/// same source (ntime fffffff0 + 8) is not rolled past the end either.
#[test]
fn ntime_roll_never_wraps() {
    let s = Scanner::builder()
        .threads(2)
        .chunk_size(64)
        .build()
        .unwrap();
    let options = SearchOptions {
        nonces: 0..=9,
        ntime_roll: 15,
        version_mask: None,
    };
    let mut base = header(10);
    base.time = 0xffff_fff8;
    let template = FixedHeader::new(base).with_version_mask(0);
    let seen = Mutex::new(Vec::<Found>::new());
    let report = s
        .search(
            &template,
            &Target::EASIEST,
            &options,
            &Control::new(),
            |f| seen.lock().unwrap().push(f),
        )
        .unwrap();
    assert!(report.exhausted);
    assert_eq!(report.hashes, 8 * 10);
    let times: BTreeSet<u32> = seen.lock().unwrap().iter().map(|f| f.header.time).collect();
    assert_eq!(times, (0xffff_fff8..=0xffff_ffff).collect());

    base.time = 0xffff_fff0;
    let src = LateTimes { base, n: 2 };
    let seen = Mutex::new(Vec::<Found>::new());
    let report = s
        .search(&src, &Target::EASIEST, &options, &Control::new(), |f| {
            seen.lock().unwrap().push(f)
        })
        .unwrap();
    assert!(report.exhausted);
    let seen = seen.into_inner().unwrap();
    // Extranonce2 0 rolls 16 seconds (fffffff0..=ffffffff), extranonce2 1 only 8.
    assert_eq!(report.hits, (16 + 8) * 10);
    for f in &seen {
        let t0 = src.header(f.extranonce2).unwrap().time;
        assert!(f.header.time >= t0, "{f:?}");
        assert_eq!(f.header.time, t0 + f.ntime_offset);
    }
}
