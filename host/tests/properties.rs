//! Property tests of what reads untrusted input: the event normalizer and the webhook's
//! document parser. Whatever the input (JSON of any shape, audit events with wrong types in
//! any field, NUL and other odd characters, huge numbers, deep nesting, arbitrary bytes),
//! they must not panic, and every input must come out as events, as malformed entries with
//! a reason, or refused with a reason.

use std::io::Write;
use std::sync::Arc;

use peregrine::ingest::{self, Item, Location};
use peregrine_rules_sdk::normalize::{JudgeOnce, Normalizer, request_key};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        // A failure is reported with the input that shows it, not minimized for minutes.
        max_shrink_iters: 2000,
        // Integration tests have no lib.rs for proptest to store failures beside.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings of any characters (NUL, surrogates' neighbours, controls, combining marks), and
/// the words audit events are made of, so the normalizer's interesting paths are taken.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        1 => Just(String::new()),
        1 => Just("\0".to_string()),
        4 => prop::sample::select(vec![
            "Event", "EventList", "Status", "PodList", "ResponseComplete", "ResponseStarted",
            "RequestReceived", "Panic", "RequestResponse", "Metadata", "create", "get", "patch",
            "update", "delete", "pods", "exec", "attach", "ephemeralcontainers", "deployments",
            "daemonsets", "cronjobs", "jobs", "rolebindings", "clusterrolebindings", "roles",
            "clusterroles", "services", "selfsubjectaccessreviews", "subjectaccessreviews",
            "selfsubjectrulesreviews", "kube-system", "system:anonymous", "system:masters",
            "cluster-admin", "LoadBalancer", "authorization.k8s.io/decision",
            "authorization.k8s.io/reason", "2024-03-11T09:14:07.118Z",
            "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00+23:59",
            "1970-01-01T00:00:00Z", "2024-02-30T25:61:61Z",
            "/api/v1/namespaces/kube-system/pods/p/exec?command=sh&command=%ZZ&stdin=true&tty=1",
            "/api/v1/pods/p/exec?command=%F0%9F&container=&&=&command", "?", "%", "203.0.113.9",
            "10.0.0.1", "::ffff:203.0.113.9", "fe80::1%eth0", "100.64.0.1", "not-an-ip",
            "/aws/eks/prod/cluster",
        ])
        .prop_map(String::from),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(i32::MAX as i64 + 1),
            json!(i32::MIN as i64 - 1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
        ]),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// An object with some of `fields`, each mostly of its own shape, sometimes anything.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    fields
        .into_iter()
        .map(|(name, shape)| {
            prop_oneof![
                4 => Just(None),
                35 => shape.prop_map(Some),
                // Rarely, or no event would normalize: there are dozens of fields.
                1 => any_json().prop_map(Some),
            ]
            .prop_map(move |v| v.map(|v| (name.to_string(), v)))
        })
        .collect::<Vec<_>>()
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

fn string() -> BoxedStrategy<Value> {
    text().prop_map(Value::String).boxed()
}

fn strings() -> BoxedStrategy<Value> {
    prop::collection::vec(text(), 0..4)
        .prop_map(|v| json!(v))
        .boxed()
}

fn list(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec(item, 0..3)
        .prop_map(Value::Array)
        .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::Bool).boxed()
}

