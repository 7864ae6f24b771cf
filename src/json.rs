//! JSON field helpers shared by the Stratum, getblocktemplate and share readers, said
//! once: each reader maps the reason into its own error type, naming the field.

use serde_json::Value;

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

/// The string in `v`, or the reason it is not one (`expected a string, got a number`).
pub(crate) fn str_or_reason(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, got {}", kind(v)))
}
