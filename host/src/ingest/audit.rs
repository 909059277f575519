//! Reading audit logs (and the runtime events mixed into them, handed to `runtime`): JSON lines from kube-apiserver's log backend, `EventList` documents
//! from its webhook backend, and EKS control-plane logs exported from CloudWatch Logs
//! (S3 export lines `<timestamp> <event>`, `filter-log-events` output, and subscription
//! payloads with `logEvents`, whose `logGroup` names the cluster). Files may be gzipped.
//!
//! A malformed line is reported with its file and line number and skipped; it never stops
//! the run. A document that cannot be parsed stops only its own file.

use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use peregrine_rules_sdk::normalize::Normalizer;
use peregrine_rules_sdk::normalize::ownership::Ownership;
use serde_json::Value;

use super::{IngestError, Item, Location, MAX_LINE, read_line, runtime};

/// Reads one file (`-` for standard input), handing every event and every malformed
/// entry to `sink`.
pub fn read_path(
    path: &Path,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) -> Result<(), IngestError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    read(super::open(path)?, name.clone(), normalizer, sink).map_err(|source| IngestError {
        path: name.to_string(),
        source,
    })
}

/// Reads from any buffered source; `file` names it in locations.
pub fn read(
    mut reader: Box<dyn BufRead>,
    file: Arc<str>,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let Some(too_long) = read_line(&mut reader, &mut buf)? else {
            return Ok(());
        };
        line_no += 1;
        let location = Location {
            file: file.clone(),
            line: line_no,
        };
        if too_long {
            sink(Item::Malformed {
                location,
                reason: format!("line longer than {MAX_LINE} bytes; skipped"),
            });
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            sink(Item::Malformed {
                location,
                reason: "not UTF-8 text".into(),
            });
            continue;
        };
        if let Err(Truncated) = parse_line(text, &location, normalizer, line_no > 1, sink) {
            // A first line that is an unfinished JSON value starts a multi-line document.
            let mut rest = buf.clone();
            reader.read_to_end(&mut rest)?;
            return read_document(&rest, &location, normalizer, sink);
        }
    }
}

/// An audit event, after what it shows of a pod's controller.
fn take(
    (event, owner): (peregrine_rules_sdk::AuditEvent, Option<Ownership>),
    location: &Location,
    sink: &mut dyn FnMut(Item),
) {
    if let Some(owner) = owner {
        sink(Item::Owner(owner));
    }
    sink(Item::Event(event, location.clone()));
}

/// A line that ends inside a JSON value.
pub struct Truncated;

/// One line of a log: an event, a container of events on one line, or a CloudWatch
/// export line. A line that ends inside a JSON value is malformed if `complete`, else
/// returned as [`Truncated`] (it may start a multi-line document).
pub fn parse_line(
    text: &str,
    location: &Location,
    normalizer: &Normalizer,
    complete: bool,
    sink: &mut dyn FnMut(Item),
) -> Result<(), Truncated> {
    let text = strip_export_timestamp(text.trim());
    if text.is_empty() {
        return Ok(());
    }
    if runtime::may_be_runtime(text) {
        match serde_json::from_str::<Value>(text) {
            Ok(value) if runtime::is_runtime(&value) => {
                runtime::take(&value, Some(text), location, normalizer, sink);
                return Ok(());
            }
            Err(e) if e.is_eof() && !complete => return Err(Truncated),
            // An audit event that mentions such a key, or not valid JSON after all: the
            // general path reads or reports it.
            _ => {}
        }
    }
    match normalizer.audit_from_json(text) {
        Ok(audit) => take(audit, location, sink),
        Err(event_error) => match serde_json::from_str::<Value>(text) {
            Ok(value) => expand(value, location, normalizer, Some(&event_error.0), sink),
            Err(e) if e.is_eof() && !complete => return Err(Truncated),
            Err(e) if e.is_eof() => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("truncated JSON: {e}"),
            }),
            Err(e) => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("not JSON: {e}"),
            }),
        },
    }
    Ok(())
}

