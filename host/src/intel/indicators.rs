//! What a threat list holds: addresses and networks, domain names, SHA-256 file hashes.
//! One list may mix them; each kind is kept in its own set, looked up in constant or
//! logarithmic time however long the list.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::IpSet;

/// One entry of a threat list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Indicator {
    Network(IpNetwork),
    /// A domain name, lower case, without a trailing dot; it covers its subdomains.
    Domain(String),
    /// A SHA-256 digest, lower-case hex.
    Sha256(String),
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Indicator::Network(n) => write!(f, "{n}"),
            Indicator::Domain(d) => f.write_str(d),
            Indicator::Sha256(h) => f.write_str(h),
        }
    }
}

/// Why a token is no indicator.
const NOT_AN_INDICATOR: &str = "not an IP address, CIDR, domain name or SHA-256 hash";

impl Indicator {
    /// Reads one token: an address or CIDR, a SHA-256 digest (64 hex digits), or a domain
    /// name (`*.` and a trailing dot allowed, case ignored). Hashes of other lengths are
    /// refused by name, since only SHA-256 is looked up.
    pub fn parse(token: &str) -> Result<Indicator, String> {
        if let Ok(network) = token.parse::<IpNetwork>() {
            return Ok(Indicator::Network(network));
        }
        if token.bytes().all(|b| b.is_ascii_hexdigit()) {
            match token.len() {
                64 => return Ok(Indicator::Sha256(token.to_ascii_lowercase())),
                32 | 40 | 128 => {
                    return Err(format!(
                        "{token:?} is an MD5, SHA-1 or SHA-512 hash: only SHA-256 hashes are looked up"
                    ));
                }
                _ => {}
            }
        }
        domain(token)
            .map(Indicator::Domain)
            .ok_or_else(|| format!("{NOT_AN_INDICATOR}: {token:?}"))
    }
}

/// A domain name in canonical form (lower case, no trailing dot, no leading `*.`), or
/// `None` when `text` is not one. At least two labels, and a top-level label of letters
/// (or an IDNA `xn--` label), so that words, versions and addresses are not taken for
/// names.
pub fn domain(text: &str) -> Option<String> {
    let text = text.strip_prefix("*.").unwrap_or(text);
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.is_empty() || text.len() > 253 || !text.contains('.') {
        return None;
    }
    let name = text.to_ascii_lowercase();
    let mut labels = name.split('.').peekable();
    while let Some(label) = labels.next() {
        let ok = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return None;
        }
        if labels.peek().is_none()
            && !(label.bytes().all(|b| b.is_ascii_alphabetic()) || label.starts_with("xn--"))
        {
            return None;
        }
    }
    Some(name)
}

/// The indicators of one list.
#[derive(Default, Debug, Clone)]
pub struct Indicators {
    pub networks: IpSet,
    domains: HashSet<Box<str>>,
    sha256: HashSet<Box<str>>,
}

impl Indicators {
    pub fn from_entries(entries: impl IntoIterator<Item = Indicator>) -> Self {
        let mut networks = Vec::new();
        let mut set = Indicators::default();
        for entry in entries {
            match entry {
                Indicator::Network(n) => networks.push(n),
                Indicator::Domain(d) => {
                    set.domains.insert(d.into());
                }
                Indicator::Sha256(h) => {
                    set.sha256.insert(h.into());
                }
            }
        }
        set.networks = IpSet::from_networks(networks);
        set
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.domains.is_empty() && self.sha256.is_empty()
    }

    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        self.networks.contains(ip)
    }

    /// Whether `name` or a domain it is under (`a.b.example.com` under `example.com`)
    /// is on the list. `name` is compared without case and trailing dot.
    pub fn contains_domain(&self, name: &str) -> bool {
        if self.domains.is_empty() {
            return false;
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        let lowered;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = name.to_ascii_lowercase();
            lowered.as_str()
        } else {
            name
        };
        let mut rest = name;
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }

    /// Whether the SHA-256 digest (hex, any case) is on the list.
    pub fn contains_sha256(&self, digest: &str) -> bool {
        if self.sha256.is_empty() {
            return false;
        }
        if digest.bytes().any(|b| b.is_ascii_uppercase()) {
            self.sha256.contains(digest.to_ascii_lowercase().as_str())
        } else {
            self.sha256.contains(digest)
        }
    }

    /// How many of each kind the list holds: merged address ranges, domains, hashes.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.networks.ranges(),
            self.domains.len(),
            self.sha256.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_told_apart() {
        assert_eq!(
            Indicator::parse("203.0.113.0/24"),
            Ok(Indicator::Network("203.0.113.0/24".parse().unwrap()))
        );
        let digest = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            Indicator::parse(digest),
            Ok(Indicator::Sha256(digest.to_ascii_lowercase()))
        );
        assert_eq!(
            Indicator::parse("*.Pool.MineXMR.com."),
            Ok(Indicator::Domain("pool.minexmr.com".into()))
        );
        assert_eq!(
            Indicator::parse("xn--80ak6aa92e.xn--p1ai"),
            Ok(Indicator::Domain("xn--80ak6aa92e.xn--p1ai".into()))
        );
        for refused in [
            "300.1.1.1",
            "localhost",
            "v1.2",
            "bad_.-x.com",
            "-a.com",
            "a..com",
            "evil.com/path",
            "http://evil.com",
            "d41d8cd98f00b204e9800998ecf8427e",
        ] {
            assert!(Indicator::parse(refused).is_err(), "{refused}");
        }
        assert!(
            Indicator::parse("da39a3ee5e6b4b0d3255bfef95601890afd80709")
                .unwrap_err()
                .contains("only SHA-256")
        );
    }

    #[test]
    fn domains_cover_their_subdomains_but_not_their_parents() {
        let set = Indicators::from_entries(
            [
                "guarddutyc2activityb.com",
                "pool.example.org",
                "198.51.100.1",
            ]
            .iter()
            .map(|t| Indicator::parse(t).unwrap()),
        );
        for listed in [
            "guarddutyc2activityb.com",
            "GuardDutyC2ActivityB.com.",
            "a.b.guarddutyc2activityb.com",
            "pool.example.org",
            "eu.pool.example.org",
        ] {
            assert!(set.contains_domain(listed), "{listed}");
        }
        for not in [
            "example.org",
            "org",
            "xguarddutyc2activityb.com",
            "guarddutyc2activityb.com.evil.net",
            "",
        ] {
            assert!(!set.contains_domain(not), "{not}");
        }
        assert!(set.contains_ip("198.51.100.1".parse().unwrap()));
        assert_eq!(set.counts(), (1, 2, 0));
    }

    #[test]
    fn hashes_match_in_any_case() {
        let digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let set = Indicators::from_entries([Indicator::parse(digest).unwrap()]);
        assert!(set.contains_sha256(digest));
        assert!(set.contains_sha256(&digest.to_ascii_uppercase()));
        assert!(!set.contains_sha256(&digest[1..]));
        assert!(
            !set.contains_domain(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        );
    }
}
