#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! Data flows one way, and nothing lower down imports anything higher up:
//!
//! ```text
//! sha256     K, IV, the safe scalar compress, Midstate, sha256/sha256d of any data
//! u256       crate-private 256-bit integer behind Target, Work and difficulty
//! target     CompactTarget (nBits, decoded exactly as Core's SetCompact), Target, Work
//! header     Header (80 bytes, named fields), BlockHash / TxMerkleNode / Txid
//! backend/   the nonce-search core
//!   kernel     Prepared (per-header precomputation) and the kernel, generic over a lane
//!              type; Lane for u32
//!   scalar     LANES = 1, safe Rust, the reference
//!   mod        Backend: a proof value that the CPU has the feature; dispatch; detection
//! scan       Hit, scan(): chunks a range through a backend and re-checks every
//!            early-exit survivor with a full hash and an exact 256-bit compare
//! main.rs    the CLI (feature `cli`)
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
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
mod hexutil;
#[cfg(feature = "std")]
pub mod job;
pub mod merkle;
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
