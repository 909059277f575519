//! DefenseEvasion:Runtime/PtraceAntiDebugging: a process called `ptrace(PTRACE_TRACEME)`
//! on itself, the classic check for a debugger (only one tracer may attach), when no
//! debugger started it. A child of `gdb`, `strace`, `ltrace` or `valgrind` asks to be
//! traced by its parent: that is debugging, not evading it.
//!
//! Fed by Tetragon's `sys_ptrace` hook (`peregrine-process-memory`) and Tracee's `ptrace`
//! event; the lineage comes from the host's process table.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct PtraceAntiDebugging;

/// Tracers whose children call PTRACE_TRACEME before exec.
const DEBUGGERS: [&str; 7] = ["gdb", "strace", "ltrace", "valgrind", "rr", "lldb", "dlv"];

impl Rule for PtraceAntiDebugging {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/PtraceAntiDebugging",
            LOW,
            "A process used the ptrace system call to prevent debugging.",
            "A process called ptrace(PTRACE_TRACEME) on itself without a debugger as its parent.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Ptrace]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Ptrace(ptrace) = &event.activity else {
            return None;
        };
        if ptrace.request != 0 {
            return None;
        }
        let parent = event.lineage.first();
        if parent.is_some_and(|p| DEBUGGERS.contains(&p.name.as_str())) {
            return None;
        }
        let under = parent
            .map(|p| format!(" (parent {})", p.executable_path))
            .unwrap_or_default();
        Some(
            Finding::new(format!(
                "Process {} ({}){under} {} of cluster {} called ptrace(PTRACE_TRACEME) on itself.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(event.process.executable_path.clone()),
        )
    }
}

export_rule!(PtraceAntiDebugging);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<PtraceAntiDebugging>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = PtraceAntiDebugging::descriptor()
            .runtime
            .unwrap()
            .activities;
        let attacks = runtime_events_from_file("fixtures/positive.jsonl")
            .iter()
            .filter(|e| wanted.contains(&e.activity.kind()))
            .count();
        assert_eq!(findings.len(), attacks, "{findings:#?}");
    }

    #[test]
    fn look_alikes_are_not() {
        assert_eq!(
            run_runtime_file::<PtraceAntiDebugging>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
