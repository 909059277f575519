//! `peregrine serve` judging events as they arrive: the audit webhook fed the way
//! kube-apiserver feeds it, rule modules replaced while events stream in, and the metrics
//! and health endpoints.

use std::time::Duration;

use peregrine_e2e::live::{self, Sender, Server, event_list, numbered_events, wait_until};
use peregrine_e2e::{fixture_rule, rule_fixtures, rules_dir, summarize, workspace_path};
use serde_json::{Value, json};

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

/// `peregrine serve` over a SQLite file in `dir` with the modules in `rules`.
fn serve(dir: &std::path::Path, rules: &std::path::Path, extra: &[String]) -> Server {
    let mut args = vec![
        "--database-url".to_string(),
        format!("sqlite://{}?mode=rwc", dir.join("peregrine.db").display()),
        "--rules".into(),
        rules.display().to_string(),
    ];
    args.extend_from_slice(extra);
    Server::start(PEREGRINE, &args)
}

/// `(type, username, count)` of each finding, sorted.
fn rows(findings: &[Value]) -> Vec<(String, String, u64)> {
    let mut rows: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap().to_string(),
                f["resource"]["kubernetesDetails"]["kubernetesUserDetails"]["username"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
                f["service"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn webhook_batches_as_the_apiserver_sends_them_are_judged_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_dir(true, &[]);
    let server = serve(
        dir.path(),
        rules.path(),
        &[
            "--intel".into(),
            workspace_path("tests/fixtures/intel").display().to_string(),
        ],
    );

    // Every shipped rule's positive fixture, in EventList batches (batch mode).
    let files = rule_fixtures("positive");
    let mut events: Vec<Value> = Vec::new();
    for file in &files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            if !line.trim().is_empty() {
                events.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    let (last, batched) = events.split_last().unwrap();
    for chunk in batched.chunks(25) {
        let (status, body) = server.post_audit(&event_list(chunk));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["accepted"], chunk.len(), "{body}");
    }
    // Blocking mode sends one event at a time.
    let (status, body) = server.post_audit(&last.to_string());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1);

    // The findings served are exactly those a scan of the same events gives.
    let scanned = peregrine_e2e::scan(rules.path(), &files);
    let mut expected: Vec<(String, String, u64)> = summarize(&scanned.report)
        .into_iter()
        .map(|(t, u, _, n)| (t, u, n))
        .collect();
    expected.sort();
    assert!(expected.len() >= 35, "{expected:?}");
    let served = server.all_findings(None);
    assert_eq!(rows(&served), expected);
    assert!(
        served
            .iter()
            .all(|f| f["resource"]["eksClusterDetails"]["name"] == "test"),
        "the cluster is named by the webhook path"
    );

    // Sent again (the apiserver retrying a batch it thinks failed): recognised, not
    // judged or counted twice.
    let (status, body) = server.post_audit(&event_list(&batched[..25]));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["judged"], 0, "{body}");
    assert_eq!(rows(&server.all_findings(None)), expected);

    // Refusals are clear and in the Status shape the apiserver reads.
    let (status, body) = server.post_audit_as("test", "wrong-token", &event_list(&batched[..1]));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["kind"], "Status");
    let (status, _) =
        server.post_audit_as("other", live::CLUSTER_TOKEN, &event_list(&batched[..1]));
    assert_eq!(
        status, 401,
        "a cluster's token is good for its own cluster only"
    );
    let (status, body) = server.post_audit("{\"kind\":\"EventList\",\"items\":[");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("not JSON"),
        "{body}"
    );
    let (status, body) = server.post_audit(r#"{"kind":"EventList","items":[{"hello":1}]}"#);
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.post_audit_as("bad%20name", live::CLUSTER_TOKEN, "{}");
    assert_eq!(status, 400, "{body}");

    // A CloudWatch Logs subscription payload, gzipped as CloudWatch sends it; the path
    // names the cluster, whatever log group the payload names.
    let mut subscription = json!({
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/eks/elsewhere/cluster",
        "logEvents": [{"id": "1", "timestamp": 0, "message": numbered_events("cw", 1)[0].to_string()}],
    });
    subscription["owner"] = json!("111122223333");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, subscription.to_string().as_bytes()).unwrap();
    let (status, body) = server.post_audit_bytes(gz.finish().unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");

    // Health, readiness and metrics.
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200, "{body}");
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    let metrics = metrics.as_str().unwrap().to_string();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        value("peregrine_events_received_total{kind=\"webhook\",cluster=\"test\"}"),
        (events.len() + 25 + 1) as f64
    );
    assert_eq!(
        value("peregrine_webhook_responses_total{code=\"401\"}"),
        2.0
    );
    assert_eq!(value("peregrine_store_up"), 1.0);
    assert_eq!(value("peregrine_queued_events"), 0.0);
    assert!(value("peregrine_ack_seconds_count") >= 1.0);
    assert!(
        value("peregrine_findings_total{type=\"Execution:Kubernetes/ExecInKubeSystemPod\"}") >= 1.0
    );
    assert!(
        metrics.contains(
            "peregrine_rule_evaluations_total{rule=\"execution-exec-in-kube-system-pod\""
        )
    );
    let unauthenticated = ureq::get(format!("{}/metrics", server.url)).call();
    assert!(unauthenticated.is_err(), "metrics need a token");
}

