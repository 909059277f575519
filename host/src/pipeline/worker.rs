//! A worker: judges its shares of batches with a warm instance of every rule.

use std::sync::mpsc::Receiver;
use std::time::Instant;

use super::Shared;
use super::batch::WorkerShare;
use super::judge;
use crate::engine::Evaluator;
use crate::findings::FindingContext;
use crate::ruleset::RuleSet;

pub(super) fn work(
    rules: &RuleSet,
    context: &FindingContext,
    shared: &Shared,
    shares: Receiver<WorkerShare>,
) {
    let mut generation = None;
    let mut evaluator = Evaluator::new(rules.engine(), Vec::new());
    let mut raised = Vec::new();
    for share in shares {
        let started = Instant::now();
        if generation != Some(share.rules.generation) {
            evaluator.set_rules(share.rules.rules.clone());
            generation = Some(share.rules.generation);
        }
        let mut findings = judge::judge(&mut evaluator, context, &share.events, &mut raised);
        if !share.runtime.is_empty() {
            findings.extend(judge::judge_runtime(
                &mut evaluator,
                context,
                &share.runtime,
                &mut raised,
            ));
        }
        shared.metrics.evaluation_seconds.observe(started.elapsed());
        share.findings.add_share(findings);
    }
}
