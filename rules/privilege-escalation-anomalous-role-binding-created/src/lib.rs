//! PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated: a RoleBinding or
//! ClusterRoleBinding to an admin or overly permissive role, of a broad group, or in a
//! sensitive namespace (`peregrine_rules_sdk::risk`), made in a way unusual for the user
//! and the cluster (see `peregrine_rules_sdk::anomaly`). High severity when the role is
//! `admin` or `cluster-admin`. Every binding write is learned; risky ones are judged. Role
//! writes are watched too, to know which roles are permissive.

use peregrine_rules_sdk::anomaly::{self, Features};
use peregrine_rules_sdk::risk::{ADMIN_ROLES, excessive_permissions, risky_binding};
use peregrine_rules_sdk::*;

pub struct RoleBindingCreated;

fn permissive_key(cluster: &str, namespace: Option<&str>, kind: &str, name: &str) -> String {
    format!(
        "permissive-role\u{1f}{cluster}\u{1f}{}\u{1f}{kind}\u{1f}{name}",
        namespace.unwrap_or("")
    )
}

/// Remembers whether a role written is permissive, for the bindings that follow.
fn remember_role(event: &AuditEvent, role: &Role) {
    let name = role.name.as_deref().or(event.object_name()).unwrap_or("");
    let namespace = if role.kind == "Role" {
        role.namespace.as_deref().or(event.namespace())
    } else {
        None
    };
    let key = permissive_key(&event.cluster, namespace, &role.kind, name);
    if excessive_permissions(role).is_empty() {
        state::delete(&key);
    } else if state::set(&key, b"1").is_err() {
        log::warn("permissive role memory is full");
    }
}

impl Rule for RoleBindingCreated {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
            MEDIUM,
            "A role binding to a permissive role was created or modified in an unusual way.",
            "A RoleBinding or ClusterRoleBinding to an admin or overly permissive role, or in a \
             sensitive namespace, was created or changed in a way unusual for the user and the \
             cluster; High when the role is admin or cluster-admin.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "update", "patch"])
                .resources(&[
                    "rolebindings",
                    "clusterrolebindings",
                    "roles",
                    "clusterroles",
                ]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !anomaly::judgeable(event) {
            return None;
        }
        if let Some(role) = event.role() {
            remember_role(event, role);
            return None;
        }
        let binding = event.role_binding()?;
        let role = &binding.role_ref;
        let namespace = if role.kind == "Role" {
            binding.namespace.as_deref().or(event.namespace())
        } else {
            None
        };
        let risk = risky_binding(binding).or_else(|| {
            state::contains(&permissive_key(
                &event.cluster,
                namespace,
                &role.kind,
                &role.name,
            ))
            .then(|| {
                format!(
                    "binds {} {}, which has excessive permissions",
                    role.kind, role.name
                )
            })
        });
        let features = Features::of(event).with("roleRef", format!("{}/{}", role.kind, role.name));
        let verdict = anomaly::judge(event, features, risk.is_some())?;
        let subjects: Vec<String> = binding
            .subjects
            .iter()
            .map(|s| match &s.namespace {
                Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
                None => format!("{} {}", s.kind, s.name),
            })
            .collect();
        let admin = role.kind == "ClusterRole" && ADMIN_ROLES.contains(&role.name.as_str());
        let mut finding = Finding::new(format!(
            "{} bound {} {} to {} with {} {} on cluster {} ({}), which is unusual for this user and \
             cluster ({}).",
            event.username(),
            binding.kind,
            binding.name.as_deref().or(event.object_name()).unwrap_or("unknown"),
            subjects.join(", "),
            role.kind,
            role.name,
            event.cluster,
            risk.unwrap_or_default(),
            verdict.summary()
        ))
        .with_info("roleRefKind", role.kind.clone())
        .with_info("roleRefName", role.name.clone())
        .with_info("subjects", subjects.join(", "))
        .with_anomaly(verdict);
        if admin {
            finding = finding.with_severity(HIGH);
        }
        Some(finding)
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(RoleBindingCreated);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, habits, json, run_calls};

    fn binding(
        user: &str,
        ip: &str,
        agent: &str,
        kind: &str,
        namespace: Option<&str>,
        role: (&str, &str),
        subject: &str,
    ) -> Call {
        let resource = if kind == "RoleBinding" {
            "rolebindings"
        } else {
            "clusterrolebindings"
        };
        Call::new("create", user, ip, agent)
            .on(&format!("{resource}.rbac.authorization.k8s.io"), namespace, None)
            .object(json!({"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": "b", "namespace": namespace},
                "subjects": [{"kind": "Group", "name": subject}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role.0, "name": role.1}}))
            .code(201)
    }

    fn team_edit(user: &str, ip: &str, agent: &str) -> Call {
        binding(
            user,
            ip,
            agent,
            "RoleBinding",
            Some("kube-system"),
            ("ClusterRole", "edit"),
            "platform",
        )
    }

    fn cluster_admin(user: &str, ip: &str, agent: &str) -> Call {
        binding(
            user,
            ip,
            agent,
            "ClusterRoleBinding",
            None,
            ("ClusterRole", "cluster-admin"),
            "intruders",
        )
    }

    peregrine_rules_sdk::anomaly_tests!(RoleBindingCreated, routine: team_edit, attack: cluster_admin);

    #[test]
    fn admin_bindings_are_high_and_others_medium() {
        let mut calls = habits(96, team_edit);
        calls.push(cluster_admin("alice", "45.83.64.12", "curl/8.5.0").at(100 * 3600));
        calls.push(
            binding(
                "bob",
                "45.83.64.13",
                "curl/8.5.0",
                "RoleBinding",
                Some("web"),
                ("ClusterRole", "edit"),
                "x",
            )
            .at(101 * 3600),
        );
        let found = run_calls::<RoleBindingCreated>(&calls);
        let severities: Vec<_> = found.iter().map(|(_, f)| f.severity).collect();
        assert_eq!(severities, vec![Some(HIGH), None], "{found:#?}");
    }

    #[test]
    fn a_binding_to_a_role_known_to_be_permissive_is_judged_and_an_ordinary_one_not() {
        let role = |name: &str, verbs: &[&str]| {
            Call::new(
                "create",
                "alice",
                "198.51.100.21",
                "kubectl/v1.29.2 (linux/amd64)",
            )
            .on("roles.rbac.authorization.k8s.io", Some("web"), None)
            .object(
                json!({"kind": "Role", "metadata": {"name": name, "namespace": "web"},
                    "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": verbs}]}),
            )
            .code(201)
        };
        let mut calls = habits(96, team_edit);
        calls.push(role("reads-secrets", &["get", "list"]).at(97 * 3600));
        calls.push(role("reads-nothing", &[]).at(97 * 3600 + 1));
        let bind = |role: &str| {
            let to = ("Role", role);
            binding(
                "alice",
                "45.83.64.12",
                "curl/8.5.0",
                "RoleBinding",
                Some("web"),
                to,
                "x",
            )
        };
        calls.push(bind("reads-nothing").at(100 * 3600));
        calls.push(bind("reads-secrets").at(101 * 3600));
        let found = run_calls::<RoleBindingCreated>(&calls);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, calls.len() - 1);
    }
}
