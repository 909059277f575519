//! Raw `audit.k8s.io` events to the normalized [`AuditEvent`] of the WIT contract.
//!
//! This is the one normalizer: the host runs it on every event it ingests, and native rule
//! tests run it on their fixtures, so a rule sees the same event in both. It accepts what
//! real logs hold: `apiVersion` missing, `v1` or `v1beta1`; any subset of an audit ID's
//! stages; exec commands URL-encoded in the request URI.

mod objects;
pub mod ownership;
mod raw;
pub mod runtime;

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
        self.audit_from_json(json).map(|(event, _)| event)
    }

    /// Normalizes one event from its JSON text, with the controller of the pod,
    /// ReplicaSet or Job it wrote, if any ([`ownership`]).
    pub fn audit_from_json(
        &self,
        json: &str,
    ) -> Result<(AuditEvent, Option<ownership::Ownership>), NormalizeError> {
        let raw: raw::Event =
            serde_json::from_str(json).map_err(|e| NormalizeError(e.to_string()))?;
        self.normalize(raw, json)
    }

    /// Normalizes one event already parsed as a JSON value (from an `EventList`).
    pub fn event_from_value(
        &self,
        value: &serde_json::Value,
    ) -> Result<AuditEvent, NormalizeError> {
        self.audit_from_value(value).map(|(event, _)| event)
    }

    /// [`Self::audit_from_json`] for a parsed value.
    pub fn audit_from_value(
        &self,
        value: &serde_json::Value,
    ) -> Result<(AuditEvent, Option<ownership::Ownership>), NormalizeError> {
        // Re-serializing keeps one code path (and `raw` exact for the value as given).
        let json = value.to_string();
        self.audit_from_json(&json)
    }

    fn normalize(
        &self,
        raw: raw::Event,
        json: &str,
    ) -> Result<(AuditEvent, Option<ownership::Ownership>), NormalizeError> {
        if let Some(kind) = raw.kind.as_deref() {
            if kind != "Event" {
                return Err(NormalizeError(format!("kind is {kind:?}, not \"Event\"")));
            }
        }
        let object_ref = raw_object_ref(&raw);
        let owner = ownership::from_event(
            &self.cluster,
            object_ref.as_ref(),
            raw.request_object.as_deref(),
            raw.response_object.as_deref(),
        );
        let annotations = raw.annotations.unwrap_or_default();
        let decision = annotations.get("authorization.k8s.io/decision").cloned();
        let reason = annotations.get("authorization.k8s.io/reason").cloned();
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
        let event = AuditEvent {
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
        };
        Ok((event, owner))
    }
}

