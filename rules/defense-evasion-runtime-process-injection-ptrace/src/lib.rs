//! DefenseEvasion:Runtime/ProcessInjection.Ptrace: a process used ptrace to write another
//! process's memory or registers (`PTRACE_POKETEXT`, `POKEDATA`, `POKEUSER`, `SETREGS`,
//! `SETREGSET`): code injection. Attaching alone is what debuggers and `strace` do, and
//! `PTRACE_TRACEME` is the anti-debugging type's.
//!
//! Fed by Tetragon's `sys_ptrace` hook (`peregrine-process-memory`) and Tracee's `ptrace`
//! event.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct PtraceInjection;

/// ptrace requests that change the tracee: PTRACE_POKETEXT, POKEDATA, POKEUSER, SETREGS,
/// SETFPREGS, SETREGSET.
const WRITES: [i64; 6] = [4, 5, 6, 13, 15, 0x4205];

impl Rule for PtraceInjection {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/ProcessInjection.Ptrace",
            MEDIUM,
            "A process attempted to inject code into another process by using the ptrace system call.",
            "A process wrote another process's memory or registers with ptrace.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Ptrace]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Ptrace(ptrace) = &event.activity else {
            return None;
        };
        if !WRITES.contains(&ptrace.request) {
            return None;
        }
        let request = ptrace
            .request_name
            .clone()
            .unwrap_or_else(|| format!("request {}", ptrace.request));
        let target = ptrace
            .target_pid
            .map(|p| format!(" on process {p}"))
            .unwrap_or_default();
        let mut finding = Finding::new(format!(
            "Process {} ({}) {} of cluster {} called ptrace({request}){target}.",
            event.process.name,
            event.process.executable_path,
            event.place(),
            event.cluster
        ))
        .with_aggregation_key(event.process.executable_path.clone())
        .with_info("ptraceRequest", request);
        if let Some(pid) = ptrace.target_pid {
            finding = finding.with_info("targetPid", pid.to_string());
        }
        Some(finding)
    }
}

export_rule!(PtraceInjection);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<PtraceInjection>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = PtraceInjection::descriptor().runtime.unwrap().activities;
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
            run_runtime_file::<PtraceInjection>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
