//! Raw `audit.k8s.io` events to the normalized [`AuditEvent`] of the WIT contract.
//!
//! This is the one normalizer: the host runs it on every event it ingests, and native rule
//! tests run it on their fixtures, so a rule sees the same event in both. It accepts what
//! real logs hold: `apiVersion` missing, `v1` or `v1beta1`; any subset of an audit ID's
//! stages; exec commands URL-encoded in the request URI.

mod objects;
mod raw;

use std::collections::HashSet;
use std::net::IpAddr;

use crate::{AuditEvent, ExecRequest, ObjectRef, SourceIp, UserInfo};

/// Why a JSON value is not an audit event.
#[derive(Debug)]
pub struct NormalizeError(pub String);

impl std::fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NormalizeError {}

/// Options that shape every normalized event.
#[derive(Clone, Debug)]
pub struct Normalizer {
    /// The cluster name events are attributed to.
    pub cluster: String,
    /// Keep the original JSON in `AuditEvent::raw`.
    pub keep_raw: bool,
}

impl Normalizer {
    pub fn new(cluster: impl Into<String>) -> Self {
        Normalizer {
            cluster: cluster.into(),
            keep_raw: false,
        }
    }

    /// Normalizes one event from its JSON text.
    pub fn event_from_json(&self, json: &str) -> Result<AuditEvent, NormalizeError> {
        let raw: raw::Event =
            serde_json::from_str(json).map_err(|e| NormalizeError(e.to_string()))?;
        self.normalize(raw, json)
    }

    /// Normalizes one event already parsed as a JSON value (from an `EventList`).
    pub fn event_from_value(
        &self,
        value: &serde_json::Value,
    ) -> Result<AuditEvent, NormalizeError> {
        // Re-serializing keeps one code path (and `raw` exact for the value as given).
        let json = value.to_string();
        self.event_from_json(&json)
    }

    fn normalize(&self, raw: raw::Event, json: &str) -> Result<AuditEvent, NormalizeError> {
        if let Some(kind) = raw.kind.as_deref() {
            if kind != "Event" {
                return Err(NormalizeError(format!("kind is {kind:?}, not \"Event\"")));
            }
        }
        let annotations = raw.annotations.unwrap_or_default();
        let decision = annotations.get("authorization.k8s.io/decision").cloned();
        let reason = annotations.get("authorization.k8s.io/reason").cloned();
        let object_ref = raw.object_ref.map(|o| ObjectRef {
            resource: o.resource.unwrap_or_default(),
            subresource: o.subresource.filter(|s| !s.is_empty()),
            namespace: o.namespace.filter(|s| !s.is_empty()),
            name: o.name.filter(|s| !s.is_empty()),
            uid: o.uid.filter(|s| !s.is_empty()),
            api_group: o.api_group.filter(|s| !s.is_empty()),
            api_version: o.api_version.filter(|s| !s.is_empty()),
        });
        // A non-resource request has no objectRef; keep an objectRef only if it names a resource.
        let object_ref = object_ref.filter(|o| !o.resource.is_empty());
        let exec = object_ref
            .as_ref()
            .filter(|o| matches!(o.subresource.as_deref(), Some("exec" | "attach")))
            .map(|_| exec_request(&raw.request_uri));
        let object = objects::decode(
            object_ref.as_ref(),
            &raw.verb,
            raw.request_object.as_deref(),
            raw.response_object.as_deref(),
        );
        Ok(AuditEvent {
            cluster: self.cluster.clone(),
            audit_id: raw.audit_id.unwrap_or_default(),
            stage: raw.stage.unwrap_or_default(),
            level: raw.level.unwrap_or_default(),
            verb: raw.verb,
            request_uri: raw.request_uri,
            user: user(raw.user.unwrap_or_default()),
            impersonated_user: raw.impersonated_user.map(user),
            source_ips: raw
                .source_ips
                .unwrap_or_default()
                .into_iter()
                .map(source_ip)
                .collect(),
            user_agent: raw.user_agent.filter(|s| !s.is_empty()),
            object_ref,
            response_code: raw.response_status.and_then(|s| s.code),
            authorization_decision: decision,
            authorization_reason: reason,
            annotations: annotations.into_iter().collect(),
            request_received_at: raw.request_received_timestamp.as_deref().and_then(micros),
            stage_at: raw.stage_timestamp.as_deref().and_then(micros),
            exec,
            object,
            raw: self.keep_raw.then(|| json.to_string()),
        })
    }
}

