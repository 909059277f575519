//! Execution:Runtime/ReverseShell: a shell whose standard streams are a network socket:
//! the command lines that make one (`bash -i >& /dev/tcp/…`, `nc -e /bin/sh`, `socat
//! exec:…`, a named pipe through netcat, a scripted socket duplicated onto a shell;
//! `peregrine_rules_sdk::commands::REVERSE_SHELLS`), and the sensors' own alerts of
//! redirected streams (Falco's "Redirect STDOUT/STDIN to Network Connection in Container").

use peregrine_rules_sdk::commands::{REVERSE_SHELLS, lines_subscription, reverse_shell};
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
            lines_subscription(REVERSE_SHELLS.iter().map(|(_, line)| line))
                .activities(&[ActivityKind::Exec, ActivityKind::Alert])
                .every(ActivityKind::Alert),
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
                "{} is a reverse shell ({how}): {}",
                event.actor(),
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
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::ReverseShell>();
    }
}
