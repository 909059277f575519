//! PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated: a Role or ClusterRole
//! with excessive permissions (`peregrine_rules_sdk::risk::excessive_permissions`)
//! created or changed in a way unusual for the user and the cluster (see
//! `peregrine_rules_sdk::anomaly`). Every RBAC write (roles and bindings) is learned, so
//! the people who manage access are known when they write their first role; writes of
//! excessive roles are judged.

use peregrine_rules_sdk::anomaly::{self, Features};
use peregrine_rules_sdk::risk::excessive_permissions;
use peregrine_rules_sdk::*;

pub struct RoleCreated;

impl Rule for RoleCreated {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated",
            LOW,
            "A role with excessive permissions was created or modified in an unusual way.",
            "A Role or ClusterRole with excessive permissions was created or changed in a way \
             unusual for the user and the cluster.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "update", "patch"])
                .resources(&[
                    "roles",
                    "clusterroles",
                    "rolebindings",
                    "clusterrolebindings",
                ]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !anomaly::judgeable(event) {
            return None;
        }
        let Some(role) = event.role() else {
            // A binding: learned, never reported here.
            event.role_binding()?;
            anomaly::judge(event, Features::of(event), false);
            return None;
        };
        let excessive = excessive_permissions(role);
        let mut verbs: Vec<&str> = role
            .rules
            .iter()
            .flat_map(|r| r.verbs.iter().map(String::as_str))
            .collect();
        verbs.sort_unstable();
        verbs.dedup();
        let features = Features::of(event).with("verbs", verbs.join(","));
        let verdict = anomaly::judge(event, features, !excessive.is_empty())?;
        let name = role
            .name
            .as_deref()
            .or(event.object_name())
            .unwrap_or("unknown");
        Some(
            Finding::new(format!(
                "{} {} {} {name} on cluster {} with excessive permissions ({}), which is unusual for \
                 this user and cluster ({}).",
                event.username(),
                if event.verb == "create" { "created" } else { "changed" },
                role.kind,
                event.cluster,
                excessive.join("; "),
                verdict.summary()
            ))
            .with_info("roleKind", role.kind.clone())
            .with_info("roleName", name)
            .with_info("excessivePermissions", excessive.join("; "))
            .with_anomaly(verdict),
        )
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(RoleCreated);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, JsonValue, habits, json, run_calls};

    fn role(user: &str, ip: &str, agent: &str, rules: JsonValue) -> Call {
        Call::new("create", user, ip, agent)
            .on("clusterroles.rbac.authorization.k8s.io", None, None)
            .object(
                json!({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": "operator"}, "rules": rules}),
            )
            .code(201)
    }

    fn operator_role(user: &str, ip: &str, agent: &str) -> Call {
        role(
            user,
            ip,
            agent,
            json!([{"apiGroups": ["example.com"], "resources": ["*"], "verbs": ["*"]}]),
        )
    }

    fn everything(user: &str, ip: &str, agent: &str) -> Call {
        role(
            user,
            ip,
            agent,
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        )
    }

    peregrine_rules_sdk::anomaly_tests!(RoleCreated, routine: operator_role, attack: everything);

    #[test]
    fn an_unusual_ordinary_role_is_learned_not_flagged() {
        let mut calls = habits(96, operator_role);
        calls.push(
            role(
                "alice",
                "45.83.64.12",
                "curl/8.5.0",
                json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
            )
            .at(100 * 3600),
        );
        assert_eq!(run_calls::<RoleCreated>(&calls), vec![]);
    }
}
