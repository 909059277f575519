//! A rule that traps, loops forever or eats memory fails alone: the run completes, the
//! other rules' findings are intact, and the failing rule is counted and quarantined.

use std::sync::atomic::Ordering;
use std::time::Duration;

use peregrine::engine::EngineConfig;
use peregrine_e2e::{rules_dir, scan, scan_with, shipped_rules_dir, summarize, test_options};

fn positive_fixtures() -> Vec<std::path::PathBuf> {
    xtask::shipped_rules()
        .unwrap()
        .iter()
        .map(|c| c.dir.join("fixtures/positive.jsonl"))
        .collect()
}

#[test]
fn trapping_looping_and_memory_eating_rules_fail_alone() {
    let files = positive_fixtures();
    let expected = summarize(&scan(shipped_rules_dir(), &files).report);

    let dir = rules_dir(true, &["trap", "endless-loop", "memory-hog"]);
    let mut options = test_options(dir.path());
    options.intel_dir = Some(peregrine_e2e::workspace_path("tests/fixtures/intel"));
    options.engine = EngineConfig {
        timeout: Duration::from_millis(100),
        memory_limit: 32 << 20,
        ..options.engine
    };
    let scanned = scan_with(options, &files);
    let report = &scanned.report;
    assert_eq!(
        summarize(report),
        expected,
        "the good rules' findings are intact"
    );

    let stats = |name: &str| &report.rules.iter().find(|r| r.name == name).unwrap().stats;
    for bad in ["trap", "endless-loop", "memory-hog"] {
        assert!(stats(bad).is_quarantined(), "{bad} is quarantined");
        assert!(
            stats(bad).failures.load(Ordering::Relaxed) >= 5,
            "{bad} failures are counted"
        );
        assert_eq!(stats(bad).findings.load(Ordering::Relaxed), 0);
    }
    assert!(stats("endless-loop").timeouts.load(Ordering::Relaxed) >= 5);
    assert!(
        stats("memory-hog").out_of_memory.load(Ordering::Relaxed) >= 5,
        "{:?}",
        stats("memory-hog").last_error()
    );
    let trap_error = stats("trap").last_error().unwrap();
    assert!(
        trap_error.contains("fixture rule trapped on"),
        "the panic message is kept: {trap_error}"
    );
    for good in xtask::shipped_rules().unwrap() {
        let s = stats(&good.slug);
        assert_eq!(s.failures.load(Ordering::Relaxed), 0, "{}", good.slug);
        assert!(!s.is_quarantined());
    }
}

fn event(id: usize, user: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{{"username":"{user}","groups":["system:authenticated"]}},"sourceIPs":["10.0.0.{}"],"objectRef":{{"resource":"pods","namespace":"default","apiVersion":"v1"}},"responseStatus":{{"code":200}},"stageTimestamp":"2024-03-11T09:00:{:02}.000000Z"}}"#,
        id % 250,
        id % 60
    )
}

#[test]
fn one_poisonous_event_costs_only_its_own_judgement() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    // 100 events; every 10th is by the user that makes the rule panic.
    let lines: Vec<String> = (0..100)
        .map(|i| event(i, if i % 10 == 3 { "poison" } else { "alice" }))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();

    let rules = rules_dir(false, &["poison-pill"]);
    let mut options = test_options(rules.path());
    options.workers = 1;
    options.batch_size = 64;
    let report = scan_with(options, &[file]).report;
    let seen: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            f.service.additional_info["auditId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(seen.len(), 90, "every healthy event is still judged");
    assert!(
        seen.iter()
            .all(|id| id.trim_start_matches("id-").parse::<usize>().unwrap() % 10 != 3)
    );
    let stats = &report.rules[0].stats;
    assert_eq!(stats.failures.load(Ordering::Relaxed), 10);
    assert!(!stats.is_quarantined(), "failures were never consecutive");
}

#[test]
fn state_outlives_instances_and_is_shared_by_workers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let users = ["alice", "bob", "alice", "carol", "alice", "bob"];
    let lines: Vec<String> = users.iter().enumerate().map(|(i, u)| event(i, u)).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();

    let rules = rules_dir(false, &["state-counter"]);
    let mut options = test_options(rules.path());
    options.batch_size = 1;
    // Recycle the instance after every call: state must live in the host, not the guest.
    options.engine.recycle_after_calls = 1;
    let report = scan_with(options, &[file]).report;
    let mut seen_twice: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.resource
                    .kubernetes_details
                    .kubernetes_user_details
                    .as_ref()
                    .unwrap()
                    .username
                    .clone(),
                f.service.count,
            )
        })
        .collect();
    seen_twice.sort();
    assert_eq!(
        seen_twice,
        vec![("alice".to_string(), 2), ("bob".to_string(), 1)]
    );
}

