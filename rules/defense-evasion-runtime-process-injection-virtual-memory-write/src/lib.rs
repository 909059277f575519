//! DefenseEvasion:Runtime/ProcessInjection.VirtualMemoryWrite: a process called
//! `process_vm_writev` on another process, writing into its memory: code injection. The
//! call is hooked at entry, so a failed attempt counts too (as GuardDuty's tester expects).
//! A process writing its own memory this way is no injection.
//!
//! Fed by Tetragon's `sys_process_vm_writev` hook (`peregrine-process-memory`) and
//! Tracee's `process_vm_writev` event.

use peregrine_rules_sdk::runtime::{Activity, MemoryWriteMethod};
use peregrine_rules_sdk::*;

pub struct VirtualMemoryWrite;

impl Rule for VirtualMemoryWrite {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/ProcessInjection.VirtualMemoryWrite",
            HIGH,
            "A process attempted to inject code into another process by writing to its virtual memory.",
            "A process called process_vm_writev on another process.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::MemoryWrite]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::MemoryWrite(write) = &event.activity else {
            return None;
        };
        if write.method != MemoryWriteMethod::ProcessVmWritev {
            return None;
        }
        let target = write.target_pid?;
        // Its own pid, seen from the host or from inside its container.
        if Some(target) == event.process.pid || Some(target) == event.process.namespace_pid {
            return None;
        }
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} called process_vm_writev on process {target}.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(event.process.executable_path.clone())
            .with_info("targetPid", target.to_string()),
        )
    }
}

export_rule!(VirtualMemoryWrite);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<VirtualMemoryWrite>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = VirtualMemoryWrite::descriptor().runtime.unwrap().activities;
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
            run_runtime_file::<VirtualMemoryWrite>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
