//! GuardDuty's filter criteria, evaluated over the finding's wire-format JSON, so any field
//! path of the format can be filtered on (`resource.kubernetesDetails.kubernetesWorkloadDetails.containers.imagePrefix`).
//!
//! Semantics follow GuardDuty: conditions on different fields are ANDed; the values of
//! `equals` and `matches` are ORed, those of `notEquals` and `notMatches` ANDed. Where a
//! path crosses a list, a condition holds if it holds for any element (`not*` conditions:
//! for every element). Times (`createdAt`, `updatedAt`, `service.eventFirstSeen`,
//! `service.eventLastSeen`) compare as epoch milliseconds. `matches` takes `*` and `?`
//! wildcards. A number equals a value that reads as the same number (`5.0` equals `5`), and
//! so does a string written as a decimal number (at most 40 characters, an exponent of at
//! most two digits: `2.0`, `-5`, `1e3`), which also compares with `greaterThan` and the
//! like. The deprecated `eq`, `neq`, `gt`, `gte`, `lt` and `lte` are accepted.
//!
//! The store evaluates criteria in SQL (`store::criteria_sql`); [`FindingCriteria::matches`]
//! evaluates them over one finding's JSON (suppression rules judge a finding before it is
//! stored).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// GuardDuty's limits.
pub const MAX_CRITERIA: usize = 50;
pub const MAX_VALUES: usize = 50;
pub const MAX_PATTERNS: usize = 5;
pub const MAX_PATTERN_LEN: usize = 512;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FindingCriteria {
    #[serde(default)]
    pub criterion: BTreeMap<String, Condition>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Vec::is_empty", alias = "eq")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", alias = "neq")]
    pub not_equals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "gt")]
    pub greater_than: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "gte")]
    pub greater_than_or_equal: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "lt")]
    pub less_than: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", alias = "lte")]
    pub less_than_or_equal: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_matches: Vec<String>,
}

/// Filter paths that GuardDuty spells unlike the wire format.
pub(crate) fn wire_segment(segment: &str) -> &str {
    match segment {
        "hostIpc" => "hostIPC",
        "hostPid" => "hostPID",
        "sourceIps" => "sourceIPs",
        other => other,
    }
}

const TIME_FIELDS: &[&str] = &[
    "createdAt",
    "updatedAt",
    "service.eventFirstSeen",
    "service.eventLastSeen",
];

impl FindingCriteria {
    /// Checks the limits and the shape of every condition.
    pub fn validate(&self) -> Result<(), String> {
        if self.criterion.len() > MAX_CRITERIA {
            return Err(format!("a filter may have at most {MAX_CRITERIA} criteria"));
        }
        for (path, c) in &self.criterion {
            let valid_path = !path.is_empty()
                && path.split('.').all(|s| {
                    !s.is_empty() && s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                });
            if !valid_path {
                return Err(format!(
                    "{path:?} is not a field path (names separated by dots)"
                ));
            }
            let empty = c.equals.is_empty()
                && c.not_equals.is_empty()
                && c.matches.is_empty()
                && c.not_matches.is_empty()
                && [
                    c.greater_than,
                    c.greater_than_or_equal,
                    c.less_than,
                    c.less_than_or_equal,
                ]
                .iter()
                .all(Option::is_none);
            if empty {
                return Err(format!("the condition on {path} has no operator"));
            }
            if c.equals.len() > MAX_VALUES || c.not_equals.len() > MAX_VALUES {
                return Err(format!(
                    "equals and notEquals on {path} take at most {MAX_VALUES} values"
                ));
            }
            if c.matches.len() > MAX_PATTERNS || c.not_matches.len() > MAX_PATTERNS {
                return Err(format!(
                    "matches and notMatches on {path} take at most {MAX_PATTERNS} patterns"
                ));
            }
            if c.matches
                .iter()
                .chain(&c.not_matches)
                .any(|p| p.chars().count() > MAX_PATTERN_LEN)
            {
                return Err(format!(
                    "patterns on {path} may be at most {MAX_PATTERN_LEN} characters"
                ));
            }
        }
        Ok(())
    }

