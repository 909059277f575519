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
            "{} mounted {source} on {}.",
            event.actor(),
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
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::ContainerMountsHostDirectory>(
        );
    }
}
