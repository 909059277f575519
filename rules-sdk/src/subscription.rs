//! What a subscription matches. The host dispatches with this same function, so native
//! tests see exactly the events a loaded module would.

use crate::{AuditEvent, AuditSubscription, RuntimeEvent, RuntimeSubscription};

fn listed(values: &[String], value: Option<&str>) -> bool {
    values.is_empty() || value.is_some_and(|v| values.iter().any(|want| want == v))
}

pub fn matches(subscription: &AuditSubscription, event: &AuditEvent) -> bool {
    let s = subscription;
    listed(&s.verbs, Some(&event.verb))
        && listed(&s.resources, event.resource())
        && listed(&s.subresources, event.subresource())
        && listed(&s.namespaces, event.namespace())
        && (s.users.is_empty() || s.users.iter().any(|u| event.user_is(u)))
        && (!s.source_ip_listed
            || event
                .source_ips
                .iter()
                .any(|ip| !ip.trusted && !ip.threat_lists.is_empty()))
}

/// Whether a runtime subscription matches a runtime event.
pub fn matches_runtime(subscription: &RuntimeSubscription, event: &RuntimeEvent) -> bool {
    let s = subscription;
    (s.activities.is_empty() || s.activities.contains(&event.activity.kind()))
        && (s.sensors.is_empty() || s.sensors.contains(&event.sensor))
        && (!s.listed || !event.listings().is_empty())
        && (!s.containers_only || event.in_container())
}
