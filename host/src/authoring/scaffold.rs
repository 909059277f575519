//! `peregrine rules new`: a rule project that builds, with a fixture and tests that pass
//! as generated. The example rule reports service account tokens requested by people.

use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Language {
    Rust,
    /// Built with componentize-py.
    Python,
    /// Built with componentize-js (jco).
    Js,
}

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("a rule name is lower-case letters, digits and '-', starting with a letter: not {0:?}")]
    Name(String),
    #[error("{0} already exists; choose another name or --dir")]
    Exists(PathBuf),
    #[error(
        "cannot find the Rust rules SDK (tried {0}); pass --sdk with the rules-sdk folder of a Peregrine checkout"
    )]
    NoSdk(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// The SDK this binary was built from, when it is still there.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules-sdk")
}

/// Creates the project; returns what to do next.
pub fn create(
    language: Language,
    name: &str,
    dir: &Path,
    sdk: Option<&Path>,
) -> Result<String, ScaffoldError> {
    if !valid_name(name) {
        return Err(ScaffoldError::Name(name.into()));
    }
    if dir.exists() {
        return Err(ScaffoldError::Exists(dir.into()));
    }
    match language {
        Language::Rust => rust(name, dir, sdk),
        Language::Python => python(name, dir),
        Language::Js => js(name, dir),
    }
}

fn write(dir: &Path, relative: &str, text: &str) -> Result<(), ScaffoldError> {
    let path = dir.join(relative);
    let result = std::fs::create_dir_all(path.parent().unwrap_or(dir))
        .and_then(|_| std::fs::write(&path, text));
    result.map_err(|source| ScaffoldError::Write { path, source })
}

/// The example: a token for a service account, requested by a person rather than by a
/// workload or a controller (a way to mint long-lived credentials by hand).
fn finding_type(name: &str) -> String {
    let words: String = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("Custom:Kubernetes/{words}")
}

fn rust(name: &str, dir: &Path, sdk: Option<&Path>) -> Result<String, ScaffoldError> {
    let sdk = sdk.map(Path::to_path_buf).unwrap_or_else(default_sdk);
    let sdk = std::fs::canonicalize(&sdk).map_err(|_| ScaffoldError::NoSdk(sdk.clone()))?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(ScaffoldError::NoSdk(sdk));
    }
    let crate_name = format!("rule-{name}");
    let module = crate_name.replace('-', "_");
    let finding_type = finding_type(name);
    write(
        dir,
        "Cargo.toml",
        &format!(
            r#"[package]
name = "{crate_name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
peregrine-rules-sdk = {{ path = "{sdk}" }}

[dev-dependencies]
peregrine-rules-sdk = {{ path = "{sdk}", features = ["testing"] }}

# A project of its own, even inside another workspace.
[workspace]

[profile.release]
opt-level = "s"
strip = true
"#,
            sdk = sdk.display()
        ),
    )?;
    write(
        dir,
        "src/lib.rs",
        &format!(
            r#"//! Reports a service account token requested by a person (a user who is not a
//! service account, node or control-plane component): a way to mint credentials by hand.

use peregrine_rules_sdk::*;

pub struct Rule;

impl peregrine_rules_sdk::Rule for Rule {{
    fn descriptor() -> Descriptor {{
        Descriptor::new(
            "{finding_type}",
            MEDIUM,
            "A person requested a service account token.",
            "A service account token was requested by a user who is not a workload or a controller.",
        )
        // The host sends only the events a subscription matches.
        .subscribe(
            AuditSubscription::any()
                .verbs(&["create"])
                .resources(&["serviceaccounts"])
                .subresources(&["token"]),
        )
    }}

    fn evaluate(event: &AuditEvent) -> Option<Finding> {{
        let user = event.username();
        if !event.succeeded() || user.starts_with("system:") {{
            return None;
        }}
        let account = format!(
            "{{}}/{{}}",
            event.namespace().unwrap_or("-"),
            event.name().unwrap_or("-")
        );
        Some(
            Finding::new(format!("{{user}} requested a token for service account {{account}}."))
                .with_info("serviceAccount", account),
        )
    }}
}}

export_rule!(Rule);

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn a_person_is_reported_and_a_controller_is_not() {{
        let findings = testing::run_file::<Rule>("fixtures/events.jsonl");
        assert_eq!(findings.len(), 1, "{{findings:?}}");
        assert!(findings[0].description.contains("dana@example.com"));
    }}
}}
"#
        ),
    )?;
    fixtures(dir, &finding_type)?;
    write(dir, ".gitignore", "/target\n")?;
    let wasm = format!("target/wasm32-wasip2/release/{module}.wasm");
    write(
        dir,
        "README.md",
        &format!(
            r#"# {crate_name}

A Peregrine rule: `{finding_type}`.

```sh
cargo test                                          # the rule natively, over fixtures/events.jsonl
cargo build --release --target wasm32-wasip2        # the module: {wasm}
peregrine rules test {wasm} fixtures/rule.test.json # the real module, through the host
peregrine rules inspect {wasm}                      # its descriptor, subscription and imports
cp {wasm} /path/to/rules/{name}.wasm                # deploy: a running `peregrine serve` loads it
```
"#
        ),
    )?;
    Ok(format!(
        "next:\n  cd {dir}\n  cargo test\n  cargo build --release --target wasm32-wasip2\n  {peregrine} rules test {wasm} fixtures/rule.test.json",
        dir = dir.display(),
        peregrine = peregrine_command()
    ))
}

