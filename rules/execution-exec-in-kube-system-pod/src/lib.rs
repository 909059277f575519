//! Execution:Kubernetes/ExecInKubeSystemPod — a command run with the exec API inside a pod
//! in `kube-system`, where system components live and people rarely need a shell.

use peregrine_rules_sdk::*;

pub struct ExecInKubeSystemPod;

impl Rule for ExecInKubeSystemPod {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Kubernetes/ExecInKubeSystemPod",
            MEDIUM,
            "A command was executed inside a pod in kube-system namespace.",
            "A command was executed inside a pod in the kube-system namespace using the \
             Kubernetes exec API.",
        )
        // Both verbs: kubectl uses `create` over SPDY and `get` over WebSocket.
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "get"])
                .resources(&["pods"])
                .subresources(&["exec"])
                .namespaces(&["kube-system"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        // A refused exec ran nothing.
        if event.refused() {
            return None;
        }
        let pod = event.name().unwrap_or("unknown");
        let command = event.exec_command().unwrap_or_default();
        Some(
            Finding::new(format!(
                "A command was executed inside pod {pod} in kube-system namespace on cluster {} by {}.",
                event.cluster,
                event.username()
            ))
            .with_parameters(command),
        )
    }
}

export_rule!(ExecInKubeSystemPod);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn exec_into_kube_system_pod_is_found() {
        let findings = run_file::<ExecInKubeSystemPod>("fixtures/positive.jsonl");
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert_eq!(
            findings[0].parameters.as_deref(),
            Some("sh -c cat /etc/kubernetes/admin.conf")
        );
        assert!(findings[0].description.contains("kube-proxy-7xk2p"));
        assert_eq!(findings[1].parameters.as_deref(), Some("bash"));
    }

    #[test]
    fn other_namespaces_refused_calls_and_plain_reads_are_not() {
        assert_eq!(
            run_file::<ExecInKubeSystemPod>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
