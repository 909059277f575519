//! The findings store, on a real PostgreSQL server and on SQLite: the same tests for both.
//! PostgreSQL: `PEREGRINE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server where the tests may create and drop their own databases.

use std::process::Command;

use peregrine::finding::Finding;
use peregrine::store::{FindingFilter, Sort, Store, StoreError};
use peregrine_e2e::db::on_both_backends;
use peregrine_e2e::{scan, shipped_rules_dir, workspace_path};

/// Real findings from a scan of the shipped fixtures.
fn findings() -> Vec<Finding> {
    let file = workspace_path("rules/discovery-tor-ip-caller/fixtures/positive.jsonl");
    let mut found = scan(shipped_rules_dir(), &[file]).report.findings;
    assert!(!found.is_empty());
    found.truncate(1);
    found
}

fn occurrence(base: &Finding, seen: &str, description: &str) -> Finding {
    let mut f = base.clone();
    f.service.count = 1;
    f.service.event_first_seen = seen.into();
    f.service.event_last_seen = seen.into();
    f.created_at = seen.into();
    f.updated_at = seen.into();
    f.description = description.into();
    f
}

#[tokio::test]
async fn repeats_aggregate_with_first_and_last_seen_and_latest_details() {
    let base = findings().remove(0);
    on_both_backends(|url| {
        let base = base.clone();
        async move {
            let store = Store::connect(&url).await.unwrap();
            store
                .upsert(&occurrence(&base, "2024-05-14T10:00:00.000Z", "second"))
                .await
                .unwrap();
            store
                .upsert(&occurrence(&base, "2024-05-14T11:00:00.000Z", "third"))
                .await
                .unwrap();
            // An occurrence that happened earlier arrives late: it counts, but the details stay.
            store
                .upsert(&occurrence(&base, "2024-05-14T09:00:00.000Z", "first"))
                .await
                .unwrap();
            let stored = store.get(&base.id).await.unwrap().expect("stored");
            assert_eq!(stored["service"]["count"], 3);
            assert_eq!(
                stored["service"]["eventFirstSeen"],
                "2024-05-14T09:00:00.000Z"
            );
            assert_eq!(
                stored["service"]["eventLastSeen"],
                "2024-05-14T11:00:00.000Z"
            );
            assert_eq!(stored["createdAt"], "2024-05-14T09:00:00.000Z");
            assert_eq!(stored["updatedAt"], "2024-05-14T11:00:00.000Z");
            assert_eq!(stored["description"], "third");
            assert_eq!(stored["type"], base.finding_type.as_str());
            assert_eq!(stored["service"]["archived"], false);
            assert!(store.get("no-such-finding").await.unwrap().is_none());
            store.close().await;
        }
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_neither_duplicate_nor_lose_counts() {
    let base = findings().remove(0);
    on_both_backends(|url| {
        let base = base.clone();
        async move {
            let store = Store::connect(&url).await.unwrap();
            let mut writers = Vec::new();
            for writer in 0..8 {
                let store = store.clone();
                let base = base.clone();
                writers.push(tokio::spawn(async move {
                    for i in 0..25 {
                        let mut f = occurrence(
                            &base,
                            &format!("2024-05-14T10:{writer:02}:{i:02}.000Z"),
                            "x",
                        );
                        // Five distinct findings, written by every writer.
                        f.id = format!("{}-{}", base.id, i % 5);
                        store.upsert(&f).await.unwrap();
                    }
                }));
            }
            for w in writers {
                w.await.unwrap();
            }
            assert_eq!(store.count().await.unwrap(), 5);
            for k in 0..5 {
                let stored = store
                    .get(&format!("{}-{k}", base.id))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(stored["service"]["count"], 40, "8 writers x 5 occurrences");
                assert_eq!(
                    stored["service"]["eventFirstSeen"],
                    format!("2024-05-14T10:00:{k:02}.000Z")
                );
                assert_eq!(
                    stored["service"]["eventLastSeen"],
                    format!("2024-05-14T10:07:{:02}.000Z", 20 + k)
                );
            }
            store.close().await;
        }
    })
    .await;
}

#[tokio::test]
async fn pages_cover_every_finding_once() {
    let base = findings().remove(0);
    on_both_backends(|url| {
        let base = base.clone();
        async move {
            let store = Store::connect(&url).await.unwrap();
            for i in 0..23 {
                let mut f = occurrence(&base, &format!("2024-05-14T10:00:{:02}.000Z", i % 7), "x");
                f.id = format!("f{i:02}");
                store.upsert(&f).await.unwrap();
            }
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let (page, next) = store
                    .list_page(&FindingFilter::default(), Sort::default(), 10, cursor)
                    .await
                    .unwrap();
                seen.extend(page.iter().map(|f| f["id"].as_str().unwrap().to_string()));
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                (seen.len(), sorted.len()),
                (23, 23),
                "no gap, no duplicate: {seen:?}"
            );
            store.close().await;
        }
    })
    .await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_get_clear_errors() {
    let err = Store::connect("mysql://root@localhost/x")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = Store::connect(&format!("postgres://peregrine:s3cret@{closed}/findings"))
        .await
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot connect to the database postgres://peregrine:***@{closed}/findings"
        )),
        "{message}"
    );
    assert!(!message.contains("s3cret"));
}

#[test]
fn scan_writes_its_findings_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("findings.db").display()
    );
    let rules = shipped_rules_dir().display().to_string();
    let fixture = workspace_path("rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl")
        .display()
        .to_string();
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
            .args(["scan", "--rules", &rules, "--database-url", &url, &fixture])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("stored 2 findings in sqlite://"),
            "{stderr}"
        );
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        assert_eq!(store.count().await.unwrap(), 2);
        let (listed, _) = store
            .list_page(&FindingFilter::default(), Sort::default(), 50, None)
            .await
            .unwrap();
        assert!(
            listed.iter().all(|f| f["service"]["count"] == 2),
            "a second scan is a second occurrence"
        );
        assert!(
            listed
                .iter()
                .all(|f| f["type"] == "Execution:Kubernetes/ExecInKubeSystemPod")
        );
    });
}
