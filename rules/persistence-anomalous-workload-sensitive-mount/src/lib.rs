//! Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount:
//! a workload mounting a sensitive host path (`peregrine_rules_sdk::paths`), launched in a
//! way unusual for the user and the cluster (see `peregrine_rules_sdk::anomaly`). Every
//! workload write is learned; those with a sensitive mount are judged.

use peregrine_rules_sdk::anomaly;
use peregrine_rules_sdk::*;

pub struct SensitiveMountWorkload;

impl Rule for SensitiveMountWorkload {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
            HIGH,
            "A workload with a sensitive host path mounted was launched in an unusual way.",
            "A workload that mounts a sensitive host path was created or changed in a way \
             unusual for the user and the cluster.",
        )
        .subscribe(AuditSubscription::workload_writes())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let (workload, features) = anomaly::workload_features(event)?;
        let mounts = workload.sensitive_mounts(false);
        let verdict = anomaly::judge(event, features, !mounts.is_empty())?;
        Some(
            Finding::new(format!(
                "{} launched {} of cluster {} mounting {}, which is unusual for \
                 this user and cluster ({}).",
                event.username(),
                workload.label(event),
                event.cluster,
                mounts.join(", "),
                verdict.summary()
            ))
            .with_info("sensitiveMounts", mounts.join(", "))
            .with_anomaly(verdict),
        )
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(SensitiveMountWorkload);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, json};

    fn with_mount(user: &str, ip: &str, agent: &str, image: &str, path: &str) -> Call {
        Call::new("patch", user, ip, agent)
            .on("daemonsets.apps", Some("monitoring"), Some("node-agent"))
            .object(json!({"kind": "DaemonSet", "apiVersion": "apps/v1",
                "metadata": {"name": "node-agent", "namespace": "monitoring"},
                "spec": {"template": {"spec": {
                    "containers": [{"name": "agent", "image": image,
                        "volumeMounts": [{"name": "host", "mountPath": "/host", "readOnly": true}]}],
                    "volumes": [{"name": "host", "hostPath": {"path": path}}]}}}}))
    }

    fn node_agent(user: &str, ip: &str, agent: &str) -> Call {
        with_mount(
            user,
            ip,
            agent,
            "registry.example.com/node-agent:3.1",
            "/proc",
        )
    }

    fn host_root(user: &str, ip: &str, agent: &str) -> Call {
        with_mount(user, ip, agent, "busybox:1.36", "/")
    }

    peregrine_rules_sdk::anomaly_tests!(SensitiveMountWorkload, routine: node_agent, attack: host_root);

    #[test]
    fn an_unusual_workload_without_a_sensitive_mount_is_not_this_type() {
        let mut calls = peregrine_rules_sdk::testing::habits(96, node_agent);
        calls.push(
            with_mount(
                "alice",
                "45.83.64.12",
                "curl/8.5.0",
                "busybox:1.36",
                "/data/cache",
            )
            .at(100 * 3600),
        );
        assert_eq!(
            peregrine_rules_sdk::testing::run_calls::<SensitiveMountWorkload>(&calls),
            vec![]
        );
    }
}
