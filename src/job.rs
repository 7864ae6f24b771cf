//! The Stratum V1 work model: a pool's `mining.notify` ([`Notify`]), the session's
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
//! use sha256d_engine::job::{Job, Notify};
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
//! let header = job.header(&hex::decode("c7080000")?, 0x64b3f3ec, 0xed460d91, Some(0x2000))?;
//! assert_eq!(header.version, 0x20002000);
//! assert_eq!(
//!     header.block_hash().to_string(),
//!     "000000000061d52983863e5c424c00d9e0981874fddf6a8493433e73928a3e4e"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use core::fmt;

use serde_json::Value;

use crate::bytes::swap_words;
use crate::hexutil;
use crate::merkle::root_from_branch;
use crate::rolling::{BIP320_VERSION_MASK, RollingRule, VersionOutsideMask, VersionRolling};
use crate::sha256::{Midstate, sha256d};
use crate::work::WorkSource;
use crate::{BlockHash, CompactTarget, Header, TxMerkleNode, Txid};

/// The largest extranonce2 size [`Job::new`] accepts, in bytes.
pub const MAX_EXTRANONCE2_SIZE: usize = 32;

/// Why Stratum work could not be parsed or used.
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

impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JobError::VersionOutsideMask(e) => Some(e),
            _ => None,
        }
    }
}

impl From<VersionOutsideMask> for JobError {
    fn from(e: VersionOutsideMask) -> Self {
        JobError::VersionOutsideMask(e)
    }
}

/// A short description of a JSON value's type, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn as_str<'a>(field: &'static str, v: &'a Value) -> Result<&'a str, JobError> {
    v.as_str()
        .ok_or_else(|| JobError::malformed(field, format!("expected a string, got {}", kind(v))))
}

fn hex_vec(field: &'static str, s: &str) -> Result<Vec<u8>, JobError> {
    hexutil::decode_vec(s).map_err(|e| JobError::malformed(field, e.to_string()))
}

fn hex_32(field: &'static str, s: &str) -> Result<[u8; 32], JobError> {
    hexutil::decode_array(s).map_err(|e| JobError::malformed(field, e.to_string()))
}

/// Parses a Stratum `u32` field: exactly 8 hex digits of the big-endian value, as pools
/// send `version`, `nbits` and `ntime`, and miners send the nonce and version bits of
/// `mining.submit`. `field` names the field in the error.
///
/// ```
/// use sha256d_engine::job::parse_hex_u32;
/// assert_eq!(parse_hex_u32("ntime", "64b3f3ec"), Ok(0x64b3f3ec));
/// assert!(parse_hex_u32("ntime", "64b3f3e").is_err());
/// ```
pub fn parse_hex_u32(field: &'static str, s: &str) -> Result<u32, JobError> {
    let b: [u8; 4] =
        hexutil::decode_array(s).map_err(|e| JobError::malformed(field, e.to_string()))?;
    Ok(u32::from_be_bytes(b))
}

/// Formats a `u32` the Stratum way: 8 lower-case hex digits, big-endian.
pub fn format_hex_u32(x: u32) -> String {
    format!("{x:08x}")
}

/// The previous block hash from `mining.notify`'s `prevhash`: 64 hex digits whose eight
/// 4-byte words each hold the header's bytes reversed.
///
/// ```
/// use sha256d_engine::job::{prevhash_from_stratum, prevhash_to_stratum};
/// let s = "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000";
/// let h = prevhash_from_stratum(s)?;
/// assert_eq!(h.to_string(), "00000000000000022246451e9af7ac4f8bff2527d223f6e623740e92171592f2");
/// assert_eq!(prevhash_to_stratum(&h), s);
/// # Ok::<(), sha256d_engine::job::JobError>(())
/// ```
pub fn prevhash_from_stratum(s: &str) -> Result<BlockHash, JobError> {
    Ok(BlockHash::from_le_bytes(swap_words(hex_32("prevhash", s)?)))
}