    /// Whether a finding (wire-format JSON) meets every criterion.
    pub fn matches(&self, finding: &Value) -> bool {
        self.criterion.iter().all(|(path, condition)| {
            let mut leaves = Vec::new();
            collect(
                finding,
                &path.split('.').map(wire_segment).collect::<Vec<_>>(),
                &mut leaves,
            );
            condition.holds(&leaves, TIME_FIELDS.contains(&path.as_str()))
        })
    }
}

/// Every value at `path`, descending into lists.
fn collect<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect(item, path, out)),
        _ => match path.split_first() {
            None => out.push(value),
            Some((first, rest)) => {
                if let Some(next) = value.get(first) {
                    collect(next, rest, out)
                }
            }
        },
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(value: &Value, is_time: bool) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if is_time => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as f64)
        }
        Value::String(s) => decimal(s),
        _ => None,
    }
}

/// The longest string that reads as a number; with exponents of two digits, every such
/// string is well within the range of a double, in Rust and in both databases alike.
pub(crate) const MAX_DECIMAL_LEN: usize = 40;

/// A string written as a decimal number: `[+-]digits[.digits][e[+-]dd]`, `.5` and `5.` too.
fn decimal(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = digits(whole) && digits(fraction) && whole.len() + fraction.len() > 0;
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        (1..=2).contains(&e.len()) && digits(e)
    });
    (s.len() <= MAX_DECIMAL_LEN && mantissa_ok && exponent_ok)
        .then(|| s.parse().ok())
        .flatten()
}

