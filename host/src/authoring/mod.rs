//! The rule author's toolkit: `peregrine rules inspect` (what a module is, and whether the
//! sandbox can run it) and `peregrine rules test` (the real `.wasm` over fixture files of
//! events in and findings out).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use peregrine_rules_sdk::normalize::runtime::{Parsed, normalize as normalize_runtime};
use peregrine_rules_sdk::normalize::{JudgeOnce, Normalizer};
use peregrine_rules_sdk::runtime::ThreatCategory;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::{EngineConfig, Evaluator, LoadError, RuleEngine, StateStores};
use crate::findings::FindingContext;
use crate::ingest::{self, Item};
use crate::intel::{IntelDir, ThreatLists};
use crate::pipeline;

pub mod scaffold;

#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{path}: {message}")]
    Fixture { path: String, message: String },
}

/// What `rules inspect` found.
pub struct Inspection {
    /// What it prints.
    pub text: String,
    /// Whether the host would load the module.
    pub loadable: bool,
}

/// Describes a module and whether the host would load it.
pub fn inspect(module: &Path, config: &EngineConfig) -> Result<Inspection, AuthoringError> {
    let engine = RuleEngine::new(config.clone())?;
    let bytes = std::fs::read(module).map_err(|source| LoadError::Read {
        path: module.into(),
        source,
    })?;
    let mut out = String::new();
    let _ = writeln!(out, "module:       {}", module.display());
    let _ = writeln!(
        out,
        "size:         {} KiB, sha256 {}",
        bytes.len() / 1024,
        crate::engine::content_hash(&bytes)
    );
    let component = engine.compile(module, &bytes)?;
    let _ = writeln!(out, "imports:");
    let mut not_offered = Vec::new();
    for name in engine.imports_of(&component) {
        let offered = describe_import(&name);
        if offered == NOT_OFFERED {
            not_offered.push(name.clone());
        }
        let _ = writeln!(out, "  {name}  {offered}");
    }
    if !not_offered.is_empty() {
        let _ = writeln!(
            out,
            "verdict:      REFUSED: imports {}, which the sandbox does not offer (a rule gets \
             logging, its state store and an empty WASI, nothing else); rebuild without them",
            not_offered.join(", ")
        );
        return Ok(Inspection {
            text: out,
            loadable: false,
        });
    }
    let loaded = engine.load_compiled(module, &bytes, &component, &StateStores::default());
    let rule = match loaded {
        Ok(rule) => rule,
        Err(e) => {
            let _ = writeln!(out, "verdict:      REFUSED: {e}");
            return Ok(Inspection {
                text: out,
                loadable: false,
            });
        }
    };
    let d = &rule.descriptor;
    let _ = writeln!(
        out,
        "world:        {}@{} rule{}",
        crate::engine::WIT_PACKAGE,
        rule.world.version(),
        match rule.world {
            crate::engine::World::Current => "",
            crate::engine::World::V0_2 =>
                " (a previous contract: its runtime subscription cannot name executables or \
                 paths; rebuild with the current SDK)",
            crate::engine::World::V0_1 =>
                " (a previous contract: audit events only; rebuild with the current SDK \
                 for runtime events)",
        }
    );
    let _ = writeln!(out, "finding type: {}", d.finding_type);
    let _ = writeln!(
        out,
        "severity:     {} ({})",
        d.severity,
        crate::findings::severity_label(d.severity)
    );
    let _ = writeln!(out, "title:        {}", d.title);
    let _ = writeln!(out, "description:  {}", d.description);
    match &d.audit {
        None => {
            let _ = writeln!(
                out,
                "subscription: none (the rule is never given audit events)"
            );
        }
        Some(s) => {
            let list = |name: &str, items: &[String]| {
                if items.is_empty() {
                    format!("{name}: any")
                } else {
                    format!("{name}: {}", items.join(", "))
                }
            };
            let _ = writeln!(out, "subscription:");
            for line in [
                list("verbs", &s.verbs),
                list("resources", &s.resources),
                list("subresources", &s.subresources),
                list("namespaces", &s.namespaces),
                list("users", &s.users),
                format!(
                    "source IP on a threat list: {}",
                    if s.source_ip_listed {
                        "required"
                    } else {
                        "not required"
                    }
                ),
            ] {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    match &d.runtime {
        None => {
            let _ = writeln!(
                out,
                "runtime:      none (the rule is never given runtime events)"
            );
        }
        Some(s) => {
            let activities: Vec<&str> = s.activities.iter().map(|a| a.name()).collect();
            let any = |items: &[&str]| {
                if items.is_empty() {
                    "any".to_string()
                } else {
                    items.join(", ")
                }
            };
            let sensors: Vec<&str> = s.sensors.iter().map(String::as_str).collect();
            let _ = writeln!(out, "runtime:");
            let _ = writeln!(out, "  activities: {}", any(&activities));
            let _ = writeln!(out, "  sensors: {}", any(&sensors));
            let _ = writeln!(
                out,
                "  address, domain or hash on a threat list: {}",
                if s.listed { "required" } else { "not required" }
            );
            let _ = writeln!(
                out,
                "  processes: {}",
                if s.containers_only {
                    "in containers only"
                } else {
                    "in containers and on nodes"
                }
            );
            if !s.matching.is_empty() {
                let conditions: Vec<String> = s
                    .matching
                    .iter()
                    .map(peregrine_rules_sdk::subscription::describe)
                    .collect();
                let _ = writeln!(out, "  only events with one of: {}", conditions.join("; "));
            }
        }
    }
    let _ = writeln!(
        out,
        "raw event:    {}",
        if d.wants_raw { "wanted" } else { "not wanted" }
    );
    let _ = writeln!(out, "verdict:      the host loads and runs this module");
    Ok(Inspection {
        text: out,
        loadable: true,
    })
}

const NOT_OFFERED: &str = "NOT OFFERED by the sandbox";

/// What the sandbox gives an import.
fn describe_import(name: &str) -> &'static str {
    let interface = name.split('@').next().unwrap_or(name);
    match interface {
        "peregrine:rules/audit" | "peregrine:rules/detection" | "peregrine:rules/runtime" => {
            "types"
        }
        "peregrine:rules/log" => "offered: log lines go to the host's log",
        "peregrine:rules/state" => "offered: the rule's own key-value store",
        "peregrine:rules/settings" => "offered: the operator's --rule-setting values, read only",
        "wasi:cli/environment" => "offered empty: no variables, no arguments",
        "wasi:cli/stdout" | "wasi:cli/stderr" | "wasi:cli/stdin" => {
            "offered: stderr is kept for panic messages; stdin is empty"
        }
        "wasi:clocks/wall-clock" | "wasi:clocks/monotonic-clock" => {
            "offered stopped: always the Unix epoch (judge by event time)"
        }
        "wasi:filesystem/types" | "wasi:filesystem/preopens" => "offered empty: no directories",
        "wasi:sockets/network"
        | "wasi:sockets/instance-network"
        | "wasi:sockets/tcp"
        | "wasi:sockets/tcp-create-socket"
        | "wasi:sockets/udp"
        | "wasi:sockets/udp-create-socket"
        | "wasi:sockets/ip-name-lookup" => "offered denied: every socket and name lookup fails",
        "wasi:random/random" | "wasi:random/insecure" | "wasi:random/insecure-seed" => "offered",
        i if i.starts_with("wasi:io/") || i.starts_with("wasi:cli/") => "offered",
        _ => NOT_OFFERED,
    }
}

/// A fixture file of `rules test`: events in, findings out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Fixture {
    #[serde(default)]
    description: Option<String>,
    /// Cluster name for events that do not carry one.
    #[serde(default)]
    cluster: Option<String>,
    /// Threat lists the source IPs are checked against.
    #[serde(default)]
    threat_lists: FixtureLists,
    /// The events, inline.
    #[serde(default)]
    events: Vec<Value>,
    /// Or a file of events (any format `scan` reads), relative to the fixture.
    #[serde(default)]
    events_file: Option<PathBuf>,
    /// The findings expected, each matched on the fields it gives.
    findings: Vec<Expected>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FixtureLists {
    #[serde(default)]
    malicious: Vec<String>,
    #[serde(default)]
    tor: Vec<String>,
    #[serde(default)]
    trusted: Vec<String>,
    #[serde(default)]
    custom: std::collections::BTreeMap<String, Vec<String>>,
    /// Lists of the runtime categories: category (`command-and-control`, …) → name →
    /// addresses, domains and hashes.
    #[serde(default)]
    categories: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Expected {
    #[serde(rename = "type")]
    finding_type: String,
    #[serde(default)]
    audit_id: Option<String>,
    #[serde(default)]
    severity: Option<f64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    username: Option<String>,
    /// A runtime finding's process executable.
    #[serde(default)]
    executable_path: Option<String>,
}

/// The outcome of one fixture file.
pub struct FixtureResult {
    pub path: PathBuf,
    pub passed: bool,
    /// What to print: a one-line pass, or the differences.
    pub report: String,
}

/// Runs `module` through the host engine over each fixture.
pub fn test(
    module: &Path,
    fixtures: &[PathBuf],
    config: &EngineConfig,
) -> Result<Vec<FixtureResult>, AuthoringError> {
    let engine = RuleEngine::new(config.clone())?;
    let mut results = Vec::new();
    for path in fixtures {
        // A fresh load per fixture: every fixture starts with empty rule state.
        let rule = Arc::new(engine.load(module, &StateStores::default())?);
        results.push(run_fixture(&engine, &rule, path)?);
    }
    Ok(results)
}

fn fixture_error(path: &Path, message: impl Into<String>) -> AuthoringError {
    AuthoringError::Fixture {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The fixture's lists, loaded as the server loads an intel directory.
fn intel_of(lists: &FixtureLists, dir: &IntelDir) -> Result<ThreatLists, String> {
    let write = |path: PathBuf, entries: &[String]| {
        if entries.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&path, entries.join("\n") + "\n").map_err(|e| e.to_string())
    };
    write(dir.builtin(&crate::intel::MALICIOUS), &lists.malicious)?;
    write(dir.builtin(&crate::intel::TOR_EXIT_NODES), &lists.tor)?;
    write(dir.trusted(), &lists.trusted)?;
    for (name, entries) in &lists.custom {
        write(dir.custom(name, "txt"), entries)?;
    }
    for (category, named) in &lists.categories {
        let category = ThreatCategory::from_name(category)
            .ok_or_else(|| format!("threatLists.categories: no list category {category:?}"))?;
        for (name, entries) in named {
            write(dir.list(category, name, "txt"), entries)?;
        }
    }
    dir.load()
        .map(|(intel, _)| intel)
        .map_err(|e| e.to_string())
}

fn run_fixture(
    engine: &RuleEngine,
    rule: &Arc<crate::engine::LoadedRule>,
    path: &Path,
) -> Result<FixtureResult, AuthoringError> {
    let text = std::fs::read_to_string(path).map_err(|e| fixture_error(path, e.to_string()))?;
    let fixture: Fixture = serde_json::from_str(&text)
        .map_err(|e| fixture_error(path, format!("not a fixture: {e}")))?;
    let normalizer = Normalizer {
        cluster: fixture.cluster.clone().unwrap_or_else(|| "test".into()),
        keep_raw: rule.descriptor.wants_raw,
    };
    let mut events = Vec::new();
    let mut runtime = Vec::new();
    let mut owners = Vec::new();
    for (i, value) in fixture.events.iter().enumerate() {
        // Runtime sensor objects and audit events may be mixed, as in any file.
        if ingest::runtime::is_runtime(value) {
            match normalize_runtime(&normalizer, value, None) {
                Ok(Parsed::Event(e)) => runtime.push(*e),
                Ok(_) => {}
                Err(e) => {
                    return Err(fixture_error(
                        path,
                        format!("events[{i}] is not a runtime event: {e}"),
                    ));
                }
            }
            continue;
        }
        let (event, owner) = normalizer
            .audit_from_value(value)
            .map_err(|e| fixture_error(path, format!("events[{i}] is not an audit event: {e}")))?;
        events.push(event);
        owners.extend(owner);
    }
    if let Some(file) = &fixture.events_file {
        let file = path.parent().unwrap_or(Path::new(".")).join(file);
        let mut problems = Vec::new();
        ingest::read_path(&file, &normalizer, &mut |item| match item {
            Item::Event(e, _) => events.push(e),
            Item::Runtime(e, _) => runtime.push(*e),
            Item::Owner(o) => owners.push(o),
            Item::Dropped { .. } => {}
            Item::Malformed { location, reason } => problems.push(format!("{location}: {reason}")),
        })
        .map_err(|e| fixture_error(path, e.to_string()))?;
        if !problems.is_empty() {
            return Err(fixture_error(path, problems.join("\n")));
        }
    }
    let dir = tempfile::tempdir().map_err(|e| fixture_error(path, e.to_string()))?;
    let intel = intel_of(&fixture.threat_lists, &IntelDir::new(dir.path()))
        .map_err(|e| fixture_error(path, e))?;
    let read = events.len() + runtime.len();
    // As the host does: each request judged once, never at `RequestReceived`; each
    // runtime event once, with the lineage of the processes before it.
    let mut once = JudgeOnce::default();
    events.retain_mut(|e| pipeline::admit(&mut once, &intel, e).judged().is_some());
    // The audit events' pod controllers name the runtime events' workloads.
    let mut attribution = pipeline::Attribution::default();
    for owner in owners {
        attribution.owners.learn(owner);
    }
    runtime.retain_mut(|e| {
        pipeline::admit_runtime(
            &mut once,
            &mut attribution,
            &intel,
            std::slice::from_ref(rule),
            e,
        )
        .judged()
        .is_some()
    });
    let judged = events.len() + runtime.len();

    let mut evaluator = Evaluator::new(engine, vec![Arc::clone(rule)]);
    let mut raised = pipeline::judge(
        &mut evaluator,
        &FindingContext::default(),
        &events,
        &mut Vec::new(),
    );
    raised.extend(pipeline::judge_runtime(
        &mut evaluator,
        &FindingContext::default(),
        &runtime,
        &mut Vec::new(),
    ));
    let actual: Vec<Value> = raised
        .into_iter()
        .map(|f| {
            json!({
                "type": f.finding_type,
                "auditId": f.service.additional_info.get("auditId"),
                "severity": f.severity,
                "title": f.title,
                "username": f.resource.kubernetes_details.kubernetes_user_details.map(|u| u.username),
                "executablePath": f.service.runtime_details.map(|r| r.process.executable_path),
            })
        })
        .collect();
    let failure = rule.stats.last_error();

    let mut unmatched: Vec<Value> = actual.clone();
    let mut missing = Vec::new();
    for expected in &fixture.findings {
        match unmatched.iter().position(|a| matches(expected, a)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(expected.clone()),
        }
    }
    let passed = missing.is_empty() && unmatched.is_empty() && failure.is_none();
    let name = path.display();
    let mut report = String::new();
    if passed {
        let _ = write!(
            report,
            "ok   {name}: {read} events ({judged} judged), {} findings as expected",
            actual.len()
        );
        if let Some(d) = &fixture.description {
            let _ = write!(report, " ({d})");
        }
    } else {
        let _ = writeln!(
            report,
            "FAIL {name}: {read} events ({judged} judged), {} findings",
            actual.len()
        );
        if let Some(error) = failure {
            let _ = writeln!(report, "  the rule failed: {error}");
        }
        for m in &missing {
            let _ = writeln!(report, "  - expected, not raised: {}", expected_json(m));
        }
        for u in &unmatched {
            let _ = writeln!(report, "  + raised, not expected: {u}");
        }
    }
    Ok(FixtureResult {
        path: path.to_path_buf(),
        passed,
        report: report.trim_end().to_string(),
    })
}

fn expected_json(e: &Expected) -> Value {
    let mut v = json!({ "type": e.finding_type });
    if let Some(x) = &e.audit_id {
        v["auditId"] = json!(x);
    }
    if let Some(x) = e.severity {
        v["severity"] = json!(x);
    }
    if let Some(x) = &e.title {
        v["title"] = json!(x);
    }
    if let Some(x) = &e.username {
        v["username"] = json!(x);
    }
    if let Some(x) = &e.executable_path {
        v["executablePath"] = json!(x);
    }
    v
}

fn matches(expected: &Expected, actual: &Value) -> bool {
    actual["type"] == expected.finding_type.as_str()
        && expected
            .audit_id
            .as_ref()
            .is_none_or(|x| actual["auditId"] == x.as_str())
        && expected
            .severity
            .is_none_or(|x| actual["severity"].as_f64() == Some(x))
        && expected
            .title
            .as_ref()
            .is_none_or(|x| actual["title"] == x.as_str())
        && expected
            .username
            .as_ref()
            .is_none_or(|x| actual["username"] == x.as_str())
        && expected
            .executable_path
            .as_ref()
            .is_none_or(|x| actual["executablePath"] == x.as_str())
}
