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

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use peregrine_rules_sdk::AuditEvent;
use peregrine_rules_sdk::normalize::{Admission, JudgeOnce};

use crate::aggregate::Aggregator;
use crate::engine::{Evaluator, StateStores};
use crate::finding::{self, Finding, FindingContext};
use crate::intel::LiveIntel;
use crate::metrics::Metrics;
use crate::ruleset::{RuleSet, RuleSnapshot};
use crate::store::{Checkpoint, Commit, Rejected, RequestKey};

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

/// Commits to the findings store from the pipeline's thread.
pub struct StoreSink {
    pub store: crate::store::Store,
    pub runtime: tokio::runtime::Handle,
}

impl Sink for StoreSink {
    fn commit(&mut self, commit: &Commit, careful: bool) -> Result<Rejected, CommitError> {
        self.runtime
            .block_on(self.store.commit(commit, careful))
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

/// A batch of events, and the file position to commit with its findings.
pub struct Batch {
    pub events: Vec<AuditEvent>,
    pub checkpoint: Option<Checkpoint>,
}

/// What became of an acknowledged batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub events: usize,
    /// Events judged; the rest were other stages of audit IDs already judged, or resent.
    pub judged: usize,
    pub findings: usize,
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

/// Resolves once the batch's findings are committed.
pub struct Ack(tokio::sync::oneshot::Receiver<Outcome>);

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

/// A batch on its way: the dispatcher hands it to the committer in arrival order, the
/// workers fill in its findings, and the last of them sends it on.
struct Pending {
    events: usize,
    judged: usize,
    newest_event_micros: Option<i64>,
    findings: usize,
    checkpoint: Option<Checkpoint>,
    received: Vec<RequestKey>,
    ack: Option<tokio::sync::oneshot::Sender<Outcome>>,
    arrived: Instant,
    judged_rx: Receiver<Vec<Finding>>,
}

/// One worker's part of a batch.
struct Part {
    events: Vec<AuditEvent>,
    rules: Arc<RuleSnapshot>,
    job: Arc<Job>,
}

struct Job {
    remaining: std::sync::atomic::AtomicUsize,
    findings: Mutex<Vec<Finding>>,
    done: Mutex<Option<SyncSender<Vec<Finding>>>>,
}

impl Job {
    fn finish_part(&self, mut findings: Vec<Finding>) {
        self.findings.lock().unwrap().append(&mut findings);
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let all = std::mem::take(&mut *self.findings.lock().unwrap());
            if let Some(done) = self.done.lock().unwrap().take() {
                let _ = done.send(all);
            }
        }
    }
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
    input: Mutex<Option<SyncSender<(Batch, Option<tokio::sync::oneshot::Sender<Outcome>>)>>>,
    shared: Arc<Shared>,
    config: PipelineConfig,
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
        let (commit_tx, commit_rx) = mpsc::sync_channel::<Pending>(workers * 8);
        let mut threads = Vec::new();
        let states = rules.states();
        let mut part_txs = Vec::new();
        for w in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Part>(4);
            part_txs.push(tx);
            let (rules, context, shared) =
                (Arc::clone(&rules), context.clone(), Arc::clone(&shared));
            threads.push(spawn(&format!("worker-{w}"), move || {
                work(&rules, &context, &shared, rx)
            }));
        }
        {
            let (shared, remembered) = (Arc::clone(&shared), config.remembered_ids);
            threads.push(spawn("dispatcher", move || {
                let mut judge = JudgeOnce::with_capacity(remembered);
                recalled.into_iter().for_each(|key| judge.remember(key));
                dispatch(
                    input_rx, part_txs, commit_tx, &rules, &intel, &shared, judge,
                )
            }));
        }
        {
            let (shared, drain) = (Arc::clone(&shared), config.drain_timeout);
            threads.push(spawn("committer", move || {
                commit(commit_rx, sink, &states, &shared, drain)
            }));
        }
        Pipeline {
            input: Mutex::new(Some(input_tx)),
            shared,
            config,
            threads: Mutex::new(threads),
        }
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
        if queued > 0 && queued + batch.events.len() as i64 > self.config.max_queued_events as i64 {
            return Err(Refusal::Busy);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let input = self.input.lock().unwrap();
        let input = input.as_ref().ok_or(Refusal::ShuttingDown)?;
        self.queue(batch.events.len());
        match input.try_send((batch, Some(tx))) {
            Ok(()) => Ok(Ack(rx)),
            Err(e) => {
                let (batch, _) = match e {
                    TrySendError::Full(b) | TrySendError::Disconnected(b) => b,
                };
                self.queue_done(batch.events.len());
                Err(Refusal::Busy)
            }
        }
    }

