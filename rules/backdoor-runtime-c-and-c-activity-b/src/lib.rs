//! Backdoor:Runtime/C&CActivity.B — a process connected to an address on a threat list of
//! command-and-control servers (the built-in malicious list, a list categorised as C&C,
//! or a list of the user's own). Tor nodes, mining pools, black holes and drop points
//! have their own finding types.
//!
//! Fed by every sensor that sees connections: Tetragon's `tcp_connect` /
//! `security_socket_connect` hooks (`deploy/tetragon/`), Tracee's `security_socket_connect`
//! and network packets, Falco alerts that carry `fd.rip`.

use peregrine_rules_sdk::runtime::{
    Activity, Listing, SocketFamily, SocketOperation, ThreatCategory,
};
use peregrine_rules_sdk::*;

pub struct CommandAndControlActivity;

/// The list categories this type reports.
fn is_command_and_control(listing: &Listing) -> bool {
    matches!(
        listing.category,
        ThreatCategory::Malicious | ThreatCategory::CommandAndControl | ThreatCategory::Custom
    )
}

/// IANA protocol numbers, as `runtimeDetails.context.ianaProtocolNumber`.
fn iana_protocol(name: &str) -> Option<u8> {
    Some(match name {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "icmpv6" => 58,
        "sctp" => 132,
        _ => return None,
    })
}

impl Rule for CommandAndControlActivity {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Backdoor:Runtime/C&CActivity.B",
            HIGH,
            "A process is querying an IP address that is associated with a known command and control server.",
            "A process in a container or on a node connected to an IP address on a threat list \
             of command-and-control servers.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Socket])
                .listed(),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Socket(socket) = &event.activity else {
            return None;
        };
        if !matches!(
            socket.operation,
            SocketOperation::Connect | SocketOperation::Send
        ) {
            return None;
        }
        let remote = socket.remote.as_ref().filter(|r| r.is_listed())?;
        let lists: Vec<&Listing> = remote
            .listed
            .iter()
            .filter(|l| is_command_and_control(l))
            .collect();
        let first = lists.first()?;
        let port = socket
            .remote_port
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let place = match &event.pod {
            Some(pod) => format!("in pod {}/{}", pod.namespace, pod.name),
            None => format!("on node {}", event.node),
        };
        let mut finding = Finding::new(format!(
            "Process {} ({}) {place} of cluster {} connected to {}{port}, which is on the threat list {}.",
            event.process.name, event.process.executable_path, event.cluster, remote.address, first.name
        ))
        .with_aggregation_key(remote.address.clone())
        .with_info("remoteIp", remote.address.clone())
        .with_context(
            "addressFamily",
            match socket.family {
                SocketFamily::Inet6 => "AF_INET6",
                SocketFamily::Unix => "AF_UNIX",
                _ => "AF_INET",
            },
        );
        if let Some(number) = socket.protocol.as_deref().and_then(iana_protocol) {
            finding = finding.with_context("ianaProtocolNumber", number.to_string());
        }
        for list in &lists {
            finding = finding.with_threat_intel(&list.name, &[list.category.name()]);
        }
        Some(finding)
    }
}

export_rule!(CommandAndControlActivity);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn connections_to_listed_addresses_are_found_from_every_sensor() {
        let findings = run_runtime_file::<CommandAndControlActivity>("fixtures/positive.jsonl");
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

    #[test]
    fn unlisted_trusted_private_and_tor_addresses_are_not() {
        assert_eq!(
            run_runtime_file::<CommandAndControlActivity>("fixtures/negative.jsonl"),
            vec![]
        );
    }
}
