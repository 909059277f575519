//! [`FindingCriteria`] as a SQL condition over the `findings` table, with the same meaning
//! as [`FindingCriteria::matches`] over the finding as the API returns it.
//!
//! The fields the store keeps in columns (times, count, archived, feedback) are read from
//! them, as the API's findings are; so are type, cluster, username and severity, which are
//! cheaper there and can use an index. Every other path is read from the JSON `body`: in
//! PostgreSQL with a jsonpath (lax mode; `[*]` unwraps lists, which the path crosses,
//! nested up to [`PG_LIST_DEPTH`] deep), in SQLite with a recursive walk. User values are
//! always bound parameters; path segments are validated names, quoted into a path that is
//! itself bound.

use super::Backend;
use crate::findings::criteria::{Condition, FindingCriteria, MAX_DECIMAL_LEN, wire_segment};

/// How deeply PostgreSQL unwraps lists nested directly in lists at each step of a path.
pub const PG_LIST_DEPTH: usize = 4;

/// A bound parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A condition and its parameters, numbered from the `first` given to [`FindingCriteria::to_sql`].
#[derive(Clone, Debug, PartialEq)]
pub struct SqlCondition {
    pub text: String,
    pub args: Vec<Arg>,
}

struct Builder {
    backend: Backend,
    args: Vec<Arg>,
    first: usize,
}

impl Builder {
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.first + self.args.len() - 1)
    }

    fn list(&mut self, args: impl IntoIterator<Item = Arg>) -> String {
        let placeholders: Vec<String> = args.into_iter().map(|a| self.arg(a)).collect();
        placeholders.join(", ")
    }
}

