//! PrivilegeEscalation:Runtime/ElevationToRoot: a process not running as root executed a
//! set-user-ID binary, or had its privileges raised by the exec (Tetragon's
//! `privileges_changed`), becoming root through something other than the tools made for it
//! (`sudo`, `su`, `passwd`, `mount`, `ping`, …, the ordinary paths GuardDuty also
//! excludes). Fed by Tetragon exec events (`binary_properties`, with
//! `--enable-process-cred`) and Tracee's `sched_process_exec` (`inode_mode`).

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct ElevationToRoot;

/// Set-user-ID programs whose job is to change identity.
const ORDINARY: [&str; 22] = [
    "sudo",
    "su",
    "passwd",
    "chsh",
    "chfn",
    "newgrp",
    "gpasswd",
    "sg",
    "mount",
    "umount",
    "ping",
    "ping6",
    "unix_chkpwd",
    "fusermount",
    "fusermount3",
    "crontab",
    "at",
    "ssh-keysign",
    "pkexec-helper",
    "dbus-daemon-launch-helper",
    "newuidmap",
    "newgidmap",
];

impl Rule for ElevationToRoot {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/ElevationToRoot",
            MEDIUM,
            "A process running on the host or in a container has elevated to root privileges.",
            "A process not running as root executed a set-user-ID binary (or had its privileges \
             raised by the exec) other than the tools made to change identity.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Exec])
                .privileges_raised(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let p = &event.process;
        let raised = !p.privileges_changed.is_empty() || p.setuid_binary;
        // Already root, or an unknown user: nothing is elevated.
        if !raised || p.uid.is_none_or(|u| u == 0) || ORDINARY.contains(&p.name.as_str()) {
            return None;
        }
        let how = if p.privileges_changed.is_empty() {
            "a set-user-ID binary".to_string()
        } else {
            p.privileges_changed.join(", ")
        };
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {}, run by uid {}, elevated its privileges: {how}.",
                p.name,
                p.executable_path,
                event.place(),
                event.cluster,
                p.uid.unwrap_or_default()
            ))
            .with_aggregation_key(p.executable_path.clone())
            .with_info("how", how),
        )
    }
}

export_rule!(ElevationToRoot);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::ElevationToRoot>();
    }
}
