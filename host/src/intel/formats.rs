//! The list formats: plain text (addresses, CIDRs, domains, SHA-256 hashes, Tor's
//! exit-addresses, hosts files), CSV with an indicator column, and STIX 2.x bundles.

use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::indicators::{Indicator, Indicators};
use super::{IntelError, IntelWarning};

/// Addresses a hosts-file blocklist maps its names to: the name is the entry.
const HOSTS_SINKS: [&str; 4] = ["0.0.0.0", "127.0.0.1", "::", "::1"];

/// Parses one list line: an address, CIDR, domain or SHA-256 hash, Tor's
/// `ExitAddress <ip> <date>`, or a hosts-file line (`0.0.0.0 evil.example`).
/// `Ok(None)` for blank lines, comments, Tor's other keywords and a hosts file's own names
/// (`127.0.0.1 localhost`).
pub fn parse_entry(line: &str) -> Result<Option<Indicator>, String> {
    let line = line.split('#').next().unwrap_or("").trim();
    let mut tokens = line.split_whitespace();
    let token = match tokens.next() {
        None => return Ok(None),
        Some("ExitAddress") => tokens.next().ok_or("ExitAddress without an address")?,
        Some("ExitNode" | "Published" | "LastStatus") => return Ok(None),
        Some(sink) if HOSTS_SINKS.contains(&sink) => match tokens.next() {
            Some(name) => {
                return Ok(super::indicators::domain(name).map(Indicator::Domain));
            }
            None => sink,
        },
        Some(token) => token,
    };
    Indicator::parse(token).map(Some)
}

/// Reads one list file in the format its extension names: its indicators and entry count.
pub fn load_list_file(
    path: &Path,
    warnings: &mut Vec<IntelWarning>,
) -> Result<(Indicators, usize), IntelError> {
    let bytes = std::fs::read(path).map_err(|source| IntelError {
        path: path.into(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut warn = |line: usize, message: String| {
        warnings.push(IntelWarning {
            path: path.into(),
            line,
            message,
        })
    };
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ListFormat::from_name)
        .unwrap_or(ListFormat::Text);
    let entries = parse_with(&text, format, &mut warn);
    let count = entries.len();
    Ok((Indicators::from_entries(entries), count))
}

/// The formats a list may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Csv,
    Stix,
}

impl ListFormat {
    /// `txt`, `csv`, `json`/`stix`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "txt" | "text" | "plain" => Some(ListFormat::Text),
            "csv" => Some(ListFormat::Csv),
            "json" | "stix" => Some(ListFormat::Stix),
            _ => None,
        }
    }
}

/// Parses a list in `format`: its indicators, and `(line, problem)` for each entry skipped.
pub fn parse_list(text: &str, format: ListFormat) -> (Vec<Indicator>, Vec<(usize, String)>) {
    let mut skipped = Vec::new();
    let entries = parse_with(text, format, &mut |line, message| {
        skipped.push((line, message))
    });
    (entries, skipped)
}

fn parse_with(
    text: &str,
    format: ListFormat,
    warn: &mut dyn FnMut(usize, String),
) -> Vec<Indicator> {
    match format {
        ListFormat::Text => parse_plain(text, warn),
        ListFormat::Csv => parse_csv(text, warn),
        ListFormat::Stix => parse_stix(text, warn),
    }
}

fn parse_plain(text: &str, warn: &mut dyn FnMut(usize, String)) -> Vec<Indicator> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_entry(line) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(message) => warn(index + 1, message),
        }
    }
    entries
}

/// Header names of a column of indicators.
const CSV_COLUMNS: &[&str] = &[
    "ip",
    "ip_address",
    "ipaddress",
    "ip address",
    "address",
    "indicator",
    "ioc",
    "value",
    "domain",
    "domain_name",
    "domain name",
    "hostname",
    "host",
    "fqdn",
    "sha256",
    "sha_256",
    "sha-256",
    "sha256_hash",
    "hash",
];

