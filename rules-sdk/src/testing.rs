//! Native test helpers: load fixture files of real audit events and run a rule over them,
//! with no wasm runtime. Fixtures are JSON lines (the log backend's format) or one JSON
//! document holding an `Event` or an `EventList`.

use std::path::Path;

use crate::normalize::{JudgeOnce, Normalizer};
use crate::{AuditEvent, Finding, Rule};

/// The cluster name fixture events are attributed to.
pub const TEST_CLUSTER: &str = "test-cluster";

/// Normalizes one event from JSON; panics with the reason if it is not an event.
pub fn event(json: &str) -> AuditEvent {
    Normalizer::new(TEST_CLUSTER)
        .event_from_json(json)
        .unwrap_or_else(|e| panic!("not an audit event: {e}"))
}

/// The events of a fixture file that the host would judge (one stage per audit ID).
pub fn events_from_file(path: impl AsRef<Path>) -> Vec<AuditEvent> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let normalizer = Normalizer::new(TEST_CLUSTER);
    let mut judge = JudgeOnce::default();
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(doc))
            if doc.get("kind").and_then(|k| k.as_str()) == Some("EventList") =>
        {
            doc.get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default()
        }
        Ok(doc) => vec![doc],
        Err(_) => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{}: bad JSON line: {e}", path.display()))
            })
            .collect(),
    };
    values
        .iter()
        .map(|v| {
            normalizer
                .event_from_value(v)
                .unwrap_or_else(|e| panic!("{}: not an audit event: {e}", path.display()))
        })
        .filter(|e| judge.admit(e))
        .collect()
}

/// Runs `R` over the events of a fixture file, honouring its subscription as the host
/// does, and returns the findings.
pub fn run_file<R: Rule>(path: impl AsRef<Path>) -> Vec<Finding> {
    run::<R>(&events_from_file(path))
}

/// Runs `R` over events, honouring its subscription as the host does.
pub fn run<R: Rule>(events: &[AuditEvent]) -> Vec<Finding> {
    let descriptor = R::descriptor();
    let Some(subscription) = descriptor.audit else {
        return Vec::new();
    };
    events
        .iter()
        .filter(|e| crate::subscription::matches(&subscription, e))
        .filter_map(|e| R::evaluate(e))
        .collect()
}
