#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! Data flows one way, `stratum` → `header` → `backend` (through `scanner`) → hits →
//! `validate`, and nothing lower down imports anything higher up (each module below uses
//! only those listed above it):
//!
//! ```text
//! bytes      (private) byte-order helpers said once: word swap, full reversal
//! sha256     K, IV, the safe scalar compress, Midstate (byte-order-named constructors),
//!            sha256/sha256d of any data (the sha2 crate, for coinbases)
//! u256       crate-private 256-bit integer behind Target, Work and difficulty
//! hash       BlockHash / TxMerkleNode / Txid / Wtxid / WitnessCommitment: 32 bytes,
//!            internal order, displayed reversed, ordered by value
//! target     CompactTarget (nBits, decoded exactly as Core's SetCompact), Target, Work
//! header     Header (80 bytes, named fields), Header::midstate; re-exports the hashes
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
//! rolling    VersionRolling: BIP 310/320 mask and rule (BIP 310, OR, XOR), the one place
//!            submitted bits become a version and the scanner's k-th version
//! source     WorkSource (what the scanner rolls: headers per extranonce2, the version
//!            rolling), FixedHeader (one header)
//! scanner/   nonce search
//!   single     Hit, scan(), Backend::scan: one thread, chunks a range through a backend,
//!              re-checks every early-exit survivor with a full hash and exact compare
//!   threaded   Scanner (feature rayon): own thread pool, chunked, Control (stop,
//!              progress), search: nonce, then version, then extranonce2, then ntime
//! merkle     merkle root (CVE-2012-2459 flag), coinbase branch, witness commitment
//! json       (private, std) JSON field helpers said once (type names, string fields)
//! stratum/   Stratum V1 (std); JobError
//!   message    Notify, Subscription, configure answer and set_version_mask (BIP 310),
//!              the u32 and prevhash encodings
//!   job        Job (coinbase, merkle root, header per extranonce2, version bits),
//!              PreparedHeader; implements WorkSource
//! template   getblocktemplate: coinbase (BIP 34, witness commitment), header, Job
//! validate   shares: Submission, Verdict, Reason, Validator (one at a time and batches
//!            on the multi-lane hash), JobSpec (the CLI's job file)
//! asic/      results as chips return them; AsicError
//!   work       WorkItem (midstate + 12-byte tail), exact checks, batches, RolledWork
//!              (4 midstates)
//!   cgminer    cgminer's midstate and getwork forms
//!   icarus     Icarus work and wire nonces
//!   bm13xx     CRC-5/CRC-16, BM1397 job packets, BM13xx result frames
//!   stats      per-chip/core counts
//! fuzzing    (hidden, feature fuzzing) the properties fuzz/ and the proptest twins check
//! main.rs    the CLI (feature cli): scan, bench, validate
//! ```
//!
//! `unsafe` is allowed only under `src/backend/`; every other module is
//! `#![forbid(unsafe_code)]`.
//!
//! # Features
//!
//! - `std` (default): runtime CPU detection, `SHA256D_BACKEND`. (`core::error::Error` is
//!   implemented with or without it.)
//!   Without it the crate is `no_std` + `alloc`.
//! - `rayon` (default): the multi-threaded scanner.
//! - `cli` (default): what the `sha256d-engine` binary needs. Library users who do not
//!   want clap can use `default-features = false, features = ["std", "rayon"]`.
//! - `fuzzing`: the hidden `fuzzing` module (properties that panic by design) for fuzz/
//!   and the proptest twins; not for library users.
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
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod header;
mod hexutil;
#[cfg(feature = "std")]
mod json;
pub mod merkle;
pub mod rolling;
pub mod scanner;
pub mod sha256;
pub mod source;
#[cfg(feature = "std")]
pub mod stratum;
pub mod target;
#[cfg(feature = "std")]
pub mod template;
mod u256;
#[cfg(feature = "std")]
pub mod validate;

pub use backend::{BACKEND_ENV, Backend, BackendError};
pub use header::{BlockHash, Header, HeaderError, TxMerkleNode, Txid};
pub use hexutil::HexError;
pub use scanner::{Hit, scan};
pub use sha256::{Midstate, sha256d};
pub use target::{CompactTarget, DecodedCompact, Target, TargetError, Work};

#[cfg(feature = "rayon")]
pub use scanner::Scanner;
/// The former name of [`stratum`].
#[cfg(feature = "std")]
#[doc(hidden)]
pub use stratum as job;
#[cfg(feature = "std")]
pub use stratum::{Job, Notify};

/// Former module paths, kept so that code written against them still compiles:
/// `scan` is [`scanner::single`], `work` is [`source`] (with `HeaderTemplate` now
/// [`source::FixedHeader`] and the version bits in [`rolling`]).
#[doc(hidden)]
pub use scanner::single as scan;
#[doc(hidden)]
pub mod work {
    pub use crate::rolling::{BIP320_VERSION_MASK, VersionOutsideMask};
    pub use crate::source::{FixedHeader as HeaderTemplate, WorkSource};
}
