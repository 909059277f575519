//! Execution:Runtime/NewLibraryLoaded: a process in a container loads a library (maps a
//! file executable, or the loader opens it) that was written, renamed into place or made
//! executable in that container at run time (`peregrine_rules_sdk::written`). The finding
//! names the library (`libraryPath`), the modifying process (`modifyingProcess`) and when
//! (`modifiedAt`). Installs and builds are not drops.
//!
//! Fed by Tetragon's `peregrine-files` writes, `security_mmap_file` with `PROT_EXEC` and
//! `peregrine-library-loads`, and Tracee's file and `shared_object_loaded` events.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::written::{format_micros, remember, written};
use peregrine_rules_sdk::*;

pub struct NewLibraryLoaded;

impl Rule for NewLibraryLoaded {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/NewLibraryLoaded",
            MEDIUM,
            "A newly created or recently modified library was loaded by a process inside a container.",
            "A process in a container loaded a library written, renamed into place or made \
             executable in the container at run time (installs and builds excepted).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::File, ActivityKind::Mmap, ActivityKind::LibraryLoad])
                .containers_only(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let path = match &event.activity {
            Activity::File(_) => {
                remember(event);
                return None;
            }
            Activity::Mmap(m) if m.protection.iter().any(|p| p == "PROT_EXEC") => &m.path,
            Activity::LibraryLoad(l) => &l.path,
            _ => return None,
        };
        let by = written(event, path)?;
        Some(
            Finding::new(format!(
                "{} loaded {path}, which {} wrote at {}.",
                event.actor(),
                by.by,
                format_micros(by.at)
            ))
            .with_aggregation_key(path.clone())
            .with_context("libraryPath", path.clone())
            .with_context("modifyingProcess", by.by)
            .with_context("modifiedAt", format_micros(by.at)),
        )
    }
}

export_rule!(NewLibraryLoaded);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        let findings =
            peregrine_rules_sdk::testing::check_runtime_fixtures::<super::NewLibraryLoaded>();
        assert!(findings.iter().all(|f| {
            f.runtime_context
                .iter()
                .any(|(k, _)| k == "modifyingProcess")
        }));
    }
}
