//! Backdoor:Runtime/C&CActivity.B: a process connected to an address on a threat list of
//! command-and-control servers (a list categorised as C&C, the built-in malicious list,
//! or a list of the user's own). Tor nodes, mining pools, black holes and drop points
//! have their own finding types. The logic is shared by all the threat-list runtime
//! rules: `peregrine_rules_sdk::listed`.
//!
//! Fed by every sensor that sees connections: Tetragon's `tcp_connect` /
//! `security_socket_connect` hooks (`deploy/tetragon/`), Tracee's `security_socket_connect`
//! and network packets, Falco alerts that carry `fd.rip`.

peregrine_rules_sdk::export_listed_rule!(CommandAndControl);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn connections_to_listed_addresses_are_found_from_every_sensor() {
        let findings = run_runtime_file::<ListedRule>("fixtures/positive.jsonl");
        assert_eq!(findings.len(), 4, "{findings:#?}");
        let lists: Vec<&str> = findings
            .iter()
            .map(|f| f.threat_intel[0].threat_list_name.as_str())
            .collect();
        assert_eq!(
            lists,
            vec![
                "Peregrine known malicious IPs",
                "Peregrine known malicious IPs",
                "scanners",
                "Peregrine known malicious IPs"
            ]
        );
        assert!(
            findings[2]
                .description
                .contains("in pod shop/api-5c9d7-xk2lp"),
            "{}",
            findings[2].description
        );
        assert!(findings[2].description.contains("203.0.113.66:8080"));
        assert!(
            findings[0]
                .runtime_context
                .contains(&("ianaProtocolNumber".into(), "6".into()))
        );
    }
}
