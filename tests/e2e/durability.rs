//! Nothing lost, nothing counted twice: the findings store going away under the webhook,
//! and `peregrine serve` killed with SIGKILL while it follows a file.

use std::io::Write;
use std::time::Duration;

use peregrine_e2e::live::{Sender, Server, echo_verdicts, event_list, numbered_events, wait_until};
use peregrine_e2e::private_postgres::PrivatePostgres;
use peregrine_e2e::{db::TestDatabase, fixture_rule};

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

fn echo_rules() -> tempfile::TempDir {
    let rules = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_rule("echo-one"), rules.path().join("echo.wasm")).unwrap();
    rules
}

#[test]
fn the_webhook_refuses_while_postgres_is_down_and_loses_nothing() {
    let pg = PrivatePostgres::start();
    let rules = echo_rules();
    let server = Server::start(
        PEREGRINE,
        &[
            "--database-url".into(),
            pg.url(),
            "--rules".into(),
            rules.path().display().to_string(),
            "--ack-timeout-secs".into(),
            "2".into(),
        ],
    );
    let mut sender = Sender::new(&server, "outage");
    for _ in 0..5 {
        sender.send_batch(20);
    }
    assert!(sender.refusals.is_empty());

    pg.stop();
    // The apiserver keeps sending (and resending what is refused) during the outage.
    std::thread::scope(|scope| {
        let sending = scope.spawn(|| {
            for _ in 0..10 {
                sender.send_batch(20);
            }
        });
        wait_until(
            "readiness to report the outage",
            Duration::from_secs(30),
            || server.get("/readyz").0 == 503,
        );
        wait_until("a failed commit", Duration::from_secs(60), || {
            let (_, metrics) = server.get("/metrics");
            metrics.as_str().unwrap().contains("peregrine_store_up 0\n")
        });
        assert!(
            !sending.is_finished(),
            "a batch was acknowledged while the store was down"
        );
        pg.resume();
        sending.join().unwrap();
    });
    let refused: usize = sender
        .refusals
        .iter()
        .filter(|(s, _)| [429, 503].contains(s))
        .map(|(_, n)| n)
        .sum();
    assert!(
        refused > 0,
        "the webhook answered with a retryable status: {:?}",
        sender.refusals
    );

    let verdicts = echo_verdicts(&server);
    for id in &sender.sent {
        assert_eq!(
            verdicts.get(id).map(|v| v.1),
            Some(1),
            "{id}: lost or counted twice"
        );
    }
    assert_eq!(verdicts.len(), sender.sent.len());
    wait_until("readiness to return", Duration::from_secs(30), || {
        server.get("/readyz").0 == 200
    });
    let (_, metrics) = server.get("/metrics");
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("peregrine_store_up 1\n"), "{metrics}");
    assert!(!metrics.contains("peregrine_commit_failures_total 0\n"));
}

fn append(path: &std::path::Path, events: &[serde_json::Value]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut text = String::new();
    for e in events {
        text.push_str(&e.to_string());
        text.push('\n');
    }
    file.write_all(text.as_bytes()).unwrap();
}

#[test]
fn killed_while_following_a_file_it_resumes_without_skipping_or_recounting() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::postgres());
    let store = runtime
        .block_on(peregrine::store::Store::connect(&db.url))
        .unwrap();
    let count = || runtime.block_on(store.count()).unwrap() as usize;
    let rules = echo_rules();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let events = numbered_events("follow", 40_000);
    append(&log, &events[..30_000]);
    let args = vec![
        "--database-url".to_string(),
        db.url.clone(),
        "--rules".into(),
        rules.path().display().to_string(),
        "--follow".into(),
        log.display().to_string(),
    ];

    let server = Server::start(PEREGRINE, &args);
    wait_until("the first findings", Duration::from_secs(60), || {
        count() > 0
    });
    server.kill9();
    let at_kill = count();
    assert!(
        at_kill < 30_000,
        "killed after the file was done ({at_kill}); make it longer"
    );

    // While it is down, the file grows and is rotated; after the restart, more arrives.
    append(&log, &events[30_000..35_000]);
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    append(&log, &events[35_000..38_000]);
    let server = Server::start(PEREGRINE, &args);
    wait_until("the rest to arrive", Duration::from_secs(300), || {
        count() >= 38_000
    });
    append(&log, &events[38_000..]);
    wait_until("the appended events", Duration::from_secs(60), || {
        count() >= 40_000
    });

    let verdicts = echo_verdicts(&server);
    assert_eq!(verdicts.len(), 40_000);
    for e in &events {
        let id = e["auditID"].as_str().unwrap();
        assert_eq!(
            verdicts.get(id).map(|v| v.1),
            Some(1),
            "{id}: skipped or counted twice"
        );
    }
    drop(server);
    runtime.block_on(store.close());
    runtime.block_on(db.cleanup());
}

