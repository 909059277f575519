//! `cargo xtask dist | demo | test`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use xtask::{Result, build_rules, run, shipped_rules, workspace_root};

const USAGE: &str = "usage: cargo xtask <dist | demo | test>
  dist   build the release host into dist/peregrine and every rule into dist/rules/<slug>.wasm
  demo   dist, then scan the bundled sample audit log and print the findings
  test   run every test (builds the wasm modules the tests use)";

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("dist") => dist(),
        Some("demo") => dist().and_then(|_| demo()),
        Some("test") => test(),
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

fn test() -> Result<()> {
    xtask::ensure_wasm_target()?;
    run(cargo().args(["test", "--workspace"]))
}
