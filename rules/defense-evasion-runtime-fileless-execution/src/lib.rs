//! DefenseEvasion:Runtime/FilelessExecution: a process runs from memory: its executable
//! is a `memfd` or a file deleted from disk (no link left). runc's own re-exec from a memfd
//! (`runc_cloned`, its defence against CVE-2019-5736) is left out.
//!
//! Fed by exec events: Tetragon (`binary_properties.file.inode.links` 0, a `/memfd:` or
//! `(deleted)` binary), Tracee (`sched_process_exec` of such a path), Falco alerts with
//! `proc.is_exe_from_memfd`.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct FilelessExecution;

impl Rule for FilelessExecution {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/FilelessExecution",
            MEDIUM,
            "A process is executing code from memory.",
            "A process was executed from a memfd or from a file deleted from disk.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Exec])
                .fileless(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) || !event.process.fileless {
            return None;
        }
        let path = &event.process.executable_path;
        if path.contains("runc_cloned") {
            return None;
        }
        Some(
            Finding::new(format!(
                "Process {} ({path}) {} of cluster {} was executed from memory: its executable has no file on disk.",
                event.process.name,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(path.clone())
            .with_info("executablePath", path.clone()),
        )
    }
}

export_rule!(FilelessExecution);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::FilelessExecution>();
    }
}