/// A request body of the webhook backend: an `EventList` (batch mode), a single event
/// (blocking mode), or another container [`read`] knows (a CloudWatch Logs subscription
/// payload, gzipped or not). Entries that are not events go
/// to `sink` as malformed; a body that is not JSON at all is an error.
pub fn parse_document(
    body: &[u8],
    location: &Location,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) -> Result<(), String> {
    // CloudWatch Logs subscription payloads arrive gzipped.
    let body = &*super::gunzipped(body)?;
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        // Too deep for a tree: an EventList with one hostile entry costs only that entry.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            return parse_deep_event_list(body, location, normalizer, sink)
                .ok_or(format!("not JSON: {e}"));
        }
        Err(e) => return Err(format!("not JSON: {e}")),
    };
    if !value.is_object() {
        return Err(format!(
            "expected an EventList or an Event object, found {}",
            json_kind(&value)
        ));
    }
    expand(value, location, normalizer, None, sink);
    Ok(())
}

/// An `EventList` read entry by entry (each entry's text kept raw, so one entry nested
/// beyond the parser's depth limit is reported alone); `None` if it is not one.
fn parse_deep_event_list(
    body: &[u8],
    location: &Location,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) -> Option<()> {
    #[derive(serde::Deserialize)]
    struct Entries<'a> {
        kind: Option<String>,
        #[serde(borrow)]
        items: Vec<&'a serde_json::value::RawValue>,
    }
    let list: Entries = serde_json::from_slice(body).ok()?;
    if list.kind.as_deref() != Some("EventList") {
        return None;
    }
    for entry in list.items {
        match normalizer.audit_from_json(entry.get()) {
            Ok(audit) => take(audit, location, sink),
            Err(e) => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("not an audit event: {e}"),
            }),
        }
    }
    Some(())
}

/// CloudWatch Logs' S3 export writes `2024-03-11T09:14:07.118Z {"kind":"Event",...}`.
fn strip_export_timestamp(line: &str) -> &str {
    match line.split_once(' ') {
        Some((stamp, rest))
            if rest.starts_with('{')
                && stamp.len() >= 20
                && stamp.as_bytes()[0].is_ascii_digit()
                && stamp.as_bytes().get(10) == Some(&b'T') =>
        {
            rest
        }
        _ => line,
    }
}

/// A whole-file JSON document (or several, one after another).
fn read_document(
    text: &[u8],
    start: &Location,
    normalizer: &Normalizer,
    sink: &mut dyn FnMut(Item),
) -> io::Result<()> {
    let stream = serde_json::Deserializer::from_slice(text).into_iter::<Value>();
    for value in stream {
        match value {
            Ok(value) => expand(value, start, normalizer, None, sink),
            Err(e) => {
                let location = Location {
                    file: start.file.clone(),
                    line: start.line + e.line() as u64 - 1,
                };
                sink(Item::Malformed {
                    location,
                    reason: format!("invalid JSON document, rest of file skipped: {e}"),
                });
                break;
            }
        }
    }
    Ok(())
}

