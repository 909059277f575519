//! Allocates memory without bound on every event.
use peregrine_rules_sdk::*;

struct MemoryHog;

impl Rule for MemoryHog {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Test:Fixture/MemoryHog",
            LOW,
            "Eats memory.",
            "Allocates until it is stopped.",
        )
        .subscribe(AuditSubscription::any())
    }

    fn evaluate(_event: &AuditEvent) -> Option<Finding> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xAB; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

export_rule!(MemoryHog);
