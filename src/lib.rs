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
//! backend/   the nonce-search core, one file per instruction set, same leaf API
//!   kernel     Prepared (per-header precomputation), the kernel generic over a lane type
//!              (Lane: u32, X4 arrays, and the SIMD words), simd_lane! (the soundness
//!              invariant of the SIMD word types), full compression and the multi-lane
//!              (midstate, tail) hash
//!   scalar     safe Rust, the reference; schedules 4 nonces at a time in X4 arrays
//!   sse41      4 lanes; rounds rolled to stay in the instruction cache
//!   avx2       8 lanes
//!   shani      4 streams in lockstep, first hash of group g+1 beside the second of g;
//!              vzeroupper at entry
//!   mod        Backend: a proof value that the CPU has the feature; cached detection;
//!              dispatch, leftover lanes to the next narrower backend; hash_headers
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
//! validate   shares: Submission, Verdict, Reason, Validator (one at a time and batches
//!            on the multi-lane hash), JobSpec (the CLI's job file)
//! asic       work as chips receive it (midstate + 12-byte tail, 4-midstate rolled work,
//!            Icarus, BM1397 packets, BM13xx result frames), per-chip/core counts
//! fuzzing    (hidden) the properties the fuzz/ targets and their proptest twins check
//! main.rs    the CLI (feature cli): scan, bench, validate
//! ```
//!
//! `unsafe` is allowed only under `src/backend/`; every other module is
//! `#![forbid(unsafe_code)]`.
//!
//! # Features
//!
//! - `std` (default): runtime CPU detection, `std::error::Error`, `SHA256D_BACKEND`.
//!   Without it the crate is `no_std` + `alloc`.
//! - `rayon` (default): the multi-threaded scanner.
//! - `cli` (default): what the `sha256d-engine` binary needs. Library users who do not
//!   want clap can use `default-features = false, features = ["std", "rayon"]`.
//! - `bitcoin`: `From` conversions to and from the `bitcoin` crate's `block::Header`,
//!   `BlockHash`, `CompactTarget` and `Target`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod asic;
pub mod backend;
mod bytes;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod header;
mod hexutil;
#[cfg(feature = "std")]
pub mod job;
pub mod merkle;
pub mod rolling;
pub mod scan;
#[cfg(feature = "rayon")]
pub mod scanner;
pub mod sha256;
pub mod target;
#[cfg(feature = "std")]
pub mod template;
mod u256;
#[cfg(feature = "std")]
pub mod validate;
pub mod work;

pub use backend::{BACKEND_ENV, Backend, BackendError};
pub use header::{BlockHash, Header, HeaderError, TxMerkleNode, Txid};
pub use hexutil::HexError;
pub use scan::{Hit, scan};
pub use sha256::{Midstate, sha256d};
pub use target::{CompactTarget, DecodedCompact, Target, TargetError, Work};

#[cfg(feature = "std")]
pub use job::{Job, Notify};
#[cfg(feature = "rayon")]
pub use scanner::Scanner;
