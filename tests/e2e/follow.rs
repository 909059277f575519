//! Followed files that change under the follower: truncated and written again past the
//! read position (copytruncate under a busy writer), while `peregrine serve` runs and while
//! it is down; and lines that are not events at all: binary garbage and a line far longer
//! than any event.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use peregrine_e2e::fixture_rule;
use peregrine_e2e::live::{Server, echo_verdicts, numbered_events, wait_until};
use serde_json::Value;

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

fn serve(dir: &Path, rules: &Path, log: &Path) -> Server {
    Server::start(
        PEREGRINE,
        &[
            "--database-url".into(),
            format!("sqlite://{}?mode=rwc", dir.join("p.db").display()),
            "--rules".into(),
            rules.display().to_string(),
            "--follow".into(),
            log.display().to_string(),
        ],
    )
}

fn echo_rules() -> tempfile::TempDir {
    let rules = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_rule("echo-one"), rules.path().join("echo.wasm")).unwrap();
    rules
}

fn jsonl(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Truncates `path` and writes `text` into it, in one go: a poll sees either the old file
/// or the new one, never it empty.
fn truncate_and_refill(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(0).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// The value of a metric's sample for followed files of cluster `default` (0 if absent);
/// each test's server follows one file.
fn file_metric(server: &Server, name: &str) -> u64 {
    let (_, metrics) = server.get("/metrics");
    let prefix = format!("{name}{{kind=\"file\",cluster=\"default\"}} ");
    metrics
        .as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.parse().unwrap())
}

fn assert_each_judged_once(server: &Server, events: &[Value]) {
    let verdicts = echo_verdicts(server);
    assert_eq!(verdicts.len(), events.len());
    for e in events {
        let id = e["auditID"].as_str().unwrap();
        assert_eq!(
            verdicts.get(id).map(|v| v.1),
            Some(1),
            "{id}: skipped or counted twice"
        );
    }
}

#[test]
fn a_file_truncated_and_refilled_past_the_read_position_is_read_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let rules = echo_rules();
    let log = dir.path().join("audit.log");
    let events = numbered_events("refill", 1000);
    std::fs::write(&log, jsonl(&events[..100])).unwrap();
    let server = serve(dir.path(), rules.path(), &log);
    let received = || file_metric(&server, "peregrine_events_received_total");
    wait_until("the first events", Duration::from_secs(60), || {
        received() == 100
    });

    // Between two polls the file is truncated and written again, each time to well past
    // where the follower had read to: its length never shrinks as far as a poll sees.
    for (from, to) in [(100, 400), (400, 1000)] {
        let before = std::fs::metadata(&log).unwrap().len();
        let text = jsonl(&events[from..to]);
        assert!(text.len() as u64 > before);
        truncate_and_refill(&log, &text);
        wait_until("the refilled file", Duration::from_secs(60), || {
            received() == to as u64
        });
    }
    wait_until("the findings", Duration::from_secs(60), || {
        echo_verdicts(&server).len() == 1000
    });
    assert_each_judged_once(&server, &events);
    assert_eq!(
        file_metric(&server, "peregrine_events_malformed_total"),
        0,
        "{}",
        server.log()
    );
    let log_text = server.log();
    assert!(log_text.contains("truncated"), "{log_text}");
    assert!(!log_text.contains("skipped"), "{log_text}");
    let status = server.terminate();
    assert!(status.success(), "{status}");
}

#[test]
fn a_file_truncated_and_refilled_while_serve_is_down_is_read_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let rules = echo_rules();
    let log = dir.path().join("audit.log");
    let events = numbered_events("down", 400);
    std::fs::write(&log, jsonl(&events[..100])).unwrap();
    let server = serve(dir.path(), rules.path(), &log);
    wait_until("the first events", Duration::from_secs(60), || {
        echo_verdicts(&server).len() == 100
    });
    let status = server.terminate();
    assert!(status.success(), "{status}");

    // Same file (same inode), longer than the checkpoint, but other contents.
    truncate_and_refill(&log, &jsonl(&events[100..]));
    let server = serve(dir.path(), rules.path(), &log);
    wait_until("the refilled file", Duration::from_secs(60), || {
        echo_verdicts(&server).len() == 400
    });
    assert_each_judged_once(&server, &events);
    assert_eq!(file_metric(&server, "peregrine_events_received_total"), 300);
    assert_eq!(
        file_metric(&server, "peregrine_events_malformed_total"),
        0,
        "{}",
        server.log()
    );
    let log_text = server.log();
    assert!(
        log_text.contains("truncated or replaced since its checkpoint"),
        "{log_text}"
    );

    // And an unchanged file resumes where it was, as before.
    let status = server.terminate();
    assert!(status.success(), "{status}");
    let more = numbered_events("after", 10);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(jsonl(&more).as_bytes())
        .unwrap();
    let server = serve(dir.path(), rules.path(), &log);
    wait_until("the appended events", Duration::from_secs(60), || {
        echo_verdicts(&server).len() == 410
    });
    assert_eq!(file_metric(&server, "peregrine_events_received_total"), 10);
    assert!(!server.log().contains("truncated"), "{}", server.log());
}

/// The peak resident memory of a process, in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[test]
fn garbage_and_overlong_lines_are_counted_logged_sparingly_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let rules = echo_rules();
    let log = dir.path().join("audit.log");
    let events = numbered_events("garbage", 20);
    std::fs::write(&log, jsonl(&events[..10])).unwrap();
    let server = serve(dir.path(), rules.path(), &log);
    wait_until("the first events", Duration::from_secs(60), || {
        echo_verdicts(&server).len() == 10
    });
    let peak_before = peak_memory(server.pid());

    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    // A line of 200 MiB, more than three times the longest line read.
    let chunk = vec![b'a'; 1 << 20];
    file.write_all(br#"{"kind":"Event","verb":"get","requestURI":""#)
        .unwrap();
    for _ in 0..200 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\"}\n").unwrap();
    // A thousand lines of binary garbage.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..1000 {
        let line: Vec<u8> = (0..120)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                match (seed >> 56) as u8 {
                    b'\n' => 0xff,
                    b => b,
                }
            })
            .collect();
        file.write_all(&line).unwrap();
        file.write_all(b"\n").unwrap();
    }
    file.write_all(jsonl(&events[10..]).as_bytes()).unwrap();
    drop(file);

    wait_until(
        "the events after the garbage",
        Duration::from_secs(120),
        || echo_verdicts(&server).len() == 20,
    );
    assert_each_judged_once(&server, &events);
    // Every skipped line is counted...
    assert_eq!(
        file_metric(&server, "peregrine_events_malformed_total"),
        1001
    );
    assert_eq!(file_metric(&server, "peregrine_events_received_total"), 20);
    // ...but not each one logged: the first at once, the rest summed up later.
    let log_text = server.log();
    let warnings = log_text.lines().filter(|l| l.contains("skipped")).count();
    assert!(
        (1..=2).contains(&warnings),
        "{warnings} warnings:\n{log_text}"
    );
    assert!(
        log_text.contains(&format!(
            "line longer than {} bytes",
            peregrine::ingest::MAX_LINE
        )),
        "{log_text}"
    );
    // The long line was skipped, not held: at most the limit's worth of it was buffered.
    let grown = peak_memory(server.pid()).saturating_sub(peak_before);
    assert!(grown < 150 << 20, "peak memory grew by {} MiB", grown >> 20);
}
