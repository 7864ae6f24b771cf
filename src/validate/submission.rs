//! Parsing `mining.submit` params into a [`Submission`].

use serde_json::Value;

use super::Rejection;
use crate::job::parse_hex_u32;

/// The params of one `mining.submit`:
/// `["worker", "job_id", "extranonce2", "ntime", "nonce"]` plus an optional sixth
/// `"version_bits"`.
///
/// Hex rules, as ckpool, the Stratum V2 translator, public-pool and miningcore read them:
/// ntime and nonce are exactly 8 hex digits (a big-endian `u32`); extranonce2 is whole
/// bytes, whose count the validator checks against the job (`bad-extranonce2`);
/// `version_bits` is 1 to 8 hex digits, read as a left-padded number. Upper-case hex is
/// accepted. Every error is `malformed` and names the field.
///
/// ```
/// use sha256d_engine::validate::Submission;
/// let s = Submission::from_json(
///     r#"["w.1", "1", "c7080000", "64b3f3ec", "ed460d91", "00002000"]"#).unwrap();
/// assert_eq!((s.ntime, s.nonce, s.version_bits), (0x64b3f3ec, 0xed460d91, Some(0x2000)));
/// let short = Submission::from_json(r#"["w", "1", "c7080000", "64b3f3ec", "ed460d91", "2000"]"#);
/// assert_eq!(short.unwrap().version_bits, Some(0x2000));
/// assert!(Submission::from_json(r#"["w", "1", "zz", "64b3f3ec", "ed460d91"]"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The worker name (not used for validation).
    pub worker: String,
    /// The job id.
    pub job_id: String,
    /// The extranonce2 bytes.
    pub extranonce2: Vec<u8>,
    /// ntime, the header's u32.
    pub ntime: u32,
    /// The nonce, the header's u32.
    pub nonce: u32,
    /// The submitted version bits (BIP 310), if any.
    pub version_bits: Option<u32>,
}

impl Submission {
    /// Parses the params array, or a whole `{"method":"mining.submit","params":[...]}`
    /// message.
    ///
    /// # Errors
    ///
    /// A `malformed` [`Rejection`] naming the field: not an array, 5 or 6 params, a
    /// non-string, bad hex, or a value of the wrong size.
    pub fn from_params(v: &Value) -> Result<Submission, Rejection> {
        let params = match v {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("params") {
                Some(Value::Array(a)) => a,
                _ => return Err(Rejection::malformed("a submit object needs a params array")),
            },
            _ => return Err(Rejection::malformed("expected a params array")),
        };
        if !(5..=6).contains(&params.len()) {
            return Err(Rejection::malformed(format!(
                "expected 5 or 6 params, got {}",
                params.len()
            )));
        }
        let field = |i: usize, name: &'static str| -> Result<&str, Rejection> {
            params[i]
                .as_str()
                .ok_or_else(|| Rejection::malformed(format!("{name} is not a string")))
        };
        let u32_field = |i: usize, name: &'static str| -> Result<u32, Rejection> {
            parse_hex_u32(name, field(i, name)?).map_err(|e| Rejection::malformed(e.to_string()))
        };
        let extranonce2 = crate::hexutil::decode_vec(field(2, "extranonce2")?)
            .map_err(|e| Rejection::malformed(format!("bad extranonce2: {e}")))?;
        Ok(Submission {
            worker: field(0, "worker")?.to_string(),
            job_id: field(1, "job_id")?.to_string(),
            extranonce2,
            ntime: u32_field(3, "ntime")?,
            nonce: u32_field(4, "nonce")?,
            version_bits: match params.get(5) {
                Some(_) => Some(version_bits(field(5, "version_bits")?)?),
                None => None,
            },
        })
    }

    /// Parses one line of JSON (see [`Submission::from_params`]).
    ///
    /// # Errors
    ///
    /// A `malformed` [`Rejection`]: not JSON, or as [`Submission::from_params`].
    pub fn from_json(line: &str) -> Result<Submission, Rejection> {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Rejection::malformed(format!("not JSON: {e}")))?;
        Submission::from_params(&v)
    }
}

/// `version_bits`: 1 to 8 hex digits of a big-endian `u32`, left-padded.
fn version_bits(s: &str) -> Result<u32, Rejection> {
    if s.is_empty() || s.len() > 8 {
        return Err(Rejection::malformed(format!(
            "bad version_bits: expected 1 to 8 hex digits, got {}",
            s.len()
        )));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(Rejection::malformed(format!(
            "bad version_bits: invalid hex character {c:?} at position {i}"
        )));
    }
    u32::from_str_radix(s, 16).map_err(|e| Rejection::malformed(format!("bad version_bits: {e}")))
}