fn map_of(value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec((text(), value), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
        .boxed()
}

fn user() -> BoxedStrategy<Value> {
    object(vec![
        ("username", string()),
        ("uid", string()),
        ("groups", strings()),
        ("extra", map_of(strings())),
    ])
}

fn metadata() -> BoxedStrategy<Value> {
    object(vec![
        ("name", string()),
        ("namespace", string()),
        ("uid", string()),
        ("labels", map_of(string())),
        ("annotations", map_of(string())),
    ])
}

fn pod_spec() -> BoxedStrategy<Value> {
    let container = object(vec![
        ("name", string()),
        ("image", string()),
        ("command", strings()),
        ("args", strings()),
        (
            "securityContext",
            object(vec![
                ("privileged", boolean()),
                ("allowPrivilegeEscalation", boolean()),
                ("runAsUser", number()),
                ("capabilities", object(vec![("add", strings())])),
            ]),
        ),
        (
            "volumeMounts",
            list(object(vec![
                ("name", string()),
                ("mountPath", string()),
                ("readOnly", boolean()),
            ])),
        ),
    ]);
    object(vec![
        ("containers", list(container.clone())),
        ("initContainers", list(container.clone())),
        ("ephemeralContainers", list(container)),
        ("hostNetwork", boolean()),
        ("hostPID", boolean()),
        ("hostIPC", boolean()),
        ("serviceAccountName", string()),
        (
            "volumes",
            list(object(vec![
                ("name", string()),
                ("hostPath", object(vec![("path", string())])),
            ])),
        ),
    ])
}

/// A request or response object of any of the kinds the normalizer decodes.
fn k8s_object() -> BoxedStrategy<Value> {
    let template = object(vec![("metadata", metadata()), ("spec", pod_spec())]);
    prop_oneof![
        any_json(),
        object(vec![
            ("kind", string()),
            ("metadata", metadata()),
            ("spec", pod_spec())
        ]),
        object(vec![
            ("kind", string()),
            ("metadata", metadata()),
            ("spec", object(vec![("template", template.clone())])),
        ]),
        object(vec![
            ("kind", string()),
            (
                "spec",
                object(vec![(
                    "jobTemplate",
                    object(vec![("spec", object(vec![("template", template)]))]),
                )]),
            ),
        ]),
        object(vec![
            ("kind", string()),
            ("metadata", metadata()),
            (
                "roleRef",
                object(vec![
                    ("apiGroup", string()),
                    ("kind", string()),
                    ("name", string()),
                ]),
            ),
            (
                "subjects",
                list(object(vec![
                    ("kind", string()),
                    ("name", string()),
                    ("namespace", string()),
                ])),
            ),
        ]),
        object(vec![
            ("kind", string()),
            (
                "rules",
                list(object(vec![
                    ("verbs", strings()),
                    ("apiGroups", strings()),
                    ("resources", strings()),
                    ("resourceNames", strings()),
                    ("nonResourceURLs", strings()),
                ])),
            ),
        ]),
        object(vec![
            ("metadata", metadata()),
            (
                "spec",
                object(vec![
                    ("type", string()),
                    ("selector", map_of(string())),
                    ("loadBalancerSourceRanges", strings()),
                    (
                        "ports",
                        list(object(vec![
                            ("port", number()),
                            ("nodePort", number()),
                            ("name", string()),
                        ])),
                    ),
                ]),
            ),
        ]),
        object(vec![(
            "spec",
            object(vec![
                (
                    "resourceAttributes",
                    object(vec![
                        ("verb", string()),
                        ("resource", string()),
                        ("namespace", string()),
                        ("group", string()),
                        ("subresource", string()),
                        ("name", string()),
                    ]),
                ),
                ("user", string()),
                ("groups", strings()),
            ]),
        )]),
    ]
    .boxed()
}

/// One of `words` mostly, else any string.
fn word(words: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => prop::sample::select(words).prop_map(|w| json!(w)),
        1 => string(),
    ]
    .boxed()
}

