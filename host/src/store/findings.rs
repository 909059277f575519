//! Findings in the store: the atomic upsert of an occurrence, pages sorted and filtered
//! (by column or by criteria in SQL), archiving, feedback and statistics.

use serde_json::Value;
use sqlx::Row;

use super::criteria_sql::Arg;
use super::{Store, StoreError, storable};
use crate::findings::GuardDutyFinding;
use crate::findings::criteria::FindingCriteria;
use crate::findings::saved_filters::Filter;
use crate::pipeline::Commit;

/// Where a page ends: the last finding's update time and id.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    /// The sort attribute's value of the last finding of the page.
    pub value: f64,
    pub id: String,
}

/// What findings are ordered by: GuardDuty's `sortCriteria.attributeName`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    UpdatedAt,
    CreatedAt,
    FirstSeen,
    LastSeen,
    Severity,
    Count,
}

impl SortKey {
    /// From a finding field path, e.g. `service.eventLastSeen`.
    pub fn from_attribute(name: &str) -> Option<SortKey> {
        Some(match name {
            "updatedAt" => SortKey::UpdatedAt,
            "createdAt" => SortKey::CreatedAt,
            "service.eventFirstSeen" => SortKey::FirstSeen,
            "service.eventLastSeen" => SortKey::LastSeen,
            "severity" => SortKey::Severity,
            "service.count" => SortKey::Count,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            SortKey::UpdatedAt => "updated_at",
            SortKey::CreatedAt => "created_at",
            SortKey::FirstSeen => "first_seen",
            SortKey::LastSeen => "last_seen",
            SortKey::Severity => "severity",
            SortKey::Count => "count",
        }
    }
}

/// The order of a listing; ties are broken by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Most recently updated first.
    fn default() -> Self {
        Sort {
            key: SortKey::UpdatedAt,
            descending: true,
        }
    }
}

/// Conditions on the indexed columns; absent ones match everything.
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    pub finding_type: Option<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub username: Option<String>,
    pub archived: Option<bool>,
}

impl FindingFilter {
    /// The filter's SQL condition; its parameters are `$3` to `$7`.
    const CLAUSE: &str = "($3 IS NULL OR type = $3) AND ($4 IS NULL OR cluster = $4) \
        AND ($5 IS NULL OR namespace = $5) AND ($6 IS NULL OR username = $6) \
        AND ($7 IS NULL OR (CASE WHEN archived THEN 1 ELSE 0 END) = $7)";

    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        query
            .bind(self.finding_type.clone())
            .bind(self.cluster.clone())
            .bind(self.namespace.clone())
            .bind(self.username.clone())
            .bind(self.archived.map(i64::from))
    }
}

/// What statistics group findings by (GuardDuty's `groupBy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    FindingType,
    Severity,
    Cluster,
    Date,
}

/// One group of findings: its key, how many, and when one was last updated.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub key: String,
    pub total: i64,
    pub last_updated: i64,
}

impl Store {
    /// Records one occurrence (or an already-aggregated batch of occurrences) of a finding.
    pub async fn upsert(&self, finding: &GuardDutyFinding) -> Result<(), StoreError> {
        let commit = Commit {
            findings: vec![finding.clone()],
            ..Commit::default()
        };
        self.write(&commit, false).await.map(drop)
    }

