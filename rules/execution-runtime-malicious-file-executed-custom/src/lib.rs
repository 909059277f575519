//! Execution:Runtime/MaliciousFileExecuted.Custom: a process runs an executable whose SHA-256 is on a threat list of your own (custom).
//! The finding gives the file (`threatFilePath`) and, in its evidence, the hash
//! (`threatFileSha256`).
//!
//! Fed by the sensors that hash executables: Tracee's `sched_process_exec` (with
//! `--output option:exec-hash`) and Tetragon with IMA hashes.

use peregrine_rules_sdk::runtime::{Activity, Listing, ThreatCategory};
use peregrine_rules_sdk::*;

pub struct MaliciousFileExecutedCustom;

impl Rule for MaliciousFileExecutedCustom {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/MaliciousFileExecuted.Custom",
            HIGH,
            "A process executed a known malicious file.",
            "A process ran an executable whose SHA-256 is on a threat list of your own (custom).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Exec])
                .listed(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let lists: Vec<&Listing> = event
            .process
            .sha256_listed
            .iter()
            .filter(|l| l.category == ThreatCategory::Custom)
            .collect();
        let first = lists.first()?;
        let digest = event.process.sha256.clone()?;
        let path = event.process.executable_path.clone();
        let mut finding = Finding::new(format!(
            "Process {} ({path}) {} of cluster {} runs a file whose SHA-256 {digest} is on the threat list {}.",
            event.process.name,
            event.place(),
            event.cluster,
            first.name
        ))
        .with_aggregation_key(digest.clone())
        .with_context("threatFilePath", path)
        .with_info("sha256", digest);
        for list in &lists {
            finding = finding.with_threat_intel(&list.name, &[list.category.name()]);
        }
        Some(finding)
    }
}

export_rule!(MaliciousFileExecutedCustom);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<MaliciousFileExecutedCustom>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = MaliciousFileExecutedCustom::descriptor()
            .runtime
            .unwrap()
            .activities;
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
            run_runtime_file::<MaliciousFileExecutedCustom>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