/// The `mining.notify` form of a previous block hash (see [`prevhash_from_stratum`]).
pub fn prevhash_to_stratum(h: &BlockHash) -> String {
    hex::encode(swap_words(h.to_le_bytes()))
}

/// The nine parameters of `mining.notify`, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The pool's id for the job, echoed in `mining.submit`.
    pub job_id: String,
    /// The previous block hash (decoded from Stratum's word-swapped form).
    pub prevhash: BlockHash,
    /// The coinbase before the extranonces.
    pub coinb1: Vec<u8>,
    /// The coinbase after the extranonces.
    pub coinb2: Vec<u8>,
    /// The coinbase's merkle branch, raw bytes as sent.
    pub merkle_branch: Vec<TxMerkleNode>,
    /// The block version the job asks for.
    pub version: u32,
    /// The network target, compact.
    pub nbits: CompactTarget,
    /// The block time the pool suggests.
    pub ntime: u32,
    /// Whether earlier jobs are now stale.
    pub clean_jobs: bool,
}

/// Where a JSON-RPC message keeps its payload: `key` of an object that has it (checking
/// `method` when the object names one), else the value itself.
fn unwrap_message<'a>(
    v: &'a Value,
    key: &str,
    method: Option<&str>,
) -> Result<&'a Value, JobError> {
    let Value::Object(obj) = v else {
        return Ok(v);
    };
    if let (Some(expected), Some(m)) = (method, obj.get("method")) {
        let m = as_str("method", m)?;
        if m != expected {
            return Err(JobError::malformed(
                "method",
                format!("expected {expected:?}, got {m:?}"),
            ));
        }
    }
    Ok(obj.get(key).unwrap_or(v))
}

fn parse_json(s: &str) -> Result<Value, JobError> {
    serde_json::from_str(s).map_err(|e| JobError::malformed("json", e.to_string()))
}

impl Notify {
    /// Decodes the `params` array of `mining.notify`. Every bad field is a
    /// [`JobError::Malformed`] that names it; no input panics.
    pub fn from_params(params: &Value) -> Result<Notify, JobError> {
        let p = params.as_array().ok_or_else(|| {
            JobError::malformed("params", format!("expected an array, got {}", kind(params)))
        })?;
        let [
            job_id,
            prevhash,
            coinb1,
            coinb2,
            branch,
            version,
            nbits,
            ntime,
            clean,
        ] = p.as_slice()
        else {
            return Err(JobError::malformed(
                "params",
                format!("mining.notify has 9 params, got {}", p.len()),
            ));
        };
        let branch = branch.as_array().ok_or_else(|| {
            JobError::malformed(
                "merkle_branch",
                format!("expected an array, got {}", kind(branch)),
            )
        })?;
        let merkle_branch = branch
            .iter()
            .map(|h| {
                Ok(TxMerkleNode::from_le_bytes(hex_32(
                    "merkle_branch",
                    as_str("merkle_branch", h)?,
                )?))
            })
            .collect::<Result<Vec<_>, JobError>>()?;
        Ok(Notify {
            job_id: as_str("job_id", job_id)?.to_owned(),
            prevhash: prevhash_from_stratum(as_str("prevhash", prevhash)?)?,
            coinb1: hex_vec("coinb1", as_str("coinb1", coinb1)?)?,
            coinb2: hex_vec("coinb2", as_str("coinb2", coinb2)?)?,
            merkle_branch,
            version: parse_hex_u32("version", as_str("version", version)?)?,
            nbits: CompactTarget::from_consensus(parse_hex_u32("nbits", as_str("nbits", nbits)?)?),
            ntime: parse_hex_u32("ntime", as_str("ntime", ntime)?)?,
            clean_jobs: clean.as_bool().ok_or_else(|| {
                JobError::malformed(
                    "clean_jobs",
                    format!("expected a boolean, got {}", kind(clean)),
                )
            })?,
        })
    }

