//! The findings store: PostgreSQL in production, an embedded SQLite file by default. One
//! `--database-url` picks either (`postgres://…` or `sqlite:…`); migrations run on connect.
//!
//! A repeat occurrence of a finding is one atomic upsert (`INSERT … ON CONFLICT DO
//! UPDATE`), so concurrent writers never create duplicates or lose counts: the count
//! adds up, the first-seen and created times keep their minimum, the last-seen and updated
//! times their maximum, and the details (`body`) are those of the latest occurrence.

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

use crate::criteria::FindingCriteria;
use crate::criteria::sql::Arg;
use crate::engine::StateChange;
use crate::filters::{Filter, FilterAction, FilterSpec};
use crate::finding::Finding;

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The default embedded store, a file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://peregrine.db?mode=rwc";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl FromStr for Backend {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0} (use postgres://… or sqlite:…)")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored record {id} is not valid JSON: {source}")]
    Corrupt {
        id: String,
        source: serde_json::Error,
    },
    #[error("a filter named {0} already exists")]
    FilterExists(String),
    #[error(
        "there are already {} filters, the most allowed",
        crate::filters::MAX_FILTERS
    )]
    TooManyFilters,
}

impl StoreError {
    /// Whether the database refused the data itself (a value it cannot hold, a broken
    /// constraint): retrying the same write can never succeed.
    pub fn is_permanent(&self) -> bool {
        let StoreError::Query(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Encode(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL's SQLSTATE classes: data exception, integrity constraint
                // violation, program limit exceeded. SQLite's (extended) result codes:
                // too big, constraint, mismatch, range.
                code.starts_with("22")
                    || code.starts_with("23")
                    || code.starts_with("54")
                    || code
                        .parse::<u32>()
                        .is_ok_and(|n| matches!(n & 0xff, 18 | 19 | 20 | 25))
            }),
            _ => false,
        }
    }
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

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

/// How far a followed file has been read and committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source's name: the followed path.
    pub source: String,
    /// Which file the position is in (device and inode), so a rotated file is recognised.
    pub file_id: String,
    /// Bytes read and judged.
    pub position: u64,
    /// A hash of the bytes just before `position`, to tell that the file still holds what
    /// was read (`None` in checkpoints stored before fingerprints were).
    pub fingerprint: Option<String>,
}

/// Identifies a received request across its stages and resends (see
/// `peregrine_rules_sdk::normalize::request_key`).
pub use peregrine_rules_sdk::normalize::RequestKey;

/// How long the keys of judged webhook events are kept, so that a sender retrying after a
/// restart is still recognised (kube-apiserver gives up on a batch well within it).
pub const RESEND_WINDOW: Duration = Duration::from_secs(3600);

/// What one transaction stores.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    pub findings: Vec<Finding>,
    pub checkpoints: Vec<Checkpoint>,
    pub state: Vec<StateChange>,
    /// Keys of the webhook events judged, remembered across restarts.
    pub received: Vec<RequestKey>,
}

/// What a careful commit left out because the database refused it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    pub findings: usize,
    pub state: usize,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

