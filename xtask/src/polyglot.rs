//! Rules in Python (componentize-py, from PyPI) and JavaScript (componentize-js, from npm),
//! built against the same `wit/` world as the Rust rules.
//!
//! `cargo xtask toolchains` installs both, pinned, under `target/toolchains/`, with a
//! `componentize-py` and a `componentize-js` in `target/toolchains/bin` that run as they
//! are (put that folder on `PATH`); a `componentize-py` or `componentize-js` on `PATH` is
//! used when there is none there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, run, workspace_root};

pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
pub const COMPONENTIZE_JS: &str = "@bytecodealliance/componentize-js@0.23.0";

/// A language other than Rust that rules can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
}

impl Language {
    /// The source file of a rule project in this language.
    pub fn source(self) -> &'static str {
        match self {
            Language::Python => "app.py",
            Language::JavaScript => "rule.js",
        }
    }

    fn install_hint(self) -> String {
        match self {
            Language::Python => format!(
                "install it with `cargo xtask toolchains` (or `pip install {COMPONENTIZE_PY}`)"
            ),
            Language::JavaScript => format!(
                "install it with `cargo xtask toolchains` (or `npm install -g {COMPONENTIZE_JS}`; needs Node.js 18+)"
            ),
        }
    }
}

fn toolchains() -> PathBuf {
    workspace_root().join("target/toolchains")
}

/// The folder of the commands `install` writes, for `PATH`.
pub fn toolchains_bin() -> PathBuf {
    toolchains().join("bin")
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The command that turns a source file of `language` into a component, or why there is
/// none on this machine.
pub fn componentizer(language: Language) -> Result<Command> {
    let missing = |what: &str| {
        Err(format!(
            "no {what} on this machine: {}",
            language.install_hint()
        ))
    };
    let program = match language {
        Language::Python => "componentize-py",
        Language::JavaScript => {
            if on_path("node").is_none() {
                return missing("Node.js");
            }
            "componentize-js"
        }
    };
    // The same command an author runs with `target/toolchains/bin` on PATH.
    let local = toolchains_bin().join(program);
    if local.is_file() {
        return Ok(Command::new(local));
    }
    match on_path(program) {
        Some(p) => Ok(Command::new(p)),
        None => missing(program),
    }
}

/// `'text'` for a POSIX shell.
fn shell_quote(text: &Path) -> String {
    format!("'{}'", text.display().to_string().replace('\'', r"'\''"))
}

/// Writes `bin/<name>`: a script that sets `env` and runs `program`.
fn write_launcher(bin: &Path, name: &str, env: &[(&str, &Path)], program: &Path) -> Result<()> {
    let mut script = String::from("#!/bin/sh\n# Written by `cargo xtask toolchains`.\n");
    for (var, value) in env {
        script += &format!(
            "{var}={}${{{var}:+:${var}}}\nexport {var}\n",
            shell_quote(value)
        );
    }
    script += &format!("exec {} \"$@\"\n", shell_quote(program));
    let path = bin.join(name);
    std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Installs the pinned toolchains under `target/toolchains/`, and in `bin/` the commands
/// that run them: pip's `--target` install finds its modules only through `PYTHONPATH`.
pub fn install() -> Result<()> {
    let dir = toolchains();
    let bin = toolchains_bin();
    std::fs::create_dir_all(dir.join("js")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(dir.join("python"))
        .args(["--upgrade", COMPONENTIZE_PY]))?;
    write_launcher(
        &bin,
        "componentize-py",
        &[("PYTHONPATH", &dir.join("python"))],
        &dir.join("python/bin/componentize-py"),
    )?;
    run(Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir.join("js"))
        .arg(COMPONENTIZE_JS))?;
    write_launcher(
        &bin,
        "componentize-js",
        &[],
        &dir.join("js/node_modules/.bin/componentize-js"),
    )?;
    println!(
        "installed; to run componentize-py and componentize-js as the guides do:\n  export PATH={}:\"$PATH\"",
        shell_quote(&bin)
    );
    Ok(())
}

/// Builds the rule in `project` (a folder with `app.py` or `rule.js`) into `out`, against
/// the workspace's WIT world. `wit` is the folder holding `rules.wit`.
pub fn build(language: Language, project: &Path, wit: &Path, out: &Path) -> Result<()> {
    let mut command = componentizer(language)?;
    match language {
        Language::Python => {
            command
                .arg("-d")
                .arg(wit)
                .args(["-w", "rule", "componentize", "-p"])
                .arg(project)
                .args(["app", "-o"])
                .arg(out);
        }
        Language::JavaScript => {
            // componentize-js reads paths relative to where it runs.
            command
                .current_dir(project)
                .arg(language.source())
                .arg("--wit")
                .arg(relative_to(wit, project))
                .args(["-n", "rule", "-d", "http", "fetch-event", "-o"])
                .arg(out);
        }
    }
    run(&mut command)?;
    if out.is_file() {
        Ok(())
    } else {
        Err(format!("{} was not written", out.display()))
    }
}

/// `path` relative to `base` (both absolute), e.g. `../../wit`.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for c in &path[common..] {
        relative.push(c);
    }
    relative
}

/// The example rules in `examples/`: (language, folder).
pub fn examples() -> Vec<(Language, PathBuf)> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(workspace_root().join("examples")) {
        for dir in entries.flatten().map(|e| e.path()) {
            for language in [Language::Python, Language::JavaScript] {
                if dir.join(language.source()).is_file() {
                    found.push((language, dir.clone()));
                }
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

/// Builds every example into `out_dir/<folder>.wasm`; a language whose toolchain is
/// missing gives the reason instead.
pub fn build_examples(out_dir: &Path) -> Vec<(PathBuf, Result<PathBuf>)> {
    let wit = workspace_root().join("wit");
    let _ = std::fs::create_dir_all(out_dir);
    examples()
        .into_iter()
        .map(|(language, dir)| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let out = out_dir.join(format!("{name}.wasm"));
            let built = build(language, &dir, &wit, &out).map(|_| out);
            (dir, built)
        })
        .collect()
}