    /// Decodes JSON text: either the params array or a whole
    /// `{"method":"mining.notify","params":[...]}` message.
    pub fn from_json(s: &str) -> Result<Notify, JobError> {
        let v = parse_json(s)?;
        let params = unwrap_message(&v, "params", Some("mining.notify"))?;
        if v.is_object() && v.get("params").is_none() {
            return Err(JobError::malformed("params", "missing"));
        }
        Notify::from_params(params)
    }

    /// The params array, encoded as a pool sends it; [`Notify::from_params`] reads it
    /// back unchanged.
    pub fn to_params(&self) -> Value {
        Value::Array(vec![
            Value::from(self.job_id.clone()),
            Value::from(prevhash_to_stratum(&self.prevhash)),
            Value::from(hex::encode(&self.coinb1)),
            Value::from(hex::encode(&self.coinb2)),
            Value::Array(
                self.merkle_branch
                    .iter()
                    .map(|h| Value::from(h.to_le_hex()))
                    .collect(),
            ),
            Value::from(format_hex_u32(self.version)),
            Value::from(format_hex_u32(self.nbits.to_consensus())),
            Value::from(format_hex_u32(self.ntime)),
            Value::from(self.clean_jobs),
        ])
    }
}

/// What `mining.subscribe` answers: the session's extranonce1 and extranonce2 size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The pool's per-session coinbase bytes.
    pub extranonce1: Vec<u8>,
    /// How many extranonce2 bytes the miner rolls.
    pub extranonce2_size: usize,
}

impl Subscription {
    /// Decodes the `mining.subscribe` result `[subscriptions, extranonce1, size]`, or the
    /// whole response object that holds it.
    ///
    /// ```
    /// use sha256d_engine::job::Subscription;
    /// let s = Subscription::from_json(r#"{"id":1,"result":[[],"6c6f010000000c",4],"error":null}"#)?;
    /// assert_eq!(s.extranonce1, [0x6c, 0x6f, 1, 0, 0, 0, 0x0c]);
    /// assert_eq!(s.extranonce2_size, 4);
    /// # Ok::<(), sha256d_engine::job::JobError>(())
    /// ```
    pub fn from_json(s: &str) -> Result<Subscription, JobError> {
        Subscription::from_result(unwrap_message(&parse_json(s)?, "result", None)?)
    }

    /// Decodes the `mining.subscribe` result array.
    pub fn from_result(result: &Value) -> Result<Subscription, JobError> {
        let r = result.as_array().ok_or_else(|| {
            JobError::malformed("result", format!("expected an array, got {}", kind(result)))
        })?;
        let [_, extranonce1, size] = r.as_slice() else {
            return Err(JobError::malformed(
                "result",
                format!("mining.subscribe returns 3 items, got {}", r.len()),
            ));
        };
        let extranonce1 = hex_vec("extranonce1", as_str("extranonce1", extranonce1)?)?;
        let size = size.as_u64().ok_or_else(|| {
            JobError::malformed(
                "extranonce2_size",
                format!("expected a non-negative integer, got {size}"),
            )
        })?;
        let extranonce2_size = usize::try_from(size)
            .ok()
            .filter(|n| (1..=MAX_EXTRANONCE2_SIZE).contains(n))
            .ok_or(JobError::Extranonce2Size(
                usize::try_from(size).unwrap_or(usize::MAX),
            ))?;
        Ok(Subscription {
            extranonce1,
            extranonce2_size,
        })
    }
}

/// Parses a version-rolling mask: 1 to 8 hex digits of a big-endian `u32`.
fn parse_mask(field: &'static str, v: &Value) -> Result<u32, JobError> {
    let s = as_str(field, v)?;
    if s.is_empty() || s.len() > 8 {
        return Err(JobError::malformed(
            field,
            format!("expected 1 to 8 hex digits, got {}", s.len()),
        ));
    }
    // Left-pad to 8 digits so an odd count is fine.
    parse_hex_u32(field, &format!("{s:0>8}"))
}

