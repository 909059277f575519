//! Reports a user the second time it is seen, remembering users in the host's state store
//! (which outlives instances), and logs each first sighting.
use peregrine_rules_sdk::*;

struct StateCounter;

impl Rule for StateCounter {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Test:Fixture/SeenTwice",
            LOW,
            "Seen twice.",
            "Reports users seen before.",
        )
        .subscribe(AuditSubscription::any())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let key = format!("user/{}", event.username());
        if state::contains(&key) {
            return Some(Finding::new(format!(
                "{} was seen before",
                event.username()
            )));
        }
        log::info(&format!("first sighting of {}", event.username()));
        state::set(&key, b"1").ok()?;
        None
    }
}

export_rule!(StateCounter);