#[test]
fn a_module_replaced_while_events_stream_in_judges_every_event_after_the_swap() {
    let dir = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    let module = rules.path().join("echo.wasm");
    std::fs::copy(fixture_rule("echo-one"), &module).unwrap();
    let server = serve(dir.path(), rules.path(), &[]);
    let one = server.module_version("echo").unwrap();

    let mut sender = Sender::new(&server, "reload");
    for _ in 0..10 {
        sender.send_batch(25);
    }
    // Replace the module in place while a second thread keeps events coming.
    let before_swap = sender.sent.len();
    let streamed = std::thread::scope(|scope| {
        let streaming = scope.spawn(|| {
            let mut sender = Sender::new(&server, "during");
            let mut after_swap = 0;
            while after_swap < 10 {
                sender.send_batch(10);
                if server.module_version("echo").is_some_and(|v| v != one) {
                    after_swap += 1;
                }
                assert!(sender.sent.len() < 100_000, "the new version never ran");
            }
            sender.sent
        });
        std::thread::sleep(Duration::from_millis(200));
        std::fs::copy(fixture_rule("echo-two"), &module).unwrap();
        streaming.join().unwrap()
    });
    wait_until("the new version to run", Duration::from_secs(30), || {
        server.module_version("echo").is_some_and(|v| v != one)
    });
    let two = server.module_version("echo").unwrap();
    for _ in 0..10 {
        sender.send_batch(25);
    }

    // A corrupt module dropped in place of the working one: refused, reported, and the
    // working version keeps judging.
    std::fs::write(&module, b"\0asm\x0d\0\x01\0 truncated component").unwrap();
    wait_until(
        "the failure to be reported",
        Duration::from_secs(30),
        || {
            let (_, rules) = server.get("/v1/rules");
            rules["failed"].as_array().is_some_and(|f| !f.is_empty())
        },
    );
    let (_, listed) = server.get("/v1/rules");
    let failure = listed["failed"][0]["error"].as_str().unwrap();
    assert!(failure.contains("echo.wasm"), "{failure}");
    assert_eq!(server.module_version("echo").as_deref(), Some(two.as_str()));
    assert!(
        server.log().contains("the previous version keeps running"),
        "{}",
        server.log()
    );
    let after_corrupt = sender.sent.len();
    for _ in 0..4 {
        sender.send_batch(25);
    }

    // Every event judged exactly once; each by one version; "one" before the swap and
    // "two" after it, never back.
    let verdicts = live::echo_verdicts(&server);
    assert_eq!(verdicts.len(), sender.sent.len() + streamed.len());
    assert!(
        verdicts.values().all(|(_, count)| *count == 1),
        "an event was judged twice"
    );
    let versions =
        |ids: &[String]| -> Vec<String> { ids.iter().map(|id| verdicts[id].0.clone()).collect() };
    let sequential = versions(&sender.sent);
    assert!(sequential[..before_swap].iter().all(|v| v == "one"));
    assert!(sequential[before_swap..].iter().all(|v| v == "two"));
    assert!(sequential[after_corrupt..].iter().all(|v| v == "two"));
    let during = versions(&streamed);
    let switch = during
        .iter()
        .position(|v| v == "two")
        .unwrap_or(during.len());
    assert!(during[switch..].iter().all(|v| v == "two"), "{during:?}");
    assert!(
        switch > 0,
        "the swap happened while events streamed in: {during:?}"
    );

    // Removing the module stops it; a new one appears without a restart.
    std::fs::remove_file(&module).unwrap();
    wait_until("the module to be dropped", Duration::from_secs(30), || {
        server.module_version("echo").is_none()
    });
    std::fs::copy(
        fixture_rule("echo-one"),
        rules.path().join("echo-again.wasm"),
    )
    .unwrap();
    wait_until("the module to be added", Duration::from_secs(30), || {
        server.module_version("echo-again").is_some()
    });
}

