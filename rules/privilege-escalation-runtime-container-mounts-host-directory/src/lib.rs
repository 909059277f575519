//! PrivilegeEscalation:Runtime/ContainerMountsHostDirectory: a process in a container
//! called `mount` on a directory or a block device: a bind of a path, or a disk file
//! system, the way out to the node's files. Hooked at entry, so a mount that fails counts
//! (GuardDuty's tester mounts `/etc/` on `/tmp/` and fails). Pseudo file systems a
//! container may mount for itself (`proc`, `sysfs`, `tmpfs`, `devpts`, `mqueue`, cgroup,
//! overlay for image builds) are left out, as is the runtime itself setting up the
//! container (excluded by the TracingPolicy).
//!
//! Fed by Tetragon's `sys_mount` hook (`peregrine-credentials-namespaces`) and Tracee's
//! `security_sb_mount`.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct ContainerMountsHostDirectory;

const PSEUDO: [&str; 10] = [
    "proc",
    "sysfs",
    "tmpfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "overlay",
    "fuse.fuse-overlayfs",
    "ramfs",
];

impl Rule for ContainerMountsHostDirectory {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
            MEDIUM,
            "A process inside a container is mounting a host file system at run time.",
            "A process in a container mounted (or tried to mount) a directory or a block device.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Mount])
                .containers_only(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Mount(mount) = &event.activity else {
            return None;
        };
        if !event.in_container() {
            return None;
        }
        let fs = mount.file_system_type.as_deref().unwrap_or("");
        if PSEUDO.contains(&fs) {
            return None;
        }
        let source = mount.source.as_deref().filter(|s| s.starts_with('/'))?;
        let mut finding = Finding::new(format!(
            "Process {} ({}) {} of cluster {} mounted {source} on {}.",
            event.process.name,
            event.process.executable_path,
            event.place(),
            event.cluster,
            mount.target
        ))
        .with_aggregation_key(format!("{source}|{}", mount.target))
        .with_context("mountSource", source)
        .with_context("mountTarget", mount.target.clone());
        if !fs.is_empty() {
            finding = finding.with_context("fileSystemType", fs);
        }
        if !mount.flags.is_empty() {
            finding = finding.with_context("flags", mount.flags.join(","));
        }
        Some(finding)
    }
}

export_rule!(ContainerMountsHostDirectory);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<ContainerMountsHostDirectory>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = ContainerMountsHostDirectory::descriptor()
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
            run_runtime_file::<ContainerMountsHostDirectory>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
