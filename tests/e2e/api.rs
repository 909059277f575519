//! The REST API over a real store (PostgreSQL and SQLite), driven as an HTTP client would,
//! without a socket: authentication and scopes, listing with filters and pages, get,
//! archive and unarchive, feedback, and precise 4xx errors for bad requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use peregrine::api::{ApiState, Tokens, router};
use peregrine::store::Store;
use peregrine_e2e::db::on_both_backends;
use peregrine_e2e::{rule_fixtures, scan, shipped_rules_dir};
use serde_json::{Value, json};
use tower::ServiceExt;

const ADMIN: &str = "admin-token-for-tests";
const READER: &str = "read-token-for-tests";

struct Client {
    app: axum::Router,
    /// The findings the store holds.
    stored: Vec<peregrine::findings::GuardDutyFinding>,
}

impl Client {
    async fn new(url: &str) -> Client {
        let store = Store::connect(url).await.unwrap();
        // Every type from the mixed positive fixtures.
        let findings = scan(shipped_rules_dir(), &rule_fixtures("positive"))
            .report
            .findings;
        for finding in &findings {
            store.upsert(finding).await.unwrap();
        }
        let tokens = Tokens {
            admin: vec![ADMIN.into()],
            read: vec![READER.into()],
        };
        Client {
            app: router(Arc::new(ApiState::new(store, tokens))),
            stored: findings,
        }
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, String, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .header("content-type", "application/json")
            .body(Body::from(body.unwrap_or("").to_string()))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())),
        )
    }

    /// The API as `serve` runs it: over the store, with rules, an intel directory and the
    /// webhook (whose findings are kept in memory). The rules directory lives as long as
    /// the returned guard.
    async fn serving(url: &str, intel: &std::path::Path) -> (Client, tempfile::TempDir) {
        let mut api = Client::new(url).await;
        let store = Store::connect(url).await.unwrap();
        let dir = peregrine_e2e::rules_dir(true, &[]);
        let rules = peregrine_e2e::rule_set(dir.path());
        let tokens = Tokens {
            admin: vec![ADMIN.into()],
            read: vec![READER.into()],
        };
        let metrics: Arc<peregrine::metrics::Metrics> = Arc::default();
        let pipeline = Arc::new(peregrine::pipeline::Pipeline::start(
            Default::default(),
            Arc::clone(&rules),
            Arc::new(peregrine::intel::LiveIntel::fixed(Default::default())),
            Default::default(),
            Box::new(peregrine::pipeline::CollectSink::default()),
            Arc::clone(&metrics),
        ));
        api.app = router(Arc::new(ApiState {
            intel_dir: Some(peregrine::intel::IntelDir::new(intel)),
            rules: Some(rules),
            webhook: Some(peregrine::api::Webhook::new(pipeline, Vec::new())),
            metrics,
            ..ApiState::new(store, tokens)
        }));
        (api, dir)
    }

    async fn get(&self, uri: &str) -> Value {
        let (status, _, body) = self.send("GET", uri, Some(READER), None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }
}

