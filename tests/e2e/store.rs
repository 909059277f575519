//! The findings store, on a real PostgreSQL server and on SQLite: the same tests for both.
//! PostgreSQL: `PEREGRINE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! names a server where the tests may create and drop their own databases.

use std::process::Command;

use peregrine::findings::GuardDutyFinding;
use peregrine::findings::criteria::FindingCriteria;
use peregrine::store::{FindingFilter, Sort, Store, StoreError};
use peregrine_e2e::db::on_both_backends;
use peregrine_e2e::{scan, shipped_rules_dir, workspace_path};
use serde_json::{Value, json};

/// Real findings from a scan of the shipped fixtures.
fn findings() -> Vec<GuardDutyFinding> {
    let file = workspace_path("rules/discovery-tor-ip-caller/fixtures/positive.jsonl");
    let mut found = scan(shipped_rules_dir(), &[file]).report.findings;
    assert!(!found.is_empty());
    found.truncate(1);
    found
}

fn occurrence(base: &GuardDutyFinding, seen: &str, description: &str) -> GuardDutyFinding {
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

/// Findings whose fields exercise every corner the criteria have: lists (nested too),
/// numbers as numbers and as strings, booleans, missing fields, wildcard characters.
fn varied_findings() -> Vec<GuardDutyFinding> {
    let base = findings().remove(0);
    let extras = [
        json!({"tags": ["a%b", "c_d"], "score": 5, "ratio": 2.5, "nested": [[1, "x"], [{"k": "v"}]]}),
        json!({"tags": ["it's", "a*b?"], "score": "5.0", "ratio": "+2.5", "nested": [{"k": "w"}]}),
        json!({"tags": [], "score": "1e3", "ratio": "1.2.3", "flag": true}),
        json!({"tags": "[x]", "score": " 5", "flag": "true", "nested": {"k": ["v", "w"]}}),
        json!({"score": null, "ratio": "inf"}),
    ];
    extras
        .iter()
        .enumerate()
        .map(|(i, extra)| {
            let mut f = base.clone();
            f.id = format!("varied{i}");
            f.severity = [2.0, 5.0, 8.0, 5.5, 8.0][i];
            f.finding_type = format!("Type{i}:Kubernetes/x_{}", i % 2);
            f.service.count = i as u64 + 1;
            let seen = format!("2024-05-1{i}T10:00:00.00{i}Z");
            f.created_at = seen.clone();
            f.updated_at = seen.clone();
            f.service.event_first_seen = seen.clone();
            f.service.event_last_seen = seen;
            f.service.additional_info = extra.as_object().unwrap().clone();
            f
        })
        .collect()
}

#[tokio::test]
async fn criteria_evaluated_in_sql_select_what_the_rust_evaluator_selects() {
    let mut stored = varied_findings();
    stored.extend(
        scan(
            shipped_rules_dir(),
            &peregrine_e2e::rule_fixtures("positive"),
        )
        .report
        .findings,
    );
    let cases: Vec<Value> = vec![
        json!({}),
        json!({"type": {"equals": ["Type1:Kubernetes/x_1", "nope"]}}),
        json!({"type": {"notEquals": ["Type1:Kubernetes/x_1"]}}),
        json!({"type": {"matches": ["Type?:*x\\_1"]}}),
        json!({"type": {"matches": ["*x_1"]}, "severity": {"gte": 5}}),
        json!({"severity": {"equals": ["5", "8.0"]}}),
        json!({"severity": {"notEquals": ["5"]}, "service.count": {"gt": 1, "lte": 4}}),
        json!({"severity": {"matches": ["5.?"]}}),
        json!({"service.count": {"equals": ["3"]}}),
        json!({"service.count": {"matches": ["1*"]}}),
        json!({"service.archived": {"equals": ["true"]}}),
        json!({"service.archived": {"notEquals": ["true"]}}),
        json!({"service.archived": {"matches": ["f*"]}}),
        json!({"service.userFeedback": {"equals": ["USEFUL"]}}),
        json!({"service.userFeedback": {"notEquals": ["USEFUL"]}}),
        json!({"service.userFeedback": {"matches": ["*"]}}),
        json!({"createdAt": {"equals": ["2024-05-12T10:00:00.002Z"]}}),
        json!({"createdAt": {"equals": ["2024-05-12T10:00:00.002+00:00", "1715594400002"]}}),
        json!({"createdAt": {"gte": 1715594400002i64, "lt": 1715767200000i64}}),
        json!({"service.eventLastSeen": {"matches": ["2024-05-1?T10:00:00.00[34]Z", "2024-05-10T*"]}}),
        json!({"service.eventFirstSeen": {"notMatches": ["2024-05-1*"]}}),
        json!({"updatedAt": {"notEquals": ["2024-05-11T10:00:00.001Z"]}}),
        json!({"service.additionalInfo.tags": {"equals": ["a%b"]}}),
        json!({"service.additionalInfo.tags": {"matches": ["a%*", "*'s"]}}),
        json!({"service.additionalInfo.tags": {"matches": ["a_b", "c?d"]}}),
        json!({"service.additionalInfo.tags": {"matches": ["a*b?"]}}),
        json!({"service.additionalInfo.tags": {"matches": ["[x]"]}}),
        json!({"service.additionalInfo.tags": {"notEquals": ["c_d", "[x]"]}}),
        json!({"service.additionalInfo.tags": {"notMatches": ["*_*"]}}),
        json!({"service.additionalInfo.score": {"equals": ["5"]}}),
        json!({"service.additionalInfo.score": {"equals": ["1000"]}}),
        json!({"service.additionalInfo.score": {"gt": 4, "lt": 6}}),
        json!({"service.additionalInfo.score": {"notEquals": ["5"]}}),
        json!({"service.additionalInfo.score": {"matches": ["5*"]}}),
        json!({"service.additionalInfo.ratio": {"equals": ["2.5"]}}),
        json!({"service.additionalInfo.ratio": {"gte": 2}}),
        json!({"service.additionalInfo.ratio": {"lt": 3}}),
        json!({"service.additionalInfo.nested.k": {"equals": ["v"]}}),
        json!({"service.additionalInfo.nested.k": {"notEquals": ["w"]}}),
        json!({"service.additionalInfo.nested": {"equals": ["1", "x"]}}),
        json!({"service.additionalInfo.nested": {"gte": 1}}),
        json!({"service.additionalInfo.flag": {"equals": ["true"]}}),
        json!({"service.additionalInfo.flag": {"notMatches": ["t*"]}}),
        json!({"service.additionalInfo": {"equals": ["x"]}}),
        json!({"service.additionalInfo": {"notEquals": ["x"]}}),
        json!({"service.missing.field": {"notMatches": ["*"]}}),
        json!({"service.missing.field": {"matches": ["*"]}}),
        json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.image": {"matches": ["*"]}}),
        json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.imagePrefix": {"notEquals": [""]}}),
        json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.hostPid": {"equals": ["true"]}}),
        json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.securityContext.privileged": {"eq": ["true"]}}),
        json!({"resource.kubernetesDetails.kubernetesUserDetails.username": {"notEquals": ["system:anonymous"]}, "severity": {"gte": 7}}),
        json!({"resource.kubernetesDetails.kubernetesUserDetails.groups": {"matches": ["system:*"]}}),
        json!({"resource.eksClusterDetails.name": {"equals": ["default"]}}),
        json!({"service.action.kubernetesApiCallAction.sourceIps": {"matches": ["203.*", "10.?.*"]}}),
        json!({"service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4": {"gt": 0}}),
        json!({"service.action.kubernetesApiCallAction.statusCode": {"gte": 200, "lt": 300}}),
        json!({"accountId": {"equals": ["0"]}, "schemaVersion": {"equals": ["2"]}}),
    ];
    on_both_backends(|url| {
        let (stored, cases) = (stored.clone(), cases.clone());
        async move {
            let store = Store::connect(&url).await.unwrap();
            for f in &stored {
                store.upsert(f).await.unwrap();
            }
            store
                .set_archived(&["varied1".into(), "varied3".into()], true)
                .await
                .unwrap();
            store
                .set_feedback(&["varied2".into()], "USEFUL")
                .await
                .unwrap();
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let (page, next) = store
                    .list_page(&FindingFilter::default(), Sort::default(), 50, after)
                    .await
                    .unwrap();
                all.extend(page);
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            assert_eq!(all.len(), stored.len());
            // Cases that select some findings but not all, so that they tell something.
            let mut discriminating = 0;
            for case in &cases {
                let criteria: FindingCriteria =
                    serde_json::from_value(json!({ "criterion": case })).unwrap();
                criteria.validate().unwrap();
                // The reference: the Rust evaluator over every finding as the API shows it,
                // in the store's order.
                let want: Vec<&str> = all
                    .iter()
                    .filter(|f| criteria.matches(f))
                    .map(|f| f["id"].as_str().unwrap())
                    .collect();
                let mut got = Vec::new();
                let mut after = None;
                loop {
                    let (page, next) = store
                        .search_page(&criteria, Sort::default(), 7, after)
                        .await
                        .unwrap();
                    got.extend(page.iter().map(|f| f["id"].as_str().unwrap().to_string()));
                    match next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                assert_eq!(got, want, "{url}: {case}");
                discriminating += usize::from(!want.is_empty() && want.len() < all.len());
            }
            assert!(discriminating >= 40, "{discriminating} of {}", cases.len());
        }
    })
    .await;
}
