//! Execution:Kubernetes/AnomalousBehavior.ExecInPod: a command run in a pod with `exec`
//! in a way unusual for the user and the cluster (see `peregrine_rules_sdk::anomaly`):
//! the network, user agent, namespace and command are learned and judged.

use peregrine_rules_sdk::anomaly::{self, Features};
use peregrine_rules_sdk::*;

pub struct ExecInPod;

impl Rule for ExecInPod {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Kubernetes/AnomalousBehavior.ExecInPod",
            MEDIUM,
            "A command was executed inside a pod in an unusual way.",
            "A command was run inside a pod with the exec API in a way unusual for the user \
             and the cluster.",
        )
        .subscribe(
            AuditSubscription::any()
                .resources(&["pods"])
                .subresources(&["exec"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if !anomaly::judgeable(event) {
            return None;
        }
        let command = event.exec_command().unwrap_or_default();
        // The program, not its arguments: `sh -c env` and `sh` are the same habit.
        let program = command.split_whitespace().next().unwrap_or("");
        let program = program.rsplit('/').next().unwrap_or(program).to_string();
        let features = Features::of(event).with("command", program);
        let verdict = anomaly::judge(event, features, true)?;
        let mut finding = Finding::new(format!(
            "{} ran {command:?} in pod {} in namespace {} of cluster {}, which is unusual for this \
             user and cluster ({}).",
            event.username(),
            event.name().unwrap_or("unknown"),
            event.namespace().unwrap_or("unknown"),
            event.cluster,
            verdict.summary()
        ))
        .with_anomaly(verdict);
        if !command.is_empty() {
            finding = finding.with_parameters(command);
        }
        Some(finding)
    }

    /// Profiles are kept in memory for the batch and written back once at its end.
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding> {
        anomaly::evaluate_batch::<Self>(events)
    }
}

export_rule!(ExecInPod);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::Call;

    fn shell(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("create", user, ip, agent)
            .on("pods", Some("web"), Some("api-7d9f"))
            .subresource("exec", "?command=sh&container=app&stdin=true&tty=true")
            .code(101)
    }

    fn dump_env(user: &str, ip: &str, agent: &str) -> Call {
        Call::new("create", user, ip, agent)
            .on("pods", Some("payments"), Some("db-0"))
            .subresource("exec", "?command=sh&command=-c&command=env&container=db")
            .code(101)
    }

    peregrine_rules_sdk::anomaly_tests!(ExecInPod, routine: shell, attack: dump_env);

    #[test]
    fn the_finding_carries_the_command() {
        let mut calls = peregrine_rules_sdk::testing::habits(96, shell);
        calls.push(dump_env("alice", "45.83.64.12", "curl/8.5.0").at(100 * 3600));
        let found = peregrine_rules_sdk::testing::run_calls::<ExecInPod>(&calls);
        assert_eq!(found[0].1.parameters.as_deref(), Some("sh -c env"));
    }
}