/// Equal as text, or as numbers when both read as numbers (`5` equals `5.0`).
fn equal(leaf: &Value, wanted: &str, is_time: bool) -> bool {
    if text(leaf).as_deref() == Some(wanted) {
        return true;
    }
    match (number(leaf, is_time), wanted.parse::<f64>()) {
        (Some(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `*` matches any run of characters, `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Condition {
    fn holds(&self, leaves: &[&Value], is_time: bool) -> bool {
        let any = |f: &dyn Fn(&Value) -> bool| leaves.iter().any(|l| f(l));
        let num = |l: &Value| number(l, is_time);
        (self.equals.is_empty() || any(&|l| self.equals.iter().any(|w| equal(l, w, is_time))))
            && self
                .not_equals
                .iter()
                .all(|w| !any(&|l| equal(l, w, is_time)))
            && self
                .greater_than
                .is_none_or(|x| any(&|l| num(l).is_some_and(|n| n > x as f64)))
            && self
                .greater_than_or_equal
                .is_none_or(|x| any(&|l| num(l).is_some_and(|n| n >= x as f64)))
            && self
                .less_than
                .is_none_or(|x| any(&|l| num(l).is_some_and(|n| n < x as f64)))
            && self
                .less_than_or_equal
                .is_none_or(|x| any(&|l| num(l).is_some_and(|n| n <= x as f64)))
            && (self.matches.is_empty()
                || any(&|l| text(l).is_some_and(|t| self.matches.iter().any(|p| wildcard(p, &t)))))
            && self
                .not_matches
                .iter()
                .all(|p| !any(&|l| text(l).is_some_and(|t| wildcard(p, &t))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding() -> Value {
        json!({
            "type": "Persistence:Kubernetes/ContainerWithSensitiveMount",
            "severity": 5.0,
            "createdAt": "2024-05-14T10:00:00.000Z",
            "resource": {"kubernetesDetails": {"kubernetesWorkloadDetails": {
                "hostPID": true,
                "containers": [{"image": "docker.io/alpine/socat:1.7", "imagePrefix": "docker.io/alpine"},
                               {"image": "nginx", "imagePrefix": ""}]}}},
            "service": {"archived": false, "count": 3, "action": {"kubernetesApiCallAction": {"sourceIPs": ["10.0.0.1", "203.0.113.5"]}}}
        })
    }

    fn criteria(json: Value) -> FindingCriteria {
        let c: FindingCriteria = serde_json::from_value(json).unwrap();
        c.validate().unwrap();
        c
    }

    #[test]
    fn every_operator_over_scalars_lists_times_and_aliases() {
        let f = finding();
        let holds = |c: Value| criteria(json!({"criterion": c})).matches(&f);
        assert!(holds(
            json!({"type": {"equals": ["x", "Persistence:Kubernetes/ContainerWithSensitiveMount"]}})
        ));
        assert!(!holds(
            json!({"type": {"notEquals": ["Persistence:Kubernetes/ContainerWithSensitiveMount"]}})
        ));
        assert!(holds(
            json!({"severity": {"equals": ["5"]}, "service.count": {"greaterThan": 2, "lessThanOrEqual": 3}})
        ));
        assert!(!holds(json!({"severity": {"gte": 7}})));
        assert!(holds(
            json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.imagePrefix": {"equals": ["docker.io/alpine"]}})
        ));
        assert!(!holds(
            json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.imagePrefix": {"notEquals": [""]}})
        ));
        assert!(holds(
            json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.image": {"matches": ["*socat*"]}})
        ));
        assert!(!holds(
            json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.containers.image": {"notMatches": ["ngin?"]}})
        ));
        assert!(holds(
            json!({"resource.kubernetesDetails.kubernetesWorkloadDetails.hostPid": {"equals": ["true"]}})
        ));
        assert!(holds(
            json!({"service.action.kubernetesApiCallAction.sourceIps": {"equals": ["203.0.113.5"]}})
        ));
        assert!(holds(
            json!({"createdAt": {"greaterThanOrEqual": 1715680800000i64, "lt": 1715680800001i64}})
        ));
        assert!(holds(json!({"service.archived": {"eq": ["false"]}})));
        // A missing field equals nothing and differs from everything.
        assert!(!holds(
            json!({"service.userFeedback": {"equals": ["USEFUL"]}})
        ));
        assert!(holds(
            json!({"service.userFeedback": {"notEquals": ["USEFUL"]}})
        ));
    }

    #[test]
    fn malformed_criteria_are_refused_with_a_reason() {
        let parse = |v: Value| {
            serde_json::from_value::<FindingCriteria>(v)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate())
        };
        assert!(
            parse(json!({"criterion": {"type": {"equalz": ["x"]}}}))
                .unwrap_err()
                .contains("unknown field `equalz`")
        );
        assert!(
            parse(json!({"criterion": {"type": {}}}))
                .unwrap_err()
                .contains("no operator")
        );
        assert!(
            parse(json!({"criterion": {"bad path!": {"equals": ["x"]}}}))
                .unwrap_err()
                .contains("not a field path")
        );
        assert!(
            parse(json!({"criterion": {"type": {"matches": ["a", "b", "c", "d", "e", "f"]}}}))
                .unwrap_err()
                .contains("at most 5")
        );
        assert!(parse(json!({"criterion": {"severity": {"greaterThan": "high"}}})).is_err());
    }

    #[test]
    fn strings_read_as_numbers_only_when_written_as_decimals() {
        for (s, n) in [
            ("5", 5.0),
            ("-2.5", -2.5),
            ("+5", 5.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-02", 0.01),
        ] {
            assert_eq!(decimal(s), Some(n), "{s}");
        }
        for s in [
            "",
            ".",
            "e5",
            "5e",
            "1e100",
            "1.2.3",
            " 5",
            "0x10",
            "inf",
            "NaN",
            "1_000",
            &"1".repeat(41),
        ] {
            assert_eq!(decimal(s), None, "{s}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", ""));
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("*.amazonaws.com", "123.dkr.ecr.amazonaws.com"));
        assert!(!wildcard("docker.io/*", "quay.io/x"));
    }
}
