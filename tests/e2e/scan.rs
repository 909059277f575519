//! `peregrine scan` with the real rule modules over fixture files and real public audit
//! logs: exact finding types, users and workloads.

use peregrine_e2e::{files_in, scan, shipped_rules_dir, summarize, workspace_path};

fn row(t: &str, user: &str, workload: &str, count: u64) -> (String, String, String, u64) {
    (t.into(), user.into(), workload.into(), count)
}

#[test]
fn every_rule_finds_its_positive_fixtures_and_nothing_else() {
    let files: Vec<_> = xtask::shipped_rules()
        .unwrap()
        .iter()
        .map(|c| c.dir.join("fixtures/positive.jsonl"))
        .collect();
    let scanned = scan(shipped_rules_dir(), &files);
    assert_eq!(scanned.notices, Vec::<String>::new());
    assert_eq!(
        summarize(&scanned.report),
        vec![
            row(
                "Discovery:Kubernetes/SuccessfulAnonymousAccess",
                "system:anonymous",
                "-",
                3
            ),
            row(
                "Execution:Kubernetes/ExecInKubeSystemPod",
                "alice@example.com",
                "pods/kube-system/coredns-5d78c9869d-q4lzt",
                1
            ),
            row(
                "Execution:Kubernetes/ExecInKubeSystemPod",
                "kubernetes-admin",
                "pods/kube-system/kube-proxy-7xk2p",
                1
            ),
            row(
                "Persistence:Kubernetes/ContainerWithSensitiveMount",
                "kubernetes-admin",
                "cronjobs/default/cleanup",
                1
            ),
            row(
                "Persistence:Kubernetes/ContainerWithSensitiveMount",
                "kubernetes-admin",
                "daemonsets/monitoring/node-agent",
                1
            ),
            row(
                "Persistence:Kubernetes/ContainerWithSensitiveMount",
                "kubernetes-admin",
                "pods/default/shell",
                1
            ),
            row(
                "Policy:Kubernetes/AnonymousAccessGranted",
                "kubernetes-admin",
                "-",
                1
            ),
            row(
                "Policy:Kubernetes/AnonymousAccessGranted",
                "kubernetes-admin",
                "-",
                1
            ),
            row(
                "Policy:Kubernetes/AnonymousAccessGranted",
                "kubernetes-admin",
                "-",
                1
            ),
        ]
    );
}

#[test]
fn negative_fixtures_raise_nothing() {
    let files: Vec<_> = xtask::shipped_rules()
        .unwrap()
        .iter()
        .map(|c| c.dir.join("fixtures/negative.jsonl"))
        .collect();
    let scanned = scan(shipped_rules_dir(), &files);
    assert!(
        scanned.report.events_judged > 15,
        "{}",
        scanned.report.events_judged
    );
    assert_eq!(summarize(&scanned.report), vec![]);
}

#[test]
fn real_public_audit_logs() {
    let mut files = files_in("tests/fixtures/corpus/falco-k8s-audit-traces", "json");
    files.extend(files_in("tests/fixtures/corpus/audit2rbac-demo", "log"));
    let scanned = scan(shipped_rules_dir(), &files);
    let report = &scanned.report;
    // 51 events in the Falco traces, 757 + 37 in the audit2rbac logs.
    assert_eq!(report.events_read, 51 + 757 + 37);
    // Each audit ID is judged once, at its outcome: not the 320 RequestReceived stages, and
    // not the 39 events whose audit IDs another file already holds (the v1 demo log repeats
    // events of the full log, and some Falco traces share events).
    assert_eq!(report.events_judged, 51 + 437 + 37 - 39);
    assert_eq!(report.malformed, 1);
    assert_eq!(scanned.notices.len(), 1);
    assert!(
        scanned.notices[0].contains("fal_01_003.json:1"),
        "{:?}",
        scanned.notices
    );
    let controller = "system:serviceaccount:kube-system:replicaset-controller";
    assert_eq!(
        summarize(report),
        vec![
            row(
                "Persistence:Kubernetes/ContainerWithSensitiveMount",
                controller,
                "pods/default/nginx-deployment-7d5b5dd9cf-t8ngb",
                1
            ),
            row(
                "Persistence:Kubernetes/ContainerWithSensitiveMount",
                controller,
                "pods/default/nginx-deployment-f7f486546-hzhsw",
                1
            ),
        ]
    );
}

#[test]
fn repeats_aggregate_into_one_finding_with_first_and_last_seen() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(workspace_path(
        "rules/discovery-successful-anonymous-access/fixtures/positive.jsonl",
    ))
    .unwrap();
    // The same anonymous reads on two days, with fresh audit IDs.
    let day1 = fixture
        .replace("2024-03-11", "2024-03-12")
        .replace("0000anon", "1111anon");
    let file = dir.path().join("two-days.jsonl");
    std::fs::write(&file, format!("{fixture}{day1}")).unwrap();
    let report = scan(shipped_rules_dir(), &[file]).report;
    assert_eq!(report.findings.len(), 1);
    let service = &report.findings[0].service;
    assert_eq!(service.count, 6);
    assert_eq!(service.event_first_seen, "2024-03-11T09:14:07.118Z");
    assert_eq!(service.event_last_seen, "2024-03-12T09:14:07.118Z");
}