fn parse_csv(text: &str, warn: &mut dyn FnMut(usize, String)) -> Vec<Indicator> {
    // Vendor feeds quote free-text fields that hold commas, and rows differ in length.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    let mut columns: Vec<usize> = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                warn(line, format!("not a CSV row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        // A header names the indicator columns; it may follow comments, never entries.
        if columns.is_empty() && entries.is_empty() {
            columns = record
                .iter()
                .enumerate()
                .filter(|(_, f)| CSV_COLUMNS.contains(&f.to_ascii_lowercase().as_str()))
                .map(|(i, _)| i)
                .collect();
            if !columns.is_empty() {
                continue;
            }
        }
        if columns.is_empty() {
            // No header: the row's first address, else its first hash, else its first
            // domain (free text such as `file.exe` reads as a name only when nothing
            // better is there).
            let parsed: Vec<Indicator> = record
                .iter()
                .filter_map(|f| Indicator::parse(f).ok())
                .collect();
            let rank = |i: &Indicator| match i {
                Indicator::Network(_) => 0,
                Indicator::Sha256(_) => 1,
                Indicator::Domain(_) => 2,
            };
            match parsed.into_iter().min_by_key(rank) {
                Some(entry) => entries.push(entry),
                None => warn(line, "no indicator in this row".into()),
            }
            continue;
        }
        let mut found = false;
        for &c in &columns {
            let Some(field) = record.get(c).filter(|f| !f.is_empty()) else {
                continue;
            };
            found = true;
            match Indicator::parse(field) {
                Ok(entry) => entries.push(entry),
                Err(message) => warn(line, message),
            }
        }
        if !found {
            warn(line, "no indicator in this row".into());
        }
    }
    entries
}

/// Indicators in a STIX 2.x bundle: `ipv4-addr`/`ipv6-addr`/`domain-name` objects, the
/// SHA-256 hashes of `file` objects, and the comparisons of indicator patterns on those.
/// Revoked and expired objects are skipped.
fn parse_stix(text: &str, warn: &mut dyn FnMut(usize, String)) -> Vec<Indicator> {
    parse_stix_at(text, OffsetDateTime::now_utc(), warn)
}

/// The SHA-256 key of a STIX `hashes` dictionary (the specification's `SHA-256`, and the
/// spellings producers use).
fn is_sha256_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "sha-256" | "sha256" | "sha_256"
    )
}

fn parse_stix_at(
    text: &str,
    now: OffsetDateTime,
    warn: &mut dyn FnMut(usize, String),
) -> Vec<Indicator> {
    let bundle: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            warn(e.line(), format!("not a STIX bundle: {e}"));
            return Vec::new();
        }
    };
    let Some(objects) = bundle.get("objects").and_then(|o| o.as_array()) else {
        warn(1, "not a STIX bundle: no \"objects\" array".into());
        return Vec::new();
    };
    let mut entries = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let kind = object.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let values: Vec<String> = match kind {
            "ipv4-addr" | "ipv6-addr" | "domain-name" => object
                .get("value")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .into_iter()
                .collect(),
            "file" => object
                .get("hashes")
                .and_then(|h| h.as_object())
                .into_iter()
                .flatten()
                .filter(|(k, _)| is_sha256_key(k))
                .filter_map(|(_, v)| v.as_str().map(str::to_string))
                .collect(),
            "indicator" => {
                pattern_values(object.get("pattern").and_then(|p| p.as_str()).unwrap_or(""))
            }
            _ => continue,
        };
        if let Some(reason) = stix_withdrawn(object, now) {
            warn(index + 1, format!("object {index}: {reason}, skipped"));
            continue;
        }
        for value in values {
            match Indicator::parse(&value) {
                Ok(entry) => entries.push(entry),
                Err(message) => warn(index + 1, format!("object {index}: {message}")),
            }
        }
    }
    entries
}

/// Why an object no longer names malicious indicators: revoked by its producer, or past
/// its `valid_until`.
fn stix_withdrawn(object: &serde_json::Value, now: OffsetDateTime) -> Option<String> {
    if object.get("revoked").and_then(|r| r.as_bool()) == Some(true) {
        return Some("revoked".into());
    }
    let until = object.get("valid_until")?;
    let parsed = until
        .as_str()
        .and_then(|u| OffsetDateTime::parse(u, &Rfc3339).ok());
    match parsed {
        Some(t) if t <= now => Some(format!("expired (valid_until {})", until.as_str()?)),
        Some(_) => None,
        None => Some(format!("valid_until is not a timestamp: {until}")),
    }
}

/// A token of a STIX pattern: a quoted literal or any other word or operator.
#[derive(Debug, PartialEq)]
enum PatternToken<'a> {
    Literal(String),
    Word(&'a str),
}