/// An event, or a container of events, as a JSON value.
pub(super) fn expand(
    value: Value,
    location: &Location,
    normalizer: &Normalizer,
    event_error: Option<&str>,
    sink: &mut dyn FnMut(Item),
) {
    let event = |v: &Value, n: &Normalizer, sink: &mut dyn FnMut(Item)| {
        if runtime::is_runtime(v) {
            return runtime::take(v, None, location, n, sink);
        }
        match n.audit_from_value(v) {
            Ok(audit) => take(audit, location, sink),
            Err(e) => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("not an audit event: {e}"),
            }),
        }
    };
    let message = |v: &Value, n: &Normalizer, sink: &mut dyn FnMut(Item)| match v
        .get("message")
        .and_then(Value::as_str)
    {
        Some(text) => match n.audit_from_json(strip_export_timestamp(text.trim())) {
            Ok(audit) => take(audit, location, sink),
            Err(e) => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("log message is not an audit event: {e}"),
            }),
        },
        None => sink(Item::Malformed {
            location: location.clone(),
            reason: "log record has no message".into(),
        }),
    };
    match &value {
        Value::Array(items) => items.iter().for_each(|v| event(v, normalizer, sink)),
        Value::Object(doc) if doc.get("kind").and_then(Value::as_str) == Some("EventList") => {
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => items.iter().for_each(|v| event(v, normalizer, sink)),
                None => sink(Item::Malformed {
                    location: location.clone(),
                    reason: "an EventList whose items is not a list".into(),
                }),
            }
        }
        // A CloudWatch Logs subscription payload.
        Value::Object(doc) if doc.get("logEvents").is_some_and(Value::is_array) => {
            let cluster = doc
                .get("logGroup")
                .and_then(Value::as_str)
                .and_then(eks_cluster_name);
            let n = match cluster {
                Some(cluster) => Normalizer {
                    cluster: cluster.to_string(),
                    ..normalizer.clone()
                },
                None => normalizer.clone(),
            };
            for record in doc["logEvents"].as_array().into_iter().flatten() {
                message(record, &n, sink);
            }
        }
        // `aws logs filter-log-events` / `get-log-events` output.
        Value::Object(doc) if doc.get("events").is_some_and(Value::is_array) => {
            for record in doc["events"].as_array().into_iter().flatten() {
                message(record, normalizer, sink);
            }
        }
        Value::Object(doc)
            if doc.get("message").is_some_and(Value::is_string) && !doc.contains_key("verb") =>
        {
            message(&value, normalizer, sink)
        }
        Value::Object(_) if runtime::is_runtime(&value) => {
            runtime::take(&value, None, location, normalizer, sink)
        }
        Value::Object(_) => match event_error {
            Some(reason) => sink(Item::Malformed {
                location: location.clone(),
                reason: format!("not an audit event: {reason}"),
            }),
            None => event(&value, normalizer, sink),
        },
        other => sink(Item::Malformed {
            location: location.clone(),
            reason: format!("expected an event object, found {}", json_kind(other)),
        }),
    }
}

/// `/aws/eks/<cluster>/cluster` is where EKS sends control-plane logs.
fn eks_cluster_name(log_group: &str) -> Option<&str> {
    log_group
        .strip_prefix("/aws/eks/")?
        .strip_suffix("/cluster")
        .filter(|c| !c.is_empty())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(body: &str) -> Result<(usize, usize), String> {
        let location = Location {
            file: Arc::from("test"),
            line: 1,
        };
        let (mut events, mut malformed) = (0, 0);
        parse_document(
            body.as_bytes(),
            &location,
            &Normalizer::new("c"),
            &mut |item| match item {
                Item::Event(..) => events += 1,
                Item::Malformed { .. } => malformed += 1,
                Item::Runtime(..) | Item::Owner(_) | Item::Dropped { .. } => {}
            },
        )?;
        Ok((events, malformed))
    }

    #[test]
    fn one_deeply_nested_entry_costs_only_itself() {
        let deep = format!(
            r#"{{"kind":"Event","auditID":"deep","stage":"ResponseComplete","verb":"get","requestURI":"/","user":{}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let good = r#"{"kind":"Event","auditID":"good","stage":"ResponseComplete","verb":"get","requestURI":"/"}"#;
        let body = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{good},{deep},{good}]}}"#
        );
        assert_eq!(items(&body), Ok((2, 1)));
    }

    #[test]
    fn an_event_list_without_a_list_of_items_is_malformed() {
        assert_eq!(items(r#"{"kind":"EventList","items":{}}"#), Ok((0, 1)));
        assert_eq!(items(r#"{"kind":"EventList"}"#), Ok((0, 1)));
        assert_eq!(items(r#"{"kind":"EventList","items":[]}"#), Ok((0, 0)));
    }
}