/// The version-rolling mask a pool granted in its `mining.configure` result (BIP 310).
///
/// Takes the result object (`{"version-rolling":true,"version-rolling.mask":"1fffe000"}`)
/// or the whole response. `None` when the pool did not grant version rolling: the
/// extension is `false` or absent, or the result is `null` (a pool that does not know
/// `mining.configure` answers with an error). A pool that grants rolling without a mask
/// gets BIP 320's [`BIP320_VERSION_MASK`].
///
/// # Errors
///
/// [`JobError::NotAResponse`] for a notification (a message with a `method`): it is not
/// the answer, whatever it holds. [`JobError::Malformed`] for bad JSON or fields.
///
/// ```
/// use sha256d_engine::job::{JobError, parse_configure_result};
/// let r = r#"{"error":null,"id":1,"result":{"version-rolling":true,"version-rolling.mask":"18000000"}}"#;
/// assert_eq!(parse_configure_result(r)?, Some(0x18000000));
/// assert_eq!(parse_configure_result(r#"{"version-rolling":false}"#)?, None);
/// // A notification that arrives first is not the answer.
/// let n = r#"{"id":null,"method":"mining.set_difficulty","params":[512]}"#;
/// assert!(matches!(parse_configure_result(n), Err(JobError::NotAResponse { .. })));
/// # Ok::<(), sha256d_engine::job::JobError>(())
/// ```
pub fn parse_configure_result(s: &str) -> Result<Option<u32>, JobError> {
    parse_configure_result_value(&parse_json(s)?)
}

/// [`parse_configure_result`] for an already parsed message or result.
pub fn parse_configure_result_value(v: &Value) -> Result<Option<u32>, JobError> {
    // A message with a method is a notification, never the answer (BIP 310 lets a pool
    // send mining.set_difficulty or mining.set_version_mask before it).
    if let Some(method) = v.get("method") {
        return Err(JobError::NotAResponse {
            method: match method {
                Value::String(m) => m.clone(),
                other => other.to_string(),
            },
        });
    }
    let result = unwrap_message(v, "result", None)?;
    let obj = match result {
        Value::Null => return Ok(None),
        Value::Object(obj) => obj,
        other => {
            return Err(JobError::malformed(
                "result",
                format!("expected an object, got {}", kind(other)),
            ));
        }
    };
    let granted = match obj.get("version-rolling") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(JobError::malformed(
                "version-rolling",
                format!("expected a boolean, got {}", kind(other)),
            ));
        }
    };
    if !granted {
        return Ok(None);
    }
    match obj.get("version-rolling.mask") {
        None => Ok(Some(BIP320_VERSION_MASK)),
        Some(m) => parse_mask("version-rolling.mask", m).map(Some),
    }
}

/// The new mask from `mining.set_version_mask` (BIP 310): its params array
/// (`["1fffe000"]`) or the whole message.
///
/// ```
/// use sha256d_engine::job::parse_set_version_mask;
/// let m = r#"{"params":["00003000"], "id":null, "method": "mining.set_version_mask"}"#;
/// assert_eq!(parse_set_version_mask(m)?, 0x3000);
/// assert!(parse_set_version_mask(r#"["xyz"]"#).is_err());
/// # Ok::<(), sha256d_engine::job::JobError>(())
/// ```
pub fn parse_set_version_mask(s: &str) -> Result<u32, JobError> {
    parse_set_version_mask_value(&parse_json(s)?)
}

