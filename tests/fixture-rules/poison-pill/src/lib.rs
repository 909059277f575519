//! Reports every event it sees, except that it panics on events by the user `poison`:
//! proves that one bad event costs only its own judgement.
use peregrine_rules_sdk::*;

struct PoisonPill;

impl Rule for PoisonPill {
    fn descriptor() -> Descriptor {
        Descriptor::new("Test:Fixture/Seen", LOW, "Seen.", "Reports every event.")
            .subscribe(AuditSubscription::any())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if event.username() == "poison" {
            panic!("poisoned by {}", event.audit_id);
        }
        Some(
            Finding::new(format!("saw {}", event.audit_id))
                .with_aggregation_key(event.audit_id.clone()),
        )
    }
}

export_rule!(PoisonPill);
