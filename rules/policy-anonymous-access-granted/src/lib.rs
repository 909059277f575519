//! Policy:Kubernetes/AnonymousAccessGranted — a RoleBinding or ClusterRoleBinding that binds
//! `system:anonymous` or the group `system:unauthenticated` to a role.

use peregrine_rules_sdk::*;

pub struct AnonymousAccessGranted;

fn is_anonymous_subject(subject: &Subject) -> bool {
    matches!(
        (subject.kind.as_str(), subject.name.as_str()),
        ("User", "system:anonymous") | ("Group", "system:unauthenticated")
    )
}

impl Rule for AnonymousAccessGranted {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Policy:Kubernetes/AnonymousAccessGranted",
            HIGH,
            "The anonymous user system:anonymous was granted API permissions on the cluster.",
            "A RoleBinding or ClusterRoleBinding bound system:anonymous or the \
             system:unauthenticated group to a role, allowing unauthenticated API access.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "update", "patch"])
                .resources(&["rolebindings", "clusterrolebindings"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !event.succeeded() {
            return None;
        }
        let binding = event.role_binding()?;
        let granted: Vec<&str> = binding
            .subjects
            .iter()
            .filter(|s| is_anonymous_subject(s))
            .map(|s| s.name.as_str())
            .collect();
        if granted.is_empty() {
            return None;
        }
        let name = binding.name.as_deref().unwrap_or("unknown");
        Some(
            Finding::new(format!(
                "The anonymous user was granted API permissions on cluster {}: {} {name} binds {} to {} {}.",
                event.cluster,
                binding.kind,
                granted.join(" and "),
                binding.role_ref.kind,
                binding.role_ref.name
            ))
            .with_info("roleRef", format!("{}/{}", binding.role_ref.kind, binding.role_ref.name))
            // Each binding is its own issue.
            .with_aggregation_key(format!("{}/{}/{name}", binding.kind, binding.namespace.as_deref().unwrap_or(""))),
        )
    }
}

export_rule!(AnonymousAccessGranted);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn bindings_that_grant_anonymous_access_are_found() {
        let findings = run_file::<AnonymousAccessGranted>("fixtures/positive.jsonl");
        let roles: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[0].1.as_str())
            .collect();
        assert_eq!(
            roles,
            [
                "ClusterRole/cluster-admin",
                "Role/pod-reader",
                "ClusterRole/view"
            ]
        );
    }

    #[test]
    fn other_subjects_failed_and_deleted_bindings_are_not() {
        assert_eq!(
            run_file::<AnonymousAccessGranted>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