    /// Takes a batch, waiting for room in the queue (for files and scans).
    pub fn submit(&self, batch: Batch) -> Result<Ack, Refusal> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let input = self.input.lock().unwrap().clone();
        let input = input.ok_or(Refusal::ShuttingDown)?;
        let n = batch.events.len();
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
        input.send((batch, Some(tx))).map_err(|_| {
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

fn worker_for(event: &AuditEvent, workers: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    event.user.username.hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

fn dispatch(
    input: Receiver<(Batch, Option<tokio::sync::oneshot::Sender<Outcome>>)>,
    parts: Vec<SyncSender<Part>>,
    committer: SyncSender<Pending>,
    rules: &RuleSet,
    intel: &LiveIntel,
    shared: &Shared,
    mut judge: JudgeOnce,
) {
    for (batch, ack) in input {
        let arrived = Instant::now();
        let events = batch.events.len();
        let intel = intel.current();
        let snapshot = rules.current();
        let mut split: Vec<Vec<AuditEvent>> = vec![Vec::new(); parts.len()];
        let mut judged = 0;
        let mut newest_event_micros = None;
        // Webhook batches (no checkpoint) remember what they judged in the store, so a
        // sender's retry after a restart is still recognised; files resume from their
        // checkpoint instead.
        let remember = batch.checkpoint.is_none();
        let mut received = Vec::new();
        for mut event in batch.events {
            let key = match judge.admit(&event) {
                Admission::Skip => continue,
                Admission::Judge(key) => key,
                Admission::JudgeReusedId(key) => {
                    reused_audit_id(shared, &event);
                    key
                }
            };
            if remember {
                received.push(key);
            }
            judged += 1;
            newest_event_micros = newest_event_micros.max(event.stage_at);
            intel.enrich(&mut event);
            split[worker_for(&event, parts.len())].push(event);
        }
        shared
            .metrics
            .events_judged
            .fetch_add(judged as u64, Ordering::Relaxed);
        shared
            .metrics
            .events_skipped
            .fetch_add((events - judged) as u64, Ordering::Relaxed);
        let busy = split.iter().filter(|p| !p.is_empty()).count();
        let (done_tx, judged_rx) = mpsc::sync_channel(1);
        let job = Arc::new(Job {
            remaining: busy.into(),
            findings: Mutex::new(Vec::new()),
            done: Mutex::new(Some(done_tx)),
        });
        if busy == 0 {
            job.remaining.store(1, Ordering::Relaxed);
            job.finish_part(Vec::new());
        }
        let pending = Pending {
            events,
            judged,
            newest_event_micros,
            findings: 0,
            checkpoint: batch.checkpoint,
            received,
            ack,
            arrived,
            judged_rx,
        };
        if committer.send(pending).is_err() {
            return;
        }
        for (w, events) in split.into_iter().enumerate() {
            if events.is_empty() {
                continue;
            }
            let part = Part {
                events,
                rules: Arc::clone(&snapshot),
                job: Arc::clone(&job),
            };
            if parts[w].send(part).is_err() {
                return;
            }
        }
    }
}

/// A different request under an audit ID already used: judged like any other, and
/// reported, since a client chose the ID (kube-apiserver takes it from `Audit-ID`).
fn reused_audit_id(shared: &Shared, event: &AuditEvent) {
    let n = shared
        .metrics
        .audit_ids_reused
        .fetch_add(1, Ordering::Relaxed);
    // The first few, then every thousandth: a flood must not flood the log.
    if n < 10 || n % 1000 == 0 {
        tracing::warn!(
            cluster = %event.cluster, audit_id = %event.audit_id.escape_debug(),
            user = %event.user.username.escape_debug(), verb = %event.verb,
            "an audit ID was reused by a different request ({} so far); both are judged",
            n + 1
        );
    }
}

fn work(rules: &RuleSet, context: &FindingContext, shared: &Shared, parts: Receiver<Part>) {
    let mut generation = None;
    let mut evaluator = Evaluator::new(rules.engine(), Vec::new());
    let mut raised = Vec::new();
    for part in parts {
        let started = Instant::now();
        if generation != Some(part.rules.generation) {
            evaluator.set_rules(part.rules.rules.clone());
            generation = Some(part.rules.generation);
        }
        evaluator.evaluate(&part.events, &mut raised);
        let now = finding::now_micros();
        let findings = raised
            .drain(..)
            .map(|r| {
                finding::build(
                    context,
                    &r.rule,
                    &part.events[r.event_index],
                    r.finding,
                    now,
                )
            })
            .collect();
        shared.metrics.evaluation_seconds.observe(started.elapsed());
        part.job.finish_part(findings);
    }
}

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 64;

fn commit(
    input: Receiver<Pending>,
    mut sink: Box<dyn Sink>,
    states: &StateStores,
    shared: &Shared,
    drain: Duration,
) {
    let mut next: Option<Pending> = None;
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
        let now = finding::now_micros();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, RuleEngine, StateStores};
    use peregrine_rules_sdk::normalize::Normalizer;

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
            checkpoint: None,
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
