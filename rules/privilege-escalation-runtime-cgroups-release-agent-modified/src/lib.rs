//! PrivilegeEscalation:Runtime/CGroupsReleaseAgentModified: a process in a container
//! wrote a cgroup `release_agent` file, which the kernel runs as root on the node when the
//! cgroup empties: the classic cgroup v1 container escape. Matched on the file name, since
//! the escape mounts the cgroup file system anywhere (GuardDuty's tester writes
//! `/tmp/release_agent`).
//!
//! Fed by Tetragon's file hooks (`peregrine-files`), Tracee's file events and Falco alerts
//! on `release_agent`.

use peregrine_rules_sdk::runtime::{Activity, FileOperation};
use peregrine_rules_sdk::*;

pub struct ReleaseAgentModified;

fn is_release_agent(path: &str) -> bool {
    path.rsplit('/').next() == Some("release_agent")
}

impl Rule for ReleaseAgentModified {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/CGroupsReleaseAgentModified",
            HIGH,
            "An attempt to modify the release agent file of a control group was detected.",
            "A process in a container wrote, truncated or renamed onto a cgroup release_agent file.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::File])
                .containers_only()
                .paths(&["*release_agent"]),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::File(file) = &event.activity else {
            return None;
        };
        if !event.in_container() {
            return None;
        }
        let path = match file.operation {
            FileOperation::Write | FileOperation::Truncate if is_release_agent(&file.path) => {
                file.path.clone()
            }
            FileOperation::Rename | FileOperation::Link | FileOperation::Symlink => file
                .target_path
                .clone()
                .filter(|t| is_release_agent(t))
                .or_else(|| {
                    (file.operation != FileOperation::Symlink && is_release_agent(&file.path))
                        .then(|| file.path.clone())
                })?,
            _ => return None,
        };
        Some(
            Finding::new(format!(
                "{} modified the cgroup release agent {path}.",
                event.actor()
            ))
            .with_aggregation_key(path.clone())
            .with_context("releaseAgentPath", path),
        )
    }
}

export_rule!(ReleaseAgentModified);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::ReleaseAgentModified>();
    }
}
