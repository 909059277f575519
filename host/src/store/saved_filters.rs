//! Saved filters (GuardDuty's filters): named criteria, optionally archiving new findings.

use sqlx::Row;

use super::{Store, StoreError};
use crate::findings::saved_filters::{Filter, FilterAction, FilterSpec};

impl Store {
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
        if count >= crate::findings::saved_filters::MAX_FILTERS {
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
}

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
        created_at: crate::findings::format_time(row.try_get::<i64, _>("created_at")? * 1000),
        updated_at: crate::findings::format_time(row.try_get::<i64, _>("updated_at")? * 1000),
        version: row.try_get("version")?,
    })
}
