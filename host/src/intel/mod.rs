//! Threat intelligence: lists of addresses, domain names and file hashes loaded from an
//! intel directory, looked up for every source IP of every audit event and for the
//! addresses, DNS names and executables of runtime events.
//!
//! Layout of the directory (every file optional; [`dir`] spells it out):
//! - `malicious.txt`: the built-in list of known malicious indicators;
//! - `tor-exit-nodes.txt`: Tor exit nodes (plain addresses or Tor's exit-addresses format);
//! - `trusted.txt`: indicators that never produce findings (trusted wins over any list);
//! - `<category>/<list-name>.<ext>`: lists of a category (`command-and-control/`,
//!   `crypto-mining/`, `tor-guard/`, … and `custom/` for the user's own threat lists),
//!   named by their file stem.
//!
//! Formats, by extension: `.csv` is CSV with indicator columns (a header naming `ip`,
//! `domain`, `sha256`, `indicator`, `value`… picks them; without one, a row's first
//! address, else hash, else domain); `.json`/`.stix` is a STIX 2.x bundle whose
//! `ipv4-addr`/`ipv6-addr`/`domain-name` objects, `file` hashes and indicator patterns
//! (`[domain-name:value = 'x.example']`, `[file:hashes.'SHA-256' = '…']`, not `!=` or
//! `NOT`) give the entries, unless `revoked` or past their `valid_until`; anything else is
//! plain text, one address, CIDR, domain or SHA-256 hash per line (or Tor's exit-addresses
//! format, or a hosts file's `0.0.0.0 name`), `#` starting a comment. Malformed entries are
//! reported by line and skipped. A domain covers its subdomains. Only public addresses are
//! looked up.

mod dir;
pub mod feeds;
mod formats;
mod indicators;
mod live;
mod ranges;

use std::net::IpAddr;
use std::path::PathBuf;

use peregrine_rules_sdk::normalize::is_public_ip;
use peregrine_rules_sdk::runtime::{Listing, ThreatCategory};
use peregrine_rules_sdk::{AuditEvent, RuntimeEvent, ThreatListHit, ThreatListKind};

pub use dir::{
    BUILTIN_LISTS, BuiltinList, IntelDir, MALICIOUS, MALICIOUS_LIST_NAME, TOR_EXIT_NODES,
    TOR_LIST_NAME,
};
pub use formats::{ListFormat, load_list_file, parse_entry, parse_list};
pub use indicators::{Indicator, Indicators};
pub use live::LiveIntel;
pub use ranges::IpSet;

#[derive(Debug, Clone)]
pub struct ThreatList {
    pub name: String,
    pub category: ThreatCategory,
    pub path: PathBuf,
    pub entries: usize,
    pub set: Indicators,
}

impl ThreatList {
    /// How an address on this list marks an audit event's caller: lists of malicious
    /// infrastructure as malicious, Tor exits as Tor, the user's lists as custom. Tor relays
    /// and guards do not call APIs, and reputation lists are too weak for a caller finding.
    pub fn audit_kind(&self) -> Option<ThreatListKind> {
        match self.category {
            ThreatCategory::TorExitNode => Some(ThreatListKind::TorExitNode),
            ThreatCategory::Custom => Some(ThreatListKind::Custom),
            ThreatCategory::TorRelay
            | ThreatCategory::TorGuard
            | ThreatCategory::Abused
            | ThreatCategory::CryptoReputation
            | ThreatCategory::Suspicious => None,
            _ => Some(ThreatListKind::Malicious),
        }
    }

    fn listing(&self) -> Listing {
        Listing {
            category: self.category,
            name: self.name.clone(),
        }
    }
}

/// A line that could not be read as an address.
#[derive(Debug, Clone, PartialEq)]
pub struct IntelWarning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for IntelWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct IntelError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

#[derive(Debug, Default, Clone)]
pub struct ThreatLists {
    pub lists: Vec<ThreatList>,
    pub trusted: Indicators,
}

