//! The runtime finding types raised by threat lists: a connection to, or a DNS query for,
//! an indicator on a list of some category (`docs/runtime.md` §4a). Each type is one
//! module; all share this code, so a module is one line:
//! `export_listed_rule!(CommandAndControlDns);`.
//!
//! Which categories each type reports is its whole logic, so it is data here: one
//! indicator on lists of two categories raises both types, each naming its own lists.

use crate::runtime::{Activity, Listing, SocketFamily, SocketOperation, ThreatCategory};
use crate::{ActivityKind, Descriptor, Finding, HIGH, MEDIUM, RuntimeEvent, RuntimeSubscription};

/// What a type looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indicator {
    /// The remote address of an outgoing connection (connect, send).
    Connection,
    /// The name a DNS query asks for (or a name under a listed domain).
    Dns,
    /// Tor relay behaviour: a connection accepted from a relay, or one made to a relay that
    /// is no guard (clients only ever connect to guards and directory authorities).
    RelayTraffic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedType {
    BitcoinTool,
    BitcoinToolDns,
    CommandAndControl,
    CommandAndControlDns,
    BlackholeTraffic,
    BlackholeTrafficDns,
    DropPoint,
    DropPointDns,
    DgaDomainRequest,
    DriveBySourceTraffic,
    PhishingDomainRequest,
    AbusedDomainRequest,
    BitcoinDomainRequest,
    MaliciousDomainRequest,
    SuspiciousDomainRequest,
    TorClient,
    TorRelay,
}

use ThreatCategory as C;

impl ListedType {
    pub const ALL: [ListedType; 17] = [
        ListedType::BitcoinTool,
        ListedType::BitcoinToolDns,
        ListedType::CommandAndControl,
        ListedType::CommandAndControlDns,
        ListedType::BlackholeTraffic,
        ListedType::BlackholeTrafficDns,
        ListedType::DropPoint,
        ListedType::DropPointDns,
        ListedType::DgaDomainRequest,
        ListedType::DriveBySourceTraffic,
        ListedType::PhishingDomainRequest,
        ListedType::AbusedDomainRequest,
        ListedType::BitcoinDomainRequest,
        ListedType::MaliciousDomainRequest,
        ListedType::SuspiciousDomainRequest,
        ListedType::TorClient,
        ListedType::TorRelay,
    ];

    /// Finding type, severity, title (GuardDuty's), indicator and the list categories it
    /// reports.
    fn spec(
        self,
    ) -> (
        &'static str,
        f64,
        &'static str,
        Indicator,
        &'static [ThreatCategory],
    ) {
        use Indicator::{Connection, Dns, RelayTraffic};
        use ListedType as T;
        match self {
            T::BitcoinTool => (
                "CryptoCurrency:Runtime/BitcoinTool.B",
                HIGH,
                "A process is querying an IP address that is associated with cryptocurrency-related activity.",
                Connection,
                &[C::CryptoMining],
            ),
            T::BitcoinToolDns => (
                "CryptoCurrency:Runtime/BitcoinTool.B!DNS",
                HIGH,
                "A process is querying a domain name that is associated with cryptocurrency-related activity.",
                Dns,
                &[C::CryptoMining],
            ),
            // Addresses known as malicious without a finer category are most often C&C
            // servers, and no other runtime type takes them.
            T::CommandAndControl => (
                "Backdoor:Runtime/C&CActivity.B",
                HIGH,
                "A process is querying an IP address that is associated with a known command and control server.",
                Connection,
                &[C::CommandAndControl, C::Malicious, C::Custom],
            ),
            // Malicious domains without a finer category are MaliciousDomainRequest's.
            T::CommandAndControlDns => (
                "Backdoor:Runtime/C&CActivity.B!DNS",
                HIGH,
                "A process is querying a domain name associated with a known command and control server.",
                Dns,
                &[C::CommandAndControl, C::Custom],
            ),
            T::BlackholeTraffic => (
                "Trojan:Runtime/BlackholeTraffic",
                MEDIUM,
                "A process is attempting to communicate with a black hole IP address.",
                Connection,
                &[C::BlackHole],
            ),
            T::BlackholeTrafficDns => (
                "Trojan:Runtime/BlackholeTraffic!DNS",
                MEDIUM,
                "A process is querying a domain name that is being redirected to a black hole IP address.",
                Dns,
                &[C::BlackHole],
            ),
            T::DropPoint => (
                "Trojan:Runtime/DropPoint",
                MEDIUM,
                "A process is attempting to communicate with an IP address that is known to hold credentials and other stolen data captured by malware.",
                Connection,
                &[C::DropPoint],
            ),
            T::DropPointDns => (
                "Trojan:Runtime/DropPoint!DNS",
                MEDIUM,
                "A process is querying a domain name of a remote host that is known to hold credentials and other stolen data captured by malware.",
                Dns,
                &[C::DropPoint],
            ),
            T::DgaDomainRequest => (
                "Trojan:Runtime/DGADomainRequest.C!DNS",
                HIGH,
                "A process is querying algorithmically generated domains.",
                Dns,
                &[C::Dga],
            ),
            T::DriveBySourceTraffic => (
                "Trojan:Runtime/DriveBySourceTraffic!DNS",
                HIGH,
                "A process is querying a domain name of a remote host that is a known source of Drive-By download attacks.",
                Dns,
                &[C::DriveBySource],
            ),
            T::PhishingDomainRequest => (
                "Trojan:Runtime/PhishingDomainRequest!DNS",
                HIGH,
                "A process is querying domains involved in phishing attacks.",
                Dns,
                &[C::Phishing],
            ),
            T::AbusedDomainRequest => (
                "Impact:Runtime/AbusedDomainRequest.Reputation",
                MEDIUM,
                "A process is querying a low reputation domain name that is associated with known abused domains.",
                Dns,
                &[C::Abused],
            ),
            T::BitcoinDomainRequest => (
                "Impact:Runtime/BitcoinDomainRequest.Reputation",
                HIGH,
                "A process is querying a low reputation domain name that is associated with cryptocurrency-related activity.",
                Dns,
                &[C::CryptoReputation],
            ),
            T::MaliciousDomainRequest => (
                "Impact:Runtime/MaliciousDomainRequest.Reputation",
                HIGH,
                "A process is querying a low reputation domain that is associated with known malicious domains.",
                Dns,
                &[C::Malicious],
            ),
            T::SuspiciousDomainRequest => (
                "Impact:Runtime/SuspiciousDomainRequest.Reputation",
                crate::LOW,
                "A process is querying a low reputation domain name that is suspected of being malicious.",
                Dns,
                &[C::Suspicious],
            ),
            T::TorClient => (
                "UnauthorizedAccess:Runtime/TorClient",
                HIGH,
                "A process is making connections to a Tor Guard or an Authority node.",
                Connection,
                &[C::TorGuard],
            ),
            T::TorRelay => (
                "UnauthorizedAccess:Runtime/TorRelay",
                HIGH,
                "A process is making connections to a Tor network as a Tor relay.",
                RelayTraffic,
                &[C::TorRelay, C::TorGuard],
            ),
        }
    }