/// An audit event, every field of it possibly missing or of the wrong type.
fn audit_event() -> BoxedStrategy<Value> {
    object(vec![
        ("kind", word(&["Event"])),
        ("apiVersion", string()),
        ("auditID", string()),
        ("stage", string()),
        ("level", string()),
        ("verb", string()),
        ("requestURI", string()),
        ("user", user()),
        ("impersonatedUser", user()),
        ("sourceIPs", strings()),
        ("userAgent", string()),
        (
            "objectRef",
            object(vec![
                (
                    "resource",
                    word(&[
                        "pods",
                        "deployments",
                        "cronjobs",
                        "rolebindings",
                        "clusterroles",
                        "services",
                        "selfsubjectaccessreviews",
                    ]),
                ),
                (
                    "subresource",
                    word(&["", "exec", "attach", "ephemeralcontainers"]),
                ),
                ("namespace", string()),
                ("name", string()),
                ("uid", string()),
                ("apiGroup", string()),
                ("apiVersion", string()),
            ]),
        ),
        (
            "responseStatus",
            object(vec![(
                "code",
                prop_oneof![3 => (100..600i32).prop_map(Value::from), 1 => number()].boxed(),
            )]),
        ),
        ("requestObject", k8s_object()),
        ("responseObject", k8s_object()),
        ("requestReceivedTimestamp", string()),
        ("stageTimestamp", string()),
        ("annotations", map_of(string())),
    ])
}

/// What the webhook and log files carry: events, and the containers of events.
fn document() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => audit_event(),
        2 => list(audit_event()).prop_map(|items| json!({"kind": "EventList", "items": items})),
        1 => object(vec![
            ("kind", string()),
            ("items", list(audit_event())),
            ("metadata", any_json()),
        ]),
        1 => (
            string(),
            list(prop_oneof![
                audit_event().prop_map(|e| json!({"message": e.to_string()})),
                object(vec![("message", string()), ("timestamp", number())]),
            ].boxed()),
        )
            .prop_map(|(group, records)| json!({"logGroup": group, "logEvents": records})),
        1 => list(object(vec![("message", string())]))
            .prop_map(|records| json!({"events": records})),
        1 => any_json(),
    ]
    .boxed()
}

/// The text of a document, or of one mangled: a field made too deep for any parser, a
/// number no type holds, cut short, with a byte changed, or behind an export timestamp.
fn document_text() -> BoxedStrategy<Vec<u8>> {
    (document(), 0..8u8, any::<prop::sample::Index>(), 0..400usize, any::<u8>())
        .prop_map(|(doc, how, at, depth, byte)| {
            let text = doc.to_string();
            let mut bytes = text.clone().into_bytes();
            let i = at.index(bytes.len() + 1);
            match how {
                0 => {
                    let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
                    bytes = text.replacen("null", &deep, 1).into_bytes();
                    if !text.contains("null") {
                        bytes = format!(
                            r#"{{"kind":"EventList","items":[{text},{{"verb":"get","requestURI":"/","user":{deep}}}]}}"#
                        )
                        .into_bytes();
                    }
                }
                1 => {
                    let huge = ["1e999999", "-1e999999", "123456789012345678901234567890", "-0"]
                        [depth % 4];
                    bytes = text.replacen("0", huge, 1).into_bytes();
                }
                2 => bytes.truncate(i),
                3 if i < bytes.len() => bytes[i] = byte,
                // As CloudWatch Logs' S3 export writes a line.
                4 => bytes = format!("2024-03-11T09:14:07.118Z {text}").into_bytes(),
                _ => {}
            }
            bytes
        })
        .boxed()
}

fn bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        // Gzip's magic, then anything: a corrupt compressed body.
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| [&[0x1f, 0x8b][..], &b].concat()),
    ]
    .boxed()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn location() -> Location {
    Location {
        file: Arc::from("fuzz"),
        line: 1,
    }
}

/// The normalizer on one value, and what the pipeline then does with an event.
fn check_normalizer(value: &Value) -> Result<(), TestCaseError> {
    let normalizer = Normalizer::new("fuzz");
    let from_value = normalizer.event_from_value(value);
    let from_text = normalizer.event_from_json(&value.to_string());
    match (&from_value, &from_text) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a, b);
            // What the dispatcher does with every event.
            let mut once = JudgeOnce::default();
            let _ = request_key(a);
            let _ = once.admit(a);
        }
        (Err(a), Err(b)) => {
            prop_assert!(!a.0.is_empty());
            prop_assert!(!b.0.is_empty());
        }
        _ => prop_assert!(
            false,
            "from the value and from its text differ: {from_value:?} / {from_text:?}"
        ),
    }
    Ok(())
}