fn pattern_tokens(pattern: &str) -> Vec<PatternToken<'_>> {
    let mut tokens = Vec::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => {
                let mut literal = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => literal.extend(chars.next().map(|(_, c)| c)),
                        '\'' => break,
                        c => literal.push(c),
                    }
                }
                tokens.push(PatternToken::Literal(literal));
            }
            '[' | ']' | '(' | ')' | ',' => {
                tokens.push(PatternToken::Word(&pattern[start..start + 1]))
            }
            '!' | '<' | '>' | '=' => {
                let end = match chars.peek() {
                    Some(&(i, '=')) => {
                        chars.next();
                        i + 1
                    }
                    _ => start + 1,
                };
                tokens.push(PatternToken::Word(&pattern[start..end]));
            }
            _ => {
                let mut end = pattern.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "'[](),!<>=".contains(c) {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(PatternToken::Word(&pattern[start..end]));
            }
        }
    }
    tokens
}

/// The object paths of patterns whose values are indicators.
fn is_indicator_path(path: &str) -> bool {
    matches!(
        path,
        "ipv4-addr:value" | "ipv6-addr:value" | "domain-name:value"
    ) || path
        .strip_prefix("file:hashes.")
        .is_some_and(|key| is_sha256_key(key.trim_matches(['\'', '"'])))
}

