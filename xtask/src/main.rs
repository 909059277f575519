//! `cargo xtask dist | demo | test | bench | accuracy | toolchains | schemathesis`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use xtask::{Result, build_rules, run, shipped_rules, workspace_root};

const USAGE: &str = "usage: cargo xtask <dist | demo | test | bench [ARGS]>
  dist   build the release host into dist/peregrine and every rule into dist/rules/<slug>.wasm
  demo   dist, then scan the bundled sample audit log and print the findings
  test   run every test (builds the wasm modules the tests use); with PEREGRINE_SCHEMATHESIS=1
         also schemathesis against a live server (as `schemathesis` below)
  bench  dist, then the micro benchmarks (criterion) and the whole-pipeline benchmarks;
         ARGS go to the latter (e.g. --events 200000, --skip-webhook)
  accuracy  dist, then measure the anomaly rules on held-out simulator seeds and write
         docs/accuracy.md (fails unless every type reaches 0.9 precision and recall)
  toolchains  install the Python and JavaScript component toolchains under target/toolchains
  schemathesis  build the debug server and the rules, then scripts/schemathesis.sh: every
         schemathesis phase against `peregrine serve` (installs schemathesis under target/)";

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("dist") => dist(),
        Some("demo") => dist().and_then(|_| demo()),
        Some("test") => test(),
        Some("bench") => dist().and_then(|_| bench()),
        Some("accuracy") => dist().and_then(|_| accuracy()),
        Some("toolchains") => xtask::polyglot::install(),
        Some("schemathesis") => schemathesis(),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn dist() -> Result<()> {
    let root = workspace_root();
    let dist = root.join("dist");
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "peregrine",
        "--bin",
        "peregrine",
    ]))?;
    std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    let binary = root.join("target/release/peregrine");
    let tmp = dist.join(".peregrine.tmp");
    std::fs::copy(&binary, &tmp).map_err(|e| format!("{}: {e}", binary.display()))?;
    std::fs::rename(&tmp, dist.join("peregrine")).map_err(|e| e.to_string())?;
    let rules = shipped_rules()?;
    let built = build_rules(&rules, &root.join("target/rules-wasm"), &dist.join("rules"))?;
    eprintln!(
        "xtask: dist/peregrine and {} rule modules in dist/rules/",
        built.len()
    );
    // The Python and JavaScript examples, where their toolchains are installed.
    for (example, result) in xtask::polyglot::build_examples(&dist.join("examples")) {
        match result {
            Ok(module) => eprintln!("xtask: {}", module.display()),
            Err(reason) => eprintln!("xtask: {} not built: {reason}", example.display()),
        }
    }
    Ok(())
}

fn demo() -> Result<()> {
    let root = workspace_root();
    let samples: Vec<PathBuf> = vec![root.join("samples/attack-scenario.jsonl")];
    run(Command::new(root.join("dist/peregrine"))
        .current_dir(&root)
        .args([
            "scan",
            "--rules",
            "dist/rules",
            "--intel",
            "samples/intel",
            "--cluster",
            "demo",
            "--format",
            "table",
        ])
        .args(&samples))
}

fn accuracy() -> Result<()> {
    let root = workspace_root();
    run(Command::new(root.join("dist/peregrine"))
        .current_dir(&root)
        .args([
            "accuracy",
            "--rules",
            "dist/rules",
            "--out",
            "docs/accuracy.md",
            "--require",
            "0.9",
        ])
        .args(std::env::args().skip(2)))
}

fn bench() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    run(cargo().args(["bench", "--package", "peregrine", "--bench", "engine"]))?;
    run(cargo().args(["bench", "--package", "peregrine", "--bench", "intel_load"]))?;
    if !args.iter().any(|a| a == "--skip-webhook") {
        ensure_postgres()?;
    }
    run(cargo()
        .args(["run", "--release", "--package", "peregrine-bench", "--"])
        .args(args))
}

fn test() -> Result<()> {
    xtask::ensure_wasm_target()?;
    ensure_postgres()?;
    run(cargo().args(["test", "--workspace"]))?;
    if std::env::var_os("PEREGRINE_SCHEMATHESIS").is_some_and(|v| v == "1") {
        schemathesis()?;
    }
    Ok(())
}

/// The API against its own OpenAPI document: schemathesis, every phase, on a live server
/// with the shipped rules (built where the end-to-end tests build them).
fn schemathesis() -> Result<()> {
    xtask::ensure_wasm_target()?;
    let root = workspace_root();
    run(cargo().args(["build", "--package", "peregrine", "--bin", "peregrine"]))?;
    let build = root.join("target/rules-wasm");
    let rules = build.join("modules/rules");
    xtask::build_rules(&shipped_rules()?, &build, &rules)?;
    run(Command::new("bash")
        .arg(root.join("scripts/schemathesis.sh"))
        .current_dir(&root)
        .env("PEREGRINE_BIN", root.join("target/debug/peregrine"))
        .env("PEREGRINE_RULES", &rules))
}

/// The store tests need PostgreSQL on 127.0.0.1:5432 (or `PEREGRINE_TEST_POSTGRES`): find
/// it, or start the local cluster if one is installed but not running.
fn ensure_postgres() -> Result<()> {
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::{Duration, Instant};

    let url = std::env::var("PEREGRINE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let host_port = url
        .split('@')
        .next_back()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_string();
    let host_port = if host_port.contains(':') {
        host_port
    } else {
        format!("{host_port}:5432")
    };
    let reachable = || {
        host_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
    };
    if reachable() {
        return Ok(());
    }
    eprintln!("xtask: PostgreSQL is not answering on {host_port}; starting the local cluster");
    let versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for version in &versions {
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", version, "main", "start"])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reachable() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "PostgreSQL is needed for the store tests and did not answer on {host_port} \
         (installed clusters: {versions:?}); start it, or point PEREGRINE_TEST_POSTGRES at one"
    ))
}