/// `parse_document` on `body`: refused with a reason, or every entry an event or malformed
/// with a reason: one entry per item of an `EventList` or record of a CloudWatch Logs
/// payload, and a document that is not a container is one entry.
fn check_document(body: &[u8]) -> Result<(), TestCaseError> {
    let (mut events, mut malformed) = (0usize, 0usize);
    let mut reasons_given = true;
    let result =
        ingest::parse_document(
            body,
            &location(),
            &Normalizer::new("fuzz"),
            &mut |item| match item {
                Item::Event(..) | Item::Runtime(..) => events += 1,
                Item::Owner(_) | Item::Dropped { .. } => {}
                Item::Malformed { reason, .. } => {
                    malformed += 1;
                    reasons_given &= !reason.is_empty();
                }
            },
        );
    prop_assert!(reasons_given, "a malformed entry without a reason");
    match result {
        Err(reason) => {
            prop_assert!(!reason.is_empty());
            prop_assert_eq!(events + malformed, 0, "refused after yielding entries");
        }
        Ok(()) if body.starts_with(&[0x1f, 0x8b]) => {}
        Ok(()) => {
            let Ok(value) = serde_json::from_slice::<Value>(body) else {
                // Too deep for a tree: read entry by entry; each counts once.
                prop_assert!(events + malformed > 0);
                return Ok(());
            };
            let records = |key| value.get(key).and_then(Value::as_array).map(Vec::len);
            let entries = if value.get("kind").and_then(Value::as_str) == Some("EventList") {
                records("items").unwrap_or(1)
            } else {
                records("logEvents").or(records("events")).unwrap_or(1)
            };
            prop_assert_eq!(events + malformed, entries, "{}", value);
        }
    }
    Ok(())
}

/// A line of a followed file or log, the way the followers read it.
fn check_line(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let mut reasons_given = true;
    let _ = ingest::audit::parse_line(
        text,
        &location(),
        &Normalizer::new("fuzz"),
        true,
        &mut |item| {
            if let Item::Malformed { reason, .. } = item {
                reasons_given &= !reason.is_empty();
            }
        },
    );
    prop_assert!(reasons_given, "a malformed line without a reason");
    Ok(())
}

/// The generator reaches the normalizer's paths: events that normalize, with objects
/// decoded and exec commands read.
#[test]
fn audit_event_shaped_values_are_mostly_events() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = audit_event();
    let normalizer = Normalizer::new("fuzz");
    let (mut events, mut objects, mut execs) = (0, 0, 0);
    for _ in 0..200 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        if let Ok(event) = normalizer.event_from_value(&value) {
            events += 1;
            objects += usize::from(event.object.is_some());
            execs += usize::from(event.exec.is_some());
        }
    }
    assert!(events > 20, "{events} of 200 are events");
    assert!(objects > 2, "{objects} of 200 decode an object");
    assert!(execs > 2, "{execs} of 200 are execs");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_normalizer_takes_any_event_shaped_value(value in audit_event()) {
        check_normalizer(&value)?;
    }

    #[test]
    fn the_normalizer_takes_any_json(value in any_json()) {
        check_normalizer(&value)?;
    }

    #[test]
    fn the_normalizer_takes_any_text(bytes in prop_oneof![document_text(), bytes()]) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = Normalizer::new("fuzz").event_from_json(&text) {
            prop_assert!(!e.0.is_empty());
        }
    }

    #[test]
    fn the_document_parser_accounts_for_every_document(body in document_text()) {
        check_document(&body)?;
        check_line(&body)?;
    }

    #[test]
    fn the_document_parser_takes_any_bytes(body in bytes()) {
        check_document(&body)?;
        check_line(&body)?;
    }

    #[test]
    fn the_document_parser_takes_gzipped_documents(body in document_text()) {
        check_document(&gzip(&body))?;
    }
}
