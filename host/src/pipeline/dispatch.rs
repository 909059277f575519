//! The dispatcher: takes batches in arrival order, judges each request once, marks
//! indicators on threat lists, gives runtime events their lineage and their pods'
//! workloads, takes the current rule snapshot (so a reload lands between batches) and
//! splits each batch among the workers by username (runtime events by node).

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Instant;

use peregrine_rules_sdk::normalize::{Admission, JudgeOnce};
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent};

use super::batch::{BatchFindings, InFlightBatch, Submitted, WorkerShare};
use super::{Shared, judge};
use crate::intel::LiveIntel;
use crate::ruleset::RuleSet;

fn worker_for(key: &str, workers: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

pub(super) fn dispatch(
    input: Receiver<Submitted>,
    workers: Vec<SyncSender<WorkerShare>>,
    committer: SyncSender<InFlightBatch>,
    rules: &RuleSet,
    intel: &LiveIntel,
    shared: &Shared,
    mut once: JudgeOnce,
) {
    let mut attribution = judge::Attribution::default();
    for Submitted { batch, ack } in input {
        let arrived = Instant::now();
        let events = batch.len();
        let intel = intel.current();
        let snapshot = rules.current();
        let mut split: Vec<Vec<AuditEvent>> = vec![Vec::new(); workers.len()];
        let mut split_runtime: Vec<Vec<RuntimeEvent>> = vec![Vec::new(); workers.len()];
        let mut judged = 0;
        let mut newest_event_micros = None;
        // Webhook batches (no checkpoint) remember what they judged in the store, so a
        // sender's retry after a restart is still recognised; files resume from their
        // checkpoint instead.
        let remember = batch.checkpoint.is_none();
        let mut received = Vec::new();
        for mut event in batch.events {
            let key = match judge::admit(&mut once, &intel, &mut event) {
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
            split[worker_for(&event.user.username, workers.len())].push(event);
        }
        // A pod's controller, shown by an audit event, names the workload of the runtime
        // events that follow (and of this batch's).
        for owner in batch.owners {
            attribution.owners.learn(owner);
        }
        for mut event in batch.runtime {
            let admission = judge::admit_runtime(
                &mut once,
                &mut attribution,
                &intel,
                &snapshot.rules,
                &mut event,
            );
            let Some(key) = admission.judged() else {
                continue;
            };
            if remember {
                received.push(key);
            }
            judged += 1;
            newest_event_micros = newest_event_micros.max(Some(event.time));
            // Each node's events stay in order on one worker.
            split_runtime[worker_for(&event.node, workers.len())].push(event);
        }
        shared
            .metrics
            .events_judged
            .fetch_add(judged as u64, Ordering::Relaxed);
        shared
            .metrics
            .events_skipped
            .fetch_add((events - judged) as u64, Ordering::Relaxed);
        let busy = split
            .iter()
            .zip(&split_runtime)
            .filter(|(a, r)| !a.is_empty() || !r.is_empty())
            .count();
        let (done_tx, judged_rx) = mpsc::sync_channel(1);
        let findings = BatchFindings::new(busy, done_tx);
        let in_flight = InFlightBatch {
            events,
            judged,
            newest_event_micros,
            findings: 0,
            checkpoint: batch.checkpoint,
            received,
            ack: Some(ack),
            arrived,
            judged_rx,
        };
        if committer.send(in_flight).is_err() {
            return;
        }
        for (w, (events, runtime)) in split.into_iter().zip(split_runtime).enumerate() {
            if events.is_empty() && runtime.is_empty() {
                continue;
            }
            let share = WorkerShare {
                events,
                runtime,
                rules: Arc::clone(&snapshot),
                findings: Arc::clone(&findings),
            };
            if workers[w].send(share).is_err() {
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
