//! Persistence:Kubernetes/ContainerWithSensitiveMount — a container launched with a
//! sensitive host path (see `peregrine_rules_sdk::paths`) mounted with write access.

use peregrine_rules_sdk::*;

pub struct ContainerWithSensitiveMount;

impl Rule for ContainerWithSensitiveMount {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Persistence:Kubernetes/ContainerWithSensitiveMount",
            MEDIUM,
            "A container was launched with a sensitive external host path mounted inside.",
            "A container was launched with a sensitive host path mounted with write access in \
             its volumeMounts, making the node's file system writable from the container.",
        )
        .subscribe(AuditSubscription::workload_writes())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if event.refused() {
            return None;
        }
        let workload = event.workload()?;
        let mounts = workload.sensitive_mounts(true);
        if mounts.is_empty() {
            return None;
        }
        let name = workload.name.as_deref().unwrap_or("unknown");
        Some(
            Finding::new(format!(
                "{} {name} was launched on cluster {} by {} with a sensitive host path mounted \
                 with write access ({}).",
                workload.kind,
                event.cluster,
                event.username(),
                mounts.join(", ")
            ))
            .with_info("sensitiveMounts", mounts.join(", ")),
        )
    }
}

export_rule!(ContainerWithSensitiveMount);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn writable_sensitive_mounts_in_any_workload_are_found() {
        let findings = run_file::<ContainerWithSensitiveMount>("fixtures/positive.jsonl");
        let info: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[0].1.as_str())
            .collect();
        assert_eq!(
            info,
            [
                "shell:/ at /host",
                "agent:/var/run/docker.sock at /var/run/docker.sock",
                "miner:/etc/kubernetes/ at /k8s",
            ]
        );
    }

    #[test]
    fn read_only_harmless_and_failed_launches_are_not() {
        assert_eq!(
            run_file::<ContainerWithSensitiveMount>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