/// [`parse_set_version_mask`] for an already parsed message or params array.
pub fn parse_set_version_mask_value(v: &Value) -> Result<u32, JobError> {
    let params = unwrap_message(v, "params", Some("mining.set_version_mask"))?;
    match params.as_array().map(Vec::as_slice) {
        Some([mask]) => parse_mask("mask", mask),
        Some(p) => Err(JobError::malformed(
            "params",
            format!("mining.set_version_mask has 1 param, got {}", p.len()),
        )),
        None => Err(JobError::malformed(
            "params",
            format!("expected an array, got {}", kind(params)),
        )),
    }
}

/// A `mining.notify` together with the session state that turns it into headers: the
/// extranonce1 and extranonce2 size from `mining.subscribe`, and the version-rolling mask
/// from `mining.configure` / `mining.set_version_mask` (0: no rolling).
///
/// As a [`WorkSource`] it hands the scanner one header per extranonce2 counter value.
/// Note that the inherent [`Job::header`] (four arguments) shadows the trait's `header`;
/// call the trait's as `WorkSource::header(&job, counter)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    notify: Notify,
    extranonce1: Vec<u8>,
    extranonce2_size: usize,
    rolling: VersionRolling,
}

impl Job {
    /// A job for this session. The extranonce2 size must be 1 to
    /// [`MAX_EXTRANONCE2_SIZE`] bytes.
    pub fn new(
        notify: Notify,
        extranonce1: Vec<u8>,
        extranonce2_size: usize,
        version_mask: u32,
    ) -> Result<Job, JobError> {
        if !(1..=MAX_EXTRANONCE2_SIZE).contains(&extranonce2_size) {
            return Err(JobError::Extranonce2Size(extranonce2_size));
        }
        Ok(Job {
            notify,
            extranonce1,
            extranonce2_size,
            rolling: VersionRolling::new(version_mask),
        })
    }

    /// The same job under another version-rolling mask (after `mining.set_version_mask`).
    pub fn with_version_mask(mut self, mask: u32) -> Job {
        self.rolling.mask = mask;
        self
    }

    /// The same job under another rule for combining submitted version bits with the
    /// job's version (BIP 310's by default; see [`RollingRule`] for the pools that use
    /// the others).
    pub fn with_rolling_rule(mut self, rule: RollingRule) -> Job {
        self.rolling.rule = rule;
        self
    }

    /// The version-rolling mask and rule.
    pub fn rolling(&self) -> VersionRolling {
        self.rolling
    }

    /// The decoded `mining.notify`.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }

    /// The pool's job id.
    pub fn job_id(&self) -> &str {
        &self.notify.job_id
    }

    /// The previous block hash.
    pub fn prevhash(&self) -> BlockHash {
        self.notify.prevhash
    }

    /// The job's block version (before rolling).
    pub fn version(&self) -> u32 {
        self.notify.version
    }

    /// The network target, compact.
    pub fn nbits(&self) -> CompactTarget {
        self.notify.nbits
    }

    /// The job's ntime.
    pub fn ntime(&self) -> u32 {
        self.notify.ntime
    }

    /// Whether the job makes earlier ones stale.
    pub fn clean_jobs(&self) -> bool {
        self.notify.clean_jobs
    }

    /// The session's extranonce1.
    pub fn extranonce1(&self) -> &[u8] {
        &self.extranonce1
    }

    /// The extranonce2 size, in bytes.
    pub fn extranonce2_size(&self) -> usize {
        self.extranonce2_size
    }

    /// The version-rolling mask (0: none).
    pub fn version_mask(&self) -> u32 {
        self.rolling.mask
    }

    fn check_extranonce2(&self, extranonce2: &[u8]) -> Result<(), JobError> {
        if extranonce2.len() != self.extranonce2_size {
            return Err(JobError::BadExtranonce2 {
                expected: self.extranonce2_size,
                got: extranonce2.len(),
            });
        }
        Ok(())
    }

