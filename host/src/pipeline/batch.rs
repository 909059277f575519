//! A batch on its way through the pipeline: what a source submits, the shares the
//! workers judge, and what the committer acknowledges.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use peregrine_rules_sdk::normalize::RequestKey;
use peregrine_rules_sdk::normalize::ownership::Ownership;
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent};

use crate::findings::GuardDutyFinding;
use crate::ingest::Checkpoint;
use crate::ruleset::RuleSnapshot;

/// A batch of events of either kind, and the file position to commit with its findings.
#[derive(Default)]
pub struct Batch {
    pub events: Vec<AuditEvent>,
    pub runtime: Vec<RuntimeEvent>,
    /// What the audit events show of pods' controllers, for the runtime events' workload.
    pub owners: Vec<Ownership>,
    pub checkpoint: Option<Checkpoint>,
}

impl Batch {
    /// Events of both kinds.
    pub fn len(&self) -> usize {
        self.events.len() + self.runtime.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What became of an acknowledged batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub events: usize,
    /// Events judged; the rest were other stages of audit IDs already judged, or resent
    /// (runtime events included).
    pub judged: usize,
    pub findings: usize,
}

/// Resolves once the batch's findings are committed.
pub struct Ack(pub(super) tokio::sync::oneshot::Receiver<Outcome>);

impl Ack {
    /// Waits (from async code); `None` if the pipeline stopped before committing it.
    pub async fn committed(self) -> Option<Outcome> {
        self.0.await.ok()
    }

    /// Waits (from a thread); `None` if the pipeline stopped before committing it.
    pub fn wait(self) -> Option<Outcome> {
        self.0.blocking_recv().ok()
    }
}

/// A batch as the dispatcher takes it, with where to send its outcome.
pub(super) struct Submitted {
    pub batch: Batch,
    pub ack: tokio::sync::oneshot::Sender<Outcome>,
}

/// A batch on its way: the dispatcher hands it to the committer in arrival order, the
/// workers judge its shares, and the last of them sends the findings on.
pub(super) struct InFlightBatch {
    pub events: usize,
    pub judged: usize,
    pub newest_event_micros: Option<i64>,
    pub findings: usize,
    pub checkpoint: Option<Checkpoint>,
    pub received: Vec<RequestKey>,
    pub ack: Option<tokio::sync::oneshot::Sender<Outcome>>,
    pub arrived: Instant,
    /// The findings of every share, once the last is judged.
    pub judged_rx: Receiver<Vec<GuardDutyFinding>>,
}

/// One worker's share of a batch: its users' audit events and its nodes' runtime events.
pub(super) struct WorkerShare {
    pub events: Vec<AuditEvent>,
    pub runtime: Vec<RuntimeEvent>,
    pub rules: Arc<RuleSnapshot>,
    pub findings: Arc<BatchFindings>,
}

/// The findings of a batch's shares, gathered as the workers finish them.
pub(super) struct BatchFindings {
    remaining: AtomicUsize,
    findings: Mutex<Vec<GuardDutyFinding>>,
    done: Mutex<Option<SyncSender<Vec<GuardDutyFinding>>>>,
}

impl BatchFindings {
    /// For `shares` shares; the findings go to `done` when the last is added.
    pub fn new(shares: usize, done: SyncSender<Vec<GuardDutyFinding>>) -> Arc<Self> {
        let gathered = Arc::new(BatchFindings {
            remaining: shares.max(1).into(),
            findings: Mutex::new(Vec::new()),
            done: Mutex::new(Some(done)),
        });
        if shares == 0 {
            gathered.add_share(Vec::new());
        }
        gathered
    }

    /// Adds one share's findings.
    pub fn add_share(&self, mut findings: Vec<GuardDutyFinding>) {
        self.findings.lock().unwrap().append(&mut findings);
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let all = std::mem::take(&mut *self.findings.lock().unwrap());
            if let Some(done) = self.done.lock().unwrap().take() {
                let _ = done.send(all);
            }
        }
    }
}
