//! PrivilegeEscalation:Runtime/UserfaultfdUsage: a process called `userfaultfd`, which
//! lets it stall the kernel on a page fault of its choosing: the primitive behind many
//! kernel exploits' race windows. Few programs need it (live migration, CRIU), so any use
//! is reported, as GuardDuty does.
//!
//! Fed by Tetragon's `sys_userfaultfd` hook (`peregrine-process-memory`) and Tracee's
//! `userfaultfd` event.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct UserfaultfdUsage;

impl Rule for UserfaultfdUsage {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/UserfaultfdUsage",
            MEDIUM,
            "A process used the userfaultfd system call.",
            "A process called userfaultfd, a primitive of kernel exploits that widen race \
             windows by stalling page faults.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Userfaultfd]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Userfaultfd) {
            return None;
        }
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} called userfaultfd.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(event.process.executable_path.clone()),
        )
    }
}

export_rule!(UserfaultfdUsage);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<UserfaultfdUsage>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = UserfaultfdUsage::descriptor().runtime.unwrap().activities;
        let events = runtime_events_from_file("fixtures/positive.jsonl");
        let lines = std::fs::read_to_string("fixtures/positive.jsonl").unwrap();
        assert_eq!(
            events.len(),
            lines.lines().count(),
            "every line is an event"
        );
        let attacks = events
            .iter()
            .filter(|e| wanted.contains(&e.activity.kind()))
            .count();
        assert!(attacks > 0);
        assert_eq!(findings.len(), attacks, "{findings:#?}");
    }

    #[test]
    fn look_alikes_are_not() {
        let lines = std::fs::read_to_string("fixtures/negative.jsonl").unwrap();
        let events = runtime_events_from_file("fixtures/negative.jsonl");
        assert_eq!(
            events.len(),
            lines.lines().count(),
            "every line is an event"
        );
        assert_eq!(
            run_runtime_file::<UserfaultfdUsage>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
