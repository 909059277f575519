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
                .containers_only(),
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
                "Process {} ({}) {} of cluster {} modified the cgroup release agent {path}.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(path.clone())
            .with_context("releaseAgentPath", path),
        )
    }
}

export_rule!(ReleaseAgentModified);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_runtime_file::<ReleaseAgentModified>("fixtures/positive.jsonl");
        // Every event of the activity the rule takes (the others give lineage).
        let wanted = ReleaseAgentModified::descriptor()
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
            run_runtime_file::<ReleaseAgentModified>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
