//! Read positions of followed files.

use sqlx::Row;

use super::{Store, StoreError};
use crate::ingest::Checkpoint;

impl Store {
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
}