/// Where a criterion's values are: one column, or the leaves of a path in `body`.
enum Source {
    /// A text column that always holds a value.
    Text(&'static str),
    /// `feedback`: a text column, no value when NULL.
    OptionalText(&'static str),
    /// A numeric column (`count`, `severity`).
    Number(&'static str),
    /// `archived`.
    Bool,
    /// Milliseconds since the epoch, shown as an ISO time.
    Time(&'static str),
    Body(Vec<String>),
}

impl Source {
    fn of(path: &str, condition: &Condition) -> Source {
        let wildcards = !condition.matches.is_empty() || !condition.not_matches.is_empty();
        match path {
            "type" => Source::Text("type"),
            "resource.eksClusterDetails.name" => Source::Text("cluster"),
            "resource.kubernetesDetails.kubernetesUserDetails.username" => Source::Text("username"),
            "createdAt" => Source::Time("created_at"),
            "updatedAt" => Source::Time("updated_at"),
            "service.eventFirstSeen" => Source::Time("first_seen"),
            "service.eventLastSeen" => Source::Time("last_seen"),
            "service.count" => Source::Number("count"),
            "service.archived" => Source::Bool,
            "service.userFeedback" => Source::OptionalText("feedback"),
            // Wildcards match the number as the JSON writes it (`5.0`), which the column
            // does not keep.
            "severity" if !wildcards => Source::Number("severity"),
            _ => Source::Body(
                path.split('.')
                    .map(|s| wire_segment(s).to_string())
                    .collect(),
            ),
        }
    }
}

/// SQL expressions over one value: `st` its text if a string or boolean, `t` its text if a
/// string, number or boolean, `n` its number if a number or decimal string; NULL otherwise.
struct Leaf {
    st: String,
    t: String,
    n: String,
}

impl FindingCriteria {
    /// The condition, with parameters `$first`, `$first + 1`, …; `1 = 1` for no criteria.
    /// The criteria must be valid ([`FindingCriteria::validate`]).
    pub fn to_sql(&self, backend: Backend, first: usize) -> SqlCondition {
        let mut b = Builder {
            backend,
            args: Vec::new(),
            first,
        };
        let mut parts = Vec::new();
        for (path, condition) in &self.criterion {
            condition_sql(&mut b, &Source::of(path, condition), condition, &mut parts);
        }
        let text = if parts.is_empty() {
            "1 = 1".to_string()
        } else {
            parts.join(" AND ")
        };
        SqlCondition { text, args: b.args }
    }
}

/// `value.parse::<f64>()` of the values compared with `equals`, finite ones only: no
/// stored number is infinite or NaN.
fn numbers(values: &[String]) -> Vec<f64> {
    values
        .iter()
        .filter_map(|v| v.parse::<f64>().ok())
        .filter(|n| n.is_finite())
        .collect()
}

/// The times (ms) a time field equals `value` at: the ISO text the API shows, or a number.
fn time_values(value: &str) -> Vec<i64> {
    let mut ms = Vec::new();
    if let Ok(t) =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
    {
        let at = (t.unix_timestamp_nanos() / 1_000_000) as i64;
        if crate::findings::format_time(at * 1000) == value {
            ms.push(at);
        }
    }
    if let Ok(n) = value.parse::<f64>()
        && n.fract() == 0.0
        && n.abs() < 9.0e15
    {
        ms.push(n as i64);
    }
    ms
}

/// The conditions of one criterion, ANDed into `parts`.
fn condition_sql(b: &mut Builder, source: &Source, c: &Condition, parts: &mut Vec<String>) {
    // (holds for some value, or for none; the predicate over one value)
    let mut preds: Vec<(bool, String)> = Vec::new();
    let leaf = leaf(b.backend, source);
    for (positive, values) in [(true, &c.equals), (false, &c.not_equals)] {
        if values.is_empty() {
            continue;
        }
        let pred = match source {
            Source::Time(column) => {
                let ms: Vec<i64> = values.iter().flat_map(|v| time_values(v)).collect();
                if ms.is_empty() {
                    "1 = 0".to_string()
                } else {
                    format!("{column} IN ({})", b.list(ms.into_iter().map(Arg::Int)))
                }
            }
            _ => {
                let mut any = Vec::new();
                if leaf.st != "NULL" {
                    any.push(format!(
                        "{} IN ({})",
                        leaf.st,
                        b.list(values.iter().cloned().map(Arg::Text))
                    ));
                }
                let wanted = numbers(values);
                if !wanted.is_empty() {
                    any.push(format!(
                        "{} IN ({})",
                        leaf.n,
                        b.list(wanted.into_iter().map(Arg::Float))
                    ));
                }
                any.join(" OR ")
            }
        };
        preds.push((positive, pred));
    }
    for (bound, op) in [
        (c.greater_than, ">"),
        (c.greater_than_or_equal, ">="),
        (c.less_than, "<"),
        (c.less_than_or_equal, "<="),
    ] {
        if let Some(x) = bound {
            let pred = match source {
                // An integer column against an integer: exact, and an index can serve it.
                Source::Time(column) => format!("{column} {op} {}", b.arg(Arg::Int(x))),
                _ => format!("{} {op} {}", leaf.n, b.arg(Arg::Float(x as f64))),
            };
            preds.push((true, pred));
        }
    }
    for (positive, patterns) in [(true, &c.matches), (false, &c.not_matches)] {
        if patterns.is_empty() {
            continue;
        }
        let any: Vec<String> = patterns
            .iter()
            .map(|p| match b.backend {
                Backend::Postgres => {
                    format!("{} LIKE {} ESCAPE '\\'", leaf.t, b.arg(Arg::Text(like(p))))
                }
                Backend::Sqlite => format!("{} GLOB {}", leaf.t, b.arg(Arg::Text(glob(p)))),
            })
            .collect();
        preds.push((positive, any.join(" OR ")));
    }
    for (positive, pred) in preds {
        parts.push(match source {
            Source::Body(segments) => {
                let leaves = body_leaves(b, segments);
                let exists = format!("EXISTS ({leaves} WHERE {pred})");
                if positive {
                    exists
                } else {
                    format!("NOT {exists}")
                }
            }
            // One value (or none, NULL): a NULL predicate is false either way round.
            _ if positive => format!("({pred})"),
            _ => format!("NOT COALESCE(({pred}), FALSE)"),
        });
    }
}

/// The expressions over a column's value or over `l`, the leaves of a path.
fn leaf(backend: Backend, source: &Source) -> Leaf {
    let text = |column: &str| Leaf {
        st: column.to_string(),
        t: column.to_string(),
        n: decimal(backend, column),
    };
    match source {
        Source::Text(column) | Source::OptionalText(column) => text(column),
        Source::Number(column) => Leaf {
            st: "NULL".into(),
            t: format!("CAST({column} AS TEXT)"),
            n: format!("CAST({column} AS {})", double(backend)),
        },
        Source::Bool => {
            let t = "(CASE WHEN archived THEN 'true' ELSE 'false' END)".to_string();
            Leaf {
                st: t.clone(),
                t,
                n: "NULL".into(),
            }
        }
        Source::Time(column) => Leaf {
            st: iso(backend, column),
            t: iso(backend, column),
            n: column.to_string(),
        },
        Source::Body(_) => Leaf {
            st: "l.st".into(),
            t: "l.t".into(),
            n: "l.n".into(),
        },
    }
}

fn double(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "DOUBLE PRECISION",
        Backend::Sqlite => "REAL",
    }
}

/// `format_time` of a milliseconds column: `2024-05-14T10:00:00.000Z`.
fn iso(backend: Backend, ms: &str) -> String {
    let millis = format!("((({ms} % 1000) + 1000) % 1000)");
    match backend {
        Backend::Postgres => format!(
            "(to_char(to_timestamp(({ms} - {millis}) / 1000) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad(CAST({millis} AS TEXT), 3, '0') || 'Z')"
        ),
        Backend::Sqlite => format!(
            "(strftime('%Y-%m-%dT%H:%M:%S', ({ms} - {millis}) / 1000, 'unixepoch') || '.' \
             || printf('%03d', {millis}) || 'Z')"
        ),
    }
}

/// The number a text expression is written as, as `criteria::decimal` reads it, or NULL.
fn decimal(backend: Backend, t: &str) -> String {
    match backend {
        Backend::Postgres => format!(
            "(CASE WHEN length({t}) <= {MAX_DECIMAL_LEN} \
             AND {t} ~ '^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]{{1,2}})?$' \
             THEN CAST({t} AS DOUBLE PRECISION) END)"
        ),
        // No regular expressions: split off the sign, the mantissa and the exponent.
        Backend::Sqlite => format!(
            "(SELECT CASE WHEN length(d0) <= {MAX_DECIMAL_LEN} AND m NOT GLOB '*[^0-9.]*' \
                 AND m GLOB '*[0-9]*' AND m NOT GLOB '*.*.*' \
                 AND (x GLOB '[0-9]' OR x GLOB '[0-9][0-9]') THEN CAST(d0 AS REAL) END \
             FROM (SELECT d0, CASE WHEN e > 0 THEN substr(u, 1, e - 1) ELSE u END AS m, \
                          CASE WHEN e = 0 THEN '0' WHEN substr(u, e + 1, 1) IN ('+', '-') \
                               THEN substr(u, e + 2) ELSE substr(u, e + 1) END AS x \
                   FROM (SELECT d0, u, instr(lower(u), 'e') AS e \
                         FROM (SELECT {t} AS d0, CASE WHEN substr({t}, 1, 1) IN ('+', '-') \
                                      THEN substr({t}, 2) ELSE {t} END AS u))))"
        ),
    }
}

/// `SELECT … FROM <the leaves of the path> l`, with the columns of [`Leaf`].
fn body_leaves(b: &mut Builder, segments: &[String]) -> String {
    match b.backend {
        Backend::Postgres => {
            let unwrap = "[*]".repeat(PG_LIST_DEPTH);
            let mut path = format!("lax ${unwrap}");
            for segment in segments {
                path.push_str(&format!(".\"{segment}\"{unwrap}"));
            }
            let path = b.arg(Arg::Text(path));
            let n = decimal(Backend::Postgres, "t");
            format!(
                "SELECT 1 FROM (SELECT CASE WHEN k IN ('string', 'boolean') THEN t END AS st, t, \
                     CASE k WHEN 'number' THEN CAST(t AS DOUBLE PRECISION) WHEN 'string' THEN {n} END AS n \
                 FROM (SELECT jsonb_typeof(v) AS k, CASE jsonb_typeof(v) WHEN 'string' THEN v #>> '{{}}' \
                           WHEN 'number' THEN v::text WHEN 'boolean' THEN v::text END AS t \
                       FROM jsonb_path_query(findings.body::jsonb, CAST({path} AS jsonpath)) AS q(v)) AS r) AS l"
            )
        }
        Backend::Sqlite => {
            let keys: Vec<String> = segments.iter().map(|s| format!("$.\"{s}\"")).collect();
            let keys = b.arg(Arg::Text(
                serde_json::to_string(&keys).expect("strings serialize"),
            ));
            let depth = b.arg(Arg::Int(segments.len() as i64));
            let key = format!("json_extract({keys}, '$[' || w.i || ']')");
            let n = decimal(Backend::Sqlite, "t");
            // w: the values reached, as JSON, with how many segments they are down;
            // lists are crossed without using up a segment.
            format!(
                "WITH RECURSIVE w(j, i) AS ( \
                     SELECT findings.body, 0 \
                     UNION ALL SELECT w.j -> ('$[' || e.key || ']'), w.i FROM w, \
                         json_each(CASE WHEN json_type(w.j) = 'array' THEN w.j ELSE '[]' END) AS e \
                     UNION ALL SELECT w.j -> {key}, w.i + 1 FROM w \
                         WHERE w.i < {depth} AND json_type(w.j) = 'object' AND json_type(w.j, {key}) IS NOT NULL) \
                 SELECT 1 FROM (SELECT CASE WHEN k IN ('text', 'true', 'false') THEN t END AS st, t, \
                     CASE WHEN k IN ('integer', 'real') THEN CAST(t AS REAL) WHEN k = 'text' THEN {n} END AS n \
                 FROM (SELECT json_type(j) AS k, CASE json_type(j) WHEN 'text' THEN j ->> '$' \
                           WHEN 'integer' THEN j WHEN 'real' THEN j WHEN 'true' THEN 'true' \
                           WHEN 'false' THEN 'false' END AS t \
                       FROM w WHERE w.i = {depth} AND json_type(j) <> 'array') AS r) AS l"
            )
        }
    }
}

/// A wildcard pattern as a PostgreSQL LIKE pattern with `\` as the escape character.
fn like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A wildcard pattern as a SQLite GLOB pattern (case-sensitive, unlike LIKE there).
fn glob(pattern: &str) -> String {
    pattern.replace('[', "[[]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_what_the_databases_would_read_as_wildcards() {
        assert_eq!(like("a*b?c%d_e\\f"), "a%b_c\\%d\\_e\\\\f");
        assert_eq!(glob("a*[x]?"), "a*[[]x]?");
    }

    #[test]
    fn time_values_are_the_shown_text_or_a_number() {
        assert_eq!(
            time_values("2024-05-14T10:00:00.000Z"),
            vec![1_715_680_800_000]
        );
        // Another spelling of the same time is not the text the API shows.
        assert!(time_values("2024-05-14T10:00:00Z").is_empty());
        assert_eq!(time_values("1715680800000"), vec![1_715_680_800_000]);
        assert!(time_values("1.5").is_empty());
    }
}
