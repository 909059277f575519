// Shared by the echo-one and echo-two fixture rules: two versions of one rule, for the
// hot-reload tests. Each event gets its own finding (keyed by audit ID) that names the
// version that judged it, so a test can tell which version judged which event, and
// whether any event was judged twice (a count above one) or not at all.

struct Echo;

impl Rule for Echo {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Test:Fixture/Echo",
            LOW,
            "Echo.",
            "Reports every event, naming the rule version.",
        )
        .subscribe(AuditSubscription::any())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        Some(
            Finding::new(format!("judged by version {VERSION}"))
                .with_info("echoVersion", VERSION)
                .with_aggregation_key(event.audit_id.clone()),
        )
    }
}

export_rule!(Echo);