    /// The coinbase transaction: `coinb1 || extranonce1 || extranonce2 || coinb2`.
    pub fn coinbase(&self, extranonce2: &[u8]) -> Result<Vec<u8>, JobError> {
        self.check_extranonce2(extranonce2)?;
        let n = &self.notify;
        let mut cb = Vec::with_capacity(
            n.coinb1.len() + self.extranonce1.len() + extranonce2.len() + n.coinb2.len(),
        );
        cb.extend_from_slice(&n.coinb1);
        cb.extend_from_slice(&self.extranonce1);
        cb.extend_from_slice(extranonce2);
        cb.extend_from_slice(&n.coinb2);
        Ok(cb)
    }

    /// The coinbase's txid: sha256d of [`Job::coinbase`].
    pub fn coinbase_txid(&self, extranonce2: &[u8]) -> Result<Txid, JobError> {
        Ok(Txid::from_le_bytes(sha256d(&self.coinbase(extranonce2)?)))
    }

    /// The merkle root for an extranonce2: the coinbase txid folded with the branch.
    pub fn merkle_root(&self, extranonce2: &[u8]) -> Result<TxMerkleNode, JobError> {
        Ok(root_from_branch(
            self.coinbase_txid(extranonce2)?,
            &self.notify.merkle_branch,
        ))
    }

    /// The header version for submitted version bits: the job's version for `None`, else
    /// [`VersionRolling::apply`] under the job's rule (BIP 310's
    /// `(version & !mask) | bits` by default).
    ///
    /// # Errors
    ///
    /// [`JobError::VersionOutsideMask`] when the bits leave the mask.
    pub fn header_version(&self, version_bits: Option<u32>) -> Result<u32, JobError> {
        match version_bits {
            None => Ok(self.notify.version),
            Some(bits) => Ok(self.rolling.apply(self.notify.version, bits)?),
        }
    }

    /// The header for a share: this extranonce2, ntime, nonce and version bits.
    pub fn header(
        &self,
        extranonce2: &[u8],
        ntime: u32,
        nonce: u32,
        version_bits: Option<u32>,
    ) -> Result<Header, JobError> {
        let version = self.header_version(version_bits)?;
        Ok(Header {
            version,
            prev_blockhash: self.notify.prevhash,
            merkle_root: self.merkle_root(extranonce2)?,
            time: ntime,
            bits: self.notify.nbits,
            nonce,
        })
    }

    /// Everything about a share's header that does not depend on ntime and nonce, with
    /// its midstate: compute it once per (extranonce2, version bits) and hash many
    /// (ntime, nonce) pairs from it.
    ///
    /// ```
    /// # use sha256d_engine::job::{Job, Notify};
    /// # let notify = Notify::from_params(&serde_json::json!(["j",
    /// #     "0000000000000000000000000000000000000000000000000000000000000000",
    /// #     "01", "02", [], "20000000", "1d00ffff", "5d10bc0a", false]))?;
    /// let job = Job::new(notify, vec![1, 2], 4, 0)?;
    /// let prepared = job.prepare(&[0; 4], None)?;
    /// let h = job.header(&[0; 4], 0x5d10bc0b, 42, None)?;
    /// assert_eq!(prepared.block_hash(0x5d10bc0b, 42), h.block_hash());
    /// # Ok::<(), sha256d_engine::job::JobError>(())
    /// ```
    pub fn prepare(
        &self,
        extranonce2: &[u8],
        version_bits: Option<u32>,
    ) -> Result<PreparedHeader, JobError> {
        let header = self.header(extranonce2, self.notify.ntime, 0, version_bits)?;
        Ok(PreparedHeader {
            header,
            midstate: Midstate::from_header(&header),
        })
    }

