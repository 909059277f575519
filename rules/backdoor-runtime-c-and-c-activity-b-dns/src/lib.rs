//! Backdoor:Runtime/C&CActivity.B!DNS: a process asked DNS for a domain on a threat list
//! of command-and-control servers (a list categorised as C&C, or a list of the user's
//! own). A name under a listed domain counts. Malicious domains without a finer category,
//! mining pools, black holes, drop points, phishing and DGA domains have their own
//! finding types. The logic is shared by all the threat-list runtime rules:
//! `peregrine_rules_sdk::listed`.
//!
//! Fed by the sensors that see DNS: Tracee's `net_packet_dns_request` /
//! `net_packet_dns_response` (Tetragon and Falco see no queried names).

peregrine_rules_sdk::export_listed_rule!(CommandAndControlDns);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn queries_for_listed_domains_and_their_subdomains_are_found() {
        let findings = run_runtime_file::<ListedRule>("fixtures/positive.jsonl");
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
}
