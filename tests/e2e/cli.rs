//! The `peregrine` command line as a user runs it.

use std::process::{Command, Output};

use peregrine_e2e::{rules_dir, shipped_rules_dir, workspace_path};

fn peregrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args(args)
        .output()
        .expect("the command runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn exec_fixture() -> String {
    workspace_path("rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl")
        .display()
        .to_string()
}

#[test]
fn jsonl_findings_carry_the_guardduty_fields() {
    let rules = shipped_rules_dir().display().to_string();
    let out = peregrine(&[
        "scan",
        "--rules",
        &rules,
        "--cluster",
        "prod",
        &exec_fixture(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let findings: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 2);
    let f = findings
        .iter()
        .find(|f| {
            f["resource"]["kubernetesDetails"]["kubernetesUserDetails"]["username"]
                == "kubernetes-admin"
        })
        .unwrap();
    assert_eq!(f["schemaVersion"], "2.0");
    assert_eq!(f["type"], "Execution:Kubernetes/ExecInKubeSystemPod");
    assert_eq!(f["severity"], 5.0);
    assert_eq!(
        f["title"],
        "A command was executed inside a pod in kube-system namespace."
    );
    assert_eq!(f["id"].as_str().unwrap().len(), 32);
    assert!(
        f["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/finding/{}", f["id"].as_str().unwrap()))
    );
    assert_eq!(f["resource"]["resourceType"], "EKSCluster");
    assert_eq!(f["resource"]["eksClusterDetails"]["name"], "prod");
    let user = &f["resource"]["kubernetesDetails"]["kubernetesUserDetails"];
    assert_eq!(
        user["groups"],
        serde_json::json!(["system:masters", "system:authenticated"])
    );
    let workload = &f["resource"]["kubernetesDetails"]["kubernetesWorkloadDetails"];
    assert_eq!(
        (
            workload["type"].as_str(),
            workload["name"].as_str(),
            workload["namespace"].as_str()
        ),
        (Some("pods"), Some("kube-proxy-7xk2p"), Some("kube-system"))
    );
    let call = &f["service"]["action"]["kubernetesApiCallAction"];
    assert_eq!(f["service"]["action"]["actionType"], "KUBERNETES_API_CALL");
    assert_eq!(call["verb"], "create");
    assert_eq!(call["subresource"], "exec");
    assert_eq!(call["statusCode"], 101);
    assert_eq!(call["sourceIPs"], serde_json::json!(["198.51.100.23"]));
    assert_eq!(call["remoteIpDetails"]["ipAddressV4"], "198.51.100.23");
    assert_eq!(call["parameters"], "sh -c cat /etc/kubernetes/admin.conf");
    assert!(call["userAgent"].as_str().unwrap().starts_with("kubectl/"));
    assert_eq!(f["service"]["count"], 1);
    assert_eq!(f["service"]["eventFirstSeen"], "2024-03-11T09:14:07.118Z");
    assert_eq!(f["service"]["resourceRole"], "TARGET");
    assert_eq!(f["service"]["archived"], false);
    assert_eq!(
        f["service"]["additionalInfo"]["module"],
        "execution-exec-in-kube-system-pod"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "scanned 4 events (2 judged, 0 malformed) with {} rules: 2 findings",
            xtask::shipped_rules().unwrap().len()
        )),
        "{stderr}"
    );
}

#[test]
fn table_format_is_readable() {
    let rules = shipped_rules_dir().display().to_string();
    let out = peregrine(&[
        "scan",
        "--rules",
        &rules,
        "--format",
        "table",
        &exec_fixture(),
    ]);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("SEVERITY  TYPE"));
    assert!(
        lines.iter().any(|l| l.starts_with(
            "Medium    Execution:Kubernetes/ExecInKubeSystemPod  1      kubernetes-admin"
        )),
        "{stdout}"
    );
}

