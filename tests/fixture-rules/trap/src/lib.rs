//! Panics (traps) on every event it is given.
use peregrine_rules_sdk::*;

struct Trap;

impl Rule for Trap {
    fn descriptor() -> Descriptor {
        Descriptor::new("Test:Fixture/Trap", LOW, "Traps.", "Panics on every event.")
            .subscribe(AuditSubscription::any())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        panic!("fixture rule trapped on {}", event.audit_id)
    }
}

export_rule!(Trap);
