//! Node sensors' JSON to the normalized [`RuntimeEvent`] of the WIT contract: one adapter
//! per sensor format, chosen per line by [`detect`].
//!
//! Like the audit normalizer this is the one code path: the host runs it on what it
//! ingests and native rule tests on their fixtures. Every adapter ignores fields it does
//! not know (sensors add fields every release) and fills what the sensor leaves out with
//! none rather than guessing. The lineage of a process is added afterwards by
//! [`ProcessTable`], from the exec events seen before it.

pub mod falco;
mod process_table;
pub mod tetragon;
pub mod tracee;

use std::net::IpAddr;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Normalizer;
use crate::runtime::{Activity, Address, Process, RuntimeEvent};

pub use process_table::ProcessTable;

/// A sensor whose output Peregrine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensor {
    Tetragon,
    Falco,
    Tracee,
}

impl Sensor {
    pub fn name(self) -> &'static str {
        match self {
            Sensor::Tetragon => "tetragon",
            Sensor::Falco => "falco",
            Sensor::Tracee => "tracee",
        }
    }
}

/// What one JSON object of sensor output holds.
#[derive(Debug)]
pub enum Parsed {
    Event(Box<RuntimeEvent>),
    /// The sensor says it dropped this many events (Tetragon's `rate_limit_info`): never
    /// silence, the host counts and reports it.
    Dropped(u64),
    /// A record that is not about a process (e.g. Tetragon's `process_throttle`), with
    /// what it is.
    NotAnEvent(&'static str),
}

/// Why a JSON object could not be read as sensor output.
#[derive(Debug, PartialEq)]
pub struct RuntimeError(pub String);

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuntimeError {}

/// Normalizes one object of a sensor's output (its sensor found by [`detect`]), with the
/// options of the audit normalizer (cluster, raw). `text` is the object's JSON as received,
/// when there is one: the id of an event without one is derived from it.
pub fn normalize(
    options: &Normalizer,
    value: &Value,
    text: Option<&str>,
) -> Result<Parsed, RuntimeError> {
    let sensor = detect(value)
        .ok_or_else(|| RuntimeError("not the output of a known runtime sensor".into()))?;
    let parsed = match sensor {
        Sensor::Tetragon => tetragon::normalize(value, &options.cluster),
        Sensor::Falco => falco::normalize(value, &options.cluster),
        Sensor::Tracee => tracee::normalize(value, &options.cluster),
    }?;
    Ok(match parsed {
        Parsed::Event(mut event) => {
            if event.event_id.is_empty() {
                event.event_id = derived_event_id(sensor, value, text);
            }
            if options.keep_raw {
                event.raw = Some(text.map_or_else(|| value.to_string(), str::to_string));
            }
            Parsed::Event(event)
        }
        other => other,
    })
}

/// What identifies one runtime event across resends: cluster, sensor, node and event id.
pub fn runtime_key(event: &RuntimeEvent) -> super::RequestKey {
    let mut hash = Sha256::new();
    for part in [&event.cluster, &event.sensor, &event.node, &event.event_id] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Which sensor wrote this object, if any: by the keys each format always has.
pub fn detect(value: &Value) -> Option<Sensor> {
    let object = value.as_object()?;
    if tetragon::EVENT_KEYS.iter().any(|k| object.contains_key(*k)) {
        return Some(Sensor::Tetragon);
    }
    if object.contains_key("rule")
        && object.contains_key("output")
        && object.contains_key("priority")
    {
        return Some(Sensor::Falco);
    }
    if tracee::is_tracee(object) {
        return Some(Sensor::Tracee);
    }
    None
}

/// An event id for a sensor that gives none: a hash of the sensor and the whole object
/// (its text as received where there is one), so the same event sent twice gets the same
/// id and two different events never share one.
pub fn derived_event_id(sensor: Sensor, value: &Value, text: Option<&str>) -> String {
    let mut hash = Sha256::new();
    hash.update(sensor.name().as_bytes());
    hash.update([0]);
    match text {
        Some(text) => hash.update(text.trim().as_bytes()),
        None => hash.update(value.to_string().as_bytes()),
    }
    hex_prefix(&hash.finalize(), 16)
}

/// A process id unique in the cluster over time, for sensors without one: node, host pid
/// and start time, hashed (as Tetragon's `exec_id` encodes them).
pub fn derived_process_id(node: &str, pid: u32, start_time: i64) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{node}:{pid}:{start_time}").as_bytes());
    hex_prefix(&hash.finalize(), 16)
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    bytes[..n].iter().map(|b| format!("{b:02x}")).collect()
}

/// A process with only its executable known; adapters fill in the rest.
pub fn process(executable_path: &str) -> Process {
    Process {
        id: String::new(),
        parent_id: None,
        name: basename(executable_path).to_string(),
        executable_path: executable_path.to_string(),
        arguments: Vec::new(),
        command_line: executable_path.to_string(),
        cwd: None,
        pid: None,
        namespace_pid: None,
        uid: None,
        euid: None,
        gid: None,
        egid: None,
        user_name: None,
        start_time: None,
        sha256: None,
        sha256_listed: Vec::new(),
        in_init_tree: None,
        setuid_binary: false,
        privileges_changed: Vec::new(),
        fileless: false,
        capabilities: Vec::new(),
        environment: Vec::new(),
    }
}

/// An event with the process and activity given and nothing else attached yet.
pub fn event(
    cluster: &str,
    node: &str,
    sensor: Sensor,
    time: i64,
    process: Process,
    activity: Activity,
) -> RuntimeEvent {
    RuntimeEvent {
        cluster: cluster.to_string(),
        node: node.to_string(),
        sensor: sensor.name().to_string(),
        event_id: String::new(),
        time,
        process,
        lineage: Vec::new(),
        container: None,
        pod: None,
        workload: None,
        activity,
        policy: None,
        tags: Vec::new(),
        raw: None,
    }
}

/// The last component of a path (`/usr/bin/nc` → `nc`).
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Splits a command line as a POSIX shell splits words: blanks separate, quotes group,
/// a backslash escapes outside single quotes. Unbalanced quotes end at the line's end.
pub fn split_arguments(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), c) => word.push(c),
            (Some(_), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '\'') | (None, '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// An address as the contract carries it, before the host marks threat lists.
pub fn address(text: &str) -> Address {
    let is_public = text
        .parse::<IpAddr>()
        .is_ok_and(|ip| super::is_public_ip(&ip));
    Address {
        address: text.to_string(),
        is_public,
        trusted: false,
        listed: Vec::new(),
    }
}

/// RFC 3339 text to microseconds since the Unix epoch.
pub fn micros(timestamp: &str) -> Option<i64> {
    super::micros(timestamp)
}

/// A JSON number or a protojson 64-bit string as a u64.
pub fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A JSON number or numeric string as an i64.
pub fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A JSON number or numeric string as a u32 (none when out of range).
pub fn as_u32(value: &Value) -> Option<u32> {
    as_u64(value).and_then(|n| u32::try_from(n).ok())
}

/// A non-empty string field.
pub fn string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The container id without its runtime prefix, and the runtime (`containerd://abc` →
/// (`abc`, `containerd`)).
pub fn container_id(full: &str) -> (String, Option<String>) {
    match full.split_once("://") {
        Some((runtime, id)) => (id.to_string(), Some(runtime.to_string())),
        None => (full.to_string(), None),
    }
}

#[cfg(test)]
mod tests;
