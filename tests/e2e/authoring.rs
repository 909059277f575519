//! The rule author's toolkit as an author uses it: `rules new` makes a project that builds
//! and whose tests pass unchanged, `rules test` runs the real module through the host and
//! shows what differs, `rules inspect` says what a module is and refuses what the host
//! would refuse.

use std::path::Path;
use std::process::{Command, Output};

use peregrine_e2e::cli::text;
use peregrine_e2e::{fixture_rule, shipped_rules_dir, workspace_path};

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

fn peregrine(args: &[&str]) -> Output {
    peregrine_e2e::cli::run(PEREGRINE, args)
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        // Shared between runs so the SDK is compiled once.
        .env(
            "CARGO_TARGET_DIR",
            workspace_path("target/rules-wasm/scaffold"),
        )
        .output()
        .unwrap()
}

#[test]
fn a_new_rust_rule_builds_and_its_tests_pass_unchanged() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("token-by-human");
    let out = peregrine(&[
        "rules",
        "new",
        "--lang",
        "rust",
        "--dir",
        dir.to_str().unwrap(),
        "token-by-human",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // Its native test.
    let out = cargo(&dir, &["test", "--quiet"]);
    assert!(out.status.success(), "{}", text(&out));
    // Its module, through the host, over its fixture.
    let out = cargo(
        &dir,
        &["build", "--release", "--target", "wasm32-wasip2", "--quiet"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let module =
        workspace_path("target/rules-wasm/scaffold/wasm32-wasip2/release/rule_token_by_human.wasm");
    let fixture = dir.join("fixtures/rule.test.json");
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        fixture.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 passed, 0 failed"), "{}", text(&out));
    let out = peregrine(&["rules", "inspect", module.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("Custom:Kubernetes/TokenByHuman"), "{shown}");
    assert!(shown.contains("subresources: token"), "{shown}");
    assert!(
        shown.contains("the host loads and runs this module"),
        "{shown}"
    );

    // A second project of the same name is refused, not overwritten.
    let out = peregrine(&[
        "rules",
        "new",
        "--dir",
        dir.to_str().unwrap(),
        "token-by-human",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    let out = peregrine(&["rules", "new", "Bad_Name"]);
    assert!(!out.status.success());
}

#[test]
fn rules_test_shows_what_differs_from_the_fixture() {
    let module = shipped_rules_dir().join("execution-exec-in-kube-system-pod.wasm");
    let events = workspace_path("rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl");
    let first: serde_json::Value = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["stage"] == "ResponseComplete")
        .unwrap();
    let id = first["auditID"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let right = dir.path().join("right.json");
    std::fs::write(
        &right,
        serde_json::json!({
            "events": [first],
            "findings": [{"type": "Execution:Kubernetes/ExecInKubeSystemPod", "auditId": id, "severity": 5.0}],
        })
        .to_string(),
    )
    .unwrap();
    let wrong = dir.path().join("wrong.json");
    std::fs::write(
        &wrong,
        serde_json::json!({
            "events": [first],
            "findings": [{"type": "Execution:Kubernetes/ExecInKubeSystemPod", "auditId": "another-event"}],
        })
        .to_string(),
    )
    .unwrap();
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        right.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("ok   ") && shown.contains("right.json"),
        "{shown}"
    );
    assert!(
        shown.contains("FAIL ") && shown.contains("wrong.json"),
        "{shown}"
    );
    assert!(
        shown.contains("- expected, not raised: {\"auditId\":\"another-event\""),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("+ raised, not expected: {{\"auditId\":\"{id}\"")),
        "{shown}"
    );
    assert!(shown.contains("2 fixtures: 1 passed, 1 failed"), "{shown}");

    // A fixture with a misspelt field is an error, not a silent pass.
    let typo = dir.path().join("typo.json");
    std::fs::write(&typo, r#"{"events": [], "finding": []}"#).unwrap();
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        typo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a fixture"), "{}", text(&out));
}

#[test]
fn rules_inspect_refuses_what_the_host_would_refuse() {
    let out = peregrine(&[
        "rules",
        "inspect",
        fixture_rule("future-wit").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("REFUSED"), "{shown}");
    assert!(
        shown.contains(
            "built against peregrine:rules@0.4.0, but this host implements peregrine:rules@0.3.0"
        ),
        "names both versions: {shown}"
    );

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let out = peregrine(&["rules", "inspect", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("not a WebAssembly component"),
        "{}",
        text(&out)
    );
}

#[test]
fn rules_inspect_names_the_world_a_module_targets() {
    let old = peregrine(&[
        "rules",
        "inspect",
        fixture_rule("previous-wit").to_str().unwrap(),
    ]);
    let shown = text(&old);
    assert_eq!(old.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("world:        peregrine:rules@0.1.0 rule (a previous contract"),
        "{shown}"
    );
    assert!(shown.contains("runtime:      none"), "{shown}");
    assert!(
        shown.contains("the host loads and runs this module"),
        "{shown}"
    );

    let current = peregrine(&[
        "rules",
        "inspect",
        fixture_rule("echo-one").to_str().unwrap(),
    ]);
    let shown = text(&current);
    assert_eq!(current.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("world:        peregrine:rules@0.3.0 rule\n"),
        "{shown}"
    );
}

#[test]
fn rules_test_judges_runtime_fixtures_as_the_host_does() {
    let module = shipped_rules_dir().join("backdoor-runtime-c-and-c-activity-b.wasm");
    let dir = tempfile::tempdir().unwrap();
    // The sensor's lines in a file, and the list the fixture brings.
    let fixture = dir.path().join("cc.test.json");
    std::fs::write(
        &fixture,
        serde_json::json!({
            "eventsFile": workspace_path("rules/backdoor-runtime-c-and-c-activity-b/fixtures/positive.jsonl"),
            "threatLists": {"malicious": ["45.155.205.233"], "custom": {"scanners": ["203.0.113.66"]}},
            "findings": [
                {"type": "Backdoor:Runtime/C&CActivity.B", "executablePath": "/tmp/go-build3518135900/b001/exe/main"},
                {"type": "Backdoor:Runtime/C&CActivity.B", "executablePath": "/tmp/go-build3518135900/b001/exe/main"},
                {"type": "Backdoor:Runtime/C&CActivity.B", "executablePath": "/usr/bin/curl"},
                {"type": "Backdoor:Runtime/C&CActivity.B", "executablePath": "/usr/bin/python3.11"},
            ],
        })
        .to_string(),
    )
    .unwrap();
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        fixture.to_str().unwrap(),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("ok   ") && shown.contains("4 events (4 judged), 4 findings"),
        "{shown}"
    );

    // Without the lists nothing is listed, and the fixture says what is missing.
    let bare = dir.path().join("bare.test.json");
    std::fs::write(
        &bare,
        serde_json::json!({
            "eventsFile": workspace_path("rules/backdoor-runtime-c-and-c-activity-b/fixtures/positive.jsonl"),
            "findings": [{"type": "Backdoor:Runtime/C&CActivity.B", "executablePath": "/usr/bin/curl"}],
        })
        .to_string(),
    )
    .unwrap();
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        bare.to_str().unwrap(),
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("- expected, not raised: {\"executablePath\":\"/usr/bin/curl\""),
        "{shown}"
    );

    // Lists of a runtime category: domains for a DNS rule.
    let dns_module = shipped_rules_dir().join("backdoor-runtime-c-and-c-activity-b-dns.wasm");
    let dns = dir.path().join("dns.test.json");
    let write_dns = |category: &str| {
        std::fs::write(
            &dns,
            serde_json::json!({
                "eventsFile": workspace_path("rules/backdoor-runtime-c-and-c-activity-b-dns/fixtures/positive.jsonl"),
                "threatLists": {"categories": {category: {"c2-domains": ["guarddutyc2activityb.com"]}}},
                "findings": [
                    {"type": "Backdoor:Runtime/C&CActivity.B!DNS"},
                    {"type": "Backdoor:Runtime/C&CActivity.B!DNS", "executablePath": "/usr/bin/curl"},
                    {"type": "Backdoor:Runtime/C&CActivity.B!DNS"},
                ],
            })
            .to_string(),
        )
        .unwrap();
    };
    write_dns("command-and-control");
    let run = || {
        peregrine(&[
            "rules",
            "test",
            dns_module.to_str().unwrap(),
            dns.to_str().unwrap(),
        ])
    };
    let out = run();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("3 events (3 judged), 3 findings"), "{shown}");
    write_dns("botnets");
    let out = run();
    let shown = text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("no list category \"botnets\""), "{shown}");
}
