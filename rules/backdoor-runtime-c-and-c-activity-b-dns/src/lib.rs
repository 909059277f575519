//! Backdoor:Runtime/C&CActivity.B!DNS — a process asked DNS for a domain on a threat list
//! of command-and-control servers (a list categorised as C&C, the built-in malicious list,
//! or a list of the user's own). A name under a listed domain counts. Mining pools, black
//! holes, drop points, phishing and DGA domains have their own finding types.
//!
//! Fed by the sensors that see DNS: Tracee's `net_packet_dns_request` /
//! `net_packet_dns_response` (Tetragon and Falco see no queried names).

use peregrine_rules_sdk::runtime::{Activity, Listing, ThreatCategory};
use peregrine_rules_sdk::*;

pub struct CommandAndControlDomain;

/// The list categories this type reports.
fn is_command_and_control(listing: &Listing) -> bool {
    matches!(
        listing.category,
        ThreatCategory::Malicious | ThreatCategory::CommandAndControl | ThreatCategory::Custom
    )
}

impl Rule for CommandAndControlDomain {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Backdoor:Runtime/C&CActivity.B!DNS",
            HIGH,
            "A process is querying a domain name associated with a known command and control server.",
            "A process in a container or on a node asked DNS for a domain on a threat list of \
             command-and-control servers.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Dns])
                .listed(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Dns(dns) = &event.activity else {
            return None;
        };
        let lists: Vec<&Listing> = dns
            .listed
            .iter()
            .filter(|l| is_command_and_control(l))
            .collect();
        let first = lists.first()?;
        let domain = dns.query_name.trim_end_matches('.').to_ascii_lowercase();
        let place = match &event.pod {
            Some(pod) => format!("in pod {}/{}", pod.namespace, pod.name),
            None => format!("on node {}", event.node),
        };
        let what = if dns.response {
            "received a DNS answer for"
        } else {
            "queried DNS for"
        };
        let mut finding = Finding::new(format!(
            "Process {} ({}) {place} of cluster {} {what} {domain}, which is on the threat list {}.",
            event.process.name, event.process.executable_path, event.cluster, first.name
        ))
        .with_aggregation_key(domain.clone())
        .with_info("domain", domain);
        if let Some(kind) = &dns.query_type {
            finding = finding.with_info("queryType", kind.clone());
        }
        for list in &lists {
            finding = finding.with_threat_intel(&list.name, &[list.category.name()]);
        }
        Some(finding)
    }
}

export_rule!(CommandAndControlDomain);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn queries_for_listed_domains_and_their_subdomains_are_found() {
        let findings = run_runtime_file::<CommandAndControlDomain>("fixtures/positive.jsonl");
        assert_eq!(findings.len(), 3, "{findings:#?}");
        let keys: Vec<&str> = findings
            .iter()
            .map(|f| f.aggregation_key.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            keys,
            [
                "guarddutyc2activityb.com",
                "beacon.guarddutyc2activityb.com",
                "guarddutyc2activityb.com"
            ]
        );
        assert_eq!(findings[0].threat_intel[0].threat_list_name, "c2-domains");
        assert_eq!(
            findings[0].threat_intel[0].threat_names,
            ["command-and-control"]
        );
        assert!(
            findings[1]
                .description
                .contains("in pod shop/api-5c9d7-xk2lp"),
            "{}",
            findings[1].description
        );
        assert!(findings[2].description.contains("received a DNS answer"));
    }

    #[test]
    fn unlisted_and_other_category_domains_are_not() {
        assert_eq!(
            run_runtime_file::<CommandAndControlDomain>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
