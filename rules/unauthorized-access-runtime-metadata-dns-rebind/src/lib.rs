//! UnauthorizedAccess:Runtime/MetadataDNSRebind: a DNS answer that resolves a name to the
//! instance metadata address (169.254.169.254, or fd00:ec2::254 on IPv6), so that code
//! fetching "a URL of that name" reaches the cloud's credentials endpoint: the DNS
//! rebinding trick against server-side request checks. The names the clouds themselves
//! give the metadata service (`metadata.google.internal`, `instance-data…`) are excluded.
//!
//! Fed by the sensors that see DNS answers: Tracee's `net_packet_dns_response` (and
//! `net_packet_dns` responses). Tetragon and Falco see no answers.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct MetadataDnsRebind;

/// The metadata service's addresses (AWS, GCP and Azure share the IPv4 one).
const METADATA_ADDRESSES: [&str; 3] =
    ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"];

/// Whether `name` is one the cloud gives its own metadata service.
fn is_cloud_metadata_name(name: &str) -> bool {
    let first = name.split('.').next().unwrap_or("");
    matches!(
        name,
        "metadata.google.internal" | "metadata.goog" | "metadata"
    ) || ((first == "instance-data" || first == "metadata")
        && (name == first || name.ends_with(".internal")))
}

impl Rule for MetadataDnsRebind {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "UnauthorizedAccess:Runtime/MetadataDNSRebind",
            HIGH,
            "A process is performing DNS lookups that resolve to the instance metadata service.",
            "A DNS answer resolved a name, other than the cloud's own metadata names, to the \
             instance metadata address: DNS rebinding towards the node's credentials.",
        )
        .subscribe_runtime(RuntimeSubscription::any().activities(&[ActivityKind::Dns]))
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Dns(dns) = &event.activity else {
            return None;
        };
        if !dns.response {
            return None;
        }
        let answer = dns
            .answers
            .iter()
            .find(|a| METADATA_ADDRESSES.contains(&a.to_ascii_lowercase().as_str()))?;
        let domain = dns.query_name.trim_end_matches('.').to_ascii_lowercase();
        if is_cloud_metadata_name(&domain) {
            return None;
        }
        let place = match &event.pod {
            Some(pod) => format!("in pod {}/{}", pod.namespace, pod.name),
            None => format!("on node {}", event.node),
        };
        Some(
            Finding::new(format!(
                "Process {} ({}) {place} of cluster {} resolved {domain} to the instance metadata address {answer}.",
                event.process.name, event.process.executable_path, event.cluster
            ))
            .with_aggregation_key(domain.clone())
            .with_info("domain", domain)
            .with_info("answer", answer.clone()),
        )
    }
}

export_rule!(MetadataDnsRebind);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn names_resolving_to_the_metadata_address_are_found() {
        let findings = run_runtime_file::<MetadataDnsRebind>("fixtures/positive.jsonl");
        let domains: Vec<&str> = findings
            .iter()
            .map(|f| f.aggregation_key.as_deref().unwrap())
            .collect();
        assert_eq!(
            domains,
            ["169.254.169.254.nip.io", "rebind.attacker.example"]
        );
    }

    #[test]
    fn the_clouds_own_names_other_answers_and_queries_are_not() {
        assert_eq!(
            run_runtime_file::<MetadataDnsRebind>("fixtures/negative.jsonl"),
            vec![]
        );
        for name in [
            "metadata.google.internal",
            "instance-data.ec2.internal",
            "instance-data",
        ] {
            assert!(is_cloud_metadata_name(name), "{name}");
        }
        for name in ["metadata.attacker.example", "instance-data.evil.com"] {
            assert!(!is_cloud_metadata_name(name), "{name}");
        }
    }
}
