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
            Finding::new(format!("{} wrote to {path}.", event.actor()))
                .with_aggregation_key(event.process.executable_path.clone())
                .with_context("filePath", path)
                .with_info("targetPid", target.to_string()),
        )
    }
}

export_rule!(ProcInjection);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::ProcInjection>();
    }
}
