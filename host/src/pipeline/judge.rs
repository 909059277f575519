//! Judging: the one place an event meets the rules. The pipeline's workers and
//! `peregrine rules test` both judge through [`judge`], so a fixture passes exactly when
//! the host would raise its findings.

use peregrine_rules_sdk::AuditEvent;

use crate::engine::{Evaluator, RuleFinding};
use crate::findings::{self, FindingContext, GuardDutyFinding, RuleId};

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
    let now = findings::now_micros();
    raised
        .drain(..)
        .map(|r| {
            let rule = RuleId {
                module: &r.rule.name,
                version: r.rule.short_hash(),
            };
            findings::build(
                context,
                &r.rule.descriptor,
                rule,
                &events[r.event_index],
                r.finding,
                now,
            )
        })
        .collect()
}
