//! Rule state: each rule's key-value store, saved with every commit and restored at start.

use sqlx::Row;

use super::{Store, StoreError, storable};
use crate::engine::StateChange;

/// One saved key of a rule's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleStateRow {
    pub finding_type: String,
    pub key: String,
    pub value: Vec<u8>,
}

impl Store {
    /// Every rule's saved state.
    pub async fn rule_state(&self) -> Result<Vec<RuleStateRow>, StoreError> {
        let rows = sqlx::query("SELECT finding_type, key, value FROM rule_state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RuleStateRow {
                    finding_type: row.try_get("finding_type")?,
                    key: row.try_get("key")?,
                    value: row.try_get("value")?,
                })
            })
            .collect()
    }
}

pub(super) async fn save_state_in(
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