    pub fn finding_type(self) -> &'static str {
        self.spec().0
    }

    pub fn severity(self) -> f64 {
        self.spec().1
    }

    pub fn indicator(self) -> Indicator {
        self.spec().3
    }

    /// The list categories this type reports.
    pub fn categories(self) -> &'static [ThreatCategory] {
        self.spec().4
    }
}

/// The descriptor of a listed type: only listed events of its activity.
pub fn descriptor(t: ListedType) -> Descriptor {
    let (finding_type, severity, title, indicator, categories) = t.spec();
    let names: Vec<&str> = categories.iter().map(|c| c.name()).collect();
    let (what, activity) = match indicator {
        Indicator::Connection => ("connected to an address on", ActivityKind::Socket),
        Indicator::Dns => (
            "asked DNS for a domain (or a name under one) on",
            ActivityKind::Dns,
        ),
        Indicator::RelayTraffic => (
            "accepted a connection from, or connected to a non-guard, address on",
            ActivityKind::Socket,
        ),
    };
    Descriptor::new(
        finding_type,
        severity,
        title,
        &format!(
            "A process in a container or on a node {what} a threat list of the categories {}.",
            names.join(", ")
        ),
    )
    .subscribe_runtime(RuntimeSubscription::any().activities(&[activity]).listed())
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

fn of(listed: &[Listing], categories: &[ThreatCategory]) -> Vec<Listing> {
    listed
        .iter()
        .filter(|l| categories.contains(&l.category))
        .cloned()
        .collect()
}

/// The finding of a listed type, when the event shows its indicator on its lists.
pub fn evaluate(t: ListedType, event: &RuntimeEvent) -> Option<Finding> {
    match t.indicator() {
        Indicator::Dns => dns(t, event),
        Indicator::Connection | Indicator::RelayTraffic => connection(t, event),
    }
}

fn connection(t: ListedType, event: &RuntimeEvent) -> Option<Finding> {
    let Activity::Socket(socket) = &event.activity else {
        return None;
    };
    let remote = socket.remote.as_ref().filter(|r| r.is_listed())?;
    let lists = of(&remote.listed, t.categories());
    let first = lists.first()?;
    let verb = match (t.indicator(), socket.operation) {
        (Indicator::Connection, SocketOperation::Connect | SocketOperation::Send) => "connected to",
        (Indicator::RelayTraffic, SocketOperation::Accept) => "accepted a connection from",
        (Indicator::RelayTraffic, SocketOperation::Connect | SocketOperation::Send)
            if !remote.listed.iter().any(|l| l.category == C::TorGuard) =>
        {
            "connected to the non-guard relay"
        }
        _ => return None,
    };
    let port = socket
        .remote_port
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let mut finding = Finding::new(format!(
        "{} {verb} {}{port}, which is on the threat list {} ({}).",
        event.actor(),
        remote.address,
        first.name,
        first.category.name()
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
    if let Some(port) = socket.remote_port {
        finding = finding.with_info("remotePort", port.to_string());
    }
    if let Some(number) = socket.protocol.as_deref().and_then(iana_protocol) {
        finding = finding.with_context("ianaProtocolNumber", number.to_string());
    }
    Some(with_lists(finding, &lists))
}

fn dns(t: ListedType, event: &RuntimeEvent) -> Option<Finding> {
    let Activity::Dns(dns) = &event.activity else {
        return None;
    };
    let lists = of(&dns.listed, t.categories());
    let first = lists.first()?;
    let domain = dns.query_name.trim_end_matches('.').to_ascii_lowercase();
    let what = if dns.response {
        "received a DNS answer for"
    } else {
        "queried DNS for"
    };
    let mut finding = Finding::new(format!(
        "{} {what} {domain}, which is on the threat list {} ({}).",
        event.actor(),
        first.name,
        first.category.name()
    ))
    .with_aggregation_key(domain.clone())
    .with_info("domain", domain);
    if let Some(kind) = &dns.query_type {
        finding = finding.with_info("queryType", kind.clone());
    }
    Some(with_lists(finding, &lists))
}

fn with_lists(mut finding: Finding, lists: &[Listing]) -> Finding {
    for list in lists {
        finding = finding.with_threat_intel(&list.name, &[list.category.name()]);
    }
    finding
}

/// `Execution:Runtime/MaliciousFileExecuted` (`custom` false: lists of every category but
/// custom) and `.Custom` (`custom` true): an exec whose executable's SHA-256 is on such a
/// list. The finding gives the file (`threatFilePath`); the host adds the hash to the
/// evidence (`threatFileSha256`).
pub fn malicious_file(event: &RuntimeEvent, custom: bool) -> Option<Finding> {
    if !matches!(event.activity, Activity::Exec) {
        return None;
    }
    let lists: Vec<Listing> = event
        .process
        .sha256_listed
        .iter()
        .filter(|l| (l.category == C::Custom) == custom)
        .cloned()
        .collect();
    let first = lists.first()?;
    let digest = event.process.sha256.clone()?;
    let finding = Finding::new(format!(
        "{} runs a file whose SHA-256 {digest} is on the threat list {}.",
        event.actor(),
        first.name
    ))
    .with_aggregation_key(digest.clone())
    .with_context("threatFilePath", event.process.executable_path.clone())
    .with_info("sha256", digest);
    Some(with_lists(finding, &lists))
}

/// The descriptor of MaliciousFileExecuted (`custom` false) or `.Custom`.
pub fn malicious_file_descriptor(custom: bool) -> Descriptor {
    let (finding_type, lists) = if custom {
        (
            "Execution:Runtime/MaliciousFileExecuted.Custom",
            "a threat list of your own (custom)",
        )
    } else {
        (
            "Execution:Runtime/MaliciousFileExecuted",
            "a threat list of known malicious files",
        )
    };
    Descriptor::new(
        finding_type,
        HIGH,
        "A process executed a known malicious file.",
        &format!("A process ran an executable whose SHA-256 is on {lists}."),
    )
    .subscribe_runtime(
        RuntimeSubscription::any()
            .activities(&[ActivityKind::Exec])
            .listed(),
    )
}

/// Exports a listed type's rule: `export_listed_rule!(CommandAndControlDns);`, with tests
/// of the crate's `fixtures/positive.jsonl` (every event found) and
/// `fixtures/negative.jsonl` (none).
#[macro_export]
macro_rules! export_listed_rule {
    ($type:ident) => {
        $crate::export_family_rule!(
            ListedRule,
            $crate::listed::descriptor,
            $crate::listed::evaluate,
            $crate::listed::ListedType::$type
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_distinct_and_each_category_feeds_one_type_per_indicator() {
        let mut names: Vec<&str> = ListedType::ALL.iter().map(|t| t.finding_type()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ListedType::ALL.len());
        // A DNS name on one list raises one type: no category is reported twice.
        let mut dns: Vec<ThreatCategory> = ListedType::ALL
            .iter()
            .filter(|t| t.indicator() == Indicator::Dns)
            .flat_map(|t| t.categories().iter().copied())
            .collect();
        let before = dns.len();
        dns.sort_by_key(|c| c.name());
        dns.dedup();
        assert_eq!(dns.len(), before);
    }
}
