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
        .filter(|e| judge.admit(e).judged().is_some())
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

/// Normalizes one runtime event from sensor JSON; panics with the reason if it is not one.
pub fn runtime_event(json: &str) -> crate::RuntimeEvent {
    use crate::normalize::runtime::{Parsed, normalize};
    let value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON: {e}"));
    match normalize(&Normalizer::new(TEST_CLUSTER), &value, Some(json)) {
        Ok(Parsed::Event(event)) => *event,
        other => panic!("not a runtime event: {other:?}"),
    }
}

/// The runtime events of a fixture file (Tetragon, Falco or Tracee JSON, a line or a
/// pretty-printed document each) as the host would judge them: each event once, with the
/// lineage of the processes before it and the fixture threat-list addresses marked.
pub fn runtime_events_from_file(path: impl AsRef<Path>) -> Vec<crate::RuntimeEvent> {
    use crate::normalize::runtime::{Parsed, ProcessTable, normalize};
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let normalizer = Normalizer::new(TEST_CLUSTER);
    let mut judge = JudgeOnce::default();
    let mut processes = ProcessTable::default();
    let mut events = Vec::new();
    for value in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
        let value = value.unwrap_or_else(|e| panic!("{}: bad JSON: {e}", path.display()));
        match normalize(&normalizer, &value, None) {
            Ok(Parsed::Event(mut event)) => {
                if judge.admit_runtime(&event).judged().is_some() {
                    processes.attach(&mut event);
                    mark_fixture_lists_runtime(&mut event);
                    events.push(*event);
                }
            }
            Ok(_) => {}
            Err(e) => panic!("{}: not a runtime event: {e}", path.display()),
        }
    }
    events
}

/// The marker of a fixture event that only sets the scene (an ancestor's exec, a file
/// written before it runs): its process's arguments hold `--setup`.
pub const SETUP_MARK: &str = "--setup";

/// Checks a runtime rule's `fixtures/positive.jsonl` and `fixtures/negative.jsonl` as the
/// shipped runtime rules' tests do: every line is an event (none is silently dropped);
/// each positive event of an activity the rule takes raises one finding, but the
/// [`SETUP_MARK`]ed ones; no negative event raises any. The rule's state starts empty for
/// each file. Returns the positive findings, for further checks.
pub fn check_runtime_fixtures<R: Rule>() -> Vec<Finding> {
    let wanted = R::descriptor()
        .runtime
        .expect("a runtime rule subscribes to runtime events")
        .activities;
    let events_of = |file: &str| {
        let lines = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        let events = runtime_events_from_file(file);
        assert_eq!(events.len(), lines, "{file}: every line is an event");
        events
    };
    crate::host::state::clear();
    let positive = events_of("fixtures/positive.jsonl");
    let attacks = positive
        .iter()
        .filter(|e| wanted.is_empty() || wanted.contains(&e.activity.kind()))
        .filter(|e| !e.process.arguments.iter().any(|a| a == SETUP_MARK))
        .count();
    assert!(attacks > 0, "the positive fixture holds no attack");
    let found = run_runtime::<R>(&positive);
    assert_eq!(found.len(), attacks, "positive fixture: {found:#?}");
    crate::host::state::clear();
    let negative = events_of("fixtures/negative.jsonl");
    assert_eq!(run_runtime::<R>(&negative), vec![], "negative fixture");
    found
}

/// Runs `R` over the runtime events of a fixture file, honouring its runtime
/// subscription as the host does, and returns the findings.
pub fn run_runtime_file<R: Rule>(path: impl AsRef<Path>) -> Vec<Finding> {
    run_runtime::<R>(&runtime_events_from_file(path))
}

/// Runs `R` over runtime events, honouring its runtime subscription as the host does.
pub fn run_runtime<R: Rule>(events: &[crate::RuntimeEvent]) -> Vec<Finding> {
    let Some(subscription) = R::descriptor().runtime else {
        return Vec::new();
    };
    let wanted: Vec<crate::RuntimeEvent> = events
        .iter()
        .filter(|e| crate::subscription::matches_runtime(&subscription, e))
        .cloned()
        .collect();
    R::evaluate_runtime_batch(&wanted)
}

