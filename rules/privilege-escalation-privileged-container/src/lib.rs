//! PrivilegeEscalation:Kubernetes/PrivilegedContainer: a privileged container launched with
//! an image never before used for a privileged container in this cluster. The images
//! already seen are kept in the rule's state, per cluster, so they survive restarts of the
//! rule's instances and reloads of its module.

use peregrine_rules_sdk::*;

pub struct PrivilegedContainer;

fn seen_key(cluster: &str, image: &str) -> String {
    format!("privileged-image/{cluster}/{image}")
}

impl Rule for PrivilegedContainer {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
            MEDIUM,
            "Privileged container with root level access launched on the cluster.",
            "A privileged container was launched with an image that had never before been used \
             to launch a privileged container in this cluster.",
        )
        .subscribe(AuditSubscription::workload_writes())
    }

    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        if event.refused() {
            return None;
        }
        let workload = event.workload()?;
        let mut new_images: Vec<&str> = Vec::new();
        for container in workload.privileged_containers() {
            let key = seen_key(&event.cluster, &container.image);
            if !state::contains(&key) && !new_images.contains(&container.image.as_str()) {
                new_images.push(&container.image);
            }
        }
        for image in &new_images {
            if state::set(&seen_key(&event.cluster, image), b"1").is_err() {
                log::warn("privileged image memory is full; images may be reported again");
            }
        }
        if new_images.is_empty() {
            return None;
        }
        let name = workload.name.as_deref().unwrap_or("unknown");
        Some(
            Finding::new(format!(
                "A privileged container with root level access was launched on cluster {} by {} in {} {name}, \
                 with an image never before used for a privileged container: {}. If this behavior is not \
                 expected, it may indicate that your credentials are compromised.",
                event.cluster,
                event.username(),
                workload.kind,
                new_images.join(", ")
            ))
            .with_info("newPrivilegedImages", new_images.join(", ")),
        )
    }
}

export_rule!(PrivilegedContainer);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_file;

    #[test]
    fn only_the_first_privileged_use_of_an_image_is_found() {
        state::clear();
        let findings = run_file::<PrivilegedContainer>("fixtures/positive.jsonl");
        let images: Vec<_> = findings
            .iter()
            .map(|f| f.additional_info[0].1.as_str())
            .collect();
        // The second pod reuses `centos` (already seen) and adds `busybox:1.36`.
        assert_eq!(
            images,
            ["centos", "busybox:1.36", "ghcr.io/acme/node-agent:3"]
        );
    }

    #[test]
    fn unprivileged_and_refused_launches_are_not() {
        state::clear();
        assert_eq!(
            run_file::<PrivilegedContainer>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
