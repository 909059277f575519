//! The path every event takes, for `scan` and `serve` alike: batches in, findings
//! committed, and an acknowledgement only after that.
//!
//! - The **dispatcher** takes batches in arrival order, judges each audit ID once, marks
//!   source IPs on threat lists, takes the current [`RuleSnapshot`] (so a rule reload lands
//!   between batches), and splits the batch among the workers by a hash of the username:
//!   each user's events stay in order (rules that keep state rely on it) while users spread
//!   over every core.
//! - **Workers** judge their part with a warm instance of every rule and build findings.
//! - The **committer** takes batches in arrival order once all their parts are judged,
//!   folds consecutive finished batches into one transaction (findings and file
//!   checkpoints together), and retries until the store takes it. Only then are the
//!   batches acknowledged. While the store is down nothing is acknowledged, and the queue
//!   fills until new batches are refused: bounded memory, nothing lost.

mod batch;
mod commit;
mod dispatch;
mod judge;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use batch::{Ack, Batch, Outcome};
use batch::{InFlightBatch, Submitted, WorkerShare};
pub use commit::{CollectSink, Commit, CommitError, Rejected, Sink};
pub use judge::{Attribution, admit, admit_runtime, judge, judge_runtime};

use peregrine_rules_sdk::normalize::{JudgeOnce, Normalizer};

use crate::findings::FindingContext;
use crate::intel::LiveIntel;
use crate::metrics::Metrics;
use crate::ruleset::RuleSet;

/// Batches waiting for the dispatcher, at most.
const INPUT_BATCHES: usize = 64;

/// One worker per core but one: reading and parsing events keeps a core busy, and more
/// threads than cores only adds switching (BENCHMARKS.md has the figures).
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

#[derive(Clone, Debug)]
pub struct PipelineConfig {
    pub workers: usize,
    /// Most events accepted and not yet committed; beyond it batches are refused.
    pub max_queued_events: usize,
    /// Audit IDs remembered to judge each once (two generations of this many).
    pub remembered_ids: usize,
    /// How long a shutdown waits for the store to take what is left.
    pub drain_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            workers: default_workers(),
            max_queued_events: 50_000,
            remembered_ids: 200_000,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a batch was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("shutting down")]
    ShuttingDown,
    #[error("too many events waiting to be committed; retry later")]
    Busy,
    #[error("the findings store is unavailable; retry later")]
    StoreDown,
}

struct Shared {
    metrics: Arc<Metrics>,
    store_up: AtomicBool,
    queued: AtomicI64,
    stopping: AtomicBool,
    /// Signalled when commits make room in the queue.
    room: (Mutex<()>, std::sync::Condvar),
}

