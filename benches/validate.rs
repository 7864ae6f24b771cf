//! Batch share validation against a loop of the `bitcoin` crate's `block_hash()` plus a
//! target compare over the same shares' headers, single thread, in the same run.
//!
//! The shares look like an ASIC farm's on one job: 4 extranonce2 values, 16 rolled
//! versions, ntime inside the window, and distinct nonces. The pool difficulty is tiny so
//! that every share is accepted and takes the full path (duplicate check and insert).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha256d_engine::Backend;
use sha256d_engine::validate::{JobSpec, Submission, Validator};

/// The public-pool testnet job (stratum test data): extranonce1 57a6f098, 4-byte
/// extranonce2, version mask 1fffe000.
const JOB: &str = r#"{"extranonce1": "57a6f098", "extranonce2_size": 4,
  "version_mask": "1fffe000", "difficulty": 1e-12, "notify": ["1",
  "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000",
  "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c",
  "ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000",
  ["175335649d5e8746982969ec88f52e85ac9917106fba5468e699c8879ab974a1",
   "d5644ab3e708c54cd68dc5aedc92b8d3037449687f92ec41ed6e37673d969d4a",
   "5c9ec187517edc0698556cca5ce27e54c96acb014770599ed9df4d4937fbf2b0"],
  "20000000", "192495f8", "64b3f3ec", false]}"#;

const SHARES: usize = 16384;

fn shares() -> Vec<Submission> {
    (0..SHARES as u32)
        .map(|i| Submission {
            worker: "farm.rig".into(),
            job_id: "1".into(),
            extranonce2: (i % 4).to_le_bytes().to_vec(),
            ntime: 0x64b3_f3ec + (i / 4096),
            nonce: i.wrapping_mul(0x9e37_79b9),
            version_bits: Some(((i / 4) % 16) << 13),
        })
        .collect()
}

fn bench_validate(c: &mut Criterion) {
    let spec = JobSpec::from_json(JOB).expect("job");
    let subs = shares();
    let headers: Vec<bitcoin::block::Header> = subs
        .iter()
        .map(|s| {
            let h = spec
                .job
                .share_header(&s.extranonce2, s.ntime, s.nonce, s.version_bits)
                .expect("valid share");
            bitcoin::consensus::deserialize(&h.to_bytes()).expect("80 bytes")
        })
        .collect();
    let target = bitcoin::Target::from_le_bytes(
        sha256d_engine::Target::from_difficulty(spec.difficulty)
            .expect("difficulty")
            .to_le_bytes(),
    );
    let fresh = |backend: Backend| {
        let mut v = Validator::new(spec.difficulty)
            .expect("difficulty")
            .with_backend(backend);
        v.add_job(spec.job.clone());
        v
    };

    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(SHARES as u64));
    g.sample_size(20);
    g.bench_function("baseline/bitcoin-block_hash+compare", |b| {
        b.iter(|| {
            black_box(&headers)
                .iter()
                .filter(|h| target.is_met_by(h.block_hash()))
                .count()
        })
    });
    // The steady state of a pool's validator: one validator for the whole run, as a pool
    // keeps one per session. Each iteration starts with a `clean_jobs` notify of the job,
    // which retires the last iteration's shares (the duplicate set and the midstate cache
    // are emptied and keep their memory, as in a long session); only the batch is timed.
    let clean = JobSpec::from_json(&JOB.replace("false]", "true]"))
        .expect("job")
        .job;
    assert!(clean.clean_jobs());
    for backend in Backend::all_available() {
        g.bench_function(BenchmarkId::new("batch", backend.name()), |b| {
            let mut v = fresh(backend);
            let mut out = Vec::with_capacity(SHARES);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    v.add_job(clean.clone());
                    out.clear();
                    let start = Instant::now();
                    v.validate_batch_into(subs.iter().map(Ok), &mut out);
                    total += start.elapsed();
                    assert!(out.iter().all(|x| x.accepted()));
                }
                total
            })
        });
    }
    // A new validator per batch: its duplicate set and midstate cache are allocated
    // (and their pages first touched) inside the timed call.
    for backend in Backend::all_available() {
        g.bench_function(
            BenchmarkId::new("batch-new-validator", backend.name()),
            |b| {
                b.iter_batched_ref(
                    || {
                        let mut out = fresh(backend).validate_batch(subs.iter().map(Ok));
                        out.clear();
                        (fresh(backend), out)
                    },
                    |(v, out)| {
                        v.validate_batch_into(subs.iter().map(Ok), out);
                        assert!(out.iter().all(|x| x.accepted()));
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.bench_function("one-at-a-time", |b| {
        b.iter_batched(
            || fresh(Backend::detect()),
            |mut v| subs.iter().map(|s| v.validate(s)).collect::<Vec<_>>(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_validate);
criterion_main!(benches);
