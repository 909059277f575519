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
                "{} called process_vm_writev on process {target}.",
                event.actor()
            ))
            .with_aggregation_key(event.process.executable_path.clone())
            .with_info("targetPid", target.to_string()),
        )
    }
}

export_rule!(VirtualMemoryWrite);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::VirtualMemoryWrite>();
    }
}
