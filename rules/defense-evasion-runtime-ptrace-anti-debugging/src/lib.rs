//! DefenseEvasion:Runtime/PtraceAntiDebugging: a process called `ptrace(PTRACE_TRACEME)`
//! on itself, the classic check for a debugger (only one tracer may attach), when no
//! debugger started it. A child of `gdb`, `strace`, `ltrace` or `valgrind` asks to be
//! traced by its parent: that is debugging, not evading it.
//!
//! Fed by Tetragon's `sys_ptrace` hook (`peregrine-process-memory`) and Tracee's `ptrace`
//! event (the lineage comes from the host's process table), and by the sensors' own
//! anti-debugging alerts (Tracee's `TRC-102`, Falco's `PTRACE anti-debug attempt`), with
//! the same exclusions: Tracee's documentation capture of TRC-102 is `strace` at work.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct PtraceAntiDebugging;

/// Tracers whose children call PTRACE_TRACEME before exec (the child still bears the
/// tracer's name until it does).
const DEBUGGERS: [&str; 7] = ["gdb", "strace", "ltrace", "valgrind", "rr", "lldb", "dlv"];

/// Sensor rules that report PTRACE_TRACEME used against debuggers.
const SENSOR_ALERTS: [&str; 3] = ["TRC-102", "Anti-Debugging", "PTRACE anti-debug attempt"];

/// The call, or the sensor's alert of it.
fn traceme(event: &RuntimeEvent) -> Option<&'static str> {
    match &event.activity {
        Activity::Ptrace(p) if p.request == 0 => Some("called ptrace(PTRACE_TRACEME) on itself"),
        Activity::Alert(a) if SENSOR_ALERTS.iter().any(|s| a.rule.contains(s)) => {
            Some("was reported by its sensor for anti-debugging")
        }
        _ => None,
    }
}

impl Rule for PtraceAntiDebugging {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/PtraceAntiDebugging",
            LOW,
            "A process used the ptrace system call to prevent debugging.",
            "A process called ptrace(PTRACE_TRACEME) on itself without a debugger as its parent.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any().activities(&[ActivityKind::Ptrace, ActivityKind::Alert]),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let what = traceme(event)?;
        let parent = event.lineage.first();
        if DEBUGGERS.contains(&event.process.name.as_str())
            || parent.is_some_and(|p| DEBUGGERS.contains(&p.name.as_str()))
        {
            return None;
        }
        let under = parent
            .map(|p| format!(" (parent {})", p.executable_path))
            .unwrap_or_default();
        Some(
            Finding::new(format!(
                "Process {} ({}){under} {} of cluster {} {what}.",
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
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::PtraceAntiDebugging>();
    }
}
