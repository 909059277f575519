//! Execution:Runtime/ReverseShell: a shell whose standard streams are a network socket:
//! the command lines that make one (`bash -i >& /dev/tcp/…`, `nc -e /bin/sh`, `socat
//! exec:…`, a named pipe through netcat, a scripted socket duplicated onto a shell;
//! `peregrine_rules_sdk::commands::REVERSE_SHELLS`), and the sensors' own alerts of
//! redirected streams (Falco's "Redirect STDOUT/STDIN to Network Connection in Container").

use peregrine_rules_sdk::commands::reverse_shell;
use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct ReverseShell;

/// Sensor rules that report a shell's streams on a socket.
const SENSOR_ALERTS: [&str; 2] = [
    "Redirect STDOUT/STDIN to Network Connection",
    "Reverse Shell",
];

impl Rule for ReverseShell {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/ReverseShell",
            HIGH,
            "A process in a container or on a node has created a reverse shell.",
            "A shell was started with its standard streams on a network connection.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any().activities(&[ActivityKind::Exec, ActivityKind::Alert]),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let how = match &event.activity {
            Activity::Exec => reverse_shell(&event.process)?.to_string(),
            Activity::Alert(a) if SENSOR_ALERTS.iter().any(|s| a.rule.contains(s)) => {
                format!("the sensor's alert \"{}\"", a.rule)
            }
            _ => return None,
        };
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} is a reverse shell ({how}): {}",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster,
                event.process.command_line
            ))
            .with_aggregation_key(event.process.executable_path.clone())
            .with_info("pattern", how),
        )
    }
}

export_rule!(ReverseShell);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::{run_runtime_file, runtime_events_from_file};

    #[test]
    fn every_positive_fixture_is_found() {
        let events = runtime_events_from_file("fixtures/positive.jsonl");
        let lines = std::fs::read_to_string("fixtures/positive.jsonl").unwrap();
        assert_eq!(
            events.len(),
            lines.lines().count(),
            "every line is an event"
        );
        // The fixtures mark the execs of ancestors with `--lineage` arguments.
        let attacks = events
            .iter()
            .filter(|e| !e.process.arguments.iter().any(|a| a == "--lineage"))
            .count();
        assert!(attacks > 0);
        let findings = run_runtime_file::<ReverseShell>("fixtures/positive.jsonl");
        assert_eq!(findings.len(), attacks, "{findings:#?}");
    }

    #[test]
    fn look_alikes_are_not() {
        let lines = std::fs::read_to_string("fixtures/negative.jsonl").unwrap();
        let events = runtime_events_from_file("fixtures/negative.jsonl");
        assert_eq!(
            events.len(),
            lines.lines().count(),
            "every line is an event"
        );
        assert_eq!(
            run_runtime_file::<ReverseShell>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
