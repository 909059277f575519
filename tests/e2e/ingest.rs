//! Reading real-world inputs: every supported format, and malformed input that is
//! reported by file and line without stopping the run.

use std::io::Write;
use std::path::{Path, PathBuf};

use peregrine::ingest::{self, Item};
use peregrine_rules_sdk::normalize::Normalizer;

const EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/kube-system/pods/etcd-0/exec?command=sh","verb":"create","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["203.0.113.50"],"objectRef":{"resource":"pods","namespace":"kube-system","name":"etcd-0","subresource":"exec","apiVersion":"v1"},"responseStatus":{"code":101}}"#;

fn event_json(id: &str, user: &str) -> String {
    EXEC.replace("\"a1\"", &format!("\"{id}\""))
        .replace("mallory", user)
}

/// (audit ID, cluster, file:line) of each event, and "file:line: reason" of each problem.
fn read(path: &Path) -> (Vec<(String, String, String)>, Vec<String>) {
    let mut events = Vec::new();
    let mut problems = Vec::new();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut sink = |item: Item| match item {
        Item::Event(e, at) => events.push((e.audit_id, e.cluster, format!("{name}:{}", at.line))),
        Item::Runtime(e, at) => events.push((e.event_id, e.cluster, format!("{name}:{}", at.line))),
        Item::Owner(_) => {}
        Item::Dropped { location, count } => {
            problems.push(format!("{name}:{}: dropped {count}", location.line))
        }
        Item::Malformed { location, reason } => {
            problems.push(format!("{name}:{}: {reason}", location.line))
        }
    };
    ingest::read_path(path, &Normalizer::new("flag-cluster"), &mut sink).unwrap();
    (events, problems)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn ids(events: &[(String, String, String)]) -> Vec<&str> {
    events.iter().map(|(id, _, _)| id.as_str()).collect()
}

#[test]
fn malformed_lines_are_reported_by_line_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = &EXEC[..EXEC.len() / 2];
    let mut content = Vec::new();
    for line in [
        event_json("ok-1", "a"),
        truncated.to_string(),
        r#"{"kind":"Event","verb":5,"requestURI":"/"}"#.to_string(),
        "[1, 2, 3]".to_string(),
        String::new(),
        "42".to_string(),
        r#"{"kind":"Pod","verb":"get","requestURI":"/"}"#.to_string(),
    ] {
        content.extend_from_slice(line.as_bytes());
        content.push(b'\n');
    }
    content.extend_from_slice(&[0xff, 0xfe, 0x00, 0x9c, 0x80, b'\n']);
    content.extend_from_slice(event_json("ok-2", "b").as_bytes());
    let (events, problems) = read(&write(dir.path(), "mixed.log", &content));
    assert_eq!(ids(&events), ["ok-1", "ok-2"]);
    assert_eq!(events[1].2, "mixed.log:9");
    let expected_starts = [
        "mixed.log:2: truncated JSON",
        "mixed.log:3: not an audit event: invalid type: integer `5`",
        "mixed.log:4: not an audit event",
        "mixed.log:4: not an audit event",
        "mixed.log:4: not an audit event",
        "mixed.log:6: expected an event object, found a number",
        "mixed.log:7: not an audit event: kind is \"Pod\"",
        "mixed.log:8: not UTF-8 text",
    ];
    assert_eq!(problems.len(), expected_starts.len(), "{problems:#?}");
    for (problem, start) in problems.iter().zip(expected_starts) {
        assert!(
            problem.starts_with(start),
            "{problem:?} should start with {start:?}"
        );
    }
}

#[test]
fn empty_and_blank_files_hold_no_events() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read(&write(dir.path(), "empty.log", b"")), (vec![], vec![]));
    assert_eq!(
        read(&write(dir.path(), "blank.log", b"\n  \n\n")),
        (vec![], vec![])
    );
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let mut sink = |_: Item| {};
    let err = ingest::read_path(
        Path::new("/nonexistent/audit.log"),
        &Normalizer::new("c"),
        &mut sink,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("/nonexistent/audit.log: "),
        "{err}"
    );
}

#[test]
fn gzipped_logs_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let plain = format!("{}\n{}\n", event_json("g1", "a"), event_json("g2", "b"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(plain.as_bytes()).unwrap();
    let (events, problems) = read(&write(dir.path(), "audit.log.gz", &gz.finish().unwrap()));
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(ids(&events), ["g1", "g2"]);
}

#[test]
fn webhook_event_lists_single_line_and_pretty_printed() {
    let dir = tempfile::tempdir().unwrap();
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{},{}]}}"#,
        event_json("l1", "a"),
        event_json("l2", "b")
    );
    let (events, _) = read(&write(dir.path(), "list.json", list.as_bytes()));
    assert_eq!(ids(&events), ["l1", "l2"]);

    let value: serde_json::Value = serde_json::from_str(&list).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let (events, problems) = read(&write(dir.path(), "pretty.json", pretty.as_bytes()));
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(ids(&events), ["l1", "l2"]);

    // A pretty-printed document cut short is reported, not fatal.
    let (events, problems) = read(&write(
        dir.path(),
        "cut.json",
        &pretty.as_bytes()[..pretty.len() - 40],
    ));
    assert!(events.is_empty());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("invalid JSON document"),
        "{problems:?}"
    );
}

#[test]
fn eks_cloudwatch_exports() {
    let dir = tempfile::tempdir().unwrap();
    // S3 export: "<timestamp> <event>" per line.
    let s3 = format!(
        "2024-03-11T09:14:07.118Z {}\n2024-03-11T09:14:08.001Z {}\n",
        event_json("s1", "a"),
        event_json("s2", "b")
    );
    let (events, problems) = read(&write(dir.path(), "s3-export.log", s3.as_bytes()));
    assert_eq!((ids(&events), problems), (vec!["s1", "s2"], vec![]));

    // A subscription payload names the cluster in its log group.
    let payload = serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333",
        "logGroup": "/aws/eks/prod-eu/cluster", "logStream": "kube-apiserver-audit-0a1b2c",
        "logEvents": [
            {"id": "1", "timestamp": 1710148447118u64, "message": event_json("w1", "a")},
            {"id": "2", "timestamp": 1710148447119u64, "message": "not json"}
        ]
    });
    let (events, problems) = read(&write(
        dir.path(),
        "subscription.json",
        payload.to_string().as_bytes(),
    ));
    assert_eq!(
        events,
        vec![("w1".into(), "prod-eu".into(), "subscription.json:1".into())]
    );
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("log message is not an audit event"));

    // `aws logs filter-log-events` output.
    let cli = serde_json::json!({"events": [
        {"logStreamName": "kube-apiserver-audit-1", "timestamp": 1, "message": event_json("f1", "a"), "eventId": "x"}
    ], "searchedLogStreams": []});
    let (events, _) = read(&write(
        dir.path(),
        "filter.json",
        cli.to_string().as_bytes(),
    ));
    assert_eq!(
        events,
        vec![("f1".into(), "flag-cluster".into(), "filter.json:1".into())]
    );
}