#[test]
fn bad_rule_directories_and_inputs_get_clear_errors() {
    let out = peregrine(&["scan", "--rules", "/nonexistent/rules", &exec_fixture()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the rules directory /nonexistent/rules"));

    let empty = tempfile::tempdir().unwrap();
    let out = peregrine(&[
        "scan",
        "--rules",
        &empty.path().display().to_string(),
        &exec_fixture(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no rule modules loaded"),
        "{}",
        text(&out.stderr)
    );

    // Junk, a core module and a good module: the good one runs, the others are explained.
    let dir = rules_dir(false, &[]);
    std::fs::copy(
        shipped_rules_dir().join("execution-exec-in-kube-system-pod.wasm"),
        dir.path().join("exec.wasm"),
    )
    .unwrap();
    std::fs::write(dir.path().join("junk.wasm"), b"this is not wasm").unwrap();
    std::fs::write(dir.path().join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let rules = dir.path().display().to_string();
    let out = peregrine(&[
        "scan",
        "--rules",
        &rules,
        &exec_fixture(),
        "/nonexistent/audit.log",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable input file fails the run: {stderr}"
    );
    assert!(stderr.contains("junk.wasm: not a WebAssembly component: the file does not start with the WebAssembly magic number"), "{stderr}");
    assert!(
        stderr.contains("core.wasm: not a WebAssembly component: it is a core module"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read /nonexistent/audit.log"),
        "{stderr}"
    );
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "the loaded rule still ran"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let rules = shipped_rules_dir().display().to_string();
    let input = std::fs::read(exec_fixture()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args(["scan", "--rules", &rules, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 2);
}

/// `(severity, type, count)` rows of the README's quick-start summary: the code block after
/// "for a summary:".
fn readme_summary() -> Vec<(String, String, u64)> {
    let readme = std::fs::read_to_string(workspace_path("README.md")).unwrap();
    let after = readme
        .split_once("for a summary:")
        .expect("the README has a quick-start summary")
        .1;
    let block = after
        .split("```")
        .nth(1)
        .expect("the summary is a code block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [severity, kind, count] => (severity.into(), kind.into(), count.parse().unwrap()),
            _ => panic!("not a summary row: {l:?}"),
        })
        .collect()
}

/// The README's quick start, as `scan` (the same path as `serve --replay`): the sample
/// through the shipped rules with the sample threat lists gives the findings it lists.
#[test]
fn the_readme_quick_start_gives_the_findings_it_lists() {
    let rules = shipped_rules_dir().display().to_string();
    let intel = workspace_path("samples/intel").display().to_string();
    let sample = workspace_path("samples/attack-scenario.jsonl")
        .display()
        .to_string();
    let out = peregrine(&["scan", "--rules", &rules, "--intel", &intel, &sample]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // As the README's jq prints them: `.severity`, `.type`, `.service.count`.
    let mut found: Vec<(String, String, u64)> = text(&out.stdout)
        .lines()
        .map(|l| {
            let f: serde_json::Value = serde_json::from_str(l).unwrap();
            let severity = f["severity"].as_f64().unwrap();
            (
                format!("{severity}"),
                f["type"].as_str().unwrap().to_string(),
                f["service"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut listed = readme_summary();
    found.sort();
    listed.sort();
    assert_eq!(
        found, listed,
        "README.md's quick-start summary is not what the sample gives"
    );
}

#[test]
fn each_kind_of_failure_has_its_exit_status() {
    // Usage: an unknown flag, a missing argument.
    let out = peregrine(&["scan", "--no-such-flag", &exec_fixture()]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    let out = peregrine(&["scan"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    // Help is not a failure.
    assert!(peregrine(&["scan", "--help"]).status.success());

    // The store: nothing listens on port 1.
    let rules = shipped_rules_dir().display().to_string();
    let out = peregrine(&[
        "scan",
        "--rules",
        &rules,
        "--database-url",
        "postgres://postgres@127.0.0.1:1/none",
        &exec_fixture(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("peregrine: findings not stored: cannot connect to the database"),
        "{stderr}"
    );
    // The findings were judged and printed before the store failed.
    assert_eq!(text(&out.stdout).lines().count(), 2);

    // Unreadable input (the other file is judged) and no rule loaded keep their statuses.
    let out = peregrine(&[
        "scan",
        "--rules",
        &rules,
        &exec_fixture(),
        "/nonexistent.log",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let empty = tempfile::tempdir().unwrap();
    let out = peregrine(&[
        "scan",
        "--rules",
        &empty.path().display().to_string(),
        &exec_fixture(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
