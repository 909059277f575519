//! What a hostile sender tried against `peregrine serve`, through the real binary: values
//! the store cannot hold, reused audit IDs, resends across restarts, slow and
//! unauthenticated clients, deeply nested entries.

use peregrine_e2e::db::TestDatabase;
use peregrine_e2e::live::{Server, event_list};
use peregrine_e2e::shipped_rules_dir;
use serde_json::{Value, json};

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

fn serve(database_url: &str) -> Server {
    Server::start(
        PEREGRINE,
        &[
            "--database-url".into(),
            database_url.into(),
            "--rules".into(),
            shipped_rules_dir().display().to_string(),
        ],
    )
}

fn postgres() -> TestDatabase {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(TestDatabase::postgres())
}

fn drop_database(db: TestDatabase) {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(db.cleanup());
}

/// An exec into a kube-system pod (ExecInKubeSystemPod) at its first outcome stage.
fn exec_in_kube_system(audit_id: &str, pod: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": audit_id, "stage": "ResponseStarted", "verb": "create",
        "requestURI": format!("/api/v1/namespaces/kube-system/pods/{pod}/exec?command=sh&container=c&stdin=true"),
        "user": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "sourceIPs": ["10.0.0.5"], "userAgent": "kubectl/v1.29.2",
        "objectRef": {"resource": "pods", "namespace": "kube-system", "name": pod, "apiVersion": "v1", "subresource": "exec"},
        "responseStatus": {"code": 101},
        "requestReceivedTimestamp": "2026-03-11T09:14:07.118000Z",
        "stageTimestamp": "2026-03-11T09:14:07.219000Z"
    })
}

/// A harmless `list pods`.
fn list_pods(audit_id: &str, username: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": audit_id, "stage": "ResponseComplete", "verb": "list",
        "requestURI": "/api/v1/namespaces/default/pods",
        "user": {"username": username, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.6"], "userAgent": "kubectl/v1.29.2",
        "objectRef": {"resource": "pods", "namespace": "default", "apiVersion": "v1"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-03-11T09:14:05.000000Z",
        "stageTimestamp": "2026-03-11T09:14:05.010000Z"
    })
}

/// A successful anonymous read of secrets (SuccessfulAnonymousAccess) in `namespace`.
fn anonymous_secrets(audit_id: &str, namespace: &str) -> Value {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": audit_id, "stage": "ResponseComplete", "verb": "list",
        "requestURI": format!("/api/v1/namespaces/{namespace}/secrets"),
        "user": {"username": "system:anonymous", "groups": ["system:unauthenticated"]},
        "sourceIPs": ["203.0.113.9"], "userAgent": "curl/8.5.0",
        "objectRef": {"resource": "secrets", "namespace": namespace, "apiVersion": "v1"},
        "responseStatus": {"code": 200},
        "annotations": {"authorization.k8s.io/decision": "allow"},
        "requestReceivedTimestamp": "2026-03-11T09:14:06.000000Z",
        "stageTimestamp": "2026-03-11T09:14:06.010000Z"
    })
}

fn types(server: &Server) -> Vec<(String, u64)> {
    let mut found: Vec<_> = server
        .all_findings(None)
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap().to_string(),
                f["service"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_nul_in_an_event_is_stored_and_ingestion_goes_on() {
    let db = postgres();
    let server = serve(&db.url);
    // A NUL in a username reaches rule state (the anomaly rules' profiles) and in a
    // namespace a finding's indexed columns; PostgreSQL's text holds no NUL.
    let (status, body) = server.post_audit(&event_list(&[
        list_pods("nul-1", "a\u{0}b"),
        anonymous_secrets("nul-2", "team\u{0}x"),
    ]));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["judged"], 2);
    // And everything after it is still taken and committed.
    let (status, body) = server.post_audit(&event_list(&[exec_in_kube_system("nul-3", "p")]));
    assert_eq!(
        (status, body["findings"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    let found = server.all_findings(None);
    // The finding's own JSON keeps the value exactly.
    let anonymous = found
        .iter()
        .find(|f| {
            f["type"]
                .as_str()
                .unwrap()
                .ends_with("/SuccessfulAnonymousAccess")
        })
        .expect("the finding of the event with a NUL in its namespace is stored");
    assert!(
        anonymous.to_string().contains(r"team\u0000x"),
        "{anonymous}"
    );
    let (status, _) = server.get("/readyz");
    assert_eq!(status, 200);
    drop(server);
    drop_database(db);
}

#[test]
fn a_reused_audit_id_does_not_hide_an_exec() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
    let (status, body) = server.post_audit(&event_list(&[list_pods("chosen-id", "dev")]));
    assert_eq!((status, body["judged"].as_u64()), (200, Some(1)), "{body}");
    let (status, body) = server.post_audit(&event_list(&[exec_in_kube_system("chosen-id", "p")]));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["judged"].as_u64(), body["findings"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(types(&server).contains(&("Execution:Kubernetes/ExecInKubeSystemPod".into(), 1)));
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("peregrine_audit_ids_reused_total 1"),
        "{metrics}"
    );
    // A true resend of the exec is still recognised.
    let (_, body) = server.post_audit(&event_list(&[exec_in_kube_system("chosen-id", "p")]));
    assert_eq!(body["judged"], 0);
}

#[test]
fn a_resend_after_a_restart_is_not_judged_again() {
    let db = postgres();
    let batch = event_list(&[
        exec_in_kube_system("resent-1", "p"),
        list_pods("resent-2", "dev"),
    ]);
    let server = serve(&db.url);
    let (status, body) = server.post_audit(&batch);
    assert_eq!(
        (status, body["findings"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    // The sender did not see the answer (a timeout) and retries after a restart.
    server.terminate();
    let server = serve(&db.url);
    let (status, body) = server.post_audit(&batch);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["judged"], 0, "{body}");
    assert_eq!(
        types(&server),
        vec![("Execution:Kubernetes/ExecInKubeSystemPod".to_string(), 1)]
    );
    // Even after kill -9.
    server.kill9();
    let server = serve(&db.url);
    let (_, body) = server.post_audit(&batch);
    assert_eq!(body["judged"], 0, "{body}");
    drop(server);
    drop_database(db);
}

#[test]
fn a_deeply_nested_entry_costs_only_itself_and_an_empty_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
    let mut deep = list_pods("deep", "dev");
    let mut nested = json!(1);
    for _ in 0..200 {
        nested = json!([nested]);
    }
    deep["user"]["extra"] = json!({ "x": nested });
    let body = event_list(&[
        exec_in_kube_system("ok-1", "p"),
        deep,
        list_pods("ok-2", "dev"),
    ]);
    let (status, body) = server.post_audit(&body);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["judged"].as_u64(), body["malformed"].as_u64()),
        (Some(2), Some(1)),
        "{body}"
    );
    for empty in [
        r#"{"kind":"EventList","items":[]}"#,
        r#"{"kind":"EventList","items":{}}"#,
    ] {
        let (status, body) = server.post_audit(empty);
        assert_eq!(
            (status, body["kind"].as_str()),
            (400, Some("Status")),
            "{body}"
        );
    }
}
