//! The committer: takes batches in arrival order once all their shares are judged,
//! folds consecutive finished batches into one transaction, retries until the [`Sink`]
//! takes it, and only then acknowledges them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peregrine_rules_sdk::normalize::RequestKey;

use super::batch::{InFlightBatch, Outcome};
use super::{Shared, queue_done};
use crate::engine::{StateChange, StateStores};
use crate::findings::{self, Aggregator, GuardDutyFinding};
use crate::ingest::Checkpoint;

/// Where committed findings go.
pub trait Sink: Send + 'static {
    /// Stores findings, checkpoints, rule state changes and the keys of judged webhook
    /// events together, or none of them. `careful`: leave out, and count, what the store
    /// refuses, instead of failing the whole commit.
    fn commit(&mut self, commit: &Commit, careful: bool) -> Result<Rejected, CommitError>;

    /// The keys of webhook events an earlier run judged that a sender may still resend.
    fn recall(&mut self) -> Vec<RequestKey> {
        Vec::new()
    }
}

/// Why a commit failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CommitError {
    pub message: String,
    /// The store refused the data itself: the same commit will never succeed.
    pub permanent: bool,
}

/// What one transaction stores.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    pub findings: Vec<GuardDutyFinding>,
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

/// Keeps findings in memory, aggregated (for `scan`).
#[derive(Clone, Default)]
pub struct CollectSink(pub Arc<Mutex<Aggregator>>);

impl Sink for CollectSink {
    fn commit(&mut self, commit: &Commit, _: bool) -> Result<Rejected, CommitError> {
        let mut aggregator = self.0.lock().unwrap();
        commit
            .findings
            .iter()
            .for_each(|f| aggregator.add(f.clone()));
        Ok(Rejected::default())
    }
}

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 64;

pub(super) fn committer(
    input: Receiver<InFlightBatch>,
    mut sink: Box<dyn Sink>,
    states: &StateStores,
    shared: &Shared,
    drain: Duration,
) {
    let mut next: Option<InFlightBatch> = None;
    loop {
        let first = match next.take() {
            Some(p) => p,
            None => match input.recv() {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        // Wait for the oldest batch, then take the finished ones behind it.
        let Ok(findings) = first.judged_rx.recv() else {
            return;
        };
        let mut group = vec![(first, findings)];
        while group.len() < MAX_GROUP {
            match input.try_recv() {
                Ok(p) => match p.judged_rx.try_recv() {
                    Ok(findings) => group.push((p, findings)),
                    Err(_) => {
                        next = Some(p);
                        break;
                    }
                },
                Err(_) => break,
            }
        }
        let mut aggregator = Aggregator::default();
        let mut checkpoints: BTreeMap<String, Checkpoint> = BTreeMap::new();
        let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
        let mut received = Vec::new();
        for (pending, findings) in &mut group {
            received.append(&mut pending.received);
            pending.findings = findings.len();
            for f in findings.drain(..) {
                *by_type.entry(f.finding_type.clone()).or_default() += 1;
                aggregator.add(f);
            }
            if let Some(c) = pending.checkpoint.take() {
                checkpoints.insert(c.source.clone(), c);
            }
        }
        let findings = aggregator.into_sorted();
        let checkpoints: Vec<Checkpoint> = checkpoints.into_values().collect();
        // Rule state as it is now: at least as new as these batches left it.
        let state = states.take_changes();
        let commit = Commit {
            findings,
            checkpoints,
            state,
            received,
        };
        if !store_with_retry(&mut *sink, &commit, shared, drain) {
            // Shutting down with the store unreachable: nothing of these batches is
            // acknowledged, so their senders will send them again.
            return;
        }
        for (kind, n) in by_type {
            shared.metrics.findings.add(&kind, n);
        }
        let now = findings::now_micros();
        for (pending, _) in group {
            if let Some(t) = pending.newest_event_micros {
                shared
                    .metrics
                    .ingest_lag_millis
                    .store((now - t).max(0) / 1000, Ordering::Relaxed);
            }
            shared
                .metrics
                .ack_seconds
                .observe(pending.arrived.elapsed());
            queue_done(shared, pending.events);
            if let Some(ack) = pending.ack {
                let _ = ack.send(Outcome {
                    events: pending.events,
                    judged: pending.judged,
                    findings: pending.findings,
                });
            }
        }
    }
}

/// Commits, retrying with backoff while the store is down. A commit the store refuses
/// for its content is made again carefully, leaving out (and counting) only what was
/// refused. False if the pipeline is shutting down and the store stayed down for the
/// whole drain timeout.
fn store_with_retry(
    sink: &mut dyn Sink,
    commit: &Commit,
    shared: &Shared,
    drain: Duration,
) -> bool {
    let mut backoff = Duration::from_millis(100);
    let mut given_up_at: Option<Instant> = None;
    let mut careful = false;
    loop {
        match sink.commit(commit, careful) {
            Ok(rejected) => {
                if !shared.store_up.swap(true, Ordering::Relaxed) {
                    tracing::info!("findings store reachable again; commits resumed");
                }
                shared.metrics.store_up.store(1, Ordering::Relaxed);
                let metrics = &shared.metrics;
                metrics
                    .findings_rejected
                    .fetch_add(rejected.findings as u64, Ordering::Relaxed);
                metrics
                    .state_rejected
                    .fetch_add(rejected.state as u64, Ordering::Relaxed);
                return true;
            }
            Err(e) if e.permanent && !careful => {
                tracing::warn!(
                    "the findings store refused a commit: {e}; committing what it can hold"
                );
                careful = true;
            }
            Err(e) => {
                shared
                    .metrics
                    .commit_failures
                    .fetch_add(1, Ordering::Relaxed);
                shared.metrics.store_up.store(0, Ordering::Relaxed);
                if shared.store_up.swap(false, Ordering::Relaxed) {
                    tracing::error!(
                        "cannot commit findings: {e}; holding {} findings and refusing new events until the store is back",
                        commit.findings.len()
                    );
                }
                if shared.stopping.load(Ordering::Relaxed) {
                    let since = *given_up_at.get_or_insert_with(Instant::now);
                    if since.elapsed() >= drain {
                        tracing::error!(
                            "shutting down with the store unreachable: {} findings of unacknowledged events not stored",
                            commit.findings.len()
                        );
                        return false;
                    }
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}