/// Marks fixture indicators on a runtime event as the host marks them from its threat
/// lists: the socket's addresses ([`FIXTURE_LISTS`], [`FIXTURE_TRUSTED`]), the DNS name
/// asked for (or a domain it is under) and the executable's hash
/// ([`FIXTURE_RUNTIME_LISTS`]).
pub fn mark_fixture_lists_runtime(event: &mut crate::RuntimeEvent) {
    use crate::runtime::{Activity, Listing, ThreatCategory};
    let on_lists = |indicator: &str, matches: &dyn Fn(&str) -> bool| -> Vec<Listing> {
        let addresses = FIXTURE_LISTS.iter().map(|(ip, kind, name)| {
            let category = match kind {
                crate::ThreatListKind::Malicious => ThreatCategory::Malicious,
                crate::ThreatListKind::TorExitNode => ThreatCategory::TorExitNode,
                crate::ThreatListKind::Custom => ThreatCategory::Custom,
            };
            (*ip, category, *name)
        });
        addresses
            .chain(FIXTURE_RUNTIME_LISTS.iter().copied())
            .filter(|(entry, _, _)| matches(entry))
            .map(|(_, category, name)| Listing {
                category,
                name: name.to_string(),
            })
            .filter(|_| !indicator.is_empty())
            .collect()
    };
    if let Some(digest) = event.process.sha256.clone() {
        event.process.sha256_listed =
            on_lists(&digest, &|entry| entry.eq_ignore_ascii_case(&digest));
    }
    match &mut event.activity {
        Activity::Socket(socket) => {
            for address in [socket.remote.as_mut(), socket.local.as_mut()]
                .into_iter()
                .flatten()
            {
                if address.address == FIXTURE_TRUSTED {
                    address.trusted = true;
                    continue;
                }
                let ip = address.address.clone();
                address.listed = on_lists(&ip, &|entry| entry == ip);
            }
        }
        Activity::Dns(dns) => {
            let name = dns.query_name.trim_end_matches('.').to_ascii_lowercase();
            dns.listed = on_lists(&name, &|entry| {
                name == entry || name.ends_with(&format!(".{entry}"))
            });
        }
        _ => {}
    }
}

/// Domains and file hashes that fixtures use for listed runtime indicators, with the
/// category and name of the list the host would find them on (the sample intel directory
/// lists the same).
pub const FIXTURE_RUNTIME_LISTS: &[(&str, crate::runtime::ThreatCategory, &str)] = &[
    (
        "guarddutyc2activityb.com",
        crate::runtime::ThreatCategory::CommandAndControl,
        "c2-domains",
    ),
    (
        "198.51.100.77",
        crate::runtime::ThreatCategory::CryptoMining,
        "mining-pools",
    ),
    (
        "xmr.pool.example.net",
        crate::runtime::ThreatCategory::CryptoMining,
        "mining-pools",
    ),
    (
        "198.51.100.66",
        crate::runtime::ThreatCategory::BlackHole,
        "sinkholes",
    ),
    (
        "sinkhole.example.org",
        crate::runtime::ThreatCategory::BlackHole,
        "sinkholes",
    ),
    (
        "198.51.100.55",
        crate::runtime::ThreatCategory::DropPoint,
        "drop-points",
    ),
    (
        "drop.example.com",
        crate::runtime::ThreatCategory::DropPoint,
        "drop-points",
    ),
    (
        "qxkzjvbtrwplm.example.biz",
        crate::runtime::ThreatCategory::Dga,
        "dga-domains",
    ),
    (
        "driveby.example.net",
        crate::runtime::ThreatCategory::DriveBySource,
        "drive-by-sources",
    ),
    (
        "login-verify.example.info",
        crate::runtime::ThreatCategory::Phishing,
        "phishing-domains",
    ),
    (
        "abused.example.top",
        crate::runtime::ThreatCategory::Abused,
        "abused-domains",
    ),
    (
        "coins.example.biz",
        crate::runtime::ThreatCategory::CryptoReputation,
        "crypto-reputation",
    ),
    (
        "fresh.example.xyz",
        crate::runtime::ThreatCategory::Suspicious,
        "suspicious-domains",
    ),
    (
        "192.0.2.250",
        crate::runtime::ThreatCategory::TorRelay,
        "tor-relays",
    ),
    (
        "192.0.2.240",
        crate::runtime::ThreatCategory::TorRelay,
        "tor-relays",
    ),
    (
        "192.0.2.250",
        crate::runtime::ThreatCategory::TorGuard,
        "tor-guards",
    ),
    (
        "malware.example.cc",
        crate::runtime::ThreatCategory::Malicious,
        "Peregrine known malicious IPs",
    ),
    (
        "5f2b51ca2fdc5baa31ec02e002f69aec912bc2e41b1f8d45af1f7cba4ef8b6ad",
        crate::runtime::ThreatCategory::Malicious,
        "Peregrine known malicious IPs",
    ),
    (
        "0d4f1c2b3a5968778695a4b3c2d1e0f90817263544536271809a8b7c6d5e4f30",
        crate::runtime::ThreatCategory::Custom,
        "banned-tools",
    ),
];

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