    /// One finding in GuardDuty's format, with its aggregated fields as stored.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT id, count, created_at, updated_at, first_seen, last_seen, {ARCHIVED}, feedback, body \
             FROM findings WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| finding_json(&row)).transpose()
    }

    /// A page of findings matching `filter`, most recently updated first, and the cursor
    /// of the next page if there may be one.
    pub async fn list_page(
        &self,
        filter: &FindingFilter,
        sort: Sort,
        limit: i64,
        after: Option<Cursor>,
    ) -> Result<(Vec<Value>, Option<Cursor>), StoreError> {
        self.page(filter, &FindingCriteria::default(), sort, limit, after)
            .await
    }

    /// A page of findings meeting `criteria` (valid ones), evaluated by the database, and
    /// the cursor of the next page if there may be one.
    pub async fn search_page(
        &self,
        criteria: &FindingCriteria,
        sort: Sort,
        limit: i64,
        after: Option<Cursor>,
    ) -> Result<(Vec<Value>, Option<Cursor>), StoreError> {
        self.page(&FindingFilter::default(), criteria, sort, limit, after)
            .await
    }

    async fn page(
        &self,
        filter: &FindingFilter,
        criteria: &FindingCriteria,
        sort: Sort,
        limit: i64,
        after: Option<Cursor>,
    ) -> Result<(Vec<Value>, Option<Cursor>), StoreError> {
        let column = sort.key.column();
        let (direction, beyond) = if sort.descending {
            ("DESC", "<")
        } else {
            ("ASC", ">")
        };
        // The cursor value is a double; compare as doubles in both databases (PostgreSQL
        // would otherwise read the parameter as the column's integer type).
        let sorted = format!("CAST({column} AS DOUBLE PRECISION)");
        let criteria = criteria.to_sql(self.backend, 9);
        // Keyset pagination: rows after the cursor's (value, id) in this order.
        let query = format!(
            "SELECT id, count, created_at, updated_at, first_seen, last_seen, {ARCHIVED}, feedback, body, \
                    CAST({column} AS DOUBLE PRECISION) AS sort_value \
             FROM findings \
             WHERE ({sorted} {beyond} $1 OR ({sorted} = $1 AND id > $2)) AND {} AND {} \
             ORDER BY {column} {direction}, id ASC LIMIT $8",
            FindingFilter::CLAUSE,
            criteria.text,
        );
        // The first page starts beyond every value (a bound value, never NULL, keeps the
        // parameter's type the same on every call of the cached statement).
        let (value, id) = match after {
            Some(cursor) => (cursor.value, cursor.id),
            None if sort.descending => (f64::MAX, String::new()),
            None => (f64::MIN, String::new()),
        };
        let query = sqlx::query(&query).bind(value).bind(id);
        let mut query = filter.bind(query).bind(limit);
        for arg in criteria.args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Int(n) => query.bind(n),
                Arg::Float(x) => query.bind(x),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit => Some(Cursor {
                value: last.try_get("sort_value")?,
                id: last.try_get("id")?,
            }),
            _ => None,
        };
        let findings = rows.iter().map(finding_json).collect::<Result<_, _>>()?;
        Ok((findings, next))
    }

    /// Archives or unarchives findings; returns the ids that do not exist.
    pub async fn set_archived(
        &self,
        ids: &[String],
        archived: bool,
    ) -> Result<Vec<String>, StoreError> {
        self.update_each(
            "UPDATE findings SET archived = $1 WHERE id = $2",
            archived,
            ids,
        )
        .await
    }

    /// Records `USEFUL` or `NOT_USEFUL`; returns the ids that do not exist.
    pub async fn set_feedback(
        &self,
        ids: &[String],
        feedback: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.update_each(
            "UPDATE findings SET feedback = $1 WHERE id = $2",
            feedback.to_string(),
            ids,
        )
        .await
    }

    /// Runs `sql` (`$1` the value, `$2` an id) for each id; returns the ids it changed nothing for.
    async fn update_each<T>(
        &self,
        sql: &str,
        value: T,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send + 'static,
    {
        let mut missing = Vec::new();
        for id in ids {
            let done = sqlx::query(sql)
                .bind(value.clone())
                .bind(id)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                missing.push(id.clone());
            }
        }
        Ok(missing)
    }

    /// Findings matching `filter`, counted by `group_by`, largest groups first.
    pub async fn statistics(
        &self,
        filter: &FindingFilter,
        group_by: GroupBy,
        limit: i64,
    ) -> Result<Vec<Group>, StoreError> {
        let key = match group_by {
            GroupBy::FindingType => "type",
            GroupBy::Severity => "CAST(severity AS TEXT)",
            GroupBy::Cluster => "cluster",
            // Days since the epoch; integer division in both databases.
            GroupBy::Date => "CAST(updated_at / 86400000 AS TEXT)",
        };
        let query = format!(
            "SELECT {key} AS k, COUNT(*) AS total, MAX(updated_at) AS last FROM findings \
             WHERE $1 = $1 AND $2 = $2 AND {} GROUP BY {key} ORDER BY total DESC, k ASC LIMIT $8",
            // ($1 and $2 stand in for the cursor of list_page, keeping the filter at $3 to $7.)
            FindingFilter::CLAUSE
        );
        let query = sqlx::query(&query).bind(0i64).bind(0i64);
        let rows = filter.bind(query).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let mut key: String = row.try_get("k")?;
                if group_by == GroupBy::Date {
                    let days: i64 = key.parse().unwrap_or(0);
                    key = crate::findings::format_time(days * 86_400_000_000)[..10].to_string();
                }
                Ok(Group {
                    key,
                    total: row.try_get("total")?,
                    last_updated: row.try_get("last")?,
                })
            })
            .collect()
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM findings")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }
}

