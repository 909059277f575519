//! Execution:Runtime/SuspiciousTool: a process runs a known pentest, backdoor, scanner,
//! sniffer or tunneling tool (`peregrine_rules_sdk::commands::TOOLS`): High for tools that
//! are offensive only, Low for dual-use ones, with `toolName` and `toolCategory`. A
//! readiness probe's `nc -z localhost <port>` is left out. Fed by every sensor's exec
//! events.

use peregrine_rules_sdk::commands::tool_of;
use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct SuspiciousTool;

impl Rule for SuspiciousTool {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/SuspiciousTool",
            HIGH,
            "A process ran a tool used in offensive security.",
            "A process ran a known pentest, backdoor, scanner, sniffer or tunneling tool; High \
             for offensive-only tools, Low for dual-use ones.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Exec]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let tool = tool_of(&event.process)?;
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} runs {}, a {} ({}).",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster,
                tool.name,
                tool.category.to_lowercase(),
                if tool.offensive {
                    "offensive"
                } else {
                    "dual-use"
                }
            ))
            .with_severity(if tool.offensive { HIGH } else { LOW })
            .with_aggregation_key(tool.name)
            .with_context("toolName", tool.name)
            .with_context("toolCategory", tool.category),
        )
    }
}

export_rule!(SuspiciousTool);

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
        let findings = run_runtime_file::<SuspiciousTool>("fixtures/positive.jsonl");
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
            run_runtime_file::<SuspiciousTool>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
