//! The reference validator for shares: one `mining.submit` at a time, many at once on the
//! multi-lane header hash, or a whole Stratum session replayed from its messages.
//!
//! - [`submission`](Submission): parsing `mining.submit` params;
//! - [`verdict`](Verdict): [`Reason`] (with its Stratum error code), [`Rejection`],
//!   [`Verdict`], [`Stats`], [`format_difficulty`];
//! - the duplicate cache (private): accepted headers of the live work, by hash;
//! - [`Validator`]: live jobs with their share difficulty, the version-rolling mask and
//!   rule, the checks;
//! - [`session`]: [`Session`], fed Stratum messages as they cross the wire;
//! - [`replay`]: shares files and recorded sessions as streams, with the CLI's output
//!   records;
//! - [`JobSpec`]: the CLI's job file.
//!
//! Each submission gets a [`Verdict`]: the block hash, the share difficulty, whether it
//! is a block, or a typed rejection [`Reason`]. Checks run in this order, and the first
//! that fails names the reason (the code is the Stratum error code a pool answers with):
//!
//! | reason | code | when |
//! |---|---|---|
//! | `malformed` | 20 | not JSON, not UTF-8, over the line limit, wrong arity, not strings, bad hex, a value of the wrong size (the field is named) |
//! | `not-subscribed` | 25 | sessions: a submit before the `mining.subscribe` answer |
//! | `unauthorized` | 24 | sessions: the pool refused the worker's `mining.authorize` |
//! | `unknown-job` | 21 | no job with this id |
//! | `stale-job` | 21 | the job was retired by a `clean_jobs` notify or a new previous-block hash |
//! | `bad-extranonce2` | 20 | the wrong number of extranonce2 bytes |
//! | `version-outside-mask` | 20 | version bits outside the mask in force (any bits when rolling is not allowed) |
//! | `ntime-out-of-range` | 20 | below the job's ntime, or more than the window (7200 s by default) above it |
//! | `low-difficulty` | 23 | the hash meets neither the job's share target nor the network target |
//! | `duplicate` | 22 | the same header as an earlier accepted share of the live work |
//!
//! A hash that meets the network target is a block: it is accepted even when it misses
//! the share target (testnet's 20-minute rule, regtest, signet), as the Stratum V2
//! reference, miningcore and btcpool accept it and submit the block.
//!
//! A rejected share still carries its hash and difficulty wherever they could be computed
//! (from the ntime check on). Nothing here panics on any input.
//!
//! The accept decision is an exact 256-bit comparison of the hash with
//! `Target::from_difficulty(difficulty)` (the floor of DIFF1 / difficulty). The reported
//! difficulty is DIFF1 / hash as f64, as cgminer, ESP-Miner and pools print it, kept
//! below the share difficulty when the hash misses the share target; the CLI prints it
//! rounded toward zero, so a printed difficulty at least the pool's means the share met
//! the share target.

mod dedup;
mod jobspec;
pub mod replay;
pub mod session;
mod submission;
mod validator;
mod verdict;

pub use jobspec::JobSpec;
pub use replay::{LineReader, RunError, ShareRecord, SubmitRecord, Summary};
pub use session::{
    Event, LogIssue, LogIssueKind, PoolAnswer, Session, SessionOptions, SubmitEvent,
};
pub use submission::Submission;
pub use validator::{Footprint, Validator, ValidatorError};
pub use verdict::{Reason, Rejection, Stats, Verdict, format_difficulty};

/// The default ntime window: a share's ntime may be up to this many seconds above the
/// job's ntime.
pub const DEFAULT_NTIME_WINDOW: u32 = 7200;
