//! Building rule modules, shared by `cargo xtask` and the end-to-end tests (which build
//! the real modules they run).

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod polyglot;

pub const WASM_TARGET: &str = "wasm32-wasip2";
/// The cargo profile rule modules are built with (see the workspace `Cargo.toml`).
pub const RULES_PROFILE: &str = "rules";

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// Installs the wasm target with rustup when the toolchain lacks it.
pub fn ensure_wasm_target() -> Result<()> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// A crate that builds one rule module: its package name and the module's file stem.
#[derive(Clone, Debug)]
pub struct RuleCrate {
    pub package: String,
    pub slug: String,
    pub dir: PathBuf,
}

/// The rule crates directly under `dir` (each a folder with a Cargo.toml whose package
/// name is `<prefix><slug>`).
pub fn rule_crates(dir: &Path, prefix: &str) -> Result<Vec<RuleCrate>> {
    let mut crates = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let slug = entry.file_name().to_string_lossy().into_owned();
        crates.push(RuleCrate {
            package: format!("{prefix}{slug}"),
            slug,
            dir: entry.path(),
        });
    }
    crates.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(crates)
}

/// The shipped rules: `rules/<slug>`, packages `rule-<slug>`.
pub fn shipped_rules() -> Result<Vec<RuleCrate>> {
    rule_crates(&workspace_root().join("rules"), "rule-")
}

/// Test-only modules (trapping, looping, memory-eating rules): `tests/fixture-rules/<slug>`,
/// packages `fixture-rule-<slug>`.
pub fn fixture_rules() -> Result<Vec<RuleCrate>> {
    rule_crates(
        &workspace_root().join("tests/fixture-rules"),
        "fixture-rule-",
    )
}

/// Builds rule crates into components and copies them to `out_dir/<slug>.wasm`.
/// `target_dir` keeps the wasm build apart from the host's.
pub fn build_rules(
    crates: &[RuleCrate],
    target_dir: &Path,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let mut build = cargo();
    build
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--target",
            WASM_TARGET,
            "--profile",
            RULES_PROFILE,
            "--target-dir",
        ])
        .arg(target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for c in crates {
        build.args(["-p", &c.package]);
    }
    run(&mut build)?;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut built = Vec::new();
    for c in crates {
        let artifact = target_dir
            .join(WASM_TARGET)
            .join(RULES_PROFILE)
            .join(format!("{}.wasm", c.package.replace('-', "_")));
        let dest = out_dir.join(format!("{}.wasm", c.slug));
        // Copy then rename, so a watcher never sees a half-written module.
        let tmp = out_dir.join(format!(".{}.wasm.tmp", c.slug));
        std::fs::copy(&artifact, &tmp).map_err(|e| format!("{}: {e}", artifact.display()))?;
        std::fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        built.push(dest);
    }
    Ok(built)
}