#[tokio::test]
async fn tokens_and_scopes_guard_every_endpoint_but_health() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let (status, _, body) = api.send("GET", "/healthz", None, None).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, Value::String("ok\n".into()))
        );
        for (method, uri, body) in [
            ("GET", "/v1/findings", None),
            (
                "POST",
                "/v1/findings/archive",
                Some(r#"{"findingIds":["x"]}"#),
            ),
        ] {
            let (status, content_type, problem) = api.send(method, uri, None, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(content_type, "application/problem+json");
            assert_eq!(problem["status"], 401);
            let (status, _, problem) = api.send(method, uri, Some("wrong"), body).await;
            assert_eq!(
                (status, problem["detail"].as_str()),
                (
                    StatusCode::UNAUTHORIZED,
                    Some("the bearer token is not valid")
                )
            );
        }
        let (status, _, problem) = api
            .send(
                "POST",
                "/v1/findings/archive",
                Some(READER),
                Some(r#"{"findingIds":["x"]}"#),
            )
            .await;
        assert_eq!(
            (status, problem["detail"].as_str()),
            (
                StatusCode::FORBIDDEN,
                Some("this request needs an admin token")
            )
        );
        // Reading many findings by id is a POST that a reader may make.
        let (status, _, _) = api
            .send(
                "POST",
                "/v1/findings/get",
                Some(READER),
                Some(r#"{"findingIds":["x"]}"#),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn list_filters_and_pages_without_gaps_or_duplicates() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let total = api.stored.len();
        assert!(total > 50, "more than the default page: {total}");
        let first = api.get("/v1/findings").await;
        assert_eq!(first["findings"].as_array().unwrap().len(), 50);

        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let uri = match &next {
                Some(token) => format!("/v1/findings?maxResults=7&nextToken={token}"),
                None => "/v1/findings?maxResults=7".into(),
            };
            let page = api.get(&uri).await;
            seen.extend(
                page["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_str().unwrap().to_string()),
            );
            match page["nextToken"].as_str() {
                Some(token) => next = Some(token.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (total, total));

        let expected = |keep: &dyn Fn(&peregrine::findings::GuardDutyFinding) -> bool| {
            api.stored.iter().filter(|f| keep(f)).count()
        };
        let tor = api
            .get("/v1/findings?type=Discovery:Kubernetes/TorIPCaller")
            .await;
        let tor = tor["findings"].as_array().unwrap();
        assert_eq!(tor.len(), 2, "the Tor caller as admin and as anonymous");
        assert!(
            tor.iter()
                .all(|f| f["type"] == "Discovery:Kubernetes/TorIPCaller")
        );
        let anonymous = api
            .get("/v1/findings?username=system:anonymous&cluster=test-cluster")
            .await;
        let anonymous = anonymous["findings"].as_array().unwrap();
        let want = expected(&|f| {
            f.resource
                .kubernetes_details
                .kubernetes_user_details
                .as_ref()
                .is_some_and(|u| u.username == "system:anonymous")
        });
        assert!(want >= 5);
        assert_eq!(anonymous.len(), want);
        assert!(anonymous.iter().all(
            |f| f["resource"]["kubernetesDetails"]["kubernetesUserDetails"]["username"]
                == "system:anonymous"
        ));
        let none = api.get("/v1/findings?cluster=other").await;
        assert_eq!(none, json!({"findings": [], "nextToken": null}));
    })
    .await;
}

#[tokio::test]
async fn archive_unarchive_feedback_and_get() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let listed = api.get("/v1/findings?maxResults=2").await;
        let ids: Vec<String> = listed["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
        let body = json!({"findingIds": [ids[0], "missing-id"]}).to_string();
        let (status, _, result) = api.send("POST", "/v1/findings/archive", Some(ADMIN), Some(&body)).await;
        assert_eq!((status, result), (StatusCode::OK, json!({"unprocessedIds": ["missing-id"]})));
        let one = api.get(&format!("/v1/findings/{}", ids[0])).await;
        assert_eq!(one["service"]["archived"], true);
        let archived = api.get("/v1/findings?archived=true").await;
        assert_eq!(archived["findings"].as_array().unwrap().len(), 1);
        let active = api.get("/v1/findings?archived=false&maxResults=50").await;
        assert!(active["findings"].as_array().unwrap().iter().all(|f| f["id"] != ids[0].as_str()));

        let body = json!({"findingIds": [ids[0]]}).to_string();
        api.send("POST", "/v1/findings/unarchive", Some(ADMIN), Some(&body)).await;
        assert_eq!(api.get(&format!("/v1/findings/{}", ids[0])).await["service"]["archived"], false);

        let body = json!({"findingIds": [ids[1]], "feedback": "NOT_USEFUL", "comments": "expected admin work"}).to_string();
        let (status, _, _) = api.send("POST", "/v1/findings/feedback", Some(ADMIN), Some(&body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(api.get(&format!("/v1/findings/{}", ids[1])).await["service"]["userFeedback"], "NOT_USEFUL");

        let body = json!({"findingIds": [ids[0], ids[1], "nope"]}).to_string();
        let (_, _, many) = api.send("POST", "/v1/findings/get", Some(READER), Some(&body)).await;
        assert_eq!(many["findings"].as_array().unwrap().len(), 2);
        assert_eq!(many["unprocessedIds"], json!(["nope"]));
    })
    .await;
}

#[tokio::test]
async fn bad_requests_get_precise_problems_never_500() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let too_many: Vec<String> = (0..51).map(|i| format!("id{i}")).collect();
        let cases: Vec<(&str, String, Option<String>, StatusCode, &str)> = vec![
            (
                "GET",
                "/v1/findings?maxResults=51".into(),
                None,
                StatusCode::BAD_REQUEST,
                "maxResults must be between 1 and 50",
            ),
            (
                "GET",
                "/v1/findings?maxResults=0".into(),
                None,
                StatusCode::BAD_REQUEST,
                "maxResults must be between 1 and 50",
            ),
            (
                "GET",
                "/v1/findings?maxResults=ten".into(),
                None,
                StatusCode::BAD_REQUEST,
                "maxResults",
            ),
            (
                "GET",
                "/v1/findings?severity=high".into(),
                None,
                StatusCode::BAD_REQUEST,
                "unknown field `severity`",
            ),
            (
                "GET",
                "/v1/findings?nextToken=zz".into(),
                None,
                StatusCode::BAD_REQUEST,
                "nextToken is not one this API issued",
            ),
            (
                "GET",
                "/v1/findings?archived=maybe".into(),
                None,
                StatusCode::BAD_REQUEST,
                "archived",
            ),
            (
                "GET",
                "/v1/findings/does-not-exist".into(),
                None,
                StatusCode::NOT_FOUND,
                "no finding with id does-not-exist",
            ),
            (
                "GET",
                "/v1/nothing-here".into(),
                None,
                StatusCode::NOT_FOUND,
                "no such endpoint",
            ),
            (
                "POST",
                "/v1/findings/archive".into(),
                Some("{not json".into()),
                StatusCode::BAD_REQUEST,
                "invalid request body",
            ),
            (
                "POST",
                "/v1/findings/archive".into(),
                Some(r#"{"findingIds":[],"x":1}"#.into()),
                StatusCode::BAD_REQUEST,
                "unknown field `x`",
            ),
            (
                "POST",
                "/v1/findings/archive".into(),
                Some(r#"{"findingIds":[]}"#.into()),
                StatusCode::BAD_REQUEST,
                "findingIds must hold 1 to 50 ids",
            ),
            (
                "POST",
                "/v1/findings/archive".into(),
                Some(json!({"findingIds": too_many}).to_string()),
                StatusCode::BAD_REQUEST,
                "findingIds must hold 1 to 50 ids",
            ),
            (
                "POST",
                "/v1/findings/feedback".into(),
                Some(r#"{"findingIds":["a"],"feedback":"MEH"}"#.into()),
                StatusCode::BAD_REQUEST,
                "feedback must be USEFUL or NOT_USEFUL",
            ),
        ];
        for (method, uri, body, want_status, want_detail) in cases {
            let (status, content_type, problem) =
                api.send(method, &uri, Some(ADMIN), body.as_deref()).await;
            assert_eq!(status, want_status, "{method} {uri}: {problem}");
            assert_eq!(content_type, "application/problem+json", "{method} {uri}");
            assert!(
                problem["detail"].as_str().unwrap().contains(want_detail),
                "{method} {uri}: {problem}"
            );
        }
        // Over the request size limit.
        let huge = format!(r#"{{"findingIds":["{}"]}}"#, "a".repeat(2 << 20));
        let (status, _, _) = api
            .send("POST", "/v1/findings/archive", Some(ADMIN), Some(&huge))
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
}

#[tokio::test]
async fn statistics_group_by_type_severity_resource_and_date() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let by_type = api.get("/v1/findings/statistics?groupBy=FINDING_TYPE&maxResults=100").await;
        let groups = by_type["findingStatistics"]["groupedByFindingType"].as_array().unwrap();
        assert_eq!(groups.len(), xtask::shipped_rules().unwrap().len());
        let total: i64 = groups.iter().map(|g| g["totalFindings"].as_i64().unwrap()).sum();
        assert_eq!(total as usize, api.stored.len());
        let tor = groups.iter().find(|g| g["findingType"] == "Discovery:Kubernetes/TorIPCaller").unwrap();
        assert_eq!(tor["totalFindings"], 2);

        let by_severity = api.get("/v1/findings/statistics?groupBy=SEVERITY").await;
        let severities = by_severity["findingStatistics"]["groupedBySeverity"].as_array().unwrap();
        let count = |s: f64| api.stored.iter().filter(|f| f.severity == s).count() as i64;
        for g in severities {
            assert_eq!(g["totalFindings"].as_i64().unwrap(), count(g["severity"].as_f64().unwrap()), "{g}");
        }
        assert_eq!(severities.len(), 3, "Low, Medium and High");

        let by_resource = api.get("/v1/findings/statistics?groupBy=RESOURCE&type=Discovery:Kubernetes/TorIPCaller").await;
        assert_eq!(
            by_resource["findingStatistics"]["groupedByResource"][0],
            json!({"resourceId": "test-cluster", "resourceType": "EKSCluster", "totalFindings": 2,
                   "lastGeneratedAt": by_resource["findingStatistics"]["groupedByResource"][0]["lastGeneratedAt"]})
        );
        let by_date = api.get("/v1/findings/statistics?groupBy=DATE").await;
        let dates = by_date["findingStatistics"]["groupedByDate"].as_array().unwrap();
        assert!(dates.iter().all(|d| d["date"].as_str().unwrap().len() == 10), "{dates:?}");

        let (status, _, problem) = api.send("GET", "/v1/findings/statistics?groupBy=COLOR", Some(READER), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(problem["detail"].as_str().unwrap().contains("groupBy must be"));
        let (status, _, _) = api.send("GET", "/v1/findings/statistics", Some(READER), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "groupBy is required");
    })
    .await;
}

#[tokio::test]
async fn filters_are_created_read_updated_and_deleted() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let rule = json!({"name": "quiet-ci", "description": "CI deploys", "action": "ARCHIVE", "rank": 1,
            "findingCriteria": {"criterion": {"resource.kubernetesDetails.kubernetesUserDetails.username": {"equals": ["system:serviceaccount:ci:deployer"]}}}});
        let (status, _, created) = api.send("POST", "/v1/filters", Some(ADMIN), Some(&rule.to_string())).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!((created["version"].as_i64(), created["action"].as_str()), (Some(1), Some("ARCHIVE")));
        let (status, _, problem) = api.send("POST", "/v1/filters", Some(ADMIN), Some(&rule.to_string())).await;
        assert_eq!((status, problem["detail"].as_str()), (StatusCode::CONFLICT, Some("a filter named quiet-ci already exists")));
        let (status, _, _) = api.send("POST", "/v1/filters", Some(READER), Some(&rule.to_string())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let mut changed = rule.clone();
        changed["action"] = json!("NOOP");
        let (status, _, updated) = api.send("PUT", "/v1/filters/quiet-ci", Some(ADMIN), Some(&changed.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!((updated["version"].as_i64(), updated["action"].as_str()), (Some(2), Some("NOOP")));
        assert_eq!(api.get("/v1/filters").await["filters"].as_array().unwrap().len(), 1);
        assert_eq!(api.get("/v1/filters/quiet-ci").await["description"], "CI deploys");

        for (body, detail) in [
            (json!({"name": "x", "findingCriteria": {"criterion": {"type": {"equals": ["a"]}}}}), "must be 3 to 64"),
            (json!({"name": "okay", "findingCriteria": {"criterion": {}}}), "at least one criterion"),
            (json!({"name": "okay", "findingCriteria": {"criterion": {"type": {"like": ["a"]}}}}), "unknown field `like`"),
            (json!({"name": "okay", "action": "DELETE", "findingCriteria": {"criterion": {"type": {"equals": ["a"]}}}}), "unknown variant `DELETE`"),
            (json!({"name": "okay", "rank": 0, "findingCriteria": {"criterion": {"type": {"equals": ["a"]}}}}), "rank must be between 1 and 100"),
        ] {
            let (status, _, problem) = api.send("POST", "/v1/filters", Some(ADMIN), Some(&body.to_string())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(problem["detail"].as_str().unwrap().contains(detail), "{body}: {problem}");
        }

        let (status, _, _) = api.send("DELETE", "/v1/filters/quiet-ci", Some(ADMIN), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = api.send("GET", "/v1/filters/quiet-ci", Some(READER), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn suppression_rules_archive_new_matching_findings_on_arrival() {
    on_both_backends(|url| async move {
        let store = Store::connect(&url).await.unwrap();
        let findings = scan(shipped_rules_dir(), &rule_fixtures("positive")).report.findings;
        let is_mount = |f: &peregrine::findings::GuardDutyFinding| f.finding_type == "Persistence:Kubernetes/ContainerWithSensitiveMount";
        // One matching finding is already stored before the rule exists.
        let earlier = findings.iter().find(|f| is_mount(f)).unwrap().clone();
        store.upsert(&earlier).await.unwrap();

        let spec: peregrine::findings::saved_filters::FilterSpec = serde_json::from_value(json!({
            "name": "miners-are-tests", "action": "ARCHIVE",
            "findingCriteria": {"criterion": {"type": {"equals": ["Persistence:Kubernetes/ContainerWithSensitiveMount"]}}}
        }))
        .unwrap();
        store.create_filter("miners-are-tests", &spec, 0).await.unwrap();
        for f in &findings {
            store.upsert(f).await.unwrap();
        }
        let tokens = Tokens { admin: vec![ADMIN.into()], read: vec![READER.into()] };
        let api = Client { app: router(Arc::new(ApiState::new(store, tokens))), stored: findings.clone() };

        let archived = api.get("/v1/findings?archived=true").await;
        let archived = archived["findings"].as_array().unwrap();
        let expected_new: Vec<_> = findings.iter().filter(|f| is_mount(f) && f.id != earlier.id).collect();
        assert_eq!(archived.len(), expected_new.len());
        assert!(!archived.is_empty());
        for f in archived {
            assert_eq!(f["service"]["additionalInfo"]["suppressedBy"], "miners-are-tests");
        }
        // The finding stored before the rule keeps its state.
        assert_eq!(api.get(&format!("/v1/findings/{}", earlier.id)).await["service"]["archived"], false);
    })
    .await;
}

#[tokio::test]
async fn search_filters_on_any_field_path_and_pages() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let criteria = json!({"criterion": {
            "severity": {"greaterThanOrEqual": 7},
            "resource.kubernetesDetails.kubernetesUserDetails.username": {"notEquals": ["system:anonymous"]}
        }});
        let want: Vec<&str> = api
            .stored
            .iter()
            .filter(|f| f.severity >= 7.0 && f.resource.kubernetes_details.kubernetes_user_details.as_ref().is_none_or(|u| u.username != "system:anonymous"))
            .map(|f| f.id.as_str())
            .collect();
        assert!(want.len() > 5, "{}", want.len());
        let mut got: Vec<String> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"findingCriteria": criteria, "maxResults": 4});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let (status, _, page) = api.send("POST", "/v1/findings/search", Some(READER), Some(&body.to_string())).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let findings = page["findings"].as_array().unwrap();
            assert!(findings.len() <= 4);
            got.extend(findings.iter().map(|f| f["id"].as_str().unwrap().to_string()));
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted);

        let bad = json!({"findingCriteria": {"criterion": {"severity": {"between": [1, 2]}}}});
        let (status, _, problem) = api.send("POST", "/v1/findings/search", Some(READER), Some(&bad.to_string())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(problem["detail"].as_str().unwrap().contains("unknown field `between`"), "{problem}");
    })
    .await;
}

#[tokio::test]
async fn threat_lists_upload_in_every_format_list_and_delete() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    let intel = tempfile::tempdir().unwrap();
    std::fs::write(intel.path().join("tor-exit-nodes.txt"), "185.220.101.47\n").unwrap();
    let tokens = Tokens {
        admin: vec![ADMIN.into()],
        read: vec![READER.into()],
    };
    let api = Client {
        app: router(Arc::new(ApiState {
            intel_dir: Some(peregrine::intel::IntelDir::new(intel.path())),
            ..ApiState::new(store, tokens)
        })),
        stored: Vec::new(),
    };

    let uploads = [
        ("scanners", "txt", "203.0.113.0/24\n# comment\nnot-an-ip\n2001:db8::/32\n".to_string(), 2, 1),
        ("abuse", "csv", "first_seen,ip\n2024-05-01,198.51.100.7\n2024-05-02,198.51.100.8\n".to_string(), 2, 0),
        ("feed", "stix", json!({"type": "bundle", "objects": [{"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.9']"}]}).to_string(), 1, 0),
    ];
    for (name, format, body, entries, skipped) in &uploads {
        let (status, _, result) = api
            .send(
                "PUT",
                &format!("/v1/threat-lists/{name}?format={format}"),
                Some(ADMIN),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{result}");
        assert_eq!(
            (
                result["entries"].as_i64(),
                result["skippedEntries"].as_i64()
            ),
            (Some(*entries), Some(*skipped)),
            "{name}"
        );
    }
    let (status, _, _) = api
        .send("PUT", "/v1/trusted-list", Some(ADMIN), Some("10.9.8.7\n"))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The stored lists are what the scanner loads.
    let (loaded, _) = peregrine::intel::ThreatLists::load_dir(intel.path()).unwrap();
    let mut names: Vec<_> = loaded.lists.iter().map(|l| l.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Tor exit nodes", "abuse", "feed", "scanners"]);
    assert!(loaded.trusted.contains_ip("10.9.8.7".parse().unwrap()));

    let listed = api.get("/v1/threat-lists").await;
    assert_eq!(listed["threatLists"].as_array().unwrap().len(), 4);
    assert_eq!(listed["trustedList"]["entries"], 1);

    for (uri, body, detail) in [
        (
            "/v1/threat-lists/empty?format=txt",
            "# nothing\n",
            "holds no IP addresses",
        ),
        (
            "/v1/threat-lists/x?format=xml",
            "1.2.3.4",
            "format must be txt, csv or stix",
        ),
        ("/v1/threat-lists/.hidden", "1.2.3.4", "list name"),
        (
            "/v1/threat-lists/x?colour=red",
            "1.2.3.4",
            "unknown field `colour`",
        ),
        (
            "/v1/threat-lists/x?category=evil",
            "1.2.3.4",
            "category must be one of malicious, tor-exit-node,",
        ),
    ] {
        let (status, _, problem) = api.send("PUT", uri, Some(ADMIN), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(detail),
            "{uri}: {problem}"
        );
    }
    let (status, _, _) = api
        .send("PUT", "/v1/threat-lists/x", Some(READER), Some("1.2.3.4"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A list uploaded under a category moves there: one name, one list.
    let (status, _, result) = api
        .send(
            "PUT",
            "/v1/threat-lists/abuse?category=command-and-control",
            Some(ADMIN),
            Some("c2.example.com\n198.51.100.7\n"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["category"], "command-and-control");
    assert!(!intel.path().join("custom/abuse.csv").exists());
    let listed = api.get("/v1/threat-lists").await;
    let abuse: Vec<&Value> = listed["threatLists"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["name"] == "abuse")
        .collect();
    assert_eq!(abuse.len(), 1, "{listed}");
    assert_eq!(
        (
            &abuse[0]["kind"],
            &abuse[0]["domains"],
            &abuse[0]["networks"]
        ),
        (&json!("COMMAND_AND_CONTROL"), &json!(1), &json!(1))
    );

    let (status, _, _) = api
        .send("DELETE", "/v1/threat-lists/abuse", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!intel.path().join("command-and-control/abuse.txt").exists());
    let (status, _, _) = api
        .send("DELETE", "/v1/threat-lists/abuse", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get("/v1/threat-lists").await["threatLists"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    db.cleanup().await;
}

#[tokio::test]
async fn rules_endpoint_lists_modules_versions_status_and_failures() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    let dir = peregrine_e2e::rules_dir(true, &[]);
    std::fs::write(dir.path().join("broken.wasm"), b"not a module").unwrap();
    let rules = peregrine_e2e::rule_set(dir.path());
    let tokens = Tokens {
        admin: vec![ADMIN.into()],
        read: vec![READER.into()],
    };
    let api = Client {
        app: router(Arc::new(ApiState {
            rules: Some(rules),
            ..ApiState::new(store, tokens)
        })),
        stored: Vec::new(),
    };

    let listed = api.get("/v1/rules").await;
    let rules = listed["rules"].as_array().unwrap();
    assert_eq!(rules.len(), xtask::shipped_rules().unwrap().len());
    let exec = rules
        .iter()
        .find(|r| r["module"] == "execution-exec-in-kube-system-pod")
        .unwrap();
    assert_eq!(
        exec["findingType"],
        "Execution:Kubernetes/ExecInKubeSystemPod"
    );
    assert_eq!(exec["status"], "ACTIVE");
    assert_eq!(exec["version"].as_str().unwrap().len(), 64);
    assert_eq!(exec["counters"]["failures"], 0);
    let failed = listed["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("broken.wasm: not a WebAssembly component"),
        "{failed:?}"
    );
    db.cleanup().await;
}

/// Checks `value` against a schema of the served document (the subset it uses: `$ref`,
/// `type`, `required`, `properties`, `items`, `enum`).
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let matching = alternatives
            .iter()
            .filter(|a| conforms(doc, a, value, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{at}: {value} matches {matching} of oneOf"));
        }
    }
    let type_of = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => vec![],
    };
    let actual = type_of(value);
    if !allowed.is_empty()
        && !allowed.contains(&actual)
        && !(actual == "integer" && allowed.contains(&"number"))
    {
        return Err(format!(
            "{at}: {actual} where the document says {allowed:?}"
        ));
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            return Err(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    for key in schema["required"].as_array().into_iter().flatten() {
        if value.get(key.as_str().unwrap()).is_none() {
            return Err(format!("{at}: required {key} is missing"));
        }
    }
    if let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object())
    {
        if schema["additionalProperties"] == json!(false) {
            for key in object.keys() {
                if !properties.contains_key(key) {
                    return Err(format!("{at}.{key} is not in the document"));
                }
            }
        }
        for (key, sub) in properties {
            if let Some(v) = object.get(key) {
                conforms(doc, sub, v, &format!("{at}.{key}"))?;
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_served_openapi_document_matches_real_responses() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let intel = tempfile::tempdir().unwrap();
    let (api, _rules) = Client::serving(&db.url, intel.path()).await;
    let doc = api.get("/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    // The checker does reject what the document does not allow.
    let finding = json!({"$ref": "#/components/schemas/Finding"});
    assert!(conforms(&doc, &finding, &json!({"id": 1}), "probe").is_err());
    assert!(
        conforms(
            &doc,
            &json!({"$ref": "#/components/schemas/Problem"}),
            &json!({"type": "x", "title": "t", "status": "400", "detail": "d"}),
            "probe"
        )
        .is_err()
    );
    // A finding with a field the document does not list is refused.
    let mut extra = api.get(&format!("/v1/findings/{}", api.stored[0].id)).await;
    conforms(&doc, &finding, &extra, "probe").unwrap();
    extra["service"]["action"]["kubernetesApiCallAction"]["undocumented"] = json!(1);
    assert!(conforms(&doc, &finding, &extra, "probe").is_err());
    let id = api.stored[0].id.clone();
    let filter = json!({"name": "doc-check", "action": "NOOP", "findingCriteria": {"criterion": {"severity": {"gte": 7}}}}).to_string();
    let ids = json!({"findingIds": [id.clone(), "missing"]}).to_string();
    let cases: Vec<(&str, String, &str, Option<String>, u16)> = vec![
        ("GET", "/v1/findings?maxResults=3".into(), "/v1/findings", None, 200),
        ("GET", format!("/v1/findings/{id}"), "/v1/findings/{id}", None, 200),
        ("GET", "/v1/findings/nope".into(), "/v1/findings/{id}", None, 404),
        ("POST", "/v1/findings/get".into(), "/v1/findings/get", Some(ids.clone()), 200),
        ("POST", "/v1/findings/search".into(), "/v1/findings/search", Some(json!({"findingCriteria": {"criterion": {"severity": {"gte": 7}}}, "maxResults": 2}).to_string()), 200),
        ("POST", "/v1/findings/archive".into(), "/v1/findings/archive", Some(ids.clone()), 200),
        ("POST", "/v1/findings/unarchive".into(), "/v1/findings/unarchive", Some(ids.clone()), 200),
        ("POST", "/v1/findings/feedback".into(), "/v1/findings/feedback", Some(json!({"findingIds": [id], "feedback": "USEFUL"}).to_string()), 200),
        ("GET", "/v1/findings/statistics?groupBy=SEVERITY".into(), "/v1/findings/statistics", None, 200),
        ("GET", "/v1/findings?maxResults=99".into(), "/v1/findings", None, 400),
        ("POST", "/v1/filters".into(), "/v1/filters", Some(filter.clone()), 201),
        ("GET", "/v1/filters".into(), "/v1/filters", None, 200),
        ("GET", "/v1/filters/doc-check".into(), "/v1/filters/{name}", None, 200),
        ("PUT", "/v1/filters/doc-check".into(), "/v1/filters/{name}", Some(filter.clone()), 200),
        ("POST", "/v1/filters".into(), "/v1/filters", Some(filter), 409),
        ("PUT", "/v1/threat-lists/bad?format=txt".into(), "/v1/threat-lists/{name}", Some("203.0.113.0/24\n".into()), 200),
        ("PUT", "/v1/trusted-list".into(), "/v1/trusted-list", Some("10.0.0.0/8\n".into()), 200),
        ("GET", "/v1/threat-lists".into(), "/v1/threat-lists", None, 200),
        ("GET", "/v1/rules".into(), "/v1/rules", None, 200),
        ("GET", "/readyz".into(), "/readyz", None, 200),
        ("GET", "/metrics".into(), "/metrics", None, 200),
        ("POST", "/v1/audit/doc".into(), "/v1/audit/{cluster}", Some(std::fs::read_to_string(peregrine_e2e::workspace_path("rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl")).unwrap().lines().next().unwrap().to_string()), 200),
        ("POST", "/v1/audit/doc".into(), "/v1/audit/{cluster}", Some("[".into()), 400),
        ("POST", "/v1/runtime/doc".into(), "/v1/runtime/{cluster}", Some(std::fs::read_to_string(peregrine_e2e::workspace_path("rules/backdoor-runtime-c-and-c-activity-b/fixtures/positive.jsonl")).unwrap()), 200),
        ("POST", "/v1/runtime/doc".into(), "/v1/runtime/{cluster}", Some("[".into()), 400),
        // A runtime finding is a Finding of the document too.
        ("GET", "/v1/findings?type=Backdoor:Runtime/C%26CActivity.B".into(), "/v1/findings", None, 200),
        ("DELETE", "/v1/filters/doc-check".into(), "/v1/filters/{name}", None, 204),
        ("DELETE", "/v1/threat-lists/bad".into(), "/v1/threat-lists/{name}", None, 204),
        ("DELETE", "/v1/trusted-list".into(), "/v1/trusted-list", None, 204),
    ];
    let mut covered = std::collections::BTreeSet::new();
    for (method, uri, path, body, want) in cases {
        let (status, _, response) = api.send(method, &uri, Some(ADMIN), body.as_deref()).await;
        assert_eq!(status.as_u16(), want, "{method} {uri}: {response}");
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in the document"
        );
        let described = &operation["responses"][want.to_string()];
        assert!(
            described.is_object(),
            "{method} {path} {want} is not in the document"
        );
        if let Some(content) = described["content"].as_object() {
            let schema = &content.values().next().unwrap()["schema"];
            conforms(&doc, schema, &response, &format!("{method} {uri}")).unwrap();
        }
        covered.insert((path.to_string(), method.to_lowercase()));
    }
    // Every operation of the document is routed, and was exercised above.
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if path == "/healthz" || path == "/v1/openapi.json" {
                continue;
            }
            assert!(
                covered.contains(&(path.clone(), method.clone())),
                "{method} {path} is not checked"
            );
        }
    }
    db.cleanup().await;
}

#[tokio::test]
async fn lists_and_searches_sort_and_page_in_any_supported_order() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        for (sort, order) in [("severity", "ASC"), ("service.count", "DESC"), ("service.eventFirstSeen", "ASC")] {
            let mut values = Vec::new();
            let mut ids = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut uri = format!("/v1/findings?maxResults=9&sortBy={sort}&orderBy={order}");
                if let Some(t) = &token {
                    uri.push_str(&format!("&nextToken={t}"));
                }
                let page = api.get(&uri).await;
                for f in page["findings"].as_array().unwrap() {
                    ids.push(f["id"].as_str().unwrap().to_string());
                    values.push(match sort {
                        "severity" => f["severity"].to_string(),
                        "service.count" => format!("{:08}", f["service"]["count"].as_u64().unwrap()),
                        _ => f["service"]["eventFirstSeen"].as_str().unwrap().to_string(),
                    });
                }
                match page["nextToken"].as_str() {
                    Some(t) => token = Some(t.to_string()),
                    None => break,
                }
            }
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!((ids.len(), unique.len()), (api.stored.len(), api.stored.len()), "{sort}");
            let mut sorted = values.clone();
            sorted.sort();
            if order == "DESC" {
                sorted.reverse();
            }
            assert_eq!(values, sorted, "{sort} {order}");
        }

        // Search sorts too; a token only resumes the order it was issued for.
        let body = json!({"sortCriteria": {"attributeName": "severity", "orderBy": "ASC"}, "maxResults": 3}).to_string();
        let (status, _, page) = api.send("POST", "/v1/findings/search", Some(READER), Some(&body)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let severities: Vec<f64> = page["findings"].as_array().unwrap().iter().map(|f| f["severity"].as_f64().unwrap()).collect();
        let mut lowest: Vec<f64> = api.stored.iter().map(|f| f.severity).collect();
        lowest.sort_by(f64::total_cmp);
        assert_eq!(severities, lowest[..3]);
        let token = page["nextToken"].as_str().unwrap();
        let (status, _, problem) = api.send("GET", &format!("/v1/findings?nextToken={token}"), Some(READER), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        for uri in ["/v1/findings?sortBy=title", "/v1/findings?orderBy=UP"] {
            let (status, _, _) = api.send("GET", uri, Some(READER), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        }
    })
    .await;
}

/// Checks Prometheus text exposition format 0.0.4 as a scraper reads it: every sample
/// belongs to a family announced by `# HELP` and `# TYPE` lines (once each, before its
/// samples), names and labels are well formed, values are floats. Returns the samples.
fn exposition(text: &str) -> Vec<(String, f64)> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut helped = std::collections::BTreeSet::new();
    let mut typed = std::collections::BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(valid_name(name), "{line}");
            assert!(helped.insert(name.to_string()), "second HELP: {line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_string(), kind.to_string()).is_none(),
                "second TYPE: {line}"
            );
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = series.split('{').next().unwrap();
            assert!(valid_name(name), "{line}");
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                let labels = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}'));
                for pair in labels.unwrap_or_else(|| panic!("{line}")).split("\",") {
                    let (label, quoted) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
                    assert!(valid_name(label) && quoted.starts_with('"'), "{line}");
                }
            }
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(name);
            assert!(
                helped.contains(family) && typed.contains_key(family),
                "{name} has no HELP and TYPE before it"
            );
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a float: {line}"));
            samples.push((series.to_string(), value));
        }
    }
    samples
}

#[tokio::test]
async fn metrics_are_valid_exposition_in_base_units_with_kind_and_cluster_labels() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let intel = tempfile::tempdir().unwrap();
    let (api, _rules) = Client::serving(&db.url, intel.path()).await;
    let events = std::fs::read_to_string(peregrine_e2e::workspace_path(
        "rules/execution-exec-in-kube-system-pod/fixtures/positive.jsonl",
    ))
    .unwrap();
    let mut judged = 0;
    for event in events.lines() {
        let (status, _, receipt) = api
            .send("POST", "/v1/audit/prod-eu", Some(ADMIN), Some(event))
            .await;
        assert_eq!(status, StatusCode::OK, "{receipt}");
        judged += receipt["judged"].as_u64().unwrap();
    }
    assert!(judged > 0);
    let request = Request::builder()
        .uri("/metrics")
        .header("authorization", format!("Bearer {READER}"))
        .body(Body::empty())
        .unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = std::str::from_utf8(&text).unwrap();
    let samples = exposition(text);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .1
    };
    assert_eq!(
        value(&format!(
            "peregrine_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );
    // Kind and cluster are two labels.
    assert_eq!(
        value("peregrine_events_received_total{kind=\"webhook\",cluster=\"prod-eu\"}"),
        events.lines().count() as f64
    );
    assert!(!text.contains("source="), "{text}");
    // Rule time is in seconds: one event through every rule takes well under a second
    // each, yet some time, and a float.
    assert!(!text.contains("nanoseconds"), "{text}");
    let busy: Vec<f64> = samples
        .iter()
        .filter(|(s, _)| s.starts_with("peregrine_rule_busy_seconds_total{"))
        .map(|(_, v)| *v)
        .collect();
    assert!(busy.len() >= 30, "{text}");
    assert!(busy.iter().all(|&s| (0.0..1.0).contains(&s)), "{busy:?}");
    assert!(busy.iter().sum::<f64>() > 0.0, "{busy:?}");
    assert!(busy.iter().any(|s| s.fract() != 0.0), "{busy:?}");
    db.cleanup().await;
}

#[tokio::test]
async fn nul_characters_are_refused_with_400_naming_the_parameter() {
    on_both_backends(|url| async move {
        let api = Client::new(&url).await;
        let criteria = r#"{"criterion":{"severity":{"gte":1}}}"#;
        let cases: Vec<(&str, String, Option<String>, StatusCode, &str)> = vec![
            ("GET", "/v1/findings?cluster=a%00b".into(), None, StatusCode::BAD_REQUEST, "the query parameter cluster must not contain a NUL character"),
            ("GET", "/v1/findings?type=%00".into(), None, StatusCode::BAD_REQUEST, "the query parameter type must not"),
            ("GET", "/v1/findings?namespace=x%00".into(), None, StatusCode::BAD_REQUEST, "the query parameter namespace must not"),
            ("GET", "/v1/findings?username=%00x".into(), None, StatusCode::BAD_REQUEST, "the query parameter username must not"),
            ("GET", "/v1/findings/statistics?groupBy=SEVERITY&cluster=%00".into(), None, StatusCode::BAD_REQUEST, "the query parameter cluster must not"),
            ("GET", "/v1/findings/a%00b".into(), None, StatusCode::BAD_REQUEST, "the finding id must not contain a NUL"),
            ("GET", "/v1/filters/a%00b".into(), None, StatusCode::NOT_FOUND, "no filter named"),
            ("DELETE", "/v1/filters/a%00b".into(), None, StatusCode::NOT_FOUND, "no filter named"),
            ("PUT", "/v1/threat-lists/a%00b".into(), Some("10.0.0.1\n".into()), StatusCode::BAD_REQUEST, "list name"),
            ("PUT", "/v1/trusted-list?format=t%00xt".into(), Some("10.0.0.1\n".into()), StatusCode::BAD_REQUEST, "the query parameter format must not"),
            ("POST", "/v1/filters".into(), Some(format!(r#"{{"name":"nul-desc","description":"a\u0000b","findingCriteria":{criteria}}}"#)), StatusCode::BAD_REQUEST, "description must not contain a NUL character"),
            ("PUT", "/v1/filters/nul-desc".into(), Some(format!(r#"{{"description":"\u0000","findingCriteria":{criteria}}}"#)), StatusCode::BAD_REQUEST, "description must not contain a NUL character"),
            ("POST", "/v1/filters".into(), Some(format!(r#"{{"name":"nul\u0000name","findingCriteria":{criteria}}}"#)), StatusCode::BAD_REQUEST, "name must not contain a NUL character"),
            ("POST", "/v1/filters".into(), Some(r#"{"name":"nul-criteria","findingCriteria":{"criterion":{"type":{"equals":["a\u0000"]}}}}"#.into()), StatusCode::BAD_REQUEST, "findingCriteria.criterion.type.equals[0] must not contain a NUL character"),
            ("POST", "/v1/filters".into(), Some(r#"{"name":"nul-path","findingCriteria":{"criterion":{"ty\u0000pe":{"equals":["a"]}}}}"#.into()), StatusCode::BAD_REQUEST, "the field name"),
            ("POST", "/v1/findings/search".into(), Some(r#"{"findingCriteria":{"criterion":{"resource.eksClusterDetails.name":{"matches":["\u0000*"]}}}}"#.into()), StatusCode::BAD_REQUEST, "findingCriteria.criterion.resource.eksClusterDetails.name.matches[0] must not"),
            ("POST", "/v1/findings/search".into(), Some(r#"{"nextToken":"\u0000"}"#.into()), StatusCode::BAD_REQUEST, "nextToken must not"),
            ("POST", "/v1/findings/get".into(), Some(r#"{"findingIds":["a\u0000"]}"#.into()), StatusCode::BAD_REQUEST, "findingIds[0] must not contain a NUL character"),
            ("POST", "/v1/findings/archive".into(), Some(r#"{"findingIds":["ok","\u0000"]}"#.into()), StatusCode::BAD_REQUEST, "findingIds[1] must not"),
            ("POST", "/v1/findings/feedback".into(), Some(r#"{"findingIds":["a"],"feedback":"USEFUL","comments":"x\u0000"}"#.into()), StatusCode::BAD_REQUEST, "comments must not contain a NUL character"),
        ];
        for (method, uri, body, want_status, want_detail) in cases {
            let (status, content_type, problem) =
                api.send(method, &uri, Some(ADMIN), body.as_deref()).await;
            assert_eq!(status, want_status, "{method} {uri}: {problem}");
            assert_eq!(content_type, "application/problem+json", "{method} {uri}");
            assert_eq!(problem["status"], want_status.as_u16(), "{method} {uri}");
            assert!(
                problem["detail"].as_str().unwrap().contains(want_detail),
                "{method} {uri}: {problem}"
            );
        }
        // Nothing was stored: the store still answers, and holds no such filter.
        assert_eq!(api.get("/v1/filters").await["filters"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn too_large_bodies_and_wrong_methods_are_problems() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let api = Client::new(&db.url).await;
    let huge = format!(r#"{{"findingIds":["{}"]}}"#, "a".repeat(2 << 20));
    for uri in ["/v1/findings/archive", "/v1/findings/search", "/v1/filters"] {
        let (status, content_type, problem) = api.send("POST", uri, Some(ADMIN), Some(&huge)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
        assert_eq!(problem["status"], 413, "{uri}");
        assert_eq!(problem["title"], "Payload Too Large", "{uri}");
        assert!(
            problem["detail"].as_str().unwrap().contains("larger"),
            "{problem}"
        );
    }
    for (method, uri, allowed) in [
        ("DELETE", "/v1/findings", "GET"),
        ("POST", "/v1/findings/statistics", "GET"),
        ("GET", "/v1/findings/archive", "POST"),
        ("PATCH", "/v1/filters/some-filter", "GET,PUT,DELETE"),
        ("POST", "/v1/threat-lists", "GET"),
        ("POST", "/metrics", "GET"),
        ("PUT", "/readyz", "GET"),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {ADMIN}"))
            .body(Body::empty())
            .unwrap();
        let response = api.app.clone().oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        let headers = response.headers().clone();
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{method} {uri}"
        );
        let allow = headers["allow"].to_str().unwrap().replace(' ', "");
        for m in allowed.split(',') {
            assert!(
                allow.split(',').any(|a| a == m),
                "{method} {uri}: Allow {allow}"
            );
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let problem: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem["status"], 405, "{method} {uri}");
        assert!(
            problem["detail"].as_str().unwrap().contains("not allowed"),
            "{method} {uri}: {problem}"
        );
    }
    db.cleanup().await;
}

/// The router's routes: the paths its source gives `.route(...)` (those of `let v1` under
/// `/v1`), each probed with every method for which the router does not answer 405.
async fn routed(api: &Client) -> std::collections::BTreeSet<(String, String)> {
    let source =
        std::fs::read_to_string(peregrine_e2e::workspace_path("host/src/api/mod.rs")).unwrap();
    let body = &source[source.find("pub fn router(").unwrap()..];
    let top = body.find("\n    Router::new()").unwrap();
    let mut paths = Vec::new();
    for (at, _) in body.match_indices(".route(") {
        let rest = body[at + ".route(".len()..].trim_start();
        let rest = rest.strip_prefix('"').expect("a route's path is a literal");
        let path = &rest[..rest.find('"').unwrap()];
        paths.push(if at < top {
            format!("/v1{path}")
        } else {
            path.to_string()
        });
    }
    assert!(paths.len() >= 15, "{paths:?}");
    let mut routes = std::collections::BTreeSet::new();
    for path in paths {
        let uri = path
            .replace("{id}", "probe-id")
            .replace("{name}", "probe-name")
            .replace("{cluster}", "probe");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let (status, _, body) = api.send(method, &uri, Some(ADMIN), Some("{}")).await;
            assert_ne!(body["detail"], "no such endpoint", "{method} {uri}");
            if status != StatusCode::METHOD_NOT_ALLOWED {
                routes.insert((path.clone(), method.to_lowercase()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_has_every_route_of_the_router_and_no_other() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let intel = tempfile::tempdir().unwrap();
    let (api, _rules) = Client::serving(&db.url, intel.path()).await;
    let doc = api.get("/v1/openapi.json").await;
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(|method| (path.clone(), method.clone()))
        })
        .collect();
    let routed = routed(&api).await;
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not documented: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    // Every operation documents the statuses any route can answer.
    for (path, method) in &documented {
        let operation = &doc["paths"][path][method];
        let responses = operation["responses"].as_object().unwrap();
        let secured = operation.get("security").is_some();
        if secured {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        if operation.get("requestBody").is_some() {
            assert!(responses.contains_key("413"), "{method} {path}: no 413");
            assert!(responses.contains_key("400"), "{method} {path}: no 400");
        }
        let admin = secured
            && method != "get"
            && !path.ends_with("/findings/get")
            && !path.ends_with("/findings/search")
            && !path.starts_with("/v1/audit")
            && !path.starts_with("/v1/runtime");
        if admin {
            assert!(responses.contains_key("403"), "{method} {path}: no 403");
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let schema = &parameter["schema"];
            if parameter["in"] == "query" && schema["type"] == "string" {
                assert!(
                    schema.get("enum").is_some()
                        || schema.get("pattern").is_some()
                        || parameter["name"] == "nextToken",
                    "{method} {path}: {parameter} is unconstrained"
                );
            }
        }
    }
    // Parameters the server checks are bounded and enumerated in the document.
    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
            .clone()
    };
    assert_eq!(param("/v1/findings", "maxResults")["minimum"], 1);
    assert_eq!(param("/v1/findings", "maxResults")["maximum"], 50);
    assert_eq!(
        param("/v1/findings/statistics", "maxResults")["maximum"],
        100
    );
    assert_eq!(
        param("/v1/findings", "orderBy")["enum"],
        json!(["ASC", "DESC"])
    );
    assert_eq!(
        param("/v1/findings", "sortBy")["enum"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        param("/v1/findings/statistics", "groupBy")["enum"],
        json!(["FINDING_TYPE", "SEVERITY", "RESOURCE", "DATE"])
    );
    for path in ["/v1/threat-lists/{name}", "/v1/trusted-list"] {
        let put = &doc["paths"][path]["put"];
        assert!(
            put["requestBody"]["content"]["text/plain"]["schema"].is_object(),
            "{path}"
        );
        let format = put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "format")
            .unwrap();
        assert!(
            format["schema"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("stix")),
            "{path}"
        );
    }
    db.cleanup().await;
}

/// What schemathesis found the server and the document disagreeing on: each request the
/// document allows is taken, each it forbids is refused.
#[tokio::test]
async fn the_server_takes_what_the_document_allows_and_refuses_the_rest() {
    let db = peregrine_e2e::db::TestDatabase::sqlite();
    let intel = tempfile::tempdir().unwrap();
    let (api, _rules) = Client::serving(&db.url, intel.path()).await;
    let id = api.stored[0].id.clone();
    let cases: Vec<(&str, &str, String, StatusCode)> = vec![
        // JSON Schema integers may be written 7.0.
        ("POST", "/v1/filters", json!({"name": "floats", "rank": 2.0, "findingCriteria": {"criterion": {"severity": {"greaterThan": 7.0}}}}).to_string(), StatusCode::CREATED),
        ("POST", "/v1/findings/search", r#"{"maxResults": 5.0}"#.into(), StatusCode::OK),
        // ... but not past what a float holds exactly, nor with a fraction.
        ("POST", "/v1/findings/search", r#"{"findingCriteria":{"criterion":{"severity":{"lessThan":-9223372036854775809}}}}"#.into(), StatusCode::BAD_REQUEST),
        ("POST", "/v1/findings/search", r#"{"maxResults": 5.5}"#.into(), StatusCode::BAD_REQUEST),
        // Objects are objects, not arrays of their fields.
        ("POST", "/v1/findings/search", r#"{"sortCriteria": [null, null]}"#.into(), StatusCode::BAD_REQUEST),
        ("POST", "/v1/findings/search", r#"{"findingCriteria": [{}]}"#.into(), StatusCode::BAD_REQUEST),
        ("POST", "/v1/findings/search", r#"{"findingCriteria": {"criterion": {"severity": [["5"]]}}}"#.into(), StatusCode::BAD_REQUEST),
        ("POST", "/v1/findings/archive", json!([[id]]).to_string(), StatusCode::BAD_REQUEST),
        // Lengths are in characters, as JSON Schema counts them.
        ("POST", "/v1/findings/feedback", json!({"findingIds": [id], "feedback": "USEFUL", "comments": "é".repeat(1024)}).to_string(), StatusCode::OK),
        ("POST", "/v1/findings/feedback", json!({"findingIds": [id], "feedback": "USEFUL", "comments": "é".repeat(1025)}).to_string(), StatusCode::BAD_REQUEST),
        ("PUT", "/v1/filters/floats", json!({"description": "ü".repeat(512), "findingCriteria": {"criterion": {"severity": {"gte": 7}}}}).to_string(), StatusCode::OK),
        // A list no upload can have named (a built-in one's) is not there to delete.
        ("DELETE", "/v1/threat-lists/Tor%20exit%20nodes", String::new(), StatusCode::NOT_FOUND),
    ];
    for (method, uri, body, want) in cases {
        let (status, _, response) = api.send(method, uri, Some(ADMIN), Some(&body)).await;
        assert_eq!(status, want, "{method} {uri} {body}: {response}");
    }
    db.cleanup().await;
}
