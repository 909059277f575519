//! Discovery:Kubernetes/AnomalousBehavior.PermissionChecked: a user checked whether they
//! hold powerful permissions (`kubectl auth can-i`: SelfSubjectAccessReview or
//! SelfSubjectRulesReview) in a way unusual for the user and the cluster (see
//! `peregrine_rules_sdk::anomaly`). Every check is learned; checks of powerful
//! permissions (`peregrine_rules_sdk::risk::powerful_permission`) are judged.

use peregrine_rules_sdk::anomaly::{self, Features};
use peregrine_rules_sdk::risk::{permission_checked, powerful_permission};
use peregrine_rules_sdk::*;

pub struct PermissionChecked;

impl Rule for PermissionChecked {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
            LOW,
            "A user checked their permissions in an unusual way.",
            "A user checked whether they hold powerful permissions (kubectl auth can-i) in a way \
             unusual for the user and the cluster, as an intruder with a stolen credential does \
             to learn what it can do.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create"])
                .resources(&["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !anomaly::judgeable(event) {
            return None;
        }
        let review = event.access_review()?;
        let permission = permission_checked(review);
        let namespace = review
            .namespace
            .clone()
            .unwrap_or_else(|| "(cluster)".into());
        let features = Features::of(event)
            .with("permission", permission.clone())
            .with("reviewNamespace", namespace.clone());
        let verdict = anomaly::judge(event, features, powerful_permission(review))?;
        let mut finding = Finding::new(format!(
            "{} checked the permission {permission:?} in {namespace} on cluster {}, which is unusual \
             for this user and cluster ({}).",
            event.username(),
            event.cluster,
            verdict.summary()
        ))
        .with_info("permission", permission)
        .with_info("reviewKind", review.kind.clone())
        .with_anomaly(verdict);
        if let Some(allowed) = review.allowed {
            finding = finding.with_info("allowed", allowed.to_string());
        }
        Some(finding)
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(PermissionChecked);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, habits, json, run_calls};

    fn can_i(user: &str, ip: &str, agent: &str, verb: &str, resource: &str) -> Call {
        Call::new("create", user, ip, agent)
            .on("selfsubjectaccessreviews.authorization.k8s.io", None, None)
            .object(json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "spec": {"resourceAttributes": {"namespace": "web", "verb": verb, "resource": resource}},
                "status": {"allowed": true}}))
            .code(201)
    }

    fn can_i_deploy(user: &str, ip: &str, agent: &str) -> Call {
        can_i(user, ip, agent, "create", "deployments")
    }

    fn list_everything(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("create", user, ip, agent)
            .on("selfsubjectrulesreviews.authorization.k8s.io", None, None)
            .object(
                json!({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                "spec": {"namespace": "kube-system"}}),
            )
            .code(201)
    }

    peregrine_rules_sdk::anomaly_tests!(PermissionChecked, routine: can_i_deploy, attack: list_everything);

    #[test]
    fn checks_of_ordinary_permissions_are_not_flagged() {
        let mut calls = habits(96, can_i_deploy);
        calls.push(can_i("alice", "45.83.64.12", "curl/8.5.0", "get", "configmaps").at(100 * 3600));
        assert_eq!(run_calls::<PermissionChecked>(&calls), vec![]);
    }
}
