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
            "{} called ptrace({request}){target}.",
            event.actor()
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
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::PtraceInjection>();
    }
}
