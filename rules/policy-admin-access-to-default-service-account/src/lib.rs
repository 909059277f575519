//! Policy:Kubernetes/AdminAccessToDefaultServiceAccount: a RoleBinding or
//! ClusterRoleBinding grants an admin role (`cluster-admin` or `admin`) to a namespace's
//! `default` service account, directly or through the `system:serviceaccounts` groups.
//! Every pod that names no service account runs as `default`, so they all become admins.

use peregrine_rules_sdk::*;

pub struct AdminAccessToDefaultServiceAccount;

const ADMIN_ROLES: &[&str] = &["cluster-admin", "admin"];

/// The default service accounts a subject covers, as `namespace/default` or a group name.
fn default_accounts(subject: &Subject, binding_namespace: Option<&str>) -> Option<String> {
    match subject.kind.as_str() {
        "ServiceAccount" if subject.name == "default" => {
            let namespace = subject
                .namespace
                .as_deref()
                .or(binding_namespace)
                .unwrap_or("default");
            Some(format!("{namespace}/default"))
        }
        "Group"
            if subject.name == "system:serviceaccounts"
                || subject.name.starts_with("system:serviceaccounts:") =>
        {
            Some(format!("group {}", subject.name))
        }
        _ => None,
    }
}

impl Rule for AdminAccessToDefaultServiceAccount {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Policy:Kubernetes/AdminAccessToDefaultServiceAccount",
            HIGH,
            "The default service account was granted admin privileges on the cluster.",
            "A RoleBinding or ClusterRoleBinding bound the cluster-admin or admin role to a \
             namespace's default service account, which every pod without its own service \
             account uses.",
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
        if binding.role_ref.kind != "ClusterRole"
            || !ADMIN_ROLES.contains(&binding.role_ref.name.as_str())
        {
            return None;
        }
        let granted: Vec<String> = binding
            .subjects
            .iter()
            .filter_map(|s| default_accounts(s, binding.namespace.as_deref()))
            .collect();
        if granted.is_empty() {
            return None;
        }
        let name = binding.name.as_deref().unwrap_or("unknown");
        Some(
            Finding::new(format!(
                "The default service account in cluster {} was granted admin privileges: {} {name} binds \
                 ClusterRole {} to {}.",
                event.cluster,
                binding.kind,
                binding.role_ref.name,
                granted.join(", ")
            ))
            .with_info("roleRef", format!("ClusterRole/{}", binding.role_ref.name))
            .with_info("subjects", granted.join(", "))
            .with_aggregation_key(format!("{}/{}/{name}", binding.kind, binding.namespace.as_deref().unwrap_or(""))),
        )
    }
}

export_rule!(AdminAccessToDefaultServiceAccount);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn admin_bindings_of_default_accounts_are_found() {
        let findings = run_file::<AdminAccessToDefaultServiceAccount>("fixtures/positive.jsonl");
        let subjects: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[1].1.as_str())
            .collect();
        assert_eq!(
            subjects,
            [
                "default/default",
                "dev/default",
                "group system:serviceaccounts:prod"
            ]
        );
    }

    #[test]
    fn other_roles_accounts_and_failures_are_not() {
        assert_eq!(
            run_file::<AdminAccessToDefaultServiceAccount>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