impl ThreatLists {
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.trusted.is_empty()
    }

    /// Marks each public source IP of the event as trusted or with the lists it is on.
    pub fn enrich(&self, event: &mut AuditEvent) {
        if self.is_empty() {
            return;
        }
        for source in &mut event.source_ips {
            match self.address(&source.address) {
                Address::Unmarked => {}
                Address::Trusted => source.trusted = true,
                Address::Checked(ip) => {
                    source.threat_lists = self
                        .lists
                        .iter()
                        .filter(|list| list.set.contains_ip(ip))
                        .filter_map(|list| {
                            Some(ThreatListHit {
                                kind: list.audit_kind()?,
                                name: list.name.clone(),
                            })
                        })
                        .collect()
                }
            }
        }
    }

    /// How an address in an event is marked: not at all unless it is a public address,
    /// and a trusted one is on no list.
    fn address(&self, text: &str) -> Address {
        match text.parse::<IpAddr>() {
            Ok(ip) if is_public_ip(&ip) && self.trusted.contains_ip(ip) => Address::Trusted,
            Ok(ip) if is_public_ip(&ip) => Address::Checked(ip),
            _ => Address::Unmarked,
        }
    }

    /// Marks a runtime event's indicators with the lists they are on: the public
    /// addresses of its socket (the remote, and the local one of a listener or an accepted
    /// connection), the name a DNS query asks for (and the names its answers point to), and
    /// the executable's SHA-256. Trusted indicators are on none.
    pub fn enrich_runtime(&self, event: &mut RuntimeEvent) {
        use peregrine_rules_sdk::runtime::Activity;
        if self.is_empty() {
            return;
        }
        if let Some(digest) = event.process.sha256.as_deref()
            && !self.trusted.contains_sha256(digest)
        {
            event.process.sha256_listed = self.listings(|set| set.contains_sha256(digest));
        }
        match &mut event.activity {
            Activity::Socket(socket) => {
                for address in [socket.remote.as_mut(), socket.local.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    match self.address(&address.address) {
                        Address::Unmarked => {}
                        Address::Trusted => address.trusted = true,
                        Address::Checked(ip) => {
                            address.listed = self.listings(|set| set.contains_ip(ip))
                        }
                    }
                }
            }
            Activity::Dns(dns) => {
                let names = std::iter::once(dns.query_name.as_str()).chain(
                    dns.answers
                        .iter()
                        .map(String::as_str)
                        .filter(|a| a.parse::<IpAddr>().is_err()),
                );
                let mut listed: Vec<Listing> = Vec::new();
                for name in names {
                    if self.trusted.contains_domain(name) {
                        continue;
                    }
                    for listing in self.listings(|set| set.contains_domain(name)) {
                        if !listed.contains(&listing) {
                            listed.push(listing);
                        }
                    }
                }
                dns.listed = listed;
            }
            _ => {}
        }
    }

    fn listings(&self, on: impl Fn(&Indicators) -> bool) -> Vec<Listing> {
        self.lists
            .iter()
            .filter(|list| on(&list.set))
            .map(ThreatList::listing)
            .collect()
    }
}