#[test]
fn rule_state_survives_a_reload_of_its_module() {
    let dir = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    let module = rules.path().join("state-counter.wasm");
    std::fs::copy(fixture_rule("state-counter"), &module).unwrap();
    let server = serve(dir.path(), rules.path(), &[]);
    let events = numbered_events("state", 2);
    let (status, _) = server.post_audit(&event_list(&events[..1]));
    assert_eq!(status, 200);
    assert!(
        server
            .all_findings(Some("Test:Fixture/SeenTwice"))
            .is_empty()
    );

    // The same module written again: a reload (a new instance, a fresh module load).
    let before = server.get("/v1/rules").1["generation"].as_u64().unwrap();
    std::fs::write(
        &module,
        std::fs::read(fixture_rule("state-counter")).unwrap(),
    )
    .unwrap();
    wait_until("the reload", Duration::from_secs(30), || {
        server.get("/v1/rules").1["generation"].as_u64().unwrap() > before
    });
    let mut second = events[1].clone();
    second["user"] = events[0]["user"].clone();
    let (status, _) = server.post_audit(&event_list(&[second]));
    assert_eq!(status, 200);
    assert_eq!(
        server.all_findings(Some("Test:Fixture/SeenTwice")).len(),
        1,
        "the reloaded module remembers the user"
    );
}

#[test]
fn threat_lists_dropped_into_the_intel_directory_apply_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let intel = tempfile::tempdir().unwrap();
    let rules = rules_dir(true, &[]);
    let server = serve(
        dir.path(),
        rules.path(),
        &["--intel".into(), intel.path().display().to_string()],
    );
    let fixture = workspace_path("rules/discovery-malicious-ip-caller/fixtures/positive.jsonl");
    let template: Value = serde_json::from_str(
        std::fs::read_to_string(fixture)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let call = |id: &str| {
        let mut event = template.clone();
        event["auditID"] = json!(id);
        let (status, body) = server.post_audit(&event_list(&[event]));
        assert_eq!(status, 200, "{body}");
    };
    call("before-the-list");
    assert!(server.all_findings(None).is_empty());

    std::fs::write(intel.path().join("malicious.txt"), "45.155.205.233\n").unwrap();
    wait_until("the lists to reload", Duration::from_secs(30), || {
        let (_, metrics) = server.get("/metrics");
        metrics
            .as_str()
            .unwrap()
            .contains("peregrine_intel_reloads_total{result=\"loaded\"} 1")
    });
    call("after-the-list");
    let types: Vec<String> = server
        .all_findings(None)
        .iter()
        .map(|f| f["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["Discovery:Kubernetes/MaliciousIPCaller"]);
}

#[test]
fn without_rules_events_wait_instead_of_being_taken_unjudged() {
    let dir = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let file_events = numbered_events("waiting-file", 5);
    let text: String = file_events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&log, text).unwrap();
    let server = serve(
        dir.path(),
        rules.path(),
        &["--follow".into(), log.display().to_string()],
    );
    let events = numbered_events("waiting-hook", 3);
    let (status, body) = server.post_audit(&event_list(&events));
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no rule modules"),
        "{body}"
    );
    assert_eq!(server.get("/readyz").0, 503);

    std::fs::copy(fixture_rule("echo-one"), rules.path().join("echo.wasm")).unwrap();
    wait_until("the module", Duration::from_secs(30), || {
        server.module_version("echo").is_some()
    });
    let (status, body) = server.post_audit(&event_list(&events));
    assert_eq!(status, 200, "{body}");
    // The followed file waited too, and is judged now.
    wait_until("the file's events", Duration::from_secs(30), || {
        live::echo_verdicts(&server).len() == 8
    });
}