fn user(raw: raw::User) -> UserInfo {
    UserInfo {
        username: raw.username.unwrap_or_default(),
        uid: raw.uid.filter(|s| !s.is_empty()),
        groups: raw.groups.unwrap_or_default(),
        extra: raw.extra.unwrap_or_default().into_iter().collect(),
    }
}

fn source_ip(address: String) -> SourceIp {
    let is_public = address.parse::<IpAddr>().is_ok_and(|ip| is_public_ip(&ip));
    SourceIp {
        address,
        is_public,
        trusted: false,
        threat_lists: Vec::new(),
    }
}

/// Routable on the internet: not loopback, private, link-local, CGNAT, multicast,
/// broadcast or unspecified.
pub fn is_public_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn micros(timestamp: &str) -> Option<i64> {
    let parsed =
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1000).ok()
}

/// `command=sh&command=-c&command=id&container=app&stdin=true` from an exec URI.
fn exec_request(request_uri: &str) -> ExecRequest {
    let query = request_uri.split_once('?').map_or("", |(_, q)| q);
    let mut exec = ExecRequest {
        command: Vec::new(),
        container: None,
        stdin: false,
        tty: false,
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let truthy = value == "true" || value == "1";
        match key.as_ref() {
            "command" => exec.command.push(value.into_owned()),
            "container" => exec.container = Some(value.into_owned()),
            "stdin" => exec.stdin = truthy,
            "tty" => exec.tty = truthy,
            _ => {}
        }
    }
    exec
}

/// Which stage of an audit ID to judge: each ID exactly once, at `ResponseStarted` or
/// `ResponseComplete` (or `Panic`), whichever arrives first. `RequestReceived` has no
/// outcome yet and is never judged. Seen IDs are remembered in two generations of at
/// most `capacity` IDs each, so memory stays bounded on endless streams. An ID is kept as
/// a 64-bit SipHash of its text: no allocation per event, and with the at most 2 x
/// `capacity` IDs remembered, the chance that two ever collide is below one in ten million.
pub struct JudgeOnce {
    current: HashSet<u64, IdHasher>,
    previous: HashSet<u64, IdHasher>,
    capacity: usize,
    keys: std::collections::hash_map::RandomState,
}

/// The keys are already hashes: use them as they are.
#[derive(Clone, Copy, Default)]
struct IdHasher;

impl std::hash::BuildHasher for IdHasher {
    type Hasher = IdHash;
    fn build_hasher(&self) -> IdHash {
        IdHash(0)
    }
}

struct IdHash(u64);

impl std::hash::Hasher for IdHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Default for JudgeOnce {
    fn default() -> Self {
        Self::with_capacity(200_000)
    }
}

impl JudgeOnce {
    pub fn with_capacity(capacity: usize) -> Self {
        JudgeOnce {
            current: HashSet::default(),
            previous: HashSet::default(),
            capacity: capacity.max(1),
            keys: Default::default(),
        }
    }

    /// True if this event should be judged now.
    pub fn admit(&mut self, event: &AuditEvent) -> bool {
        use std::hash::BuildHasher;
        if event.stage == "RequestReceived" {
            return false;
        }
        if event.audit_id.is_empty() {
            return true;
        }
        let id = self.keys.hash_one(&event.audit_id);
        if self.current.contains(&id) || self.previous.contains(&id) {
            return false;
        }
        if self.current.len() >= self.capacity {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(id);
        true
    }
}

#[cfg(test)]
mod tests;
