//! Stratum V1: the messages a pool sends ([`message`]: `mining.notify`, the subscribe and
//! configure answers, `mining.set_version_mask`) and the work model ([`Job`]): a pool's `mining.notify` ([`Notify`]), the session's
//! extranonces and version-rolling mask ([`Job`]), and the headers they give.
//!
//! Byte orders, as pools send them (and as every example in the shared test data
//! confirms):
//!
//! - `prevhash` is the previous block hash with each of its eight 4-byte words
//!   byte-swapped: reversing the bytes of each word gives the header's internal bytes.
//! - `version`, `nbits`, `ntime` (and the nonce and version bits of `mining.submit`) are
//!   8 hex digits of a big-endian `u32`, which goes into the header as that `u32`.
//! - The merkle branch hashes are raw bytes, used as sent.
//! - The coinbase is `coinb1 || extranonce1 || extranonce2 || coinb2`, and the merkle root
//!   starts from its sha256d: `root = sha256d(root || branch)` for each branch hash.
//!
//! Version rolling follows BIP 310: the header's version is
//! `(job_version & !mask) | (version_bits & mask)`, with no bits outside the mask.
//!
//! ```
//! use sha256d_engine::stratum::{Job, Notify};
//! let notify = Notify::from_json(r#"{"id":null,"method":"mining.notify","params":[
//!     "1", "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000",
//!     "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c",
//!     "ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000",
//!     ["175335649d5e8746982969ec88f52e85ac9917106fba5468e699c8879ab974a1",
//!      "d5644ab3e708c54cd68dc5aedc92b8d3037449687f92ec41ed6e37673d969d4a",
//!      "5c9ec187517edc0698556cca5ce27e54c96acb014770599ed9df4d4937fbf2b0"],
//!     "20000000", "192495f8", "64b3f3ec", false]}"#)?;
//! let job = Job::new(notify, hex::decode("57a6f098")?, 4, 0x1fffe000)?;
//! // The share public-pool accepted: extranonce2 c7080000, nonce ed460d91, version bits 2000.
//! let header = job.share_header(&hex::decode("c7080000")?, 0x64b3f3ec, 0xed460d91, Some(0x2000))?;
//! assert_eq!(header.version, 0x20002000);
//! assert_eq!(
//!     header.block_hash().to_string(),
//!     "000000000061d52983863e5c424c00d9e0981874fddf6a8493433e73928a3e4e"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
use core::fmt;

use crate::rolling::VersionOutsideMask;

mod job;
pub mod message;

pub use job::{Job, PreparedHeader};
pub use message::{
    Notify, Subscription, format_hex_u32, parse_configure_result, parse_configure_result_value,
    parse_hex_u32, parse_set_version_mask, parse_set_version_mask_value, prevhash_from_stratum,
    prevhash_to_stratum,
};

/// The largest extranonce2 size [`Job::new`] accepts, in bytes.
pub const MAX_EXTRANONCE2_SIZE: usize = 32;

/// Why Stratum work could not be parsed or used.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobError {
    /// A field of a Stratum message is missing or wrong.
    Malformed {
        /// The field, as the protocol names it (`"prevhash"`, `"merkle_branch"`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An extranonce2 of the wrong size.
    BadExtranonce2 {
        /// The job's extranonce2 size.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// An extranonce2 size of 0 or above [`MAX_EXTRANONCE2_SIZE`].
    Extranonce2Size(usize),
    /// Submitted version bits outside the negotiated mask.
    VersionOutsideMask(VersionOutsideMask),
    /// A notification (a message with a `method`, such as a `mining.set_difficulty` that
    /// arrives before the answer) where a response was expected. Not an answer: keep it,
    /// and keep reading.
    NotAResponse {
        /// The notification's method.
        method: String,
    },
}

impl JobError {
    fn malformed(field: &'static str, reason: impl Into<String>) -> Self {
        JobError::Malformed {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Malformed { field, reason } => write!(f, "bad {field}: {reason}"),
            JobError::BadExtranonce2 { expected, got } => {
                write!(f, "extranonce2 must be {expected} bytes, got {got} bytes")
            }
            JobError::Extranonce2Size(n) => write!(
                f,
                "extranonce2 size {n} is not in 1..={MAX_EXTRANONCE2_SIZE}"
            ),
            JobError::VersionOutsideMask(e) => e.fmt(f),
            JobError::NotAResponse { method } => {
                write!(f, "expected a response, got a {method:?} notification")
            }
        }
    }
}

/// [`JobError::VersionOutsideMask`] is transparent: its message is the inner error's, so
/// `source()` does not return it again (anyhow would print it twice).
impl core::error::Error for JobError {}

impl From<VersionOutsideMask> for JobError {
    fn from(e: VersionOutsideMask) -> Self {
        JobError::VersionOutsideMask(e)
    }
}
