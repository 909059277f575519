//! Policy:Kubernetes/KubeflowDashboardExposed: the Kubeflow central dashboard exposed to
//! the internet by a LoadBalancer Service (see `peregrine_rules_sdk::exposure`).

use peregrine_rules_sdk::exposure::{Dashboard, exposed_dashboard};
use peregrine_rules_sdk::*;

pub struct KubeflowDashboardExposed;

pub const KUBEFLOW_DASHBOARD: Dashboard = Dashboard {
    service_names: &["centraldashboard"],
    selectors: &[
        ("app", "centraldashboard"),
        ("app.kubernetes.io/name", "centraldashboard"),
        ("app.kubernetes.io/component", "centraldashboard"),
    ],
};

impl Rule for KubeflowDashboardExposed {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Policy:Kubernetes/KubeflowDashboardExposed",
            MEDIUM,
            "The Kubeflow dashboard for the Kubernetes cluster was exposed to the internet.",
            "The Kubeflow central dashboard was exposed to the internet by a LoadBalancer service \
             that is neither internal nor restricted to source ranges.",
        )
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create", "update", "patch"])
                .resources(&["services"]),
        )
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let service = exposed_dashboard(event, &KUBEFLOW_DASHBOARD)?;
        Some(
            Finding::new(format!(
                "The Kubeflow dashboard of cluster {} was exposed to the internet by LoadBalancer service {service}.",
                event.cluster
            ))
            .with_info("service", service.clone())
            .with_aggregation_key(service),
        )
    }
}

export_rule!(KubeflowDashboardExposed);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn public_load_balancers_in_front_of_kubeflow_are_found() {
        state::clear();
        let findings = run_file::<KubeflowDashboardExposed>("fixtures/positive.jsonl");
        let services: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[0].1.as_str())
            .collect();
        assert_eq!(
            services,
            ["kubeflow/centraldashboard", "kubeflow/kf-portal"]
        );
    }

    #[test]
    fn internal_and_other_services_are_not() {
        state::clear();
        assert_eq!(
            run_file::<KubeflowDashboardExposed>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
