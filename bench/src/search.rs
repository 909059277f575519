//! `POST /v1/findings/search` over a large store: the criteria evaluated by the database,
//! against reading every page and evaluating them in Rust (how search worked before).

use std::time::{Duration, Instant};

use peregrine::findings::GuardDutyFinding;
use peregrine::findings::criteria::FindingCriteria;
use peregrine::store::{FindingFilter, Sort, Store};
use serde_json::json;

/// Stores `n` findings made from `templates` and times a few searches, on `url`.
pub async fn search(url: &str, templates: &[GuardDutyFinding], n: usize) -> Result<(), String> {
    let store = Store::connect(url).await.map_err(|e| e.to_string())?;
    let mut batch = Vec::new();
    for i in 0..n {
        let mut f = templates[i % templates.len()].clone();
        f.id = format!("bench{i:08}");
        f.severity = [2.0, 5.0, 8.0][i % 3];
        f.service
            .additional_info
            .insert("ticket".into(), json!(format!("T-{}", i % 10_000)));
        batch.push(f);
        if batch.len() == 1000 || i + 1 == n {
            let commit = peregrine::pipeline::Commit {
                findings: std::mem::take(&mut batch),
                ..Default::default()
            };
            store
                .write(&commit, false)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let cases = [
        (
            "type equals (a column)",
            json!({"type": {"equals": [templates[0].finding_type]}}),
        ),
        ("severity >= 8 (a column)", json!({"severity": {"gte": 8}})),
        (
            "a body field, 10 matches",
            json!({"service.additionalInfo.ticket": {"equals": ["T-42"]}}),
        ),
        (
            "a body field wildcard over a list, no match",
            json!({"resource.kubernetesDetails.kubernetesUserDetails.groups": {"matches": ["nobody*"]}}),
        ),
    ];
    for (name, criterion) in cases {
        let criteria: FindingCriteria =
            serde_json::from_value(json!({ "criterion": criterion })).map_err(|e| e.to_string())?;
        let sql = best_of(3, || async {
            store
                .search_page(&criteria, Sort::default(), 50, None)
                .await
                .map(|p| p.0.len())
        })
        .await?;
        let rust = best_of(1, || async { in_rust(&store, &criteria).await }).await?;
        println!(
            "{name}: in SQL {:.1} ms ({} found), read and filtered in Rust {:.1} ms ({} found)",
            sql.0.as_secs_f64() * 1000.0,
            sql.1,
            rust.0.as_secs_f64() * 1000.0,
            rust.1
        );
    }
    store.close().await;
    Ok(())
}

async fn best_of<F, Fut>(runs: usize, f: F) -> Result<(Duration, usize), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<usize, peregrine::store::StoreError>>,
{
    let mut best = (Duration::MAX, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let found = f().await.map_err(|e| e.to_string())?;
        best = best.min((start.elapsed(), found));
    }
    Ok(best)
}

/// The first page of 50, the way search found it before: pages of 200 read in order and
/// filtered in Rust.
async fn in_rust(
    store: &Store,
    criteria: &FindingCriteria,
) -> Result<usize, peregrine::store::StoreError> {
    let (mut found, mut cursor) = (0, None);
    loop {
        let (page, next) = store
            .list_page(&FindingFilter::default(), Sort::default(), 200, cursor)
            .await?;
        found += page.iter().filter(|f| criteria.matches(f)).count();
        match next {
            Some(next) if found < 50 => cursor = Some(next),
            _ => return Ok(found.min(50)),
        }
    }
}
