//! PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer:
//! a workload with a privileged container, launched in a way unusual for the user and the
//! cluster (see `peregrine_rules_sdk::anomaly`). Every workload write is learned; those
//! with a privileged container are judged.

use peregrine_rules_sdk::anomaly;
use peregrine_rules_sdk::*;

pub struct PrivilegedWorkload;

impl Rule for PrivilegedWorkload {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer",
            HIGH,
            "A workload with a privileged container was launched in an unusual way.",
            "A workload with a privileged container was created or changed in a way unusual \
             for the user and the cluster: a privileged container can take over its node.",
        )
        .subscribe(AuditSubscription::workload_writes())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let (workload, features) = anomaly::workload_features(event)?;
        let privileged: Vec<&str> = workload
            .privileged_containers()
            .map(|c| c.name.as_str())
            .collect();
        let verdict = anomaly::judge(event, features, !privileged.is_empty())?;
        Some(
            Finding::new(format!(
                "{} launched {} of cluster {} with privileged container {}, \
                 which is unusual for this user and cluster ({}).",
                event.username(),
                workload.label(event),
                event.cluster,
                privileged.join(", "),
                verdict.summary()
            ))
            .with_info("privilegedContainers", privileged.join(", "))
            .with_anomaly(verdict),
        )
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(PrivilegedWorkload);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, json};

    fn daemonset(user: &str, ip: &str, agent: &str, image: &str, privileged: bool) -> Call {
        Call::new("patch", user, ip, agent)
            .on("daemonsets.apps", Some("monitoring"), Some("node-agent"))
            .object(json!({"kind": "DaemonSet", "apiVersion": "apps/v1",
                "metadata": {"name": "node-agent", "namespace": "monitoring"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "agent", "image": image, "securityContext": {"privileged": privileged}}]}}}}))
    }

    fn node_agent(user: &str, ip: &str, agent: &str) -> Call {
        daemonset(user, ip, agent, "registry.example.com/node-agent:3.1", true)
    }

    fn root_shell(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("create", user, ip, agent)
            .on("pods", Some("default"), None)
            .object(json!({"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": "debug", "namespace": "default"},
                "spec": {"containers": [{"name": "sh", "image": "alpine:3.19",
                    "securityContext": {"privileged": true}}]}}))
            .code(201)
    }

    peregrine_rules_sdk::anomaly_tests!(PrivilegedWorkload, routine: node_agent, attack: root_shell);

    #[test]
    fn an_unusual_workload_without_a_privileged_container_is_not_this_type() {
        let mut calls = peregrine_rules_sdk::testing::habits(96, node_agent);
        calls.push(
            daemonset("alice", "45.83.64.12", "curl/8.5.0", "alpine:3.19", false).at(100 * 3600),
        );
        assert_eq!(
            peregrine_rules_sdk::testing::run_calls::<PrivilegedWorkload>(&calls),
            vec![]
        );
    }
}