pub use serde_json::{Value as JsonValue, json};

/// A synthetic audit event, for tests of rules that learn from many events: `verb` by
/// `user` from `ip` with `agent`, at a time given in seconds after a fixed start.
#[derive(Clone, Debug)]
pub struct Call(serde_json::Value);

/// When [`Call`] times start: 2024-06-01T00:00:00Z.
pub const CALLS_START: i64 = 1_717_200_000;

impl Call {
    pub fn new(verb: &str, user: &str, ip: &str, agent: &str) -> Self {
        Call(json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": "", "stage": "ResponseComplete", "requestURI": "/", "verb": verb,
            "user": {"username": user, "groups": ["system:authenticated"]},
            "sourceIPs": [ip], "userAgent": agent,
            "responseStatus": {"metadata": {}, "code": 200},
            "annotations": {"authorization.k8s.io/decision": "allow"},
        }))
        .at(0)
    }

    /// `second` seconds after [`CALLS_START`].
    pub fn at(mut self, second: i64) -> Self {
        let t = time::OffsetDateTime::from_unix_timestamp(CALLS_START + second)
            .expect("a valid time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a formattable time");
        self.0["requestReceivedTimestamp"] = json!(t);
        self.0["stageTimestamp"] = json!(t);
        self.0["auditID"] = json!(format!("call-{second}"));
        self
    }

    /// The object addressed; the request URI follows from it.
    pub fn on(mut self, resource: &str, namespace: Option<&str>, name: Option<&str>) -> Self {
        let (group, resource) = resource
            .split_once('.')
            .map_or(("", resource), |(r, g)| (g, r));
        let mut uri = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        if let Some(ns) = namespace {
            uri.push_str(&format!("/namespaces/{ns}"));
        }
        uri.push_str(&format!("/{resource}"));
        if let Some(name) = name {
            uri.push_str(&format!("/{name}"));
        }
        self.0["requestURI"] = json!(uri);
        self.0["objectRef"] = json!({"resource": resource, "namespace": namespace, "name": name,
            "apiGroup": group, "apiVersion": "v1"});
        self
    }

    pub fn subresource(mut self, subresource: &str, query: &str) -> Self {
        self.0["objectRef"]["subresource"] = json!(subresource);
        let uri = format!(
            "{}/{subresource}{query}",
            self.0["requestURI"].as_str().unwrap_or("")
        );
        self.0["requestURI"] = json!(uri);
        self
    }

    /// The object written or reviewed (request and response), at level RequestResponse.
    pub fn object(mut self, object: serde_json::Value) -> Self {
        self.0["level"] = json!("RequestResponse");
        self.0["requestObject"] = object.clone();
        self.0["responseObject"] = object;
        self
    }

    pub fn code(mut self, code: u16) -> Self {
        self.0["responseStatus"]["code"] = json!(code);
        if code == 403 {
            self.0["annotations"]["authorization.k8s.io/decision"] = json!("forbid");
        }
        self
    }

    /// The event as the host would hand it to a rule.
    pub fn event(&self) -> AuditEvent {
        Normalizer::new(TEST_CLUSTER)
            .event_from_value(&self.0)
            .unwrap_or_else(|e| panic!("not an audit event: {e}"))
    }
}

/// Habits for tests of anomaly rules: a person's office address and kubectl, a second
/// person on the same office network, and an attacker's network and agent.
pub const OFFICE_IP: &str = "198.51.100.21";
pub const COLLEAGUE_IP: &str = "198.51.100.22";
pub const KUBECTL: &str = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819";
pub const ATTACKER_IP: &str = "45.83.64.12";
pub const ATTACKER_AGENT: &str = "python-requests/2.31.0";

/// Runs `R` over the calls in order with an empty state store and default settings,
/// honouring its subscription, and returns each finding with the index of its call.
pub fn run_calls<R: Rule>(calls: &[Call]) -> Vec<(usize, Finding)> {
    run_calls_with::<R>(&[], calls)
}