/// See [`ThreatLists::address`].
enum Address {
    Unmarked,
    Trusted,
    /// A public address to look up on the lists.
    Checked(IpAddr),
}

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::normalize::runtime::{Sensor, address, event, process};
    use peregrine_rules_sdk::runtime::{
        Activity, DnsActivity, SocketActivity, SocketFamily, SocketOperation,
    };

    const HASH: &str = "5f2b51ca2fdc5baa31ec02e002f69aec912bc2e41b1f8d45af1f7cba4ef8b6ad";

    fn lists() -> (tempfile::TempDir, ThreatLists) {
        let dir = tempfile::tempdir().unwrap();
        let intel = IntelDir::new(dir.path());
        let write = |path: PathBuf, text: &str| {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            intel.builtin(&MALICIOUS),
            &format!("45.155.205.233\n{HASH}\n"),
        );
        write(
            intel.list(ThreatCategory::CommandAndControl, "c2", "txt"),
            "guarddutyc2activityb.com\n198.51.100.9\n",
        );
        write(
            intel.list(ThreatCategory::TorGuard, "guards", "csv"),
            "address,nickname\n192.0.2.250,relay1\n",
        );
        write(
            intel.list(ThreatCategory::Custom, "mine", "txt"),
            "ok.guarddutyc2activityb.com\ncdn.example.net\n",
        );
        // Left by an interrupted upload: not a list.
        write(
            intel.list(ThreatCategory::Custom, "half", "upload"),
            "203.0.113.1\n",
        );
        write(
            intel.trusted(),
            "ok.guarddutyc2activityb.com\n192.0.2.251\n",
        );
        let (lists, warnings) = intel.load().unwrap();
        assert_eq!(warnings, vec![]);
        (dir, lists)
    }

    fn names(listed: &[Listing]) -> Vec<(&'static str, &str)> {
        listed
            .iter()
            .map(|l| (l.category.name(), l.name.as_str()))
            .collect()
    }

    fn dns(name: &str, answers: &[&str]) -> RuntimeEvent {
        event(
            "prod",
            "node-1",
            Sensor::Tracee,
            0,
            process("/usr/bin/curl"),
            Activity::Dns(DnsActivity {
                query_name: name.into(),
                query_type: Some("A".into()),
                response: !answers.is_empty(),
                answers: answers.iter().map(|a| a.to_string()).collect(),
                listed: Vec::new(),
            }),
        )
    }

    #[test]
    fn every_category_folder_is_a_list_named_by_its_file() {
        let (_dir, lists) = lists();
        let loaded: Vec<(&str, &str, usize)> = lists
            .lists
            .iter()
            .map(|l| (l.category.name(), l.name.as_str(), l.entries))
            .collect();
        assert_eq!(
            loaded,
            [
                ("malicious", MALICIOUS_LIST_NAME, 2),
                ("tor-guard", "guards", 1),
                ("command-and-control", "c2", 2),
                ("custom", "mine", 2),
            ]
        );
    }

    #[test]
    fn dns_names_are_marked_with_their_domains_lists_unless_trusted() {
        let (_dir, lists) = lists();
        let listed = |mut e: RuntimeEvent| {
            lists.enrich_runtime(&mut e);
            match e.activity {
                Activity::Dns(d) => d.listed,
                _ => unreachable!(),
            }
        };
        assert_eq!(
            names(&listed(dns("x.GuardDutyC2ActivityB.com.", &[]))),
            [("command-and-control", "c2")]
        );
        // Trusted wins for the name and its subdomains, though a custom list has it.
        assert_eq!(names(&listed(dns("ok.guarddutyc2activityb.com", &[]))), []);
        assert_eq!(
            names(&listed(dns("a.ok.guarddutyc2activityb.com", &[]))),
            []
        );
        // An answer that points to a listed name counts; addresses in answers do not.
        assert_eq!(
            names(&listed(dns(
                "innocent.example.org",
                &["cdn.example.net", "45.155.205.233"]
            ))),
            [("custom", "mine")]
        );
        assert_eq!(names(&listed(dns("example.net", &[]))), []);
    }

    #[test]
    fn sockets_and_hashes_are_marked_and_audit_callers_only_by_caller_lists() {
        let (_dir, lists) = lists();
        let socket = |remote: &str| {
            let mut e = event(
                "prod",
                "node-1",
                Sensor::Tetragon,
                0,
                process("/usr/bin/tor"),
                Activity::Socket(SocketActivity {
                    operation: SocketOperation::Connect,
                    family: SocketFamily::Inet,
                    protocol: Some("tcp".into()),
                    local: None,
                    local_port: None,
                    remote: Some(address(remote)),
                    remote_port: Some(9001),
                    unix_path: None,
                }),
            );
            lists.enrich_runtime(&mut e);
            e.remote().cloned().unwrap()
        };
        assert_eq!(
            names(&socket("192.0.2.250").listed),
            [("tor-guard", "guards")]
        );
        assert_eq!(
            names(&socket("198.51.100.9").listed),
            [("command-and-control", "c2")]
        );
        assert!(socket("192.0.2.251").trusted);
        assert_eq!(names(&socket("10.0.0.9").listed), []);

        let mut exec = event(
            "prod",
            "node-1",
            Sensor::Tetragon,
            0,
            process("/tmp/x"),
            Activity::Exec,
        );
        exec.process.sha256 = Some(HASH.to_ascii_uppercase());
        lists.enrich_runtime(&mut exec);
        assert_eq!(
            names(&exec.process.sha256_listed),
            [("malicious", MALICIOUS_LIST_NAME)]
        );

        // A Tor guard calling the API is no Tor exit: only caller lists mark audit events.
        let caller = |ip: &str| {
            let mut e = peregrine_rules_sdk::normalize::Normalizer::new("prod")
                .event_from_json(&format!(
                    r#"{{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/api","user":{{"username":"u"}},"sourceIPs":["{ip}"]}}"#
                ))
                .unwrap();
            lists.enrich(&mut e);
            e.source_ips[0]
                .threat_lists
                .iter()
                .map(|h| (h.kind, h.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(caller("192.0.2.250"), vec![]);
        assert_eq!(
            caller("198.51.100.9"),
            vec![(ThreatListKind::Malicious, "c2".to_string())]
        );
    }
}
