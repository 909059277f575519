//! Threat intelligence: IP lists loaded from an intel directory, looked up for every
//! source IP of every event.
//!
//! Layout of the directory (every file optional):
//! - `malicious.txt`: the built-in list of known malicious addresses;
//! - `tor-exit-nodes.txt`: Tor exit nodes (plain addresses or Tor's exit-addresses format);
//! - `trusted.txt`: addresses that never produce IP findings (trusted wins over any list);
//! - `custom/<list-name>.<ext>`: user threat lists, named by their file stem.
//!
//! Formats, by extension: `.csv` is CSV with an IP column (a header naming `ip`, `ip_address`,
//! `address`, `indicator` or `value` picks it; without one, the first field that is an
//! address); `.json` is a STIX 2.x bundle whose `ipv4-addr`/`ipv6-addr` objects and
//! indicator patterns (`[ipv4-addr:value = '198.51.100.1']`, not `!=` or `NOT`) give the
//! addresses, unless `revoked` or past their `valid_until`; anything
//! else is plain text, one IPv4 or IPv6 address or CIDR per line (or Tor's exit-addresses
//! format), `#` starting a comment. Malformed entries are reported by line and skipped. Lists are kept as sorted, merged ranges, so a lookup
//! is a binary search however long the list. Only public addresses are looked up.

mod dir;
pub mod feeds;
mod formats;
mod live;
mod ranges;

use std::net::IpAddr;
use std::path::PathBuf;

use peregrine_rules_sdk::normalize::is_public_ip;
use peregrine_rules_sdk::{AuditEvent, ThreatListHit, ThreatListKind};

pub use dir::{BUILTIN_LISTS, BuiltinList, IntelDir, MALICIOUS_LIST_NAME, TOR_LIST_NAME};
pub use formats::{ListFormat, load_list_file, parse_entry, parse_list};
pub use live::LiveIntel;
pub use ranges::IpSet;

#[derive(Debug, Clone)]
pub struct ThreatList {
    pub name: String,
    pub kind: ThreatListKind,
    pub path: PathBuf,
    pub entries: usize,
    pub set: IpSet,
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
    pub trusted: IpSet,
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
            let Ok(ip) = source.address.parse::<IpAddr>() else {
                continue;
            };
            if !is_public_ip(&ip) {
                continue;
            }
            if self.trusted.contains(ip) {
                source.trusted = true;
                continue;
            }
            source.threat_lists = self
                .lists
                .iter()
                .filter(|list| list.set.contains(ip))
                .map(|list| ThreatListHit {
                    kind: list.kind,
                    name: list.name.clone(),
                })
                .collect();
        }
    }

    /// Marks the public addresses of a runtime event's socket (the remote, and the local
    /// one of a listener or an accepted connection) as trusted or with the lists they are on.
    pub fn enrich_runtime(&self, event: &mut peregrine_rules_sdk::RuntimeEvent) {
        use peregrine_rules_sdk::runtime::{Activity, Listing, ThreatCategory};
        if self.is_empty() {
            return;
        }
        let Activity::Socket(socket) = &mut event.activity else {
            return;
        };
        for address in [socket.remote.as_mut(), socket.local.as_mut()]
            .into_iter()
            .flatten()
        {
            let Ok(ip) = address.address.parse::<IpAddr>() else {
                continue;
            };
            if !is_public_ip(&ip) {
                continue;
            }
            if self.trusted.contains(ip) {
                address.trusted = true;
                continue;
            }
            address.listed = self
                .lists
                .iter()
                .filter(|list| list.set.contains(ip))
                .map(|list| Listing {
                    category: match list.kind {
                        ThreatListKind::Malicious => ThreatCategory::Malicious,
                        ThreatListKind::TorExitNode => ThreatCategory::TorExitNode,
                        ThreatListKind::Custom => ThreatCategory::Custom,
                    },
                    name: list.name.clone(),
                })
                .collect();
        }
    }
}