/// [`run_calls`] with the given rule settings.
pub fn run_calls_with<R: Rule>(settings: &[(&str, &str)], calls: &[Call]) -> Vec<(usize, Finding)> {
    crate::state::clear();
    crate::settings::clear();
    for (name, value) in settings {
        crate::settings::set(name, value);
    }
    subscribed::<R>(calls)
        .into_iter()
        .filter_map(|(i, e)| R::evaluate(&e).map(|f| (i, f)))
        .collect()
}

/// The calls' events that `R` subscribes to, with their indexes.
fn subscribed<R: Rule>(calls: &[Call]) -> Vec<(usize, AuditEvent)> {
    let subscription = R::descriptor()
        .audit
        .unwrap_or_else(crate::AuditSubscription::any);
    calls
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.event()))
        .filter(|(_, e)| crate::subscription::matches(&subscription, e))
        .collect()
}

/// Runs `R` over the calls as the host does in a module, in batches of `size` events of
/// its subscription, and returns each finding with the index of its call.
pub fn run_calls_in_batches<R: Rule>(calls: &[Call], size: usize) -> Vec<(usize, Finding)> {
    crate::state::clear();
    crate::settings::clear();
    let wanted = subscribed::<R>(calls);
    let mut found = Vec::new();
    for chunk in wanted.chunks(size.max(1)) {
        let events: Vec<AuditEvent> = chunk.iter().map(|(_, e)| e.clone()).collect();
        for f in R::evaluate_batch(&events) {
            found.push((chunk[f.event_index as usize].0, f));
        }
    }
    found
}

/// `make(user, ip, agent)` once an hour for `hours` hours from the start, alternately
/// by `alice` (from [`OFFICE_IP`]) and `bob` (from [`COLLEAGUE_IP`]), both with
/// [`KUBECTL`]: two people's habits over days, past the default learning period.
pub fn habits(hours: i64, make: impl Fn(&str, &str, &str) -> Call) -> Vec<Call> {
    habits_every(3600, hours, make)
}

/// [`habits`] `times` times, once every `seconds`.
pub fn habits_every(
    seconds: i64,
    times: i64,
    make: impl Fn(&str, &str, &str) -> Call,
) -> Vec<Call> {
    (0..times)
        .map(|h| {
            let (user, ip) = if h % 2 == 0 {
                ("alice", OFFICE_IP)
            } else {
                ("bob", COLLEAGUE_IP)
            };
            make(user, ip, KUBECTL).at(h * seconds)
        })
        .collect()
}