/// The indicators a pattern says are malicious: addresses, domain names and file
/// SHA-256 hashes compared with `=`, `IN (...)` or `ISSUBSET`. Negated tests (`!=`,
/// `NOT =`, `NOT IN`) and other operators name values that are not, or not only, the ones
/// meant.
fn pattern_values(pattern: &str) -> Vec<String> {
    use PatternToken::{Literal, Word};
    let tokens = pattern_tokens(pattern);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_indicator = match &tokens[i] {
            // `file:hashes.'SHA-256'`: the quoted key reads as a literal after the path.
            Word(path) if *path == "file:hashes." => match tokens.get(i + 1) {
                Some(Literal(key)) if is_sha256_key(key) => {
                    i += 1;
                    true
                }
                _ => false,
            },
            Word(path) => is_indicator_path(path),
            Literal(_) => false,
        };
        i += 1;
        if !is_indicator {
            continue;
        }
        if matches!(tokens.get(i), Some(Word(w)) if w.eq_ignore_ascii_case("NOT")) {
            continue;
        }
        match tokens.get(i) {
            Some(Word(op)) if *op == "=" || op.eq_ignore_ascii_case("ISSUBSET") => {
                if let Some(Literal(value)) = tokens.get(i + 1) {
                    found.push(value.clone());
                }
            }
            Some(Word(op)) if op.eq_ignore_ascii_case("IN") => {
                for token in tokens[i + 1..].iter().skip(1) {
                    match token {
                        Literal(value) => found.push(value.clone()),
                        Word(",") => {}
                        Word(_) => break,
                    }
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intel::IpSet;

    #[test]
    fn ranges_merge_and_lookups_respect_bounds() {
        let set = IpSet::from_networks(
            [
                "10.0.0.0/24",
                "10.0.1.0/24",
                "192.0.2.7",
                "2001:db8::/32",
                "10.0.0.5",
            ]
            .iter()
            .map(|s| s.parse().unwrap()),
        );
        assert_eq!(set.ranges(), 3);
        for inside in [
            "10.0.0.0",
            "10.0.1.255",
            "192.0.2.7",
            "2001:db8:ffff::1",
            "::ffff:10.0.1.1",
        ] {
            assert!(set.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in [
            "10.0.2.0",
            "9.255.255.255",
            "192.0.2.6",
            "192.0.2.8",
            "2001:db9::",
        ] {
            assert!(!set.contains(outside.parse().unwrap()), "{outside}");
        }
    }

    fn collect(
        parse: fn(&str, &mut dyn FnMut(usize, String)) -> Vec<Indicator>,
        text: &str,
    ) -> (Vec<String>, Vec<(usize, String)>) {
        let mut warnings = Vec::new();
        let networks = parse(text, &mut |line, message| warnings.push((line, message)));
        (networks.iter().map(|n| n.to_string()).collect(), warnings)
    }

    #[test]
    fn csv_lists_use_the_ip_column() {
        let (ips, warnings) = collect(
            parse_csv,
            "first_seen,ip,threat\n2024-01-01,203.0.113.5,scanner\n2024-01-02,\"2001:db8::7\",c2\n2024-01-03,bogus,x\n",
        );
        assert_eq!(ips, ["203.0.113.5/32", "2001:db8::7/128"]);
        assert_eq!(
            warnings,
            vec![(
                4,
                "not an IP address, CIDR, domain name or SHA-256 hash: \"bogus\"".to_string()
            )]
        );
        let (ips, warnings) = collect(parse_csv, "203.0.113.9,botnet\nno address here\n");
        assert_eq!(ips, ["203.0.113.9/32"]);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn stix_bundles_give_addresses_from_objects_and_patterns() {
        let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.1'] OR [ipv6-addr:value = '2001:db8::1']","pattern_type":"stix"},
            {"type":"ipv4-addr","value":"203.0.113.0/24"},
            {"type":"malware","name":"x"},
            {"type":"ipv4-addr","value":"999.1.1.1"}]}"#;
        let (ips, warnings) = collect(parse_stix, bundle);
        assert_eq!(
            ips,
            ["198.51.100.1/32", "2001:db8::1/128", "203.0.113.0/24"]
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(collect(parse_stix, "not json").0.len(), 0);
    }

    #[test]
    fn csv_quoted_fields_with_commas_keep_the_ip_column() {
        let (ips, warnings) = collect(
            parse_csv,
            "# vendor feed\n\nfirst_seen,description,ip,tags\n\
             2024-01-01,\"scanner, aggressive\",203.0.113.5,\"a,b\"\n\
             2024-01-02,short row,198.51.100.7\n\
             2024-01-03,\"spans\ntwo lines\",192.0.2.44,x,extra\n\
             2024-01-04,\"no, address\",,x\n\
             2024-01-05,\"bad\",300.1.1.1,x\n",
        );
        assert_eq!(ips, ["203.0.113.5/32", "198.51.100.7/32", "192.0.2.44/32"]);
        assert_eq!(
            warnings,
            vec![
                (8, "no indicator in this row".to_string()),
                (
                    9,
                    "not an IP address, CIDR, domain name or SHA-256 hash: \"300.1.1.1\""
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn csv_without_a_header_takes_the_first_address_of_a_row() {
        let (ips, warnings) = collect(
            parse_csv,
            "\"Example, Inc.\",203.0.113.9,botnet\n\"2001:db8::9\"\n\"no, address\",here\n",
        );
        assert_eq!(ips, ["203.0.113.9/32", "2001:db8::9/128"]);
        assert_eq!(warnings, vec![(3, "no indicator in this row".to_string())]);
    }

    fn indicator(pattern: &str) -> String {
        format!(
            r#"{{"type":"bundle","id":"bundle--1","objects":[{{"type":"indicator","pattern":{pattern:?},"pattern_type":"stix"}}]}}"#
        )
    }

    #[test]
    fn stix_negated_comparisons_name_no_address() {
        for pattern in [
            "[ipv4-addr:value != '198.51.100.9']",
            "[ipv4-addr:value NOT = '198.51.100.9']",
            "[ipv6-addr:value NOT IN ('2001:db8::9')]",
            "[ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']",
            "[ipv4-addr:value MATCHES '^198\\.51\\.']",
            "[file:name = 'ipv4-addr:value = \\'198.51.100.9\\'']",
        ] {
            let (ips, warnings) = collect(parse_stix, &indicator(pattern));
            assert_eq!((ips, warnings), (vec![], vec![]), "{pattern}");
        }
        let (ips, _) = collect(
            parse_stix,
            &indicator(
                "[ipv4-addr:value != '192.0.2.1' AND ipv4-addr:value = '203.0.113.77'] \
                 OR [ipv4-addr:value IN ('198.51.100.12', '198.51.100.13')] \
                 OR [ipv4-addr:value ISSUBSET '192.0.2.128/25'] \
                 OR [ipv6-addr:value NOT = '2001:db8::1' AND network-traffic:dst_port = 443]",
            ),
        );
        assert_eq!(
            ips,
            [
                "203.0.113.77/32",
                "198.51.100.12/32",
                "198.51.100.13/32",
                "192.0.2.128/25"
            ]
        );
    }

    #[test]
    fn stix_revoked_and_expired_indicators_are_skipped() {
        let bundle = r#"{"type":"bundle","id":"bundle--2","objects":[
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.1']","revoked":true},
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.2']","revoked":false},
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.3']","valid_until":"2001-01-01T00:00:00Z"},
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.4']","valid_until":"2999-01-01T00:00:00Z"},
            {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.5']","valid_until":"someday"}]}"#;
        let (ips, warnings) = collect(parse_stix, bundle);
        assert_eq!(ips, ["198.51.100.2/32", "198.51.100.4/32"]);
        assert_eq!(
            warnings,
            vec![
                (1, "object 0: revoked, skipped".to_string()),
                (
                    3,
                    "object 2: expired (valid_until 2001-01-01T00:00:00Z), skipped".to_string()
                ),
                (
                    5,
                    "object 4: valid_until is not a timestamp: \"someday\", skipped".to_string()
                ),
            ]
        );
        // "Now" is the time of reading: the same bundle read in 2000 keeps the third.
        let mut skipped = 0;
        let then = time::macros::datetime!(2000-06-01 0:00 UTC);
        let ips = parse_stix_at(bundle, then, &mut |_, _| skipped += 1);
        assert_eq!(ips.len(), 3);
        assert_eq!(skipped, 2);
    }

    #[test]
    fn entries_parse_plain_cidr_and_tor_formats() {
        assert_eq!(parse_entry("  # comment"), Ok(None));
        assert_eq!(
            parse_entry("ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E"),
            Ok(None)
        );
        assert_eq!(
            parse_entry("ExitAddress 185.220.101.47 2024-03-11 08:00:00"),
            Ok(Some(Indicator::Network("185.220.101.47".parse().unwrap())))
        );
        assert_eq!(
            parse_entry("203.0.113.0/24 # scanners"),
            Ok(Some(Indicator::Network("203.0.113.0/24".parse().unwrap())))
        );
        assert!(parse_entry("not-an-ip").is_err());
        assert_eq!(
            parse_entry("0.0.0.0 Miner.Example.com # blocklist"),
            Ok(Some(Indicator::Domain("miner.example.com".into())))
        );
        assert_eq!(parse_entry("127.0.0.1 localhost"), Ok(None));
        assert_eq!(
            parse_entry("0.0.0.0"),
            Ok(Some(Indicator::Network("0.0.0.0".parse().unwrap())))
        );
        assert!(parse_entry("300.1.1.1").is_err());
    }

    const SHA: &str = "5d41402abc4b2a76b9719d911017c592ae2d3c1f4a6b0f5c6d7e8f9a0b1c2d3e";

    #[test]
    fn plain_lists_mix_addresses_domains_and_hashes() {
        let (entries, warnings) = collect(
            parse_plain,
            &format!(
                "# mixed feed\n203.0.113.9\nEvil.Example.NET.\n{}\nd41d8cd98f00b204e9800998ecf8427e\nhttp://x.example.com/a\n",
                SHA.to_ascii_uppercase()
            ),
        );
        assert_eq!(entries, ["203.0.113.9/32", "evil.example.net", SHA]);
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[0].0, 5);
        assert!(warnings[0].1.contains("only SHA-256"), "{warnings:?}");
        assert_eq!(warnings[1].0, 6);
    }

    #[test]
    fn csv_lists_read_every_indicator_column() {
        let (entries, warnings) = collect(
            parse_csv,
            &format!(
                "first_seen,domain,sha256,notes\n2024-01-01,c2.example.com,{SHA},\"a, b\"\n2024-01-02,,,empty\n2024-01-03,not a name,,x\n"
            ),
        );
        assert_eq!(entries, ["c2.example.com", SHA]);
        assert_eq!(
            warnings,
            vec![
                (3, "no indicator in this row".to_string()),
                (
                    4,
                    "not an IP address, CIDR, domain name or SHA-256 hash: \"not a name\""
                        .to_string()
                )
            ]
        );
        // Without a header, an address wins over a hash, a hash over a name.
        let (entries, _) = collect(
            parse_csv,
            &format!(
                "dropper.exe,{SHA}\nsample.bin,drop.example.org,198.51.100.4\nonly.example.org\n"
            ),
        );
        assert_eq!(entries, [SHA, "198.51.100.4/32", "only.example.org"]);
    }

    #[test]
    fn stix_bundles_give_domains_and_file_hashes() {
        let bundle = format!(
            r#"{{"type":"bundle","id":"bundle--3","objects":[
            {{"type":"domain-name","value":"Pool.Example.com"}},
            {{"type":"file","hashes":{{"MD5":"d41d8cd98f00b204e9800998ecf8427e","SHA-256":"{SHA}"}}}},
            {{"type":"indicator","pattern":"[domain-name:value = 'guarddutyc2activityb.com'] OR [file:hashes.'SHA-256' = '{upper}'] OR [file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"}},
            {{"type":"indicator","pattern":"[domain-name:value IN ('a.example.net', 'b.example.net')] AND [domain-name:value != 'good.example.net']"}},
            {{"type":"indicator","pattern":"[url:value = 'http://bad.example.com/x']"}}]}}"#,
            upper = SHA.to_ascii_uppercase()
        );
        let (entries, warnings) = collect(parse_stix, &bundle);
        assert_eq!(
            entries,
            [
                "pool.example.com",
                SHA,
                "guarddutyc2activityb.com",
                SHA,
                "a.example.net",
                "b.example.net"
            ]
        );
        assert_eq!(warnings, vec![]);
    }
}
