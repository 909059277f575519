//! `peregrine scan` with the real rule modules over fixture files and real public audit
//! logs: exact finding types, users and workloads.

use std::collections::BTreeSet;

use peregrine_e2e::{files_in, rule_fixtures, scan, shipped_rules_dir, summarize, workspace_path};

fn row(t: &str, user: &str, workload: &str, count: u64) -> (String, String, String, u64) {
    (t.into(), user.into(), workload.into(), count)
}

/// The finding type each rule module declares, from the modules themselves.
fn shipped_types() -> BTreeSet<String> {
    scan(shipped_rules_dir(), &[])
        .report
        .rules
        .iter()
        .map(|r| r.finding_type().to_string())
        .collect()
}

/// The audit-log finding types (those of rules that take audit events).
fn audit_types() -> BTreeSet<String> {
    scan(shipped_rules_dir(), &[])
        .report
        .rules
        .iter()
        .filter(|r| r.descriptor.audit.is_some())
        .map(|r| r.finding_type().to_string())
        .collect()
}

#[test]
fn the_catalogue_has_all_35_audit_log_types() {
    let types = audit_types();
    assert_eq!(types.len(), 35, "{types:#?}");
    for anomaly in peregrine::simulate::accuracy::ANOMALY_TYPES {
        assert!(types.contains(anomaly), "{anomaly}");
    }
    for tactic in [
        "CredentialAccess",
        "DefenseEvasion",
        "Discovery",
        "Impact",
        "Persistence",
    ] {
        for caller in [
            "MaliciousIPCaller",
            "MaliciousIPCaller.Custom",
            "TorIPCaller",
            "SuccessfulAnonymousAccess",
        ] {
            assert!(
                types.contains(&format!("{tactic}:Kubernetes/{caller}")),
                "{tactic} {caller}"
            );
        }
    }
}

#[test]
fn a_mixed_file_raises_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = |kind: &str| {
        let path = dir.path().join(format!("{kind}.jsonl"));
        let text: String = rule_fixtures(kind)
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    let positive = scan(shipped_rules_dir(), &[mixed("positive")]);
    assert_eq!(positive.notices, Vec::<String>::new());
    let raised: BTreeSet<String> = positive
        .report
        .findings
        .iter()
        .map(|f| f.finding_type.clone())
        .collect();
    assert_eq!(raised, shipped_types());

    // A rule's negative fixture may hold calls that other rules rightly report (a Tor
    // caller's call of another tactic), so negatives are judged per rule below.
}

#[test]
fn each_rule_raises_its_type_on_its_positive_fixture_and_not_on_its_negative_one() {
    for rule in xtask::shipped_rules().unwrap() {
        let negative = scan(
            shipped_rules_dir(),
            &[rule.dir.join("fixtures/negative.jsonl")],
        )
        .report;
        let module = &negative.rules.iter().find(|r| r.name == rule.slug).unwrap();
        let wrong: Vec<_> = negative
            .findings
            .iter()
            .filter(|f| &f.finding_type == module.finding_type())
            .collect();
        assert!(
            wrong.is_empty(),
            "{} raised {wrong:#?} on its negative fixture",
            rule.slug
        );

        let report = scan(
            shipped_rules_dir(),
            &[rule.dir.join("fixtures/positive.jsonl")],
        )
        .report;
        let module = &report.rules.iter().find(|r| r.name == rule.slug).unwrap();
        let own: Vec<_> = report
            .findings
            .iter()
            .filter(|f| &f.finding_type == module.finding_type())
            .collect();
        assert!(
            !own.is_empty(),
            "{} raised nothing on its positive fixture",
            rule.slug
        );
        for f in &own {
            assert_eq!(f.service.additional_info["module"], rule.slug.as_str());
            assert_eq!(f.resource.eks_cluster_details.name, "test-cluster");
        }
    }
}

#[test]
fn threat_list_findings_name_their_list_and_caller() {
    let file = workspace_path("rules/discovery-malicious-ip-caller-custom/fixtures/positive.jsonl");
    let report = scan(shipped_rules_dir(), &[file]).report;
    let f = report
        .findings
        .iter()
        .find(|f| f.finding_type == "Discovery:Kubernetes/MaliciousIPCaller.Custom")
        .unwrap();
    assert_eq!(
        f.title,
        "Kubernetes API commonly used in Discovery tactics invoked from an IP address on a custom threat list scanners."
    );
    assert_eq!(f.severity, 5.0);
    assert_eq!(f.service.count, 3);
    assert_eq!(f.service.additional_info["threatListName"], "scanners");
    let evidence = f.service.evidence.as_ref().unwrap();
    assert_eq!(
        evidence.threat_intelligence_details[0].threat_list_name,
        "scanners"
    );
    let call = f
        .service
        .action
        .kubernetes_api_call_action
        .as_ref()
        .unwrap();
    assert_eq!(
        call.remote_ip_details
            .as_ref()
            .unwrap()
            .ip_address_v4
            .as_deref(),
        Some("203.0.113.66")
    );
}