/// The WIT world rules are built against, copied into Python and JavaScript projects.
const WIT: &str = include_str!("../../../wit/rules.wit");

const TITLE: &str = "A person requested a service account token.";
const DESCRIPTION: &str =
    "A service account token was requested by a user who is not a workload or a controller.";

/// The fixture every template shares: a person's token request (reported), a
/// controller's and a refused one (not).
fn fixtures(dir: &Path, finding_type: &str) -> Result<(), ScaffoldError> {
    let event = |id: &str, user: &str, groups: &str, code: u16| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/serviceaccounts/deployer/token","verb":"create","user":{{"username":"{user}","groups":[{groups}]}},"sourceIPs":["198.51.100.23"],"userAgent":"kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819","objectRef":{{"resource":"serviceaccounts","namespace":"payments","name":"deployer","apiVersion":"v1","subresource":"token"}},"responseStatus":{{"metadata":{{}},"code":{code}}},"requestReceivedTimestamp":"2024-05-14T10:02:11.000000Z","stageTimestamp":"2024-05-14T10:02:11.020000Z"}}"#
        )
    };
    let people = r#""developers","system:authenticated""#;
    let events = [
        event(
            "a1f0c6de-0001-4000-8000-000000000001",
            "dana@example.com",
            people,
            201,
        ),
        event(
            "a1f0c6de-0002-4000-8000-000000000002",
            "system:kube-controller-manager",
            r#""system:authenticated""#,
            201,
        ),
        event(
            "a1f0c6de-0003-4000-8000-000000000003",
            "lee@example.com",
            people,
            403,
        ),
    ];
    write(dir, "fixtures/events.jsonl", &(events.join("\n") + "\n"))?;
    write(
        dir,
        "fixtures/rule.test.json",
        &format!(
            r#"{{
  "description": "a person's token request is reported; a controller's and a refused one are not",
  "eventsFile": "events.jsonl",
  "findings": [
    {{ "type": "{finding_type}", "auditId": "a1f0c6de-0001-4000-8000-000000000001", "username": "dana@example.com" }}
  ]
}}
"#
        ),
    )
}

/// The README of a Python or JavaScript project.
fn readme(name: &str, language: &str, finding_type: &str, install: &str, build: &str) -> String {
    format!(
        r#"# {name}

A Peregrine rule in {language}: `{finding_type}`.

```sh
{install}
{build}
peregrine rules test rule.wasm fixtures/rule.test.json   # the real module, through the host
peregrine rules inspect rule.wasm                         # its descriptor, subscription and imports
cp rule.wasm /path/to/rules/{name}.wasm                   # deploy: a running `peregrine serve` loads it
```

`wit/rules.wit` is the world every Peregrine rule is built against.
"#
    )
}