fn millis(iso: &str) -> i64 {
    time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

/// `archived` as an integer: the Any driver reads no SQLite booleans.
const ARCHIVED: &str = "CAST(CASE WHEN archived THEN 1 ELSE 0 END AS BIGINT) AS archived";

fn iso(ms: i64) -> Value {
    Value::String(crate::findings::format_time(ms * 1000))
}

/// The stored body with the fields aggregation and users change, taken from their columns.
fn finding_json(row: &sqlx::any::AnyRow) -> Result<Value, StoreError> {
    let id: String = row.try_get("id")?;
    let body: String = row.try_get("body")?;
    let mut finding: Value =
        serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { id, source })?;
    finding["createdAt"] = iso(row.try_get("created_at")?);
    finding["updatedAt"] = iso(row.try_get("updated_at")?);
    let service = &mut finding["service"];
    service["count"] = Value::from(row.try_get::<i64, _>("count")?);
    service["eventFirstSeen"] = iso(row.try_get("first_seen")?);
    service["eventLastSeen"] = iso(row.try_get("last_seen")?);
    service["archived"] = Value::Bool(row.try_get::<i64, _>("archived")? != 0);
    if let Some(feedback) = row.try_get::<Option<String>, _>("feedback")? {
        service["userFeedback"] = Value::String(feedback);
    }
    Ok(finding)
}

/// One occurrence's upsert, inside a transaction.
pub(super) async fn upsert_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    finding: &GuardDutyFinding,
    suppression: &[Filter],
) -> Result<(), StoreError> {
    let mut json = serde_json::to_value(finding).expect("findings serialize");
    // Suppression rules archive a new finding on arrival (the insert below; an existing
    // finding keeps the archived state it has), and the finding names the rule.
    let suppressed_by = suppression
        .iter()
        .find(|f| f.finding_criteria.matches(&json))
        .map(|f| f.name.clone());
    if let Some(rule) = &suppressed_by {
        json["service"]["archived"] = Value::Bool(true);
        json["service"]["additionalInfo"]["suppressedBy"] = Value::String(rule.clone());
    }
    // JSON escapes control characters, so the body needs no cleaning.
    let body = json.to_string();
    let action = finding.service.action.kubernetes_api_call_action.as_ref();
    let namespace = finding
        .resource
        .kubernetes_details
        .kubernetes_workload_details
        .as_ref()
        .and_then(|w| w.namespace.clone())
        .or_else(|| action.and_then(|a| a.namespace.clone()));
    let source_ip = action
        .and_then(|a| a.remote_ip_details.as_ref())
        .and_then(|r| r.ip_address_v4.clone().or(r.ip_address_v6.clone()));
    // Runtime findings have no API caller.
    let username = finding
        .resource
        .kubernetes_details
        .kubernetes_user_details
        .as_ref()
        .map_or("", |u| u.username.as_str());
    sqlx::query(
        "INSERT INTO findings (id, type, severity, cluster, namespace, username, source_ip, count, \
             created_at, updated_at, first_seen, last_seen, archived, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (id) DO UPDATE SET \
             count = findings.count + excluded.count, \
             created_at = CASE WHEN excluded.created_at < findings.created_at THEN excluded.created_at ELSE findings.created_at END, \
             updated_at = CASE WHEN excluded.updated_at > findings.updated_at THEN excluded.updated_at ELSE findings.updated_at END, \
             first_seen = CASE WHEN excluded.first_seen < findings.first_seen THEN excluded.first_seen ELSE findings.first_seen END, \
             severity = CASE WHEN excluded.last_seen >= findings.last_seen THEN excluded.severity ELSE findings.severity END, \
             namespace = CASE WHEN excluded.last_seen >= findings.last_seen THEN excluded.namespace ELSE findings.namespace END, \
             source_ip = CASE WHEN excluded.last_seen >= findings.last_seen THEN excluded.source_ip ELSE findings.source_ip END, \
             body = CASE WHEN excluded.last_seen >= findings.last_seen THEN excluded.body ELSE findings.body END, \
             last_seen = CASE WHEN excluded.last_seen > findings.last_seen THEN excluded.last_seen ELSE findings.last_seen END",
    )
    .bind(storable(&finding.id).into_owned())
    .bind(storable(&finding.finding_type).into_owned())
    .bind(finding.severity)
    .bind(storable(&finding.resource.eks_cluster_details.name).into_owned())
    .bind(namespace.map(|n| storable(&n).into_owned()))
    .bind(storable(username).into_owned())
    .bind(source_ip.map(|ip| storable(&ip).into_owned()))
    .bind(finding.service.count as i64)
    .bind(millis(&finding.created_at))
    .bind(millis(&finding.updated_at))
    .bind(millis(&finding.service.event_first_seen))
    .bind(millis(&finding.service.event_last_seen))
    .bind(finding.service.archived || suppressed_by.is_some())
    .bind(body)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
