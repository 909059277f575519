//! `/v1/findings`: list, get, archive, unarchive, feedback.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{ApiState, Problem, problem};
use crate::findings::criteria::FindingCriteria;
use crate::findings::format_time;
use crate::store::{Cursor, FindingFilter, GroupBy, Sort, SortKey};

/// GuardDuty's limit on ids per call and on page size.
pub const MAX_IDS: usize = 50;
pub const MAX_PAGE: i64 = 50;

/// `maxResults`, checked: 1 to [`MAX_PAGE`], [`MAX_PAGE`] when absent.
fn page_size(max_results: Option<i64>) -> Result<i64, Problem> {
    let limit = max_results.unwrap_or(MAX_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(Problem::bad_request(format!(
            "maxResults must be between 1 and {MAX_PAGE}"
        )))
    }
}

/// A JSON body with no unknown fields and no NUL character (which the store cannot hold),
/// or a 400 that says what is wrong and where.
pub(super) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Problem> {
    let invalid = |e: serde_json::Error| Problem::bad_request(format!("invalid request body: {e}"));
    let mut value: Value = serde_json::from_slice(body).map_err(invalid)?;
    if let Some(at) = problem::nul_in(&value, "") {
        return Err(Problem::bad_request(format!(
            "{at} must not contain a NUL character"
        )));
    }
    // serde reads a struct from an array too; these bodies and their parts are objects.
    let criteria = &value["findingCriteria"]["criterion"];
    let objects = [
        ("the request body", &value),
        ("findingCriteria", &value["findingCriteria"]),
        ("sortCriteria", &value["sortCriteria"]),
    ]
    .into_iter()
    .chain(
        criteria
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, c)| ("a condition of findingCriteria.criterion", c)),
    );
    for (name, part) in objects {
        if part.is_array() || (name == "the request body" && !part.is_object()) {
            return Err(Problem::bad_request(format!("{name} must be an object")));
        }
    }
    integral_floats_as_integers(&mut value);
    T::deserialize(value).map_err(invalid)
}

/// `5.0` is an integer in JSON Schema; serde reads it into an integer field only as `5`.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                // Exactly representable; past 2^53 the text may have been another number.
                && f.abs() <= 9_007_199_254_740_992.0
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    max_results: Option<i64>,
    next_token: Option<String>,
    /// A sort attribute (`updatedAt`, `createdAt`, `severity`, `service.count`,
    /// `service.eventFirstSeen`, `service.eventLastSeen`).
    sort_by: Option<String>,
    /// `ASC` or `DESC` (the default).
    order_by: Option<String>,
    #[serde(rename = "type")]
    finding_type: Option<String>,
    cluster: Option<String>,
    namespace: Option<String>,
    username: Option<String>,
    archived: Option<bool>,
}

/// GuardDuty's `sortCriteria`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SortCriteria {
    attribute_name: Option<String>,
    order_by: Option<String>,
}

fn sort_of(attribute: Option<&str>, order: Option<&str>) -> Result<Sort, Problem> {
    let key = match attribute {
        None => SortKey::UpdatedAt,
        Some(name) => SortKey::from_attribute(name).ok_or_else(|| {
            Problem::bad_request(format!(
                "cannot sort by {name:?}; sort by updatedAt, createdAt, severity, service.count, \
                 service.eventFirstSeen or service.eventLastSeen"
            ))
        })?,
    };
    let descending = match order {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "orderBy must be ASC or DESC, not {other:?}"
            )));
        }
    };
    Ok(Sort { key, descending })
}

/// The sort the token was issued for travels in it, so a token cannot resume another order.
fn encode_cursor(sort: Sort, cursor: &Cursor) -> String {
    hex::encode(format!(
        "{:?}|{}|{}|{}",
        sort.key, sort.descending, cursor.value, cursor.id
    ))
}

