//! CredentialAccess:Kubernetes/TorIPCaller: an API call of the CredentialAccess tactic (docs/tactics.md)
//! by a suspicious caller. The logic is shared by all twenty tactic × caller rules:
//! `peregrine_rules_sdk::caller`. Fixtures: `scripts/tactic_caller_fixtures.py`.

peregrine_rules_sdk::export_tactic_caller_rule!(CredentialAccess, TorIpCaller);

#[cfg(test)]
mod tests {
    use super::TacticCallerRule;
    use peregrine_rules_sdk::testing::{events_from_file, run_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let findings = run_file::<TacticCallerRule>("fixtures/positive.jsonl");
        assert_eq!(
            findings.len(),
            events_from_file("fixtures/positive.jsonl").len(),
            "{findings:#?}"
        );
    }

    #[test]
    fn negative_fixtures_are_not() {
        assert_eq!(
            run_file::<TacticCallerRule>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
