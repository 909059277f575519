//! Services that expose a dashboard to the internet: a `LoadBalancer` Service that is not
//! internal and not restricted to given source ranges, selecting a known dashboard.
//!
//! A patch names only what it changes, so the rule remembers (in its state) which services
//! are dashboards whenever it sees a whole Service object, and consults that memory for
//! patches whose audit level recorded no response object.

use crate::{AuditEvent, ObjectSource, Service, state};

/// How to recognise one kind of dashboard.
pub struct Dashboard {
    /// Service names it is usually deployed under.
    pub service_names: &'static [&'static str],
    /// Selector or label `(key, value prefix)` pairs that select its pods.
    pub selectors: &'static [(&'static str, &'static str)],
}

/// Annotations that make a cloud load balancer internal, with the values that do so.
const INTERNAL_ANNOTATIONS: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("cloud.google.com/load-balancer-type", "internal"),
];

fn is_internal(service: &Service) -> bool {
    service.annotations.iter().any(|(key, value)| {
        INTERNAL_ANNOTATIONS
            .iter()
            .any(|(k, v)| key == k && value.eq_ignore_ascii_case(v))
    })
}

/// Reachable from anywhere: no source ranges, or one of them is everything.
fn open_to_internet(service: &Service) -> bool {
    service.load_balancer_source_ranges.is_empty()
        || service
            .load_balancer_source_ranges
            .iter()
            .any(|r| r == "0.0.0.0/0" || r == "::/0")
}

impl Dashboard {
    fn selects(&self, service: &Service) -> bool {
        let named = service
            .name
            .as_deref()
            .is_some_and(|n| self.service_names.contains(&n));
        let pairs = service.selector.iter().chain(&service.labels);
        named
            || pairs.clone().any(|(k, v)| {
                self.selectors
                    .iter()
                    .any(|(sk, sv)| k == sk && v.starts_with(sv))
            })
    }
}

/// If the event exposes the dashboard, the service as `namespace/name`.
pub fn exposed_dashboard(event: &AuditEvent, dashboard: &Dashboard) -> Option<String> {
    if event.refused() {
        return None;
    }
    let service = event.service()?;
    let source = event.object.as_ref()?.source;
    let namespace = service
        .namespace
        .as_deref()
        .or(event.namespace())
        .unwrap_or("default");
    let name = service.name.as_deref().or(event.name()).unwrap_or("");
    let memory = format!("dashboard-service/{}/{namespace}/{name}", event.cluster);
    let is_dashboard = if source == ObjectSource::Patch {
        dashboard.selects(service) || state::contains(&memory)
    } else {
        let selects = dashboard.selects(service);
        if selects {
            let _ = state::set(&memory, b"1");
        } else {
            state::delete(&memory);
        }
        selects
    };
    let exposed = service.service_type == "LoadBalancer"
        && !is_internal(service)
        && open_to_internet(service);
    (is_dashboard && exposed).then(|| format!("{namespace}/{name}"))
}