/// The tests every anomaly rule shares. `$routine` makes the operation the two people
/// perform all the time (and one the rule may report), `$attack` the unusual one; both
/// are `fn(user, ip, agent) -> Call`.
#[macro_export]
macro_rules! anomaly_tests {
    ($rule:ty, routine: $routine:expr, attack: $attack:expr) => {
        mod anomaly_behaviour {
            use super::*;
            use $crate::testing::{
                ATTACKER_AGENT, ATTACKER_IP, COLLEAGUE_IP, KUBECTL, OFFICE_IP, habits, run_calls,
            };

            #[test]
            fn a_stolen_credential_used_from_a_new_network_and_agent_is_found() {
                let mut calls = habits(96, $routine);
                calls.push(($attack)("alice", ATTACKER_IP, ATTACKER_AGENT).at(100 * 3600));
                let found = run_calls::<$rule>(&calls);
                assert_eq!(found.len(), 1, "{found:#?}");
                let (index, finding) = &found[0];
                assert_eq!(*index, calls.len() - 1);
                let unusual: Vec<&str> =
                    finding.anomaly.iter().map(|f| f.feature.as_str()).collect();
                assert!(
                    unusual.contains(&"network") && unusual.contains(&"userAgent"),
                    "{unusual:?}"
                );
                let network = finding
                    .anomaly
                    .iter()
                    .find(|f| f.feature == "network" && f.scope == "user")
                    .unwrap();
                assert_eq!(network.unusual.profile_subtype, "UNSEEN");
                assert_eq!(network.unusual.text, vec!["45.83.64.0/24".to_string()]);
                assert_eq!(network.profile[0].text, vec!["198.51.100.0/24".to_string()]);
                assert!(
                    finding
                        .additional_info
                        .iter()
                        .any(|(k, _)| k == "anomalyScore")
                );
            }

            #[test]
            fn the_same_action_by_a_user_who_always_does_it_is_not_flagged() {
                let mut calls = habits(96, $routine);
                calls.push(($routine)("alice", OFFICE_IP, KUBECTL).at(100 * 3600));
                calls.push(($routine)("bob", COLLEAGUE_IP, KUBECTL).at(101 * 3600));
                assert_eq!(run_calls::<$rule>(&calls), vec![]);
            }

            #[test]
            fn nothing_is_flagged_during_learning() {
                // Two days' worth of habits in a day: enough operations, too short a time.
                let mut calls = $crate::testing::habits_every(900, 96, $routine);
                calls.push(($attack)("alice", ATTACKER_IP, ATTACKER_AGENT).at(25 * 3600));
                assert_eq!(run_calls::<$rule>(&calls), vec![]);
                // The period is a setting: shortened, the same calls are judged.
                let found = $crate::testing::run_calls_with::<$rule>(
                    &[("anomaly.learning-hours", "12")],
                    &calls,
                );
                assert_eq!(found.len(), 1, "{found:#?}");
            }

            #[test]
            fn one_new_thing_alone_is_not_enough() {
                let mut calls = habits(96, $routine);
                // Alice travels: a new network, her usual agent and work.
                calls.push(($routine)("alice", "192.0.2.77", KUBECTL).at(100 * 3600));
                // Bob upgrades kubectl: a new version of the same agent.
                calls.push(
                    ($routine)(
                        "bob",
                        COLLEAGUE_IP,
                        "kubectl/v1.31.0 (linux/amd64) kubernetes/9a1b2c3",
                    )
                    .at(101 * 3600),
                );
                assert_eq!(run_calls::<$rule>(&calls), vec![]);
            }

            #[test]
            fn an_intruder_returning_stays_unusual_and_a_lasting_change_is_learned() {
                let mut calls = habits(96, $routine);
                for h in 100..103 {
                    calls.push(($attack)("alice", ATTACKER_IP, ATTACKER_AGENT).at(h * 3600));
                }
                assert_eq!(
                    run_calls::<$rule>(&calls).len(),
                    3,
                    "every return is flagged"
                );
                // Bob moves to a new network and a new laptop for good: flagged until his
                // new habits have been seen often enough, then his own.
                let mut calls = habits(96, $routine);
                for h in 100..120 {
                    calls.push(
                        ($routine)("bob", "192.0.2.50", "kubectl/v1.31.0 (darwin/arm64)")
                            .at(h * 3600),
                    );
                }
                let found = run_calls::<$rule>(&calls);
                assert_eq!(
                    found.len() as u64,
                    $crate::anomaly::PROMOTE_AFTER,
                    "{found:#?}"
                );
            }

            #[test]
            fn an_identity_only_an_intruder_uses_stays_new_however_often_it_returns() {
                // A token nobody uses for this kind of work (a compromised pod's service
                // account), from a new network each time.
                let mut calls = habits(96, $routine);
                let token = "system:serviceaccount:web:frontend";
                for i in 0..30 {
                    let ip = format!("45.83.{}.12", 64 + i);
                    calls.push(($attack)(token, &ip, ATTACKER_AGENT).at((100 + i) * 3600));
                }
                assert_eq!(run_calls::<$rule>(&calls).len(), 30);
            }

            #[test]
            fn batches_are_judged_as_single_events_are() {
                let mut calls = habits(96, $routine);
                for h in 100..103 {
                    calls.push(($attack)("alice", ATTACKER_IP, ATTACKER_AGENT).at(h * 3600));
                    calls.push(($routine)("bob", COLLEAGUE_IP, KUBECTL).at(h * 3600 + 1));
                }
                let one_by_one = run_calls::<$rule>(&calls);
                assert_eq!(one_by_one.len(), 3);
                for size in [7, 64] {
                    let mut batched = $crate::testing::run_calls_in_batches::<$rule>(&calls, size);
                    for (_, f) in &mut batched {
                        f.event_index = 0;
                    }
                    assert_eq!(batched, one_by_one, "batches of {size}");
                }
            }

            #[test]
            fn refused_calls_are_neither_flagged_nor_learned() {
                let mut calls = habits(96, $routine);
                calls.push(
                    ($attack)("alice", ATTACKER_IP, ATTACKER_AGENT)
                        .code(403)
                        .at(100 * 3600),
                );
                assert_eq!(run_calls::<$rule>(&calls), vec![]);
            }
        }
    };
}
