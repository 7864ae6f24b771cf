//! Parsing what a pool sends: `mining.notify` ([`Notify`]), the `mining.subscribe` answer
//! ([`Subscription`]), the `mining.configure` answer and `mining.set_version_mask`
//! (BIP 310), and the Stratum encodings of `u32` fields and the previous block hash.

use serde_json::Value;

use super::{JobError, MAX_EXTRANONCE2_SIZE};
use crate::bytes::swap_words;
use crate::hexutil;
use crate::json::kind;
use crate::json::str_or_reason;
use crate::rolling::BIP320_VERSION_MASK;
use crate::{BlockHash, CompactTarget, TxMerkleNode};

fn as_str<'a>(field: &'static str, v: &'a Value) -> Result<&'a str, JobError> {
    str_or_reason(v).map_err(|reason| JobError::malformed(field, reason))
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
/// use sha256d_engine::stratum::parse_hex_u32;
/// assert_eq!(parse_hex_u32("ntime", "64b3f3ec"), Ok(0x64b3f3ec));
/// assert!(parse_hex_u32("ntime", "64b3f3e").is_err());
/// ```
///
/// # Errors
///
/// [`JobError::Malformed`] naming `field` unless `s` is exactly 8 hex digits.
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
/// use sha256d_engine::stratum::{prevhash_from_stratum, prevhash_to_stratum};
/// let s = "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000";
/// let h = prevhash_from_stratum(s)?;
/// assert_eq!(h.to_string(), "00000000000000022246451e9af7ac4f8bff2527d223f6e623740e92171592f2");
/// assert_eq!(prevhash_to_stratum(&h), s);
/// # Ok::<(), sha256d_engine::stratum::JobError>(())
/// ```
///
/// # Errors
///
/// [`JobError::Malformed`] (`prevhash`) unless `s` is 64 hex digits.
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
    ///
    /// # Errors
    ///
    /// [`JobError::Malformed`] naming the first bad field.
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
    /// use sha256d_engine::stratum::Subscription;
    /// let s = Subscription::from_json(r#"{"id":1,"result":[[],"6c6f010000000c",4],"error":null}"#)?;
    /// assert_eq!(s.extranonce1, [0x6c, 0x6f, 1, 0, 0, 0, 0x0c]);
    /// assert_eq!(s.extranonce2_size, 4);
    /// # Ok::<(), sha256d_engine::stratum::JobError>(())
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
/// use sha256d_engine::stratum::{JobError, parse_configure_result};
/// let r = r#"{"error":null,"id":1,"result":{"version-rolling":true,"version-rolling.mask":"18000000"}}"#;
/// assert_eq!(parse_configure_result(r)?, Some(0x18000000));
/// assert_eq!(parse_configure_result(r#"{"version-rolling":false}"#)?, None);
/// // A notification that arrives first is not the answer.
/// let n = r#"{"id":null,"method":"mining.set_difficulty","params":[512]}"#;
/// assert!(matches!(parse_configure_result(n), Err(JobError::NotAResponse { .. })));
/// # Ok::<(), sha256d_engine::stratum::JobError>(())
/// ```
pub fn parse_configure_result(s: &str) -> Result<Option<u32>, JobError> {
    parse_configure_result_value(&parse_json(s)?)
}

/// [`parse_configure_result`] for an already parsed message or result.
///
/// # Errors
///
/// As [`parse_configure_result`].
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
/// use sha256d_engine::stratum::parse_set_version_mask;
/// let m = r#"{"params":["00003000"], "id":null, "method": "mining.set_version_mask"}"#;
/// assert_eq!(parse_set_version_mask(m)?, 0x3000);
/// assert!(parse_set_version_mask(r#"["xyz"]"#).is_err());
/// # Ok::<(), sha256d_engine::stratum::JobError>(())
/// ```
///
/// # Errors
///
/// [`JobError::Malformed`] for bad JSON, a method other than `mining.set_version_mask`,
/// or params that are not one 8-digit hex mask.
pub fn parse_set_version_mask(s: &str) -> Result<u32, JobError> {
    parse_set_version_mask_value(&parse_json(s)?)
}

/// [`parse_set_version_mask`] for an already parsed message or params array.
///
/// # Errors
///
/// As [`parse_set_version_mask`].
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
