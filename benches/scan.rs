//! Nonce-search throughput: every available backend against the `sha2` crate's
//! `compress256` driven the way a naive miner would drive it (midstate, then two
//! compressions per nonce), in the same run.
//!
//! `cargo bench --bench scan` prints one line per backend and baseline; criterion's
//! "thrpt" is nonces per second. All use the same real mainnet header and its own target,
//! so every kernel does the same work as in real mining (the target's top word is zero,
//! the early exit rejects nearly every nonce, survivors are re-checked).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha256d_engine::{Backend, Header, Midstate, Target};

/// Block 125552's header (the example in the Bitcoin wiki's "Block hashing algorithm").
const HEADER: &str = concat!(
    "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e320b6c2ff",
    "fc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2b9441a42a14695"
);

/// Nonces per iteration: large enough that per-call set-up is noise.
const NONCES: u32 = 1 << 18;

fn header() -> (Header, Target) {
    let h = Header::from_hex(HEADER).expect("valid header");
    let t = h.target().expect("valid nBits");
    (h, t)
}

/// The baseline's second block: header bytes 64..80 then SHA-256 padding for 80 bytes.
fn block2(h: &Header) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[..16].copy_from_slice(&h.tail());
    b[16] = 0x80;
    b[62] = 0x02;
    b[63] = 0x80;
    b
}

/// The digest block of the second hash: 32 bytes then padding for 32 bytes.
fn digest_block(state: &[u32; 8]) -> [u8; 64] {
    let mut b = [0u8; 64];
    for (i, w) in state.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    b[32] = 0x80;
    b[62] = 0x01;
    b
}

const IV: [u32; 8] = sha256d_engine::sha256::IV;

/// Counts nonces whose hash's top word is zero, with `compress` as the compression.
fn baseline_loop(
    mid: [u32; 8],
    mut b2: [u8; 64],
    start: u32,
    compress: impl Fn(&mut [u32; 8], &[u8; 64]),
) -> u32 {
    let mut found = 0;
    for nonce in start..start + NONCES {
        b2[12..16].copy_from_slice(&nonce.to_le_bytes());
        let mut s = mid;
        compress(&mut s, &b2);
        let mut s2 = IV;
        compress(&mut s2, &digest_block(&s));
        found += (s2[7] == 0) as u32;
    }
    found
}

fn bench_scan(c: &mut Criterion) {
    let (h, target) = header();
    let mid = Midstate::from_header(&h).words();
    let b2 = block2(&h);
    let start = h.nonce - NONCES / 2;

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Elements(NONCES as u64));
    g.sample_size(20);
    g.bench_function("baseline/sha2-soft-compress256", |bch| {
        bch.iter(|| {
            baseline_loop(mid, b2, black_box(start), |s, b| {
                sha2_soft::compress256(s, core::slice::from_ref(b.into()))
            })
        })
    });
    g.bench_function("baseline/sha2-compress256", |bch| {
        bch.iter(|| {
            baseline_loop(mid, b2, black_box(start), |s, b| {
                sha2::block_api::compress256(s, core::slice::from_ref(b))
            })
        })
    });
    for backend in Backend::all_available() {
        g.bench_with_input(
            BenchmarkId::new("backend", backend.name()),
            &backend,
            |bch, be| {
                bch.iter(|| {
                    let hits = be.scan(&h, &target, black_box(start)..=start + NONCES - 1);
                    assert_eq!(hits.len(), 1);
                    hits
                })
            },
        );
    }
    g.finish();
}

/// Headers per iteration of the multi-lane header hash.
const HEADERS: usize = 4096;

/// sha256d of independent headers: every backend's multi-lane hash against a loop of the
/// `bitcoin` crate's `Header::block_hash()`, on the same 4096 distinct headers.
fn bench_headers(c: &mut Criterion) {
    let (h, _) = header();
    // Distinct headers: every field that feeds both blocks varies.
    let headers: Vec<[u8; 80]> = (0..HEADERS as u32)
        .map(|i| {
            let mut x = h;
            x.version = x.version.wrapping_add(i << 13);
            x.time = x.time.wrapping_add(i);
            x.nonce = x.nonce.wrapping_mul(i | 1);
            x.to_bytes()
        })
        .collect();
    let bitcoin_headers: Vec<bitcoin::block::Header> = headers
        .iter()
        .map(|b| bitcoin::consensus::deserialize(b).expect("80 bytes"))
        .collect();

    let mut g = c.benchmark_group("headers");
    g.throughput(Throughput::Elements(HEADERS as u64));
    g.sample_size(30);
    g.bench_function("baseline/bitcoin-block_hash", |bch| {
        bch.iter(|| {
            black_box(&bitcoin_headers)
                .iter()
                .map(|h| h.block_hash())
                .collect::<Vec<_>>()
        })
    });
    for backend in Backend::all_available() {
        g.bench_with_input(
            BenchmarkId::new("hash_headers", backend.name()),
            &backend,
            |bch, be| bch.iter(|| be.hash_headers(black_box(&headers))),
        );
    }
    g.finish();
}

/// The multi-threaded scanner against the bare kernel on the same 2^22 nonces, with the
/// detected backend: the scanner's cost at 1 thread, and its scaling at 2.
fn bench_scanner(c: &mut Criterion) {
    use sha256d_engine::scanner::Scanner;
    let (h, target) = header();
    let backend = Backend::detect();
    const N: u32 = 1 << 22;
    let start = h.nonce - N / 2;
    let range = start..=start + N - 1;
    let mut g = c.benchmark_group("scanner");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function(BenchmarkId::new("bare-kernel", backend.name()), |bch| {
        bch.iter(|| backend.scan(&h, &target, black_box(range.clone())))
    });
    for threads in [1, 2] {
        let scanner = Scanner::builder()
            .backend(backend)
            .threads(threads)
            .build()
            .expect("thread pool");
        g.bench_function(
            BenchmarkId::new(format!("scanner-{threads}-threads"), backend.name()),
            |bch| bch.iter(|| scanner.scan(&h, &target, black_box(range.clone()))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench_scan, bench_headers, bench_scanner);
criterion_main!(benches);
