//! Judging: the one place an event meets the rules. The pipeline (its dispatcher admits,
//! its workers judge) and `peregrine rules test` both go through [`admit`] and [`judge`],
//! so a fixture passes exactly when the host would raise its findings.

use peregrine_rules_sdk::normalize::ownership::Owners;
use peregrine_rules_sdk::normalize::runtime::ProcessTable;
use peregrine_rules_sdk::normalize::{Admission, JudgeOnce};
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent};

use std::sync::Arc;

use crate::engine::{Evaluator, LoadedRule, RuleFinding};
use crate::findings::{self, FindingContext, GuardDutyFinding, RuleId};
use crate::intel::ThreatLists;

/// Whether `event` is judged: each request once, at its first outcome stage (see
/// [`JudgeOnce`]); one that is has its source IPs marked from `lists`.
pub fn admit(once: &mut JudgeOnce, lists: &ThreatLists, event: &mut AuditEvent) -> Admission {
    let admission = once.admit(event);
    if admission.judged().is_some() {
        lists.enrich(event);
    }
    admission
}

/// What the host learns of each cluster's processes (from runtime events) and pods'
/// controllers (from audit events), to complete the runtime events it judges.
#[derive(Default)]
pub struct Attribution {
    pub processes: ProcessTable,
    pub owners: Owners,
}

/// Whether a runtime event is judged: once, however often it is resent. One that is
/// teaches `attribution` its process, has its indicators marked from `lists`, and, if one
/// of `rules` wants it, gets its lineage and its pod's workload from `attribution`.
pub fn admit_runtime(
    once: &mut JudgeOnce,
    attribution: &mut Attribution,
    lists: &ThreatLists,
    rules: &[Arc<LoadedRule>],
    event: &mut RuntimeEvent,
) -> Admission {
    let admission = once.admit_runtime(event);
    if admission.judged().is_some() {
        attribution.processes.learn(event);
        lists.enrich_runtime(event);
        if rules.iter().any(|r| r.subscribes_to_runtime(event)) {
            attribution.processes.complete(event);
            attribution.owners.attribute(event);
        }
    }
    admission
}

/// Judges `events` (already admitted: each request once, source IPs marked) with every
/// rule of `evaluator` that subscribes to them, and builds the findings they raise.
/// `raised` is scratch space, kept between calls to spare allocations.
pub fn judge(
    evaluator: &mut Evaluator,
    context: &FindingContext,
    events: &[AuditEvent],
    raised: &mut Vec<RuleFinding>,
) -> Vec<GuardDutyFinding> {
    evaluator.evaluate(events, raised);
    built(raised, |rule, descriptor, index, finding, now| {
        findings::build(context, descriptor, rule, &events[index], finding, now)
    })
}

/// Judges runtime events (already admitted), as [`judge`] does audit events.
pub fn judge_runtime(
    evaluator: &mut Evaluator,
    context: &FindingContext,
    events: &[RuntimeEvent],
    raised: &mut Vec<RuleFinding>,
) -> Vec<GuardDutyFinding> {
    evaluator.evaluate_runtime(events, raised);
    built(raised, |rule, descriptor, index, finding, now| {
        findings::build_runtime(context, descriptor, rule, &events[index], finding, now)
    })
}

/// The findings of what the rules raised, each built by `build` from its event.
fn built(
    raised: &mut Vec<RuleFinding>,
    build: impl Fn(
        RuleId<'_>,
        &peregrine_rules_sdk::Descriptor,
        usize,
        peregrine_rules_sdk::Finding,
        i64,
    ) -> GuardDutyFinding,
) -> Vec<GuardDutyFinding> {
    let now = findings::now_micros();
    raised
        .drain(..)
        .map(|r| {
            let rule = RuleId {
                module: &r.rule.name,
                version: r.rule.short_hash(),
            };
            build(rule, &r.rule.descriptor, r.event_index, r.finding, now)
        })
        .collect()
}
