//! Aqua Tracee's JSON events.

use serde_json::{Map, Value};

use super::{Parsed, RuntimeError};

/// A Tracee event: `trace.Event` (`eventName`, `processId`, `args`) or `v1beta1` (`name`,
/// `workload`/`policies`, `data`).
pub fn is_tracee(object: &Map<String, Value>) -> bool {
    (object.contains_key("eventName") && object.contains_key("processId"))
        || (object.contains_key("name") && object.contains_key("workload"))
}

pub fn normalize(_value: &Value, _cluster: &str) -> Result<Parsed, RuntimeError> {
    Err(RuntimeError("Tracee events are not read yet".into()))
}