fn millis(iso: &str) -> i64 {
    time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend: Backend = url.parse()?;
        install_default_drivers();
        // SQLite allows one writer at a time; one connection keeps writers from colliding.
        let connections = if backend == Backend::Sqlite { 1 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            // Short: while the database is away, callers learn it soon and say so.
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        match backend {
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Records one occurrence (or an already-aggregated batch of occurrences) of a finding.
    pub async fn upsert(&self, finding: &Finding) -> Result<(), StoreError> {
        let commit = Commit {
            findings: vec![finding.clone()],
            ..Commit::default()
        };
        self.commit(&commit, false).await.map(drop)
    }

    /// Records findings, moves read positions forward, saves rule state and remembers the
    /// judged webhook events in one transaction: either all of it is stored or none of it.
    ///
    /// With `careful`, each finding and each state change is written under its own
    /// savepoint, and one the database refuses (a value it cannot hold) is left out and
    /// reported instead of failing the rest: what a plain retry can never fix must not
    /// block everything behind it.
    pub async fn commit(&self, commit: &Commit, careful: bool) -> Result<Rejected, StoreError> {
        let suppression: Vec<Filter> = if commit.findings.is_empty() {
            Vec::new()
        } else {
            self.filters()
                .await?
                .into_iter()
                .filter(|f| f.action == FilterAction::Archive)
                .collect()
        };
        let mut rejected = Rejected::default();
        let mut tx = self.pool.begin().await?;
        for finding in &commit.findings {
            if careful {
                let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                match upsert_in(&mut savepoint, finding, &suppression).await {
                    Ok(()) => savepoint.commit().await?,
                    Err(e) if e.is_permanent() => {
                        savepoint.rollback().await?;
                        tracing::error!(
                            finding = %finding.id, r#type = %finding.finding_type,
                            "the findings store refused a finding, which is left out: {e}"
                        );
                        rejected.findings += 1;
                    }
                    Err(e) => return Err(e),
                }
            } else {
                upsert_in(&mut tx, finding, &suppression).await?;
            }
        }
        for checkpoint in &commit.checkpoints {
            sqlx::query(
                "INSERT INTO checkpoints (source, file_id, position, updated_at, fingerprint) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (source) DO UPDATE SET file_id = excluded.file_id, \
                     position = excluded.position, updated_at = excluded.updated_at, \
                     fingerprint = excluded.fingerprint",
            )
            .bind(storable(&checkpoint.source).into_owned())
            .bind(storable(&checkpoint.file_id).into_owned())
            .bind(checkpoint.position as i64)
            .bind(crate::finding::now_micros() / 1000)
            .bind(checkpoint.fingerprint.clone())
            .execute(&mut *tx)
            .await?;
        }
        for change in &commit.state {
            if careful {
                let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                match save_state_in(&mut savepoint, change).await {
                    Ok(()) => savepoint.commit().await?,
                    Err(e) if e.is_permanent() => {
                        savepoint.rollback().await?;
                        tracing::error!(
                            r#type = %change.finding_type,
                            "the findings store refused a rule's state value, which is left out: {e}"
                        );
                        rejected.state += 1;
                    }
                    Err(e) => return Err(e),
                }
            } else {
                save_state_in(&mut tx, change).await?;
            }
        }
        if !commit.received.is_empty() {
            let mut keys = Vec::with_capacity(commit.received.len() * 16);
            commit
                .received
                .iter()
                .for_each(|k| keys.extend_from_slice(k));
            let now = crate::finding::now_micros() / 1000;
            sqlx::query("INSERT INTO received_events (committed_at, request_keys) VALUES ($1, $2)")
                .bind(now)
                .bind(keys)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM received_events WHERE committed_at < $1")
                .bind(now - RESEND_WINDOW.as_millis() as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rejected)
    }

    /// The request keys of webhook events committed within the resend window, oldest
    /// first: a sender may still retry them after a restart.
    pub async fn received_events(&self) -> Result<Vec<RequestKey>, StoreError> {
        let since = crate::finding::now_micros() / 1000 - RESEND_WINDOW.as_millis() as i64;
        let rows = sqlx::query(
            "SELECT request_keys FROM received_events WHERE committed_at >= $1 ORDER BY committed_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut keys = Vec::new();
        for row in rows {
            let packed: Vec<u8> = row.try_get("request_keys")?;
            keys.extend(packed.chunks_exact(16).map(|c| {
                let mut key = [0u8; 16];
                key.copy_from_slice(c);
                key
            }));
        }
        Ok(keys)
    }

    /// Every rule's saved state: `(finding type, key, value)`.
    pub async fn rule_state(&self) -> Result<Vec<(String, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT finding_type, key, value FROM rule_state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("finding_type")?,
                    row.try_get("key")?,
                    row.try_get("value")?,
                ))
            })
            .collect()
    }

    /// The read position last committed for a source.
    pub async fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT source, file_id, position, fingerprint FROM checkpoints WHERE source = $1",
        )
        .bind(source)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Checkpoint {
                source: row.try_get("source")?,
                file_id: row.try_get("file_id")?,
                position: row.try_get::<i64, _>("position")? as u64,
                fingerprint: row.try_get("fingerprint")?,
            })
        })
        .transpose()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
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
                    key = crate::finding::format_time(days * 86_400_000_000)[..10].to_string();
                }
                Ok(Group {
                    key,
                    total: row.try_get("total")?,
                    last_updated: row.try_get("last")?,
                })
            })
            .collect()
    }

    /// The first ARCHIVE filter (by rank) that the finding matches.
    /// Saved filters by rank.
    pub async fn filters(&self) -> Result<Vec<Filter>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, description, action, rank, criteria, created_at, updated_at, version \
             FROM filters ORDER BY rank, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(filter_from_row).collect()
    }

    pub async fn filter(&self, name: &str) -> Result<Option<Filter>, StoreError> {
        let row = sqlx::query(
            "SELECT name, description, action, rank, criteria, created_at, updated_at, version \
             FROM filters WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(filter_from_row).transpose()
    }

    /// Creates a filter; its rank defaults to after the last one.
    pub async fn create_filter(
        &self,
        name: &str,
        spec: &FilterSpec,
        now_ms: i64,
    ) -> Result<Filter, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM filters")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        if count >= crate::filters::MAX_FILTERS {
            return Err(StoreError::TooManyFilters);
        }
        let rank = spec.rank.unwrap_or(count + 1);
        let criteria = serde_json::to_string(&spec.finding_criteria).expect("criteria serialize");
        let inserted = sqlx::query(
            "INSERT INTO filters (name, description, action, rank, criteria, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, 1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&spec.description)
        .bind(spec.action.as_str())
        .bind(rank)
        .bind(criteria)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::FilterExists(name.to_string()));
        }
        Ok(self
            .filter(name)
            .await?
            .expect("the filter was just created"))
    }

    /// Replaces a filter's settings; `None` if there is no such filter.
    pub async fn update_filter(
        &self,
        name: &str,
        spec: &FilterSpec,
        now_ms: i64,
    ) -> Result<Option<Filter>, StoreError> {
        let criteria = serde_json::to_string(&spec.finding_criteria).expect("criteria serialize");
        let updated = sqlx::query(
            "UPDATE filters SET description = $2, action = $3, rank = COALESCE($4, rank), criteria = $5, \
             updated_at = $6, version = version + 1 WHERE name = $1",
        )
        .bind(name)
        .bind(&spec.description)
        .bind(spec.action.as_str())
        .bind(spec.rank)
        .bind(criteria)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        self.filter(name).await
    }

    /// Deletes a filter; false if there was none.
    pub async fn delete_filter(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM filters WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM findings")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// `archived` as an integer: the Any driver reads no SQLite booleans.
const ARCHIVED: &str = "CAST(CASE WHEN archived THEN 1 ELSE 0 END AS BIGINT) AS archived";

fn filter_from_row(row: &sqlx::any::AnyRow) -> Result<Filter, StoreError> {
    let name: String = row.try_get("name")?;
    let criteria: String = row.try_get("criteria")?;
    let action: String = row.try_get("action")?;
    Ok(Filter {
        finding_criteria: serde_json::from_str(&criteria).map_err(|source| {
            StoreError::Corrupt {
                id: name.clone(),
                source,
            }
        })?,
        name,
        description: row.try_get("description")?,
        action: if action == "ARCHIVE" {
            FilterAction::Archive
        } else {
            FilterAction::Noop
        },
        rank: row.try_get("rank")?,
        created_at: crate::finding::format_time(row.try_get::<i64, _>("created_at")? * 1000),
        updated_at: crate::finding::format_time(row.try_get::<i64, _>("updated_at")? * 1000),
        version: row.try_get("version")?,
    })
}

fn iso(ms: i64) -> Value {
    Value::String(crate::finding::format_time(ms * 1000))
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
async fn upsert_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    finding: &Finding,
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
    let action = &finding.service.action.kubernetes_api_call_action;
    let namespace = finding
        .resource
        .kubernetes_details
        .kubernetes_workload_details
        .as_ref()
        .and_then(|w| w.namespace.clone())
        .or_else(|| action.namespace.clone());
    let source_ip = action
        .remote_ip_details
        .as_ref()
        .and_then(|r| r.ip_address_v4.clone().or(r.ip_address_v6.clone()));
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
    .bind(storable(&finding.resource.kubernetes_details.kubernetes_user_details.username).into_owned())
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

async fn save_state_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    change: &StateChange,
) -> Result<(), StoreError> {
    let finding_type = storable(&change.finding_type).into_owned();
    let key = storable(&change.key).into_owned();
    match &change.value {
        Some(value) => sqlx::query(
            "INSERT INTO rule_state (finding_type, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (finding_type, key) DO UPDATE SET value = excluded.value",
        )
        .bind(finding_type)
        .bind(key)
        .bind(value.clone()),
        None => sqlx::query("DELETE FROM rule_state WHERE finding_type = $1 AND key = $2")
            .bind(finding_type)
            .bind(key),
    }
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Text as both databases can hold it: PostgreSQL refuses NUL in text, so NUL becomes
/// U+FFFD (an attacker chooses names, namespaces and paths; one NUL must not stop the
/// store). Everywhere the same, so SQLite and PostgreSQL store the same values.
pub fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}").into()
    } else {
        text.into()
    }
}
