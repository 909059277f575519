//! `peregrine intel update` against a local HTTP server, and threat lists in every format
//! reaching the rules.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

use peregrine_e2e::{scan_with, shipped_rules_dir, test_options, workspace_path};

/// Serves `routes` (path -> (status, body)) on a loopback port until the test ends.
fn serve(routes: Vec<(&'static str, u16, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            reader.read_line(&mut request).unwrap_or_default();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap_or(0) > 2 {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = routes
                .iter()
                .find(|(p, _, _)| *p == path)
                .map(|(_, s, b)| (*s, b.clone()))
                .unwrap_or((404, "not found".into()));
            let mut stream = &stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    address
}

fn peregrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn feeds_download_into_the_intel_directory_and_reach_the_rules() {
    let tor = "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nExitAddress 185.220.101.47 2024-05-14 08:11:57\n";
    let csv = "first_seen,ip,threat\n2024-05-01,203.0.113.66,scanner\n2024-05-02,not-an-ip,x\n";
    // A STIX feed of command-and-control domains, one of them withdrawn.
    let stix = serde_json::json!({"type": "bundle", "id": "bundle--c2", "objects": [
        {"type": "indicator", "pattern": "[domain-name:value = 'guarddutyc2activityb.com']", "pattern_type": "stix"},
        {"type": "indicator", "pattern": "[domain-name:value = 'old.example.com']", "revoked": true}]})
    .to_string();
    let server = serve(vec![
        ("/torbulkexitlist", 200, tor.to_string()),
        ("/bad.txt", 200, "45.155.205.233\n".to_string()),
        ("/scanners.csv", 200, csv.to_string()),
        ("/c2.json", 200, stix),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel");
    let out = peregrine(&[
        "intel",
        "update",
        "--intel",
        intel.to_str().unwrap(),
        "--tor-url",
        &format!("{server}/torbulkexitlist"),
        "--malicious-url",
        &format!("{server}/bad.txt"),
        "--feed",
        &format!("scanners={server}/scanners.csv"),
        "--feed",
        &format!("command-and-control/c2-domains={server}/c2.json"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("tor-exit-nodes.txt: 1 entries"), "{stdout}");
    assert!(stdout.contains("malicious.txt: 1 entries"), "{stdout}");
    assert!(
        stdout.contains("custom/scanners.csv: 1 entries (1 entries skipped)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("command-and-control/c2-domains.json: 1 entries (1 entries skipped)"),
        "{stdout}"
    );
    let out = peregrine(&[
        "intel",
        "update",
        "--intel",
        intel.to_str().unwrap(),
        "--no-tor",
        "--feed",
        &format!("botnets/x={server}/c2.json"),
    ]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no list category \"botnets\""),
        "{}",
        text(&out.stderr)
    );

    // The downloaded lists drive the IP rules exactly as the fixture lists do.
    let mut options = test_options(shipped_rules_dir());
    options.intel_dir = Some(intel);
    let fixtures: Vec<_> = [
        "discovery-tor-ip-caller",
        "impact-malicious-ip-caller",
        "persistence-malicious-ip-caller-custom",
        "backdoor-runtime-c-and-c-activity-b-dns",
    ]
    .iter()
    .map(|slug| workspace_path(&format!("rules/{slug}/fixtures/positive.jsonl")))
    .collect();
    let scanned = scan_with(options, &fixtures);
    let mut types: Vec<_> = scanned
        .report
        .findings
        .iter()
        .map(|f| f.finding_type.as_str())
        .collect();
    types.sort();
    types.dedup();
    for wanted in [
        "Discovery:Kubernetes/TorIPCaller",
        "Impact:Kubernetes/MaliciousIPCaller",
        "Persistence:Kubernetes/MaliciousIPCaller.Custom",
        "Backdoor:Runtime/C&CActivity.B!DNS",
    ] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
}

#[test]
fn a_failed_or_empty_feed_changes_nothing() {
    let server = serve(vec![
        ("/tor", 200, "185.220.101.47\n".to_string()),
        ("/empty", 200, "# nothing yet\n".to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("tor-exit-nodes.txt"), "192.0.2.1\n").unwrap();

    let out = peregrine(&[
        "intel",
        "update",
        "--intel",
        intel,
        "--tor-url",
        &format!("{server}/tor"),
        "--malicious-url",
        &format!("{server}/missing"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("intel update failed, no list changed: cannot download"),
        "{stderr}"
    );
    assert!(stderr.contains("/missing"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tor-exit-nodes.txt")).unwrap(),
        "192.0.2.1\n"
    );

    let out = peregrine(&[
        "intel",
        "update",
        "--intel",
        intel,
        "--tor-url",
        &format!("{server}/empty"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("holds no addresses, domains or hashes; the current list is kept"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tor-exit-nodes.txt")).unwrap(),
        "192.0.2.1\n"
    );

    // Unreachable: a closed port on loopback.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = peregrine(&[
        "intel",
        "update",
        "--intel",
        intel,
        "--tor-url",
        &format!("http://{closed}/tor"),
        "--timeout-secs",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is this machine offline"),
        "{}",
        text(&out.stderr)
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no staging files are left behind: {leftovers:?}"
    );
}