#[test]
fn real_public_audit_logs() {
    let mut files = files_in("tests/fixtures/corpus/falco-k8s-audit-traces", "json");
    files.extend(files_in("tests/fixtures/corpus/audit2rbac-demo", "log"));
    let scanned = scan(shipped_rules_dir(), &files);
    let report = &scanned.report;
    // 51 events in the Falco traces, 757 + 37 in the audit2rbac logs.
    assert_eq!(report.events_read, 51 + 757 + 37);
    // Each request is judged once, at its outcome: not the 320 RequestReceived stages, and
    // not the 38 events another file already holds (the v1 demo log repeats events of the
    // full log, and some Falco traces share events). Two Falco traces hold one audit ID for
    // two different requests (the same namespace created by `system:anonymous` and by
    // `some-user`): both are judged.
    assert_eq!(report.events_judged, 51 + 437 + 37 - 38);
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
            // anonymous_creates_namespace_foo.json: system:anonymous created a namespace (201).
            row(
                "Impact:Kubernetes/SuccessfulAnonymousAccess",
                "system:anonymous",
                "-",
                1
            ),
            // create_nginx_pod_sensitive_mount*.json: /etc mounted writable.
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
            // create_nginx_pod_privileged*.json: the first privileged uses of nginx and of
            // mysql:latest; later privileged pods reuse those images.
            row(
                "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
                controller,
                "pods/default/nginx-deployment-544b59f8b8-ffkxm",
                1
            ),
            row(
                "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
                controller,
                "pods/default/nginx-deployment-5cdcc99dbf-rgw6z",
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
        .replace(r#""auditID":""#, r#""auditID":"day2-"#);
    let file = dir.path().join("two-days.jsonl");
    std::fs::write(&file, format!("{fixture}{day1}")).unwrap();
    let report = scan(shipped_rules_dir(), &[file]).report;
    assert_eq!(report.findings.len(), 1);
    let service = &report.findings[0].service;
    assert_eq!(service.count, 6);
    assert_eq!(service.event_first_seen, "2024-03-11T09:14:07.118Z");
    assert_eq!(service.event_last_seen, "2024-03-12T09:14:07.118Z");
}

#[test]
fn anomaly_findings_explain_themselves_and_carry_guardduty_action_details() {
    let fixture = |slug: &str| workspace_path(&format!("rules/{slug}/fixtures/positive.jsonl"));
    let report = scan(
        shipped_rules_dir(),
        &[
            fixture("privilege-escalation-anomalous-role-binding-created"),
            fixture("privilege-escalation-anomalous-role-created"),
        ],
    )
    .report;
    let find = |t: &str| {
        report
            .findings
            .iter()
            .find(|f| f.finding_type == t)
            .unwrap_or_else(|| panic!("no {t}"))
    };
    let binding = find("PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated");
    assert_eq!(binding.severity, 8.0, "cluster-admin makes it High");
    let details = binding
        .service
        .action
        .kubernetes_role_binding_details
        .as_ref()
        .unwrap();
    assert_eq!(
        (
            details.kind.as_str(),
            details.role_ref_kind.as_str(),
            details.role_ref_name.as_str()
        ),
        ("ClusterRoleBinding", "ClusterRole", "cluster-admin")
    );
    let anomaly = &binding.service.detection.as_ref().unwrap().anomaly;
    assert_eq!(
        anomaly["unusual"]["behavior"]["user"]["network"]["profileSubtype"],
        "UNSEEN"
    );
    assert_eq!(
        anomaly["profiles"]["user"]["roleRef"][0]["observations"]["text"][0],
        "ClusterRole/edit"
    );
    let role = find("PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated");
    let details = role
        .service
        .action
        .kubernetes_role_details
        .as_ref()
        .unwrap();
    assert_eq!(details.kind, "ClusterRole");
    assert_eq!(details.name.as_deref(), Some("svc-b1f7"));
    assert_eq!(
        role.service.additional_info["excessivePermissions"],
        "* on *"
    );
}
