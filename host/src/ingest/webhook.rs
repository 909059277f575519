//! The body-to-batch half of the webhooks: a request body of kube-apiserver's webhook
//! backend (or a CloudWatch Logs subscription payload), or the runtime sensors' lines as
//! Fluent Bit's and Vector's HTTP outputs post them, read into events. The HTTP half
//! (tokens, limits, answers) is the API's.

use std::sync::Arc;

use peregrine_rules_sdk::normalize::Normalizer;
use peregrine_rules_sdk::normalize::ownership::Ownership;
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent};
use serde_json::Value;

use super::{Item, Location, parse_document};

/// What a body held.
#[derive(Default)]
pub struct Received {
    pub events: Vec<AuditEvent>,
    pub runtime: Vec<RuntimeEvent>,
    /// What the audit events show of pods' controllers.
    pub owners: Vec<Ownership>,
    /// Events the sensors said they dropped.
    pub dropped: u64,
    /// Why each entry that is not an event was skipped.
    pub malformed: Vec<String>,
}

/// Reads an audit webhook body posted for `normalizer`'s cluster; `source` names it in
/// messages. The path's cluster, which the token was checked against, wins over any name
/// the payload carries (a CloudWatch log group, a sensor's `cluster_name`). A body that
/// is not JSON at all is an error.
pub fn read_body(body: &[u8], source: &str, normalizer: &Normalizer) -> Result<Received, String> {
    let location = Location {
        file: Arc::from(source),
        line: 1,
    };
    let mut received = Received::default();
    parse_document(body, &location, normalizer, &mut |item| {
        received.take(item, normalizer)
    })?;
    Ok(received)
}

/// Reads a body of runtime sensor output posted for `normalizer`'s cluster: JSON lines
/// (Fluent Bit's `json_lines`, Vector's newline-delimited JSON), a JSON array of events
/// (Fluent Bit's `json`, Vector's JSON batches) or one event, gzipped or not. A record a
/// log shipper wrapped around the sensor's line (`{"log": "<line>", "date": …}`, Vector's
/// `{"message": "<line>", …}`) is unwrapped. Audit events may be mixed in. A body that
/// is not JSON at all is an error.
pub fn read_lines_body(
    body: &[u8],
    source: &str,
    normalizer: &Normalizer,
) -> Result<Received, String> {
    let body = &*super::gunzipped(body)?;
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let file: Arc<str> = Arc::from(source);
    let mut received = Received::default();
    let mut read_any = false;
    for (i, value) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let location = Location {
            file: file.clone(),
            line: i as u64 + 1,
        };
        let value = match value {
            Ok(value) => value,
            Err(e) if !read_any => return Err(format!("not JSON: {e}")),
            // What follows a broken entry cannot be told apart from it: the rest is one
            // malformed entry, and what came before it is kept.
            Err(e) => {
                received.malformed.push(format!(
                    "{location}: invalid JSON, the rest of the body skipped: {e}"
                ));
                break;
            }
        };
        read_any = true;
        let entries = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for entry in entries {
            super::audit::expand(
                unwrap_shipper(entry),
                &location,
                normalizer,
                None,
                &mut |item| received.take(item, normalizer),
            );
        }
    }
    if !read_any {
        return Err("the body holds no JSON".into());
    }
    Ok(received)
}

/// The sensor's own line inside a log shipper's record, when the record is a wrapper.
fn unwrap_shipper(entry: Value) -> Value {
    if super::runtime::is_runtime(&entry) {
        return entry;
    }
    for key in ["log", "message"] {
        if let Some(inner) = entry
            .get(key)
            .and_then(Value::as_str)
            .and_then(|line| serde_json::from_str::<Value>(line).ok())
            .filter(Value::is_object)
        {
            return inner;
        }
    }
    entry
}

impl Received {
    fn take(&mut self, item: Item, normalizer: &Normalizer) {
        match item {
            Item::Event(mut event, _) => {
                event.cluster.clone_from(&normalizer.cluster);
                self.events.push(event)
            }
            Item::Owner(mut owner) => {
                owner.cluster.clone_from(&normalizer.cluster);
                self.owners.push(owner)
            }
            Item::Runtime(mut event, _) => {
                event.cluster.clone_from(&normalizer.cluster);
                self.runtime.push(*event)
            }
            Item::Dropped { count, .. } => self.dropped += count,
            Item::Malformed { reason, .. } => self.malformed.push(reason),
        }
    }
}
