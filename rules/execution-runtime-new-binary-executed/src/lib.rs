//! Execution:Runtime/NewBinaryExecuted: a process in a container executes a file that was
//! written, renamed into place or made executable in that container at run time, not one
//! of its image (`peregrine_rules_sdk::written`): a dropped binary. The finding names the
//! modifying process (`modifyingProcess`) and when (`modifiedAt`). Installs and builds
//! (package managers, pip/npm, compilers and linkers) are not drops.
//!
//! Fed by Tetragon's `peregrine-files` writes and `chmod +x`, Tracee's file events, and
//! every sensor's exec events.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::written::{format_micros, remember, written};
use peregrine_rules_sdk::*;

pub struct NewBinaryExecuted;

impl Rule for NewBinaryExecuted {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/NewBinaryExecuted",
            MEDIUM,
            "A newly created or recently modified binary file has been executed in a container.",
            "A process in a container ran a file written, renamed into place or made executable \
             in the container at run time (installs and builds excepted).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::File, ActivityKind::Exec])
                .containers_only(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        match &event.activity {
            Activity::File(_) => {
                remember(event);
                None
            }
            Activity::Exec => {
                let path = &event.process.executable_path;
                let by = written(event, path)?;
                Some(
                    Finding::new(format!(
                        "Process {} {} of cluster {} runs {path}, which {} wrote at {}.",
                        event.process.name,
                        event.place(),
                        event.cluster,
                        by.by,
                        format_micros(by.at)
                    ))
                    .with_aggregation_key(path.clone())
                    .with_context("modifyingProcess", by.by)
                    .with_context("modifiedAt", format_micros(by.at)),
                )
            }
            _ => None,
        }
    }
}

export_rule!(NewBinaryExecuted);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        let findings =
            peregrine_rules_sdk::testing::check_runtime_fixtures::<super::NewBinaryExecuted>();
        assert!(findings.iter().all(|f| {
            f.runtime_context
                .iter()
                .any(|(k, _)| k == "modifyingProcess")
        }));
    }
}
