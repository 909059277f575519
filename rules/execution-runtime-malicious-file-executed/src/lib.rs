//! Execution:Runtime/MaliciousFileExecuted: a process runs an executable whose SHA-256 is on a threat list of known malicious files (any category but custom, which is MaliciousFileExecuted.Custom's).
//! The finding gives the file (`threatFilePath`) and, in its evidence, the hash
//! (`threatFileSha256`).
//!
//! Fed by the sensors that hash executables: Tracee's `sched_process_exec` (with
//! `--output option:exec-hash`) and Tetragon with IMA hashes.

use peregrine_rules_sdk::runtime::{Activity, Listing, ThreatCategory};
use peregrine_rules_sdk::*;

pub struct MaliciousFileExecuted;

impl Rule for MaliciousFileExecuted {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/MaliciousFileExecuted",
            HIGH,
            "A process executed a known malicious file.",
            "A process ran an executable whose SHA-256 is on a threat list of known malicious files (any category but custom, which is MaliciousFileExecuted.Custom's).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Exec])
                .listed(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let lists: Vec<&Listing> = event
            .process
            .sha256_listed
            .iter()
            .filter(|l| l.category != ThreatCategory::Custom)
            .collect();
        let first = lists.first()?;
        let digest = event.process.sha256.clone()?;
        let path = event.process.executable_path.clone();
        let mut finding = Finding::new(format!(
            "Process {} ({path}) {} of cluster {} runs a file whose SHA-256 {digest} is on the threat list {}.",
            event.process.name,
            event.place(),
            event.cluster,
            first.name
        ))
        .with_aggregation_key(digest.clone())
        .with_context("threatFilePath", path)
        .with_info("sha256", digest);
        for list in &lists {
            finding = finding.with_threat_intel(&list.name, &[list.category.name()]);
        }
        Some(finding)
    }
}

export_rule!(MaliciousFileExecuted);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::MaliciousFileExecuted>();
    }
}