/// The event's `objectRef`, when it names a resource (a non-resource request has none).
fn raw_object_ref(raw: &raw::Event) -> Option<ObjectRef> {
    let o = raw.object_ref.as_ref()?;
    let given = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Some(ObjectRef {
        resource: given(&o.resource)?,
        subresource: given(&o.subresource),
        namespace: given(&o.namespace),
        name: given(&o.name),
        uid: given(&o.uid),
        api_group: given(&o.api_group),
        api_version: given(&o.api_version),
    })
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

/// What identifies one request across its stages and resends: the cluster, the audit ID
/// and what the request itself was (verb, URI, user, impersonation, source addresses,
/// user agent, object, time received), but not the stage or the response. A client can
/// choose its audit ID (kube-apiserver takes it from the `Audit-ID` header), so the ID
/// alone must not decide that two events are one. 128 bits of SHA-256: stable across
/// restarts, and no collision can be crafted to hide an event behind another.
pub type RequestKey = [u8; 16];

pub fn request_key(event: &AuditEvent) -> RequestKey {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    let user = |field: &mut dyn FnMut(&[u8]), user: &UserInfo| {
        field(user.username.as_bytes());
        field(user.uid.as_deref().unwrap_or_default().as_bytes());
        field(&(user.groups.len() as u64).to_le_bytes());
        user.groups.iter().for_each(|g| field(g.as_bytes()));
    };
    field(event.cluster.as_bytes());
    field(event.audit_id.as_bytes());
    field(event.verb.as_bytes());
    field(event.request_uri.as_bytes());
    user(&mut field, &event.user);
    match &event.impersonated_user {
        Some(impersonated) => user(&mut field, impersonated),
        None => field(b"-"),
    }
    field(&(event.source_ips.len() as u64).to_le_bytes());
    event
        .source_ips
        .iter()
        .for_each(|ip| field(ip.address.as_bytes()));
    field(event.user_agent.as_deref().unwrap_or_default().as_bytes());
    match &event.object_ref {
        Some(o) => {
            for part in [
                &o.subresource,
                &o.namespace,
                &o.name,
                &o.uid,
                &o.api_group,
                &o.api_version,
            ] {
                field(part.as_deref().unwrap_or_default().as_bytes());
            }
            field(o.resource.as_bytes());
        }
        None => field(b"-"),
    }
    field(&event.request_received_at.unwrap_or_default().to_le_bytes());
    let digest = hash.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Which stage of a request to judge: each request exactly once, at `ResponseStarted` or
/// `ResponseComplete` (or `Panic`), whichever arrives first, and a resend not again.
/// `RequestReceived` has no outcome yet and is never judged. Requests are told apart by
/// [`request_key`], so a different request under a reused audit ID is judged (and
/// reported as a reuse). Keys are remembered in two bounded generations.
pub struct JudgeOnce {
    current: HashSet<RequestKey, KeyHasher>,
    previous: HashSet<RequestKey, KeyHasher>,
    /// Audit IDs (keyed hashes of cluster and ID) of the requests remembered.
    ids: HashSet<u64, KeyHasher>,
    previous_ids: HashSet<u64, KeyHasher>,
    capacity: usize,
    id_keys: std::collections::hash_map::RandomState,
}

/// What [`JudgeOnce::admit`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Judge it: the first outcome stage of a request not seen before.
    Judge(RequestKey),
    /// Judge it, but its audit ID was used before by a different request.
    JudgeReusedId(RequestKey),
    /// Another stage or a resend of a request already judged, or `RequestReceived`.
    Skip,
}

impl Admission {
    pub fn judged(self) -> Option<RequestKey> {
        match self {
            Admission::Judge(key) | Admission::JudgeReusedId(key) => Some(key),
            Admission::Skip => None,
        }
    }
}

/// The keys are already hashes: use their first bytes as they are.
#[derive(Clone, Copy, Default)]
struct KeyHasher;

impl std::hash::BuildHasher for KeyHasher {
    type Hasher = KeyHash;
    fn build_hasher(&self) -> KeyHash {
        KeyHash(0)
    }
}

struct KeyHash(u64);

impl std::hash::Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
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
            ids: HashSet::default(),
            previous_ids: HashSet::default(),
            capacity: capacity.max(1),
            id_keys: Default::default(),
        }
    }

    /// Whether, and how, this event is to be judged now.
    pub fn admit(&mut self, event: &AuditEvent) -> Admission {
        use std::hash::BuildHasher;
        if event.stage == "RequestReceived" {
            return Admission::Skip;
        }
        let key = request_key(event);
        if event.audit_id.is_empty() {
            return Admission::Judge(key);
        }
        if self.current.contains(&key) || self.previous.contains(&key) {
            return Admission::Skip;
        }
        let id = self.id_keys.hash_one((&event.cluster, &event.audit_id));
        let reused = self.ids.contains(&id) || self.previous_ids.contains(&id);
        self.insert(key, Some(id));
        if reused {
            Admission::JudgeReusedId(key)
        } else {
            Admission::Judge(key)
        }
    }

    /// Whether this runtime event is to be judged now: once, however often it is resent.
    pub fn admit_runtime(&mut self, event: &crate::RuntimeEvent) -> Admission {
        let key = runtime::runtime_key(event);
        if self.current.contains(&key) || self.previous.contains(&key) {
            return Admission::Skip;
        }
        self.insert(key, None);
        Admission::Judge(key)
    }

    /// Remembers a request judged earlier (by a previous run), so its resend is skipped.
    pub fn remember(&mut self, key: RequestKey) {
        if !self.current.contains(&key) && !self.previous.contains(&key) {
            self.insert(key, None);
        }
    }

    fn insert(&mut self, key: RequestKey, id: Option<u64>) {
        if self.current.len() >= self.capacity {
            self.previous = std::mem::take(&mut self.current);
            self.previous_ids = std::mem::take(&mut self.ids);
        }
        self.current.insert(key);
        if let Some(id) = id {
            self.ids.insert(id);
        }
    }
}

#[cfg(test)]
mod tests;
