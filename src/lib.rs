#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! Data flows one way, `job` → `header` → `backend` (through `scan` and `scanner`) → hits
//! → `validate`, and nothing lower down imports anything higher up:
//!
//! ```text
//! sha256     K, IV, the safe scalar compress, Midstate (byte-order-named constructors),
//!            sha256/sha256d of any data (the sha2 crate, for coinbases)
//! u256       crate-private 256-bit integer behind Target, Work and difficulty
//! target     CompactTarget (nBits, decoded exactly as Core's SetCompact), Target, Work
//! header     Header (80 bytes, named fields), BlockHash / TxMerkleNode / Txid
//! backend/   the nonce-search core, one file per instruction set behind one dispatch
//!   kind       proof tokens (Sse41, Avx2, Avx512, Avx512Vl, ShaNi, Avx): the one place
//!              that checks CPU features (cpufeatures' CPUID, also without std); each
//!              token holds the tokens of the narrower kernels it hands leftovers to;
//!              Kind, which holds its token
//!   kernel     Prepared (per-header precomputation), the kernel generic over a lane type
//!              (Lane: u32, X4 arrays, and the SIMD words, which hold a token), simd_lane!
//!              (defines a word type; size assertion; EVEX rotates and ternlog), Task (one
//!              call's work: candidates, midstates, finish) and run()
//!   scalar     safe Rust, the reference; schedules 4 nonces at a time in X4 arrays
//!   sse41      4 lanes (xmm); rolled; EVEX form (vprord, vpternlogd) with AVX-512VL
//!   avx2       8 lanes (ymm); EVEX form with AVX-512VL
//!   avx512     16 lanes (zmm), vprord and vpternlogd
//!   shani      4 streams in lockstep, first hash of group g+1 beside the second of g;
//!              safe #[target_feature] helpers; vzeroupper at entry
//!   calibrate  Calibration: times every backend (~30 ms, alternated 2 ms rounds,
//!              medians), ties within 3% go to Backend::PREFERENCE
//!   mod        Backend (a Kind, so a proof), SplitHeader, detect = cached calibration,
//!              dispatch with leftover lanes to the next narrower kind, hash_headers,
//!              finish_headers
//! scan       Hit, scan(): chunks a range through a backend and re-checks every
//!            early-exit survivor with a full hash and an exact 256-bit compare
//! rolling    VersionRolling: BIP 310/320 mask and rule (BIP 310, OR, XOR), the one place
//!            submitted bits become a version and the scanner's k-th version
//! work       WorkSource (what the scanner rolls), HeaderTemplate
//! scanner    Scanner (feature rayon): own thread pool, chunked, Control (stop, progress),
//!            search: nonce, then version, then extranonce2, then ntime
//! merkle     merkle root (CVE-2012-2459 flag), coinbase branch, witness commitment
//! job        Stratum V1: Notify, Job (coinbase, merkle root, header per extranonce2,
//!            version bits), BIP 310 negotiation; implements WorkSource
//! template   getblocktemplate: coinbase (BIP 34, witness commitment), header, Job
//! validate/ shares and Stratum sessions
//!   submission  Submission (mining.submit params)
//!   verdict     Reason (+ Stratum code), Rejection, Verdict, Stats, format_difficulty
//!   dedup       accepted headers of the live work, by hash (private)
//!   validator   Validator: live jobs at their difficulty, mask and rolling rule, checks,
//!               batches on the multi-lane hash
//!   session     Session: Stratum messages in, verdicts and pool answers out
//!   replay      shares files and recorded sessions as streams, the CLI's output records
//!   jobspec     JobSpec (the CLI's job file)
//! asic       work as chips receive it (midstate + 12-byte tail, 4-midstate rolled work,
//!            Icarus, BM1397 packets, BM13xx result frames), per-chip/core counts
//! fuzzing    (hidden) the properties the fuzz/ targets and their proptest twins check
//! cli/       (package sha256d-engine-cli) the `sha256d-engine` command: scan, bench,
//!            validate, hash, asic
//! ```
//!
//! `unsafe` is allowed only under `src/backend/`: the crate is `#![deny(unsafe_code)]`
//! with one `#[allow]`, on `mod backend`, so a new file cannot add `unsafe` by accident.
//! There, every `unsafe` call of a `#[target_feature]` function has a proof token in hand
//! (see `backend/kind.rs`), and every SIMD word value carries one, so the compiler checks
//! that no kernel runs on a CPU without its features.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod asic;
#[allow(unsafe_code)] // the only module tree allowed `unsafe`: the SIMD kernels
pub mod backend;
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
mod hexutil;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod job;
pub mod merkle;
pub mod rolling;
pub mod scan;
#[cfg(feature = "rayon")]
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
pub mod scanner;
pub mod sha256;
pub mod target;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod template;
mod u256;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod validate;
pub mod work;

#[cfg(feature = "std")]
pub use backend::Calibration;
pub use backend::{BACKEND_ENV, Backend, BackendError, SplitHeader};
pub use header::{BlockHash, Header, HeaderError, TxMerkleNode, Txid};
pub use hexutil::HexError;
pub use scan::{Hit, scan};
pub use sha256::{Midstate, sha256d};
pub use target::{CompactTarget, DecodedCompact, Target, TargetError, Work};

#[cfg(feature = "json")]
pub use job::{Job, Notify};
#[cfg(feature = "rayon")]
pub use scanner::Scanner;
