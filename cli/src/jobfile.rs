//! The job file of `validate`: `{"extranonce1","extranonce2_size","version_mask"?,
//! "difficulty","notify":[...]}`, read with the library's `validate::JobSpec`.

use std::path::Path;

use sha256d_engine::Job;
use sha256d_engine::validate::JobSpec;

use crate::{Fail, fail};

/// Reads and checks the job file; every error names the file and the problem.
pub fn read(path: &Path) -> Result<(Job, f64), Fail> {
    let what = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{what}: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("{what}: not JSON: {e}")))?;
    if !value.is_object() {
        let found = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        return Err(fail(format!(
            "{what}: a job file is a JSON object {{\"extranonce1\", \"extranonce2_size\", \
             \"difficulty\", \"notify\", ...}}, found {found}"
        )));
    }
    let spec = JobSpec::from_json(&text).map_err(|e| fail(format!("{what}: {e}")))?;
    Ok((spec.job, spec.difficulty))
}
