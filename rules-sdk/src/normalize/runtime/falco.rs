//! Falco's `json_output` alerts.

use serde_json::Value;

use super::{Parsed, RuntimeError};

pub fn normalize(_value: &Value, _cluster: &str) -> Result<Parsed, RuntimeError> {
    Err(RuntimeError("Falco alerts are not read yet".into()))
}
