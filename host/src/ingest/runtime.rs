//! Reading runtime events: the JSON of Tetragon, Falco and Tracee, told apart per object
//! (`normalize::runtime::detect`) wherever audit events may also be, so one file or body
//! may mix both kinds.

use peregrine_rules_sdk::normalize::Normalizer;
use peregrine_rules_sdk::normalize::runtime::{self, Parsed};
use serde_json::Value;

use super::{Item, Location};

/// Whether a line may be Tetragon's (it names one of its event keys anywhere, as key
/// order is not fixed once a log shipper has rewritten the line), so it is parsed as JSON
/// and told apart at once instead of after an attempt as an audit event.
pub fn may_be_runtime(line: &str) -> bool {
    line.contains("\"process_") || line.contains("\"rate_limit_info\"")
}

/// Whether a JSON value is a sensor's output (not an audit event).
pub fn is_runtime(value: &Value) -> bool {
    runtime::detect(value).is_some()
}

/// Normalizes one sensor object and hands what it is to `sink`.
pub fn take(
    value: &Value,
    text: Option<&str>,
    location: &Location,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) {
    match runtime::normalize(normalizer, value, text) {
        Ok(Parsed::Event(event)) => sink(Item::Runtime(event, location.clone())),
        Ok(Parsed::Dropped(count)) => sink(Item::Dropped {
            count,
            location: location.clone(),
        }),
        Ok(Parsed::NotAnEvent(what)) => {
            tracing::debug!(%location, "{what}: nothing to judge");
        }
        Err(e) => sink(Item::Malformed {
            location: location.clone(),
            reason: format!("not a runtime event: {e}"),
        }),
    }
}
