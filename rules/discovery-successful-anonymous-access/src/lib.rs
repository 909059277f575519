//! Discovery:Kubernetes/SuccessfulAnonymousAccess — an API commonly used to discover
//! resources was successfully invoked by `system:anonymous`. The tactic comes from the
//! SDK's tactic table (docs/tactics.md); health probes and `/version` never count.

use peregrine_rules_sdk::tactic::{Tactic, anonymous_tactic, api_commonly_used_in};
use peregrine_rules_sdk::*;

pub struct DiscoveryAnonymous;

impl Rule for DiscoveryAnonymous {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Discovery:Kubernetes/SuccessfulAnonymousAccess",
            MEDIUM,
            "Kubernetes API commonly used in Discovery tactics invoked by the anonymous user.",
            "An API commonly used to discover resources in a Kubernetes cluster was successfully \
             invoked by the unauthenticated user system:anonymous.",
        )
        .subscribe(AuditSubscription::any().users(&["system:anonymous", "system:unauthenticated"]))
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        (anonymous_tactic(event)? == Tactic::Discovery).then(|| {
            Finding::new(format!(
                "{} was invoked on cluster {} by the anonymous user {}.",
                api_commonly_used_in(Tactic::Discovery),
                event.cluster,
                event.username()
            ))
        })
    }
}

export_rule!(DiscoveryAnonymous);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn anonymous_reads_and_api_discovery_are_found() {
        let findings = run_file::<DiscoveryAnonymous>("fixtures/positive.jsonl");
        assert_eq!(findings.len(), 3, "{findings:?}");
    }

    #[test]
    fn health_version_refused_and_non_discovery_calls_are_not() {
        assert_eq!(
            run_file::<DiscoveryAnonymous>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
