//! Policy:Kubernetes/ExposedDashboard: the Kubernetes dashboard exposed to the internet by
//! a LoadBalancer Service (see `peregrine_rules_sdk::exposure`).

use peregrine_rules_sdk::exposure::{Dashboard, exposed_dashboard};
use peregrine_rules_sdk::*;

pub struct ExposedDashboard;

pub const KUBERNETES_DASHBOARD: Dashboard = Dashboard {
    service_names: &[
        "kubernetes-dashboard",
        "kubernetes-dashboard-kong-proxy",
        "kubernetes-dashboard-web",
    ],
    selectors: &[
        ("k8s-app", "kubernetes-dashboard"),
        ("app.kubernetes.io/name", "kubernetes-dashboard"),
    ],
};

impl Rule for ExposedDashboard {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Policy:Kubernetes/ExposedDashboard",
            MEDIUM,
            "The dashboard for the Kubernetes cluster was exposed to the internet.",
            "The Kubernetes dashboard was exposed to the internet by a LoadBalancer service that \
             is neither internal nor restricted to source ranges.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "update", "patch"])
                .resources(&["services"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let service = exposed_dashboard(event, &KUBERNETES_DASHBOARD)?;
        Some(
            Finding::new(format!(
                "The Kubernetes dashboard of cluster {} was exposed to the internet by LoadBalancer service {service}.",
                event.cluster
            ))
            .with_info("service", service.clone())
            .with_aggregation_key(service),
        )
    }
}

export_rule!(ExposedDashboard);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn public_load_balancers_in_front_of_the_dashboard_are_found() {
        state::clear();
        let findings = run_file::<ExposedDashboard>("fixtures/positive.jsonl");
        let services: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[0].1.as_str())
            .collect();
        assert_eq!(
            services,
            [
                "kubernetes-dashboard/kubernetes-dashboard",
                "ops/console",
                "tools/web-ui"
            ]
        );
    }

    #[test]
    fn internal_restricted_and_other_services_are_not() {
        state::clear();
        assert_eq!(
            run_file::<ExposedDashboard>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
