//! Impact:Runtime/CryptoMinerExecuted: a process runs a crypto miner: a known miner's
//! executable (`xmrig`, `xmr-stak`, `cpuminer`, the Kinsing family's …), or any program
//! given a mining pool (`stratum+tcp://`) or options only miners take
//! (`peregrine_rules_sdk::commands::MINERS`). Searching or reading such words is not mining.
//! Fed by every sensor's exec events.

use peregrine_rules_sdk::commands::miner_evidence;
use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct CryptoMinerExecuted;

impl Rule for CryptoMinerExecuted {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Impact:Runtime/CryptoMinerExecuted",
            HIGH,
            "A process is running a cryptocurrency miner.",
            "A process ran a known miner, or was given a mining pool or miner-only options.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Exec]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let evidence = miner_evidence(&event.process)?;
        Some(
            Finding::new(format!(
                "Process {} ({}) {} of cluster {} is a crypto miner: {evidence}.",
                event.process.name,
                event.process.executable_path,
                event.place(),
                event.cluster
            ))
            .with_aggregation_key(event.process.executable_path.clone())
            .with_info("evidence", evidence),
        )
    }
}

export_rule!(CryptoMinerExecuted);

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
        let findings = run_runtime_file::<CryptoMinerExecuted>("fixtures/positive.jsonl");
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
            run_runtime_file::<CryptoMinerExecuted>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
