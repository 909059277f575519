//! PrivilegeEscalation:Runtime/UserfaultfdUsage: a process called `userfaultfd`, which
//! lets it stall the kernel on a page fault of its choosing: the primitive behind many
//! kernel exploits' race windows. Few programs need it (live migration, CRIU), so any use
//! is reported, as GuardDuty does.
//!
//! Fed by Tetragon's `sys_userfaultfd` hook (`peregrine-process-memory`) and Tracee's
//! `userfaultfd` event.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct UserfaultfdUsage;

impl Rule for UserfaultfdUsage {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Runtime/UserfaultfdUsage",
            MEDIUM,
            "A process used the userfaultfd system call.",
            "A process called userfaultfd, a primitive of kernel exploits that widen race \
             windows by stalling page faults.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Userfaultfd]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Userfaultfd) {
            return None;
        }
        Some(
            Finding::new(format!("{} called userfaultfd.", event.actor()))
                .with_aggregation_key(event.process.executable_path.clone()),
        )
    }
}

export_rule!(UserfaultfdUsage);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::UserfaultfdUsage>();
    }
}
