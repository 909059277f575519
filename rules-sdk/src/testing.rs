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

/// The events of a fixture file that the host would judge (one stage per audit ID), with
/// the fixture threat-list addresses marked (see [`mark_fixture_lists`]).
pub fn events_from_file(path: impl AsRef<Path>) -> Vec<AuditEvent> {
    let mut events = unmarked_events_from_file(path);
    mark_fixture_lists(&mut events);
    events
}

fn unmarked_events_from_file(path: impl AsRef<Path>) -> Vec<AuditEvent> {
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

/// Addresses that fixtures use for listed callers, marked on events as the host marks
/// them from its threat lists (the sample intel directory lists the same addresses).
pub const FIXTURE_LISTS: &[(&str, crate::ThreatListKind, &str)] = &[
    (
        "45.155.205.233",
        crate::ThreatListKind::Malicious,
        "Peregrine known malicious IPs",
    ),
    ("203.0.113.66", crate::ThreatListKind::Custom, "scanners"),
    (
        "185.220.101.47",
        crate::ThreatListKind::TorExitNode,
        "Tor exit nodes",
    ),
];

/// A fixture address on the trusted list: never marked as listed.
pub const FIXTURE_TRUSTED: &str = "198.51.100.200";

/// Marks fixture addresses ([`FIXTURE_LISTS`], [`FIXTURE_TRUSTED`]) as the host would.
pub fn mark_fixture_lists(events: &mut [AuditEvent]) {
    for event in events {
        for ip in &mut event.source_ips {
            if ip.address == FIXTURE_TRUSTED {
                ip.trusted = true;
                continue;
            }
            for (address, kind, name) in FIXTURE_LISTS {
                if ip.address == *address {
                    ip.threat_lists.push(crate::ThreatListHit {
                        kind: *kind,
                        name: name.to_string(),
                    });
                }
            }
        }
    }
}
