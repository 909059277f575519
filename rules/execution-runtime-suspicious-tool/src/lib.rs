//! Execution:Runtime/SuspiciousTool: a process runs a known pentest, backdoor, scanner,
//! sniffer or tunneling tool (`peregrine_rules_sdk::commands::TOOLS`): High for tools that
//! are offensive only, Low for dual-use ones, with `toolName` and `toolCategory`. A
//! readiness probe's `nc -z localhost <port>` is left out. Fed by every sensor's exec
//! events.

use peregrine_rules_sdk::commands::{tool_of, tool_subscription};
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
        .subscribe_runtime(tool_subscription())
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let tool = tool_of(&event.process)?;
        Some(
            Finding::new(format!(
                "{} runs {}, a {} ({}).",
                event.actor(),
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
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::SuspiciousTool>();
    }
}
