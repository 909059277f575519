//! One transaction per commit of the pipeline: findings, file checkpoints, rule state
//! and the keys of judged webhook events, together or not at all.

use std::time::Duration;

use peregrine_rules_sdk::normalize::RequestKey;
use sqlx::Row;

use super::findings::upsert_in;
use super::rule_state::save_state_in;
use super::{Store, StoreError, storable};
use crate::findings::now_micros;
use crate::findings::saved_filters::{Filter, FilterAction};
use crate::pipeline::{Commit, CommitError, Rejected, Sink};

/// How long the keys of judged webhook events are kept, so that a sender retrying after a
/// restart is still recognised (kube-apiserver gives up on a batch well within it).
pub const RESEND_WINDOW: Duration = Duration::from_secs(3600);

impl Store {
    /// Records findings, moves read positions forward, saves rule state and remembers the
    /// judged webhook events in one transaction: either all of it is stored or none of it.
    ///
    /// With `careful`, each finding and each state change is written under its own
    /// savepoint, and one the database refuses (a value it cannot hold) is left out and
    /// reported instead of failing the rest: what a plain retry can never fix must not
    /// block everything behind it.
    pub async fn write(&self, commit: &Commit, careful: bool) -> Result<Rejected, StoreError> {
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
            .bind(now_micros() / 1000)
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
            let now = now_micros() / 1000;
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
        let since = now_micros() / 1000 - RESEND_WINDOW.as_millis() as i64;
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
}

/// Commits to the findings store from the pipeline's thread.
pub struct StoreSink {
    pub store: Store,
    pub runtime: tokio::runtime::Handle,
}

impl Sink for StoreSink {
    fn commit(&mut self, commit: &Commit, careful: bool) -> Result<Rejected, CommitError> {
        self.runtime
            .block_on(self.store.write(commit, careful))
            .map_err(|e| CommitError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }

    fn recall(&mut self) -> Vec<RequestKey> {
        match self.runtime.block_on(self.store.received_events()) {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(
                    "cannot read the recently received webhook events: {e}; a sender's retry of a batch committed before this start may be judged again"
                );
                Vec::new()
            }
        }
    }
}
