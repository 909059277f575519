//! Never returns from an evaluation.
use peregrine_rules_sdk::*;

struct EndlessLoop;

impl Rule for EndlessLoop {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Test:Fixture/EndlessLoop",
            LOW,
            "Loops.",
            "Spins forever on every event.",
        )
        .subscribe(AuditSubscription::any())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let mut n: u64 = event.verb.len() as u64;
        loop {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

export_rule!(EndlessLoop);
