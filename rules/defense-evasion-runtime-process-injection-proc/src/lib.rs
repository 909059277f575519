//! DefenseEvasion:Runtime/ProcessInjection.Proc: a process wrote to another process's
//! `/proc/<pid>/mem`, overwriting its code or data. Writes to its own (`/proc/self/mem`,
//! its own pid) are not injection.
//!
//! Fed by Tetragon's file hooks on `/proc/*/mem` (`peregrine-files`) and Tracee's
//! `security_file_open` / `vfs_write` of such paths.

use peregrine_rules_sdk::runtime::{Activity, MemoryWriteMethod};
use peregrine_rules_sdk::*;

pub struct ProcInjection;

impl Rule for ProcInjection {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/ProcessInjection.Proc",
            HIGH,
            "A process attempted to inject code into another process through the proc file system.",
            "A process wrote to another process's /proc/<pid>/mem.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::MemoryWrite]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::MemoryWrite(write) = &event.activity else {
            return None;
        };
        if write.method != MemoryWriteMethod::ProcMem {
            return None;
        }
        let target = write.target_pid?;
        if Some(target) == event.process.pid || Some(target) == event.process.namespace_pid {
            return None;
        }
        let path = write
            .path
            .clone()
            .unwrap_or_else(|| format!("/proc/{target}/mem"));
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} wrote to {path}.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(event.process.executable_path.clone())
            .with_context("filePath", path)
            .with_info("targetPid", target.to_string()),
        )
    }
}

export_rule!(ProcInjection);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<ProcInjection>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = ProcInjection::descriptor().runtime.unwrap().activities;
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
            run_runtime_file::<ProcInjection>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
