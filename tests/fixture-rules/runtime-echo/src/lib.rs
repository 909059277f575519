//! A test-only runtime rule: one finding per runtime event (keyed by its event id), naming
//! the event and how deep its lineage is, so a test can tell whether every event was
//! judged exactly once and with its ancestors.
use peregrine_rules_sdk::*;

struct RuntimeEcho;

impl Rule for RuntimeEcho {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Test:Fixture/RuntimeEcho",
            LOW,
            "Runtime echo.",
            "Reports every runtime event.",
        )
        .subscribe_runtime(RuntimeSubscription::any())
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        Some(
            Finding::new(format!(
                "{} ran {}",
                event.process.id, event.process.executable_path
            ))
            .with_info("lineageDepth", event.lineage.len().to_string())
            .with_aggregation_key(event.event_id.clone()),
        )
    }
}

export_rule!(RuntimeEcho);