    /// The extranonce2 bytes for a counter value: its little-endian bytes, zero-padded or
    /// truncated to the extranonce2 size.
    ///
    /// ```
    /// # use sha256d_engine::job::{Job, Notify};
    /// # let notify = Notify::from_params(&serde_json::json!(["j",
    /// #     "0000000000000000000000000000000000000000000000000000000000000000",
    /// #     "", "", [], "20000000", "1d00ffff", "5d10bc0a", false]))?;
    /// let job = Job::new(notify, vec![], 4, 0)?;
    /// assert_eq!(job.extranonce2_for(0x0102), [2, 1, 0, 0]);
    /// # Ok::<(), sha256d_engine::job::JobError>(())
    /// ```
    pub fn extranonce2_for(&self, counter: u64) -> Vec<u8> {
        let mut v = counter.to_le_bytes().to_vec();
        v.resize(self.extranonce2_size, 0);
        v
    }
}

impl WorkSource for Job {
    /// The header for extranonce2 `extranonce2_for(counter)`, the job's ntime and
    /// version, nonce 0.
    fn header(&self, counter: u64) -> Option<Header> {
        if counter >= self.extranonce2_count() {
            return None;
        }
        self.header(&self.extranonce2_for(counter), self.notify.ntime, 0, None)
            .ok()
    }

    /// 256^size, saturating at `u64::MAX`.
    fn extranonce2_count(&self) -> u64 {
        u32::try_from(8 * self.extranonce2_size)
            .ok()
            .and_then(|bits| 1u64.checked_shl(bits))
            .unwrap_or(u64::MAX)
    }

    fn version_mask(&self) -> u32 {
        self.rolling.mask
    }

    fn version_rolling(&self) -> VersionRolling {
        self.rolling
    }
}

/// A share header with everything but ntime and nonce fixed, and its midstate (see
/// [`Job::prepare`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreparedHeader {
    header: Header,
    midstate: Midstate,
}

impl PreparedHeader {
    /// The header with the job's ntime and nonce 0.
    pub fn base(&self) -> Header {
        self.header
    }

    /// The SHA-256 state after the header's first 64 bytes.
    pub fn midstate(&self) -> Midstate {
        self.midstate
    }

    /// The full header for this ntime and nonce.
    pub fn header(&self, ntime: u32, nonce: u32) -> Header {
        Header {
            time: ntime,
            nonce,
            ..self.header
        }
    }

    /// The header's last 16 bytes for this ntime and nonce.
    pub fn tail(&self, ntime: u32, nonce: u32) -> [u8; 16] {
        self.header(ntime, nonce).tail()
    }

    /// The block hash for this ntime and nonce, finished from the midstate.
    pub fn block_hash(&self, ntime: u32, nonce: u32) -> BlockHash {
        BlockHash::from_le_bytes(self.midstate.finish_header(&self.tail(ntime, nonce)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify() -> Notify {
        Notify::from_params(&serde_json::json!([
            "j",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "aa",
            "bb",
            [],
            "20000000",
            "1d00ffff",
            "5d10bc0a",
            true
        ]))
        .unwrap()
    }

    #[test]
    fn extranonce2_counts() {
        let j = |n| Job::new(notify(), vec![], n, 0).unwrap();
        assert_eq!(j(1).extranonce2_count(), 256);
        assert_eq!(j(4).extranonce2_count(), 1 << 32);
        assert_eq!(j(7).extranonce2_count(), 1 << 56);
        assert_eq!(j(8).extranonce2_count(), u64::MAX);
        assert_eq!(j(32).extranonce2_count(), u64::MAX);
        assert_eq!(j(1).extranonce2_for(0x1234), [0x34]);
        assert_eq!(j(10).extranonce2_for(1), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(WorkSource::header(&j(1), 255).is_some());
        assert!(WorkSource::header(&j(1), 256).is_none());
        assert_eq!(
            Job::new(notify(), vec![], 0, 0),
            Err(JobError::Extranonce2Size(0))
        );
        assert_eq!(
            Job::new(notify(), vec![], 33, 0),
            Err(JobError::Extranonce2Size(33))
        );
    }

    #[test]
    fn notify_round_trips() {
        let n = notify();
        assert_eq!(Notify::from_params(&n.to_params()), Ok(n));
    }
}