fn next_steps(dir: &Path, build: &str, program: &str, install: &str) -> String {
    let setup = toolchain_step(program, install)
        .map(|step| format!("\n  {step}"))
        .unwrap_or_default();
    format!(
        "next:{setup}\n  cd {}\n  {build}\n  {} rules test rule.wasm fixtures/rule.test.json",
        dir.display(),
        peregrine_command()
    )
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What to run first when `program` is not on `PATH`: put the toolchains that `cargo xtask
/// toolchains` installed in the checkout this binary was built from on it, or install it.
fn toolchain_step(program: &str, install: &str) -> Option<String> {
    if on_path(program).is_some() {
        return None;
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/toolchains/bin");
    match std::fs::canonicalize(&bin) {
        Ok(bin) if bin.join(program).is_file() => {
            Some(format!("export PATH=\"{}:$PATH\"", bin.display()))
        }
        _ => Some(install.to_string()),
    }
}

/// `peregrine` when that is this binary, else this binary's path (e.g. `dist/peregrine`,
/// which would not be found from the project's folder).
fn peregrine_command() -> String {
    let Ok(exe) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return "peregrine".into();
    };
    let found = on_path("peregrine").and_then(|p| std::fs::canonicalize(p).ok());
    if found.as_ref() == Some(&exe) {
        "peregrine".into()
    } else {
        exe.display().to_string()
    }
}

fn python(name: &str, dir: &Path) -> Result<String, ScaffoldError> {
    let finding_type = finding_type(name);
    write(dir, "wit/rules.wit", WIT)?;
    write(
        dir,
        "app.py",
        &format!(
            r#""""Reports a service account token requested by a person (a user who is not a
service account, node or control-plane component): a way to mint credentials by hand."""

import wit_world
from wit_world.imports.detection import AuditSubscription, Descriptor, Finding


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return Descriptor(
            finding_type="{finding_type}",
            severity=5.0,
            title="{TITLE}",
            description="{DESCRIPTION}",
            # The host sends only the events a subscription matches.
            audit=AuditSubscription(
                verbs=["create"],
                resources=["serviceaccounts"],
                subresources=["token"],
                namespaces=[],
                users=[],
                source_ip_listed=False,
            ),
            runtime=None,
            wants_raw=False,
        )

    def evaluate_runtime(self, events):
        # The rule takes no runtime events (its descriptor has no runtime subscription).
        return []

    def evaluate_audit(self, events):
        findings = []
        for index, event in enumerate(events):
            user = event.user.username
            if (event.response_code or 0) >= 400 or user.startswith("system:"):
                continue
            ref = event.object_ref
            account = f"{{ref.namespace or '-'}}/{{ref.name or '-'}}" if ref else "-"
            findings.append(
                Finding(
                    event_index=index,
                    severity=None,
                    title=None,
                    description=f"{{user}} requested a token for service account {{account}}.",
                    parameters=None,
                    threat_intel=[],
                    additional_info=[("serviceAccount", account)],
                    anomaly=[],
                    aggregation_key=None,
                    runtime_context=[],
                )
            )
        return findings
"#
        ),
    )?;
    fixtures(dir, &finding_type)?;
    write(dir, ".gitignore", "/rule.wasm\n")?;
    let build = "componentize-py -d wit -w rule componentize app -o rule.wasm";
    let install = "pip install componentize-py==0.25.1";
    write(
        dir,
        "README.md",
        &readme(
            name,
            "Python",
            &finding_type,
            &format!("{install}   # once"),
            build,
        ),
    )?;
    Ok(next_steps(dir, build, "componentize-py", install))
}

fn js(name: &str, dir: &Path) -> Result<String, ScaffoldError> {
    let finding_type = finding_type(name);
    write(dir, "wit/rules.wit", WIT)?;
    write(
        dir,
        "rule.js",
        &format!(
            r#"// Reports a service account token requested by a person (a user who is not a
// service account, node or control-plane component): a way to mint credentials by hand.

export function describe() {{
  return {{
    findingType: '{finding_type}',
    severity: 5.0,
    title: '{TITLE}',
    description: '{DESCRIPTION}',
    // The host sends only the events a subscription matches.
    audit: {{
      verbs: ['create'],
      resources: ['serviceaccounts'],
      subresources: ['token'],
      namespaces: [],
      users: [],
      sourceIpListed: false,
    }},
    runtime: undefined,
    wantsRaw: false,
  }};
}}

// The rule takes no runtime events (its descriptor has no runtime subscription).
export function evaluateRuntime(events) {{
  return [];
}}

export function evaluateAudit(events) {{
  const findings = [];
  events.forEach((event, index) => {{
    const user = event.user.username;
    if ((event.responseCode ?? 0) >= 400 || user.startsWith('system:')) return;
    const ref = event.objectRef;
    const account = ref ? `${{ref.namespace ?? '-'}}/${{ref.name ?? '-'}}` : '-';
    findings.push({{
      eventIndex: index,
      description: `${{user}} requested a token for service account ${{account}}.`,
      threatIntel: [],
      additionalInfo: [['serviceAccount', account]],
      anomaly: [],
      runtimeContext: [],
    }});
  }});
  return findings;
}}
"#
        ),
    )?;
    fixtures(dir, &finding_type)?;
    write(dir, ".gitignore", "/rule.wasm\n")?;
    // The sandbox offers no HTTP: leave those interfaces out.
    let build = "componentize-js rule.js --wit wit -n rule -d http fetch-event -o rule.wasm";
    let install = "npm install -g @bytecodealliance/componentize-js@0.23.0";
    write(
        dir,
        "README.md",
        &readme(
            name,
            "JavaScript",
            &finding_type,
            &format!("{install}   # once (Node.js 18+)"),
            build,
        ),
    )?;
    Ok(next_steps(dir, build, "componentize-js", install))
}
