//! CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed: secrets read in a way
//! unusual for the user and the cluster (see `peregrine_rules_sdk::anomaly` for the
//! method): every successful `get`, `list` or `watch` of secrets is learned and judged.

use peregrine_rules_sdk::anomaly::{self, Features};
use peregrine_rules_sdk::*;

pub struct SecretsAccessed;

impl Rule for SecretsAccessed {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
            MEDIUM,
            "Unusual access to Kubernetes secrets.",
            "An API call that retrieves secrets was made in a way unusual for the user and \
             the cluster: from a network, with a user agent, or on secrets the user does \
             not usually use.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["get", "list", "watch"])
                .resources(&["secrets"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !anomaly::judgeable(event) {
            return None;
        }
        let verdict = anomaly::judge(event, Features::of(event), true)?;
        let what = match event.name() {
            Some(name) => format!("secret {name}"),
            None => "secrets".into(),
        };
        let namespace = event.namespace().unwrap_or("all namespaces");
        Some(
            Finding::new(format!(
                "{} called {} on {what} in {namespace} of cluster {}, which is unusual for this user \
                 and cluster ({}).",
                event.username(),
                event.verb,
                event.cluster,
                verdict.summary()
            ))
            .with_anomaly(verdict),
        )
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(SecretsAccessed);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::Call;

    fn read(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("get", user, ip, agent).on("secrets", Some("web"), Some("app-config"))
    }

    fn harvest(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("list", user, ip, agent).on("secrets", Some("kube-system"), None)
    }

    peregrine_rules_sdk::anomaly_tests!(SecretsAccessed, routine: read, attack: harvest);
}