#[test]
fn a_module_built_for_another_wit_version_is_refused_naming_both() {
    let dir = rules_dir(true, &["future-wit"]);
    let scanned = scan(dir.path(), &positive_fixtures());
    let refused: Vec<_> = scanned
        .notices
        .iter()
        .filter(|n| n.starts_with("rule not loaded"))
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", scanned.notices);
    assert!(
        refused[0].contains("future-wit.wasm: built against peregrine:rules@0.4.0, but this host implements peregrine:rules@0.3.0 (and still loads 0.2.0 and 0.1.0)"),
        "{}",
        refused[0]
    );
    assert_eq!(
        scanned.report.rules.len(),
        xtask::shipped_rules().unwrap().len(),
        "the other rules load"
    );
}

#[test]
fn a_module_built_against_0_2_still_judges_runtime_events() {
    let dir = rules_dir(false, &["previous-runtime-wit"]);
    let fixture = xtask::workspace_root()
        .join("rules/execution-runtime-suspicious-tool/fixtures/positive.jsonl");
    let scanned = scan_with(test_options(dir.path()), std::slice::from_ref(&fixture));
    let rule = scanned
        .report
        .rules
        .iter()
        .find(|r| r.name == "previous-runtime-wit")
        .unwrap_or_else(|| panic!("the 0.2.0 module loads: {:?}", scanned.notices));
    assert_eq!(rule.world, peregrine::engine::World::V0_2);
    // Its subscription has no conditions to narrow by: it is given every exec.
    let execs = peregrine_rules_sdk::testing::runtime_events_from_file(&fixture)
        .iter()
        .filter(|e| matches!(e.activity, peregrine_rules_sdk::Activity::Exec))
        .count();
    let found: Vec<_> = scanned
        .report
        .findings
        .iter()
        .filter(|f| f.finding_type == "Test:Fixture/PreviousRuntimeWorld")
        .collect();
    assert!(execs > 0);
    assert_eq!(found.len(), execs, "one finding per exec");
    assert!(found.iter().all(|f| f.description.starts_with("exec of /")));
}

#[test]
fn a_module_built_against_the_previous_world_still_judges_audit_events() {
    let dir = rules_dir(true, &["previous-wit"]);
    let mut options = test_options(dir.path());
    options.engine.settings = std::sync::Arc::new(
        [("fixture-label".to_string(), "from-the-operator".to_string())].into(),
    );
    let exec_fixture = xtask::workspace_root()
        .join("rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl");
    let scanned = scan_with(options, &[exec_fixture]);
    assert!(
        !scanned
            .notices
            .iter()
            .any(|n| n.starts_with("rule not loaded")),
        "{:?}",
        scanned.notices
    );
    let previous = scanned
        .report
        .rules
        .iter()
        .find(|r| r.name == "previous-wit")
        .expect("the 0.1.0 module loads");
    assert_eq!(previous.world, peregrine::engine::World::V0_1);
    assert!(
        scanned
            .report
            .rules
            .iter()
            .filter(|r| r.name != "previous-wit")
            .all(|r| r.world == peregrine::engine::World::Current)
    );

    // It judges the same execs the current exec rule does, with its own state and settings.
    let commands = |finding_type: &str| -> Vec<(String, Option<String>)> {
        let mut found: Vec<_> = scanned
            .report
            .findings
            .iter()
            .filter(|f| f.finding_type == finding_type)
            .map(|f| {
                (
                    f.service
                        .action
                        .kubernetes_api_call_action
                        .as_ref()
                        .unwrap()
                        .request_uri
                        .clone(),
                    f.service
                        .action
                        .kubernetes_api_call_action
                        .as_ref()
                        .unwrap()
                        .parameters
                        .clone(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let judged_old = commands("Test:Fixture/PreviousWorld");
    assert_eq!(judged_old.len(), 2, "{judged_old:?}");
    assert_eq!(
        judged_old,
        commands("Execution:Kubernetes/ExecInKubeSystemPod")
    );
    let mut descriptions: Vec<_> = scanned
        .report
        .findings
        .iter()
        .filter(|f| f.finding_type == "Test:Fixture/PreviousWorld")
        .map(|f| {
            assert_eq!(
                f.service.additional_info.get("label"),
                Some(&serde_json::json!("from-the-operator"))
            );
            f.description.clone()
        })
        .collect();
    descriptions.sort();
    assert_eq!(descriptions.len(), 2);
    assert!(
        descriptions[0].starts_with("exec number 1 by "),
        "{descriptions:?}"
    );
    assert!(
        descriptions[1].starts_with("exec number 2 by "),
        "{descriptions:?}"
    );
}
