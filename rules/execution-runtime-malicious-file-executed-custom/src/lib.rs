//! Execution:Runtime/MaliciousFileExecuted.Custom: a process runs an executable whose SHA-256 is on a threat list of your own (`custom/`). The finding gives the
//! file (`threatFilePath`) and, in its evidence, the hash (`threatFileSha256`); the logic
//! is `peregrine_rules_sdk::listed::malicious_file`.
//!
//! Fed by the sensors that hash executables: Tracee's `sched_process_exec` (with
//! `--output option:exec-hash`) and Tetragon with IMA hashes.

use peregrine_rules_sdk::*;

pub struct MaliciousFileExecutedCustom;

impl Rule for MaliciousFileExecutedCustom {
    fn descriptor() -> Descriptor {
        listed::malicious_file_descriptor(true)
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        listed::malicious_file(event, true)
    }
}

export_rule!(MaliciousFileExecutedCustom);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::MaliciousFileExecutedCustom>(
        );
    }
}
