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

/// A raw connection to `server`, for clients that do not behave.
fn connect(server: &Server) -> std::net::TcpStream {
    let address = server.url.trim_start_matches("http://");
    let stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    stream
}

/// The status code and body of the answer on `stream`, or `None` if the server closed it
/// (or did not answer in the stream's read timeout).
fn answer(stream: &mut std::net::TcpStream) -> Option<(u16, String)> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let code = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some((code, text))
}

fn send(stream: &mut std::net::TcpStream, bytes: &[u8]) {
    use std::io::Write;
    stream.write_all(bytes).unwrap();
}

#[test]
fn slow_or_unauthenticated_clients_do_not_hold_the_webhook() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        PEREGRINE,
        &[
            "--database-url".into(),
            format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display()),
            "--rules".into(),
            shipped_rules_dir().display().to_string(),
            "--read-timeout-secs".into(),
            "3".into(),
            "--read-token".into(),
            "a-reader".into(),
        ],
    );
    let events = |id: &str| event_list(&[list_pods(id, "dana")]).to_string();
    assert_eq!(server.post_audit(&events("warm-up")).0, 200);

    // More unauthenticated clients than the webhook has slots, each declaring a 60 MB body
    // and sending one byte: each is refused from its headers, none waits for a body.
    let mut strangers: Vec<_> = (0..24)
        .map(|_| {
            let mut stream = connect(&server);
            send(
                &mut stream,
                b"POST /v1/audit/test HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n{",
            );
            stream
        })
        .collect();
    for stream in &mut strangers {
        let (code, text) = answer(stream).expect("an unauthenticated client is answered at once");
        assert_eq!(code, 401, "{text}");
    }

    // Cluster `test`'s token holder opens more slow requests than the server has slots.
    let held = Instant::now();
    let mut slow: Vec<_> = (0..24)
        .map(|_| {
            let mut stream = connect(&server);
            send(
                &mut stream,
                format!("POST /v1/audit/test HTTP/1.1\r\nHost: p\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{", peregrine_e2e::live::CLUSTER_TOKEN).as_bytes(),
            );
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Another cluster still gets through while they are held.
    let (code, body) =
        server.post_audit_as("other", peregrine_e2e::live::ADMIN, &events("while-held"));
    assert_eq!(code, 200, "{body}");
    assert!(
        held.elapsed() < Duration::from_secs(3),
        "another cluster waited {:?} behind one cluster's slow requests",
        held.elapsed()
    );
    // The slow requests are cut off: a body not sent in time is 408, a request that found
    // no slot in time is 429, both retryable.
    let mut timed_out = 0;
    for stream in &mut slow {
        let (code, text) = answer(stream).expect("a slow request is answered");
        assert!(matches!(code, 408 | 429), "{text}");
        assert!(text.contains("\"kind\":\"Status\""), "{text}");
        timed_out += usize::from(code == 408);
    }
    assert!(
        timed_out >= peregrine::api::MAX_AUDIT_REQUESTS_PER_CLUSTER,
        "{timed_out} timed out"
    );
    assert!(
        held.elapsed() < Duration::from_secs(12),
        "{:?}",
        held.elapsed()
    );

    // Headers sent a byte at a time are cut off too.
    let mut trickle = connect(&server);
    let started = Instant::now();
    send(&mut trickle, b"POST /v1/audit/test HTTP/1.1\r\nHost: p\r\n");
    let cut = answer(&mut trickle);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a client that never finished its headers was held {:?} ({cut:?})",
        started.elapsed()
    );

    // A declared body over the limit is refused before it is sent.
    let mut big = connect(&server);
    send(
        &mut big,
        format!("POST /v1/audit/test HTTP/1.1\r\nHost: p\r\nAuthorization: Bearer {}\r\nContent-Length: 100000000\r\n\r\n", peregrine_e2e::live::CLUSTER_TOKEN).as_bytes(),
    );
    let (code, text) = answer(&mut big).expect("answered");
    assert_eq!(code, 413, "{text}");
    assert!(text.contains("RequestEntityTooLarge"), "{text}");

    // Any method but POST: 405 in the Status shape, saying which method.
    let response = ureq::get(&format!("{}/v1/audit/test", server.url))
        .header(
            "Authorization",
            format!("Bearer {}", peregrine_e2e::live::CLUSTER_TOKEN),
        )
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers().get("allow").unwrap(), "POST");
    let body: Value =
        serde_json::from_str(&response.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(body["kind"], "Status", "{body}");

    // The bearer scheme is case-insensitive, and HEAD is a read.
    let (code, body) = {
        let response = ureq::post(&format!("{}/v1/audit/test", server.url))
            .header(
                "Authorization",
                format!("bearer {}", peregrine_e2e::live::CLUSTER_TOKEN),
            )
            .config()
            .http_status_as_error(false)
            .build()
            .send(events("lower-case"))
            .unwrap();
        (
            response.status().as_u16(),
            response.into_body().read_to_string().unwrap(),
        )
    };
    assert_eq!(code, 200, "{body}");
    let response = ureq::head(&format!("{}/v1/findings", server.url))
        .header("Authorization", "Bearer a-reader")
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    // The server is still well.
    assert_eq!(server.post_audit(&events("after")).0, 200);
}