pub struct Pipeline {
    input: Mutex<Option<SyncSender<Submitted>>>,
    shared: Arc<Shared>,
    config: PipelineConfig,
    rules: Arc<RuleSet>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pipeline {
    pub fn start(
        config: PipelineConfig,
        rules: Arc<RuleSet>,
        intel: Arc<LiveIntel>,
        context: FindingContext,
        mut sink: Box<dyn Sink>,
        metrics: Arc<Metrics>,
    ) -> Pipeline {
        let recalled = sink.recall();
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            metrics,
            store_up: AtomicBool::new(true),
            queued: AtomicI64::new(0),
            stopping: AtomicBool::new(false),
            room: Default::default(),
        });
        shared.metrics.store_up.store(1, Ordering::Relaxed);
        // Roomy: what bounds memory is `max_queued_events`, checked before a batch is sent.
        let (input_tx, input_rx) = mpsc::sync_channel(INPUT_BATCHES);
        let (commit_tx, commit_rx) = mpsc::sync_channel::<InFlightBatch>(workers * 8);
        let mut threads = Vec::new();
        let states = rules.states();
        let mut share_txs = Vec::new();
        for w in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<WorkerShare>(4);
            share_txs.push(tx);
            let (rules, context, shared) =
                (Arc::clone(&rules), context.clone(), Arc::clone(&shared));
            threads.push(spawn(&format!("worker-{w}"), move || {
                worker::work(&rules, &context, &shared, rx)
            }));
        }
        {
            let (shared, remembered) = (Arc::clone(&shared), config.remembered_ids);
            let rules = Arc::clone(&rules);
            threads.push(spawn("dispatcher", move || {
                let mut judge = JudgeOnce::with_capacity(remembered);
                recalled.into_iter().for_each(|key| judge.remember(key));
                dispatch::dispatch(
                    input_rx, share_txs, commit_tx, &rules, &intel, &shared, judge,
                )
            }));
        }
        {
            let (shared, drain) = (Arc::clone(&shared), config.drain_timeout);
            threads.push(spawn("committer", move || {
                commit::committer(commit_rx, sink, &states, &shared, drain)
            }));
        }
        Pipeline {
            input: Mutex::new(Some(input_tx)),
            shared,
            config,
            rules,
            threads: Mutex::new(threads),
        }
    }

    /// How to read events of `cluster` for the rules loaded now (with the raw event if a
    /// rule reads it); `None` while no rule is loaded, since events taken then would be
    /// acknowledged unjudged.
    pub fn normalizer(&self, cluster: &str) -> Option<Normalizer> {
        let snapshot = self.rules.current();
        (!snapshot.rules.is_empty()).then(|| Normalizer {
            cluster: cluster.to_string(),
            keep_raw: snapshot.wants_raw(),
        })
    }

    /// Refuses new webhook batches from now on; what was taken is still committed.
    pub fn stop_accepting(&self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
    }

    /// Takes a batch if there is room, without waiting (for the webhook).
    pub fn try_submit(&self, batch: Batch) -> Result<Ack, Refusal> {
        if self.shared.stopping.load(Ordering::Relaxed) {
            return Err(Refusal::ShuttingDown);
        }
        if !self.shared.store_up.load(Ordering::Relaxed) {
            return Err(Refusal::StoreDown);
        }
        // An empty queue takes any batch, so one larger than the limit is not refused forever.
        let queued = self.shared.queued.load(Ordering::Relaxed);
        if queued > 0 && queued + batch.len() as i64 > self.config.max_queued_events as i64 {
            return Err(Refusal::Busy);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let input = self.input.lock().unwrap();
        let input = input.as_ref().ok_or(Refusal::ShuttingDown)?;
        self.queue(batch.len());
        match input.try_send(Submitted { batch, ack: tx }) {
            Ok(()) => Ok(Ack(rx)),
            Err(e) => {
                let (TrySendError::Full(Submitted { batch, .. })
                | TrySendError::Disconnected(Submitted { batch, .. })) = e;
                self.queue_done(batch.len());
                Err(Refusal::Busy)
            }
        }
    }

    /// Takes a batch, waiting for room in the queue (for files and scans).
    pub fn submit(&self, batch: Batch) -> Result<Ack, Refusal> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let input = self.input.lock().unwrap().clone();
        let input = input.ok_or(Refusal::ShuttingDown)?;
        let n = batch.len();
        // Wait until the queue has room (an empty queue always has).
        let (lock, signal) = &self.shared.room;
        let mut guard = lock.lock().unwrap();
        loop {
            let queued = self.shared.queued.load(Ordering::Relaxed);
            if queued == 0 || queued + n as i64 <= self.config.max_queued_events as i64 {
                break;
            }
            guard = signal
                .wait_timeout(guard, Duration::from_millis(100))
                .unwrap()
                .0;
        }
        drop(guard);
        self.queue(n);
        input.send(Submitted { batch, ack: tx }).map_err(|_| {
            self.queue_done(n);
            Refusal::ShuttingDown
        })?;
        Ok(Ack(rx))
    }

    fn queue(&self, n: usize) {
        self.shared.queued.fetch_add(n as i64, Ordering::Relaxed);
        self.shared
            .metrics
            .queued_events
            .fetch_add(n as i64, Ordering::Relaxed);
    }

    fn queue_done(&self, n: usize) {
        queue_done(&self.shared, n);
    }

    /// Whether the last commit succeeded.
    pub fn store_up(&self) -> bool {
        self.shared.store_up.load(Ordering::Relaxed)
    }

    /// Whether batches are still taken.
    pub fn accepting(&self) -> bool {
        !self.shared.stopping.load(Ordering::Relaxed)
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// Stops taking batches, judges and commits everything taken (waiting at most the
    /// drain timeout for the store), and stops the threads.
    pub fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        self.input.lock().unwrap().take();
        for thread in self.threads.lock().unwrap().drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn queue_done(shared: &Shared, n: usize) {
    shared.queued.fetch_sub(n as i64, Ordering::Relaxed);
    let _guard = shared.room.0.lock().unwrap();
    shared.room.1.notify_all();
    shared
        .metrics
        .queued_events
        .fetch_sub(n as i64, Ordering::Relaxed);
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("a pipeline thread starts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Receiver;

    use crate::engine::{EngineConfig, RuleEngine, StateStores};

    /// Commits when told to, failing while `failing` is set.
    struct Gated {
        permits: Receiver<()>,
        failing: Arc<AtomicBool>,
    }

    impl Sink for Gated {
        fn commit(&mut self, _: &Commit, _: bool) -> Result<Rejected, CommitError> {
            let down = |message: String| CommitError {
                message,
                permanent: false,
            };
            self.permits.recv().map_err(|e| down(e.to_string()))?;
            if self.failing.load(Ordering::Relaxed) {
                Err(down("the store is down".into()))
            } else {
                Ok(Rejected::default())
            }
        }
    }

    fn batch(prefix: &str, n: usize) -> Batch {
        let normalizer = Normalizer::new("test");
        let events = (0..n)
            .map(|i| {
                normalizer
                    .event_from_json(&format!(
                        r#"{{"auditID":"{prefix}-{i}","stage":"ResponseComplete","verb":"get","requestURI":"/api","user":{{"username":"u{}"}}}}"#,
                        i % 3
                    ))
                    .unwrap()
            })
            .collect();
        Batch {
            events,
            ..Batch::default()
        }
    }

    fn pipeline(max_queued_events: usize) -> (Pipeline, mpsc::Sender<()>, Arc<AtomicBool>) {
        let engine = Arc::new(RuleEngine::new(EngineConfig::default()).unwrap());
        let dir = std::env::temp_dir();
        let rules = Arc::new(RuleSet::new(
            engine,
            Arc::new(StateStores::default()),
            dir,
            None,
        ));
        let (permit, permits) = mpsc::channel();
        let failing = Arc::new(AtomicBool::new(false));
        let sink = Gated {
            permits,
            failing: Arc::clone(&failing),
        };
        let config = PipelineConfig {
            workers: 2,
            max_queued_events,
            ..PipelineConfig::default()
        };
        let intel = Arc::new(LiveIntel::fixed(Default::default()));
        let pipeline = Pipeline::start(
            config,
            rules,
            intel,
            Default::default(),
            Box::new(sink),
            Arc::default(),
        );
        (pipeline, permit, failing)
    }

    #[test]
    fn a_full_queue_refuses_until_commits_make_room() {
        let (pipeline, permit, _) = pipeline(10);
        let first = pipeline.try_submit(batch("a", 8)).unwrap();
        assert_eq!(
            pipeline.try_submit(batch("b", 5)).err(),
            Some(Refusal::Busy)
        );
        permit.send(()).unwrap();
        let outcome = first.wait().unwrap();
        assert_eq!((outcome.events, outcome.judged), (8, 8));
        // With nothing queued, even a batch over the limit is taken.
        let large = pipeline.try_submit(batch("c", 25)).unwrap();
        permit.send(()).unwrap();
        assert_eq!(large.wait().unwrap().judged, 25);
        // The same events again are recognised and not judged twice.
        let again = pipeline.try_submit(batch("c", 25)).unwrap();
        permit.send(()).unwrap();
        assert_eq!(again.wait().unwrap().judged, 0);
        assert_eq!(pipeline.metrics().queued_events.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn nothing_is_acknowledged_while_the_store_is_down() {
        let (pipeline, permit, failing) = pipeline(1000);
        failing.store(true, Ordering::Relaxed);
        let mut held = pipeline.try_submit(batch("d", 4)).unwrap();
        permit.send(()).unwrap();
        // The commit failed: the batch is held, not acknowledged, and new ones are refused.
        while pipeline.store_up() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(held.0.try_recv().is_err());
        assert_eq!(
            pipeline.try_submit(batch("e", 1)).err(),
            Some(Refusal::StoreDown)
        );
        failing.store(false, Ordering::Relaxed);
        permit.send(()).unwrap();
        assert_eq!(held.wait().unwrap().events, 4);
        assert!(pipeline.store_up());
        assert!(pipeline.metrics().commit_failures.load(Ordering::Relaxed) >= 1);
    }
}