#[test]
fn a_followed_file_is_read_across_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let rules = echo_rules();
    let log = dir.path().join("audit.log");
    let events = numbered_events("rotate", 170);
    append(&log, &events[..100]);
    let server = Server::start(
        PEREGRINE,
        &[
            "--database-url".into(),
            format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display()),
            "--rules".into(),
            rules.path().display().to_string(),
            "--follow".into(),
            log.display().to_string(),
        ],
    );
    let judged = || echo_verdicts(&server).len();
    wait_until("the first events", Duration::from_secs(60), || {
        judged() == 100
    });

    // The writer adds a last few lines, then rotates (rename and recreate).
    append(&log, &events[100..120]);
    std::fs::rename(&log, dir.path().join("audit-1.log")).unwrap();
    append(&log, &events[120..150]);
    wait_until("the rotated and new files", Duration::from_secs(60), || {
        judged() == 150
    });

    // Truncated in place (copytruncate), then written again.
    std::fs::write(&log, "").unwrap();
    append(&log, &events[150..160]);
    wait_until("the truncated file", Duration::from_secs(60), || {
        judged() == 160
    });
    // A line is written in two parts: judged once, when complete.
    let line = events[160].to_string();
    let (head, tail) = line.split_at(line.len() / 2);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(head.as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(format!("{tail}\n").as_bytes())
        .unwrap();
    append(&log, &events[161..]);
    wait_until("the rest", Duration::from_secs(60), || judged() == 170);

    let verdicts = echo_verdicts(&server);
    for e in &events {
        let id = e["auditID"].as_str().unwrap();
        assert_eq!(verdicts.get(id).map(|v| v.1), Some(1), "{id}");
    }
    assert!(server.log().contains("rotated"), "{}", server.log());
    assert!(server.log().contains("truncated"), "{}", server.log());
    let status = server.terminate();
    assert!(status.success(), "{status}");
}

#[test]
fn rule_state_survives_restarts_even_a_kill() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::postgres());
    let rules = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_rule("state-counter"),
        rules.path().join("state-counter.wasm"),
    )
    .unwrap();
    let args = vec![
        "--database-url".to_string(),
        db.url.clone(),
        "--rules".into(),
        rules.path().display().to_string(),
    ];
    // The rule reports a user the second time it sees them, remembering users in state.
    let events = numbered_events("state", 3);
    let mut same_user = events.clone();
    for e in &mut same_user {
        e["user"] = events[0]["user"].clone();
    }
    let seen_twice = |server: &Server| {
        server
            .all_findings(Some("Test:Fixture/SeenTwice"))
            .first()
            .map(|f| f["service"]["count"].as_u64().unwrap())
    };

    let server = Server::start(PEREGRINE, &args);
    let (status, _) = server.post_audit(&event_list(&same_user[..1]));
    assert_eq!(status, 200);
    assert_eq!(seen_twice(&server), None);
    server.kill9();

    let server = Server::start(PEREGRINE, &args);
    let (status, _) = server.post_audit(&event_list(&same_user[1..2]));
    assert_eq!(status, 200);
    assert_eq!(
        seen_twice(&server),
        Some(1),
        "the user was remembered across a kill"
    );
    assert!(server.terminate().success());

    let server = Server::start(PEREGRINE, &args);
    let (status, _) = server.post_audit(&event_list(&same_user[2..3]));
    assert_eq!(status, 200);
    assert_eq!(seen_twice(&server), Some(2), "and across a clean restart");
    drop(server);
    runtime.block_on(db.cleanup());
}
