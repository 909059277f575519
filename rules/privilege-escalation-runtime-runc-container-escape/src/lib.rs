//! PrivilegeEscalation:Runtime/RuncContainerEscape: a container process modified the runc
//! binary (CVE-2019-5736: a write to `runc`, or to `/proc/<pid>/exe` of the runtime that
//! entered the container), or runs with its working directory under `/proc/self/fd/`
//! (CVE-2024-21626: a leaked file descriptor of the host's file system).
//!
//! Fed by Tetragon's file hooks (`peregrine-files`) and every sensor's exec events (the
//! process's cwd).

use peregrine_rules_sdk::runtime::{Activity, FileOperation};
use peregrine_rules_sdk::*;

pub struct RuncContainerEscape;

/// A path that is the runtime's binary: `runc` (or `crun`) anywhere, or a process's
/// `/proc/<pid>/exe`.
fn is_runtime_binary(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "runc" | "crun")
        || (path.starts_with("/proc/") && path.ends_with("/exe") && path != "/proc/self/exe")
}

impl Rule for RuncContainerEscape {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/RuncContainerEscape",
            HIGH,
            "An attempt of container escape through runC was detected.",
            "A process in a container wrote the runc binary, or works in a directory under \
             /proc/self/fd/ (a descriptor leaked from the node).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::File, ActivityKind::Exec])
                .containers_only()
                .paths(&["*/runc", "*/crun", "/proc/"])
                .cwds(&["/proc/self/fd/"]),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !event.in_container() {
            return None;
        }
        let (what, path) = match &event.activity {
            Activity::File(f)
                if matches!(f.operation, FileOperation::Write | FileOperation::Truncate)
                    && is_runtime_binary(&f.path) =>
            {
                ("wrote the container runtime binary", f.path.clone())
            }
            Activity::Exec => {
                let cwd = event.process.cwd.as_deref()?;
                if !cwd.starts_with("/proc/self/fd/") {
                    return None;
                }
                (
                    "works in a descriptor leaked from the node",
                    cwd.to_string(),
                )
            }
            _ => return None,
        };
        Some(
            Finding::new(format!("{} {what}: {path}.", event.actor()))
                .with_aggregation_key(path.clone())
                .with_context("runcBinaryPath", path),
        )
    }
}

export_rule!(RuncContainerEscape);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::RuncContainerEscape>();
    }
}
