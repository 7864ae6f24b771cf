//! The job file of `sha256d-engine validate --job`. It belongs to the CLI and may move
//! there; nothing else in `validate` depends on it.

use serde_json::Value;

use crate::Target;
use crate::json::kind;
use crate::stratum::{Job, JobError, Notify, parse_hex_u32};

/// The job file of `sha256d-engine validate`: a Stratum job as a miner's session sees it.
///
/// `{"extranonce1":"hex","extranonce2_size":4,"version_mask":"1fffe000","difficulty":512,
/// "notify":[the nine mining.notify params]}`; `version_mask` may be absent or null (no
/// version rolling).
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// The job.
    pub job: Job,
    /// The pool difficulty for shares.
    pub difficulty: f64,
}

impl JobSpec {
    /// Parses the job file.
    ///
    /// ```
    /// use sha256d_engine::validate::JobSpec;
    /// let spec = JobSpec::from_json(r#"{"extranonce1": "57a6f098", "extranonce2_size": 4,
    ///     "difficulty": 512, "notify": ["1",
    ///     "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000", "01", "02", [],
    ///     "20000000", "192495f8", "64b3f3ec", false]}"#).unwrap();
    /// assert_eq!(spec.job.version_mask(), 0);
    /// assert!(JobSpec::from_json(r#"{"extranonce1": "zz"}"#).is_err());
    /// assert!(JobSpec::from_json("[]").unwrap_err().to_string().contains("expected a JSON object"));
    /// ```
    ///
    /// # Errors
    ///
    /// A [`JobError`] naming the field: not JSON, not an object, a missing or wrong
    /// field, or a notify that does not parse.
    pub fn from_json(text: &str) -> Result<JobSpec, JobError> {
        let bad = |field: &'static str, reason: &str| JobError::Malformed {
            field,
            reason: reason.into(),
        };
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad("job file", &format!("not JSON: {e}")))?;
        if !v.is_object() {
            return Err(bad(
                "job file",
                &format!("expected a JSON object, got {}", kind(&v)),
            ));
        }
        let get = |field: &'static str| v.get(field).ok_or_else(|| bad(field, "missing"));
        let extranonce1 = get("extranonce1")?
            .as_str()
            .ok_or_else(|| bad("extranonce1", "expected a hex string"))?;
        let extranonce1 = crate::hexutil::decode_vec(extranonce1)
            .map_err(|e| bad("extranonce1", &e.to_string()))?;
        let size = get("extranonce2_size")?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("extranonce2_size", "expected a whole number"))?;
        let mask = match v.get("version_mask") {
            None | Some(Value::Null) => 0,
            Some(m) => parse_hex_u32(
                "version_mask",
                m.as_str()
                    .ok_or_else(|| bad("version_mask", "expected a hex string"))?,
            )?,
        };
        let difficulty = get("difficulty")?
            .as_f64()
            .ok_or_else(|| bad("difficulty", "expected a number"))?;
        Target::from_difficulty(difficulty).map_err(|e| bad("difficulty", &e.to_string()))?;
        let notify = Notify::from_params(get("notify")?)?;
        Ok(JobSpec {
            job: Job::new(notify, extranonce1, size, mask)?,
            difficulty,
        })
    }
}