fn decode_cursor(sort: Sort, token: &str) -> Result<Cursor, Problem> {
    let bad = || Problem::bad_request("nextToken is not one this API issued for this sort order");
    let text = String::from_utf8(hex::decode(token).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = text.splitn(4, '|');
    let (key, descending, value, id) = (parts.next(), parts.next(), parts.next(), parts.next());
    if key != Some(format!("{:?}", sort.key).as_str())
        || descending != Some(sort.descending.to_string().as_str())
    {
        return Err(bad());
    }
    Ok(Cursor {
        value: value.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
        id: id.ok_or_else(bad)?.to_string(),
    })
}

pub async fn list(State(state): State<Arc<ApiState>>, uri: Uri) -> Result<Json<Value>, Problem> {
    let query: ListQuery = problem::query(&uri)?;
    let limit = page_size(query.max_results)?;
    let sort = sort_of(query.sort_by.as_deref(), query.order_by.as_deref())?;
    let after = query
        .next_token
        .as_deref()
        .map(|t| decode_cursor(sort, t))
        .transpose()?;
    let filter = FindingFilter {
        finding_type: query.finding_type,
        cluster: query.cluster,
        namespace: query.namespace,
        username: query.username,
        archived: query.archived,
    };
    let (findings, next) = state.store.list_page(&filter, sort, limit, after).await?;
    Ok(Json(
        json!({ "findings": findings, "nextToken": next.map(|c| encode_cursor(sort, &c)) }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatisticsQuery {
    group_by: String,
    max_results: Option<i64>,
    #[serde(rename = "type")]
    finding_type: Option<String>,
    cluster: Option<String>,
    namespace: Option<String>,
    username: Option<String>,
    archived: Option<bool>,
}

/// GuardDuty's `GetFindingsStatistics`: counts grouped by type, severity, cluster
/// (`RESOURCE`: the EKS cluster is the resource of audit-log findings) or date.
pub async fn statistics(
    State(state): State<Arc<ApiState>>,
    uri: Uri,
) -> Result<Json<Value>, Problem> {
    let query: StatisticsQuery = problem::query(&uri)?;
    let (group_by, name, key) = match query.group_by.as_str() {
        "FINDING_TYPE" => (GroupBy::FindingType, "groupedByFindingType", "findingType"),
        "SEVERITY" => (GroupBy::Severity, "groupedBySeverity", "severity"),
        "RESOURCE" => (GroupBy::Cluster, "groupedByResource", "resourceId"),
        "DATE" => (GroupBy::Date, "groupedByDate", "date"),
        other => {
            return Err(Problem::bad_request(format!(
                "groupBy must be FINDING_TYPE, SEVERITY, RESOURCE or DATE, not {other:?}"
            )));
        }
    };
    let limit = query.max_results.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(Problem::bad_request("maxResults must be between 1 and 100"));
    }
    let filter = FindingFilter {
        finding_type: query.finding_type,
        cluster: query.cluster,
        namespace: query.namespace,
        username: query.username,
        archived: query.archived,
    };
    let groups = state.store.statistics(&filter, group_by, limit).await?;
    let rows: Vec<Value> = groups
        .into_iter()
        .map(|g| {
            let mut row = json!({ "totalFindings": g.total, "lastGeneratedAt": format_time(g.last_updated * 1000) });
            row[key] = match group_by {
                GroupBy::Severity => json!(g.key.parse::<f64>().unwrap_or(0.0)),
                _ => json!(g.key),
            };
            if group_by == GroupBy::Cluster {
                row["resourceType"] = json!("EKSCluster");
            }
            row
        })
        .collect();
    Ok(Json(json!({ "findingStatistics": { name: rows } })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    finding_criteria: FindingCriteria,
    #[serde(default)]
    sort_criteria: SortCriteria,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// GuardDuty's `ListFindings` with `findingCriteria` over any field path, evaluated by the
/// store's database.
pub async fn search(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let SearchBody {
        finding_criteria,
        sort_criteria,
        max_results,
        next_token,
    } = parse(&body)?;
    finding_criteria.validate().map_err(Problem::bad_request)?;
    let sort = sort_of(
        sort_criteria.attribute_name.as_deref(),
        sort_criteria.order_by.as_deref(),
    )?;
    let limit = page_size(max_results)?;
    let after = next_token
        .as_deref()
        .map(|t| decode_cursor(sort, t))
        .transpose()?;
    let (findings, next) = state
        .store
        .search_page(&finding_criteria, sort, limit, after)
        .await?;
    Ok(Json(
        json!({ "findings": findings, "nextToken": next.map(|c| encode_cursor(sort, &c)) }),
    ))
}

pub async fn get_one(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    problem::no_nul("the finding id", &id)?;
    match state.store.get(&id).await? {
        Some(finding) => Ok(Json(finding)),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("no finding with id {id}"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Ids {
    finding_ids: Vec<String>,
}

fn check_ids(ids: &[String]) -> Result<(), Problem> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(Problem::bad_request(format!(
            "findingIds must hold 1 to {MAX_IDS} ids"
        )));
    }
    Ok(())
}

pub async fn get_many(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let Ids { finding_ids } = parse(&body)?;
    check_ids(&finding_ids)?;
    let mut findings = Vec::new();
    let mut unprocessed = Vec::new();
    for id in finding_ids {
        match state.store.get(&id).await? {
            Some(f) => findings.push(f),
            None => unprocessed.push(id),
        }
    }
    Ok(Json(
        json!({ "findings": findings, "unprocessedIds": unprocessed }),
    ))
}

async fn set_archived(
    state: &ApiState,
    body: &Bytes,
    archived: bool,
) -> Result<Json<Value>, Problem> {
    let Ids { finding_ids } = parse(body)?;
    check_ids(&finding_ids)?;
    let missing = state.store.set_archived(&finding_ids, archived).await?;
    Ok(Json(json!({ "unprocessedIds": missing })))
}

pub async fn archive(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    set_archived(&state, &body, true).await
}

pub async fn unarchive(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    set_archived(&state, &body, false).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FeedbackBody {
    finding_ids: Vec<String>,
    feedback: String,
    comments: Option<String>,
}

pub async fn feedback(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let FeedbackBody {
        finding_ids,
        feedback,
        comments,
    } = parse(&body)?;
    check_ids(&finding_ids)?;
    if feedback != "USEFUL" && feedback != "NOT_USEFUL" {
        return Err(Problem::bad_request(
            "feedback must be USEFUL or NOT_USEFUL",
        ));
    }
    if comments.as_ref().is_some_and(|c| c.chars().count() > 1024) {
        return Err(Problem::bad_request(
            "comments must be at most 1024 characters",
        ));
    }
    let missing = state.store.set_feedback(&finding_ids, &feedback).await?;
    Ok(Json(json!({ "unprocessedIds": missing })))
}
