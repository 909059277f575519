//! The body-to-batch half of the audit webhook: a request body of kube-apiserver's
//! webhook backend (or a CloudWatch Logs subscription payload) read into events. The HTTP
//! half (tokens, limits, answers) is the API's.

use std::sync::Arc;

use peregrine_rules_sdk::normalize::Normalizer;
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent};

use super::{Item, Location, parse_document};

/// What a body held.
pub struct Received {
    pub events: Vec<AuditEvent>,
    pub runtime: Vec<RuntimeEvent>,
    /// Events the sensors said they dropped.
    pub dropped: u64,
    /// Why each entry that is not an event was skipped.
    pub malformed: Vec<String>,
}

/// Reads a body posted for `normalizer`'s cluster; `source` names it in messages. The
/// path's cluster, which the token was checked against, wins over any name the payload
/// carries (a CloudWatch log group). A body that is not JSON at all is an error.
pub fn read_body(body: &[u8], source: &str, normalizer: &Normalizer) -> Result<Received, String> {
    let mut received = Received {
        events: Vec::new(),
        runtime: Vec::new(),
        dropped: 0,
        malformed: Vec::new(),
    };
    let location = Location {
        file: Arc::from(source),
        line: 1,
    };
    parse_document(body, &location, normalizer, &mut |item| match item {
        Item::Event(mut event, _) => {
            event.cluster.clone_from(&normalizer.cluster);
            received.events.push(event)
        }
        Item::Runtime(mut event, _) => {
            event.cluster.clone_from(&normalizer.cluster);
            received.runtime.push(*event)
        }
        Item::Dropped { count, .. } => received.dropped += count,
        Item::Malformed { reason, .. } => received.malformed.push(reason),
    })?;
    Ok(received)
}
