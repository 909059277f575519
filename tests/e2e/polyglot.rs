//! Rules in Python (componentize-py) and JavaScript (componentize-js), built against the
//! same WIT world and run by the same host in the same sandbox as the Rust rules.
//!
//! Where a toolchain is not installed these tests say so and skip that language
//! (`cargo xtask toolchains` installs both); with `PEREGRINE_REQUIRE_POLYGLOT=1`, as CI
//! sets, a missing toolchain fails instead.

use std::path::Path;
use std::process::Output;

use peregrine_e2e::cli::text;
use peregrine_e2e::workspace_path;
use xtask::polyglot::{self, Language};

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

fn peregrine(args: &[&str]) -> Output {
    peregrine_e2e::cli::run(PEREGRINE, args)
}

/// Whether `language` can be built here; prints why not, or fails when it is required.
fn available(language: Language) -> bool {
    match polyglot::componentizer(language) {
        Ok(_) => true,
        Err(reason) if std::env::var_os("PEREGRINE_REQUIRE_POLYGLOT").is_some() => {
            panic!("{language:?} rules are required here: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED {language:?} rules: {reason}");
            false
        }
    }
}

fn test_module(module: &Path, fixture: &Path) {
    let out = peregrine(&[
        "rules",
        "test",
        module.to_str().unwrap(),
        fixture.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 passed, 0 failed"), "{}", text(&out));
    let out = peregrine(&["rules", "inspect", module.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the host loads and runs this module"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_python_and_javascript_examples_judge_their_fixtures_through_the_host() {
    let out_dir = workspace_path("target/rules-wasm/examples");
    let examples = polyglot::examples();
    for language in [Language::Python, Language::JavaScript] {
        assert!(
            examples.iter().any(|(l, _)| *l == language),
            "an example in {language:?}"
        );
    }
    for (language, dir) in examples {
        if !available(language) {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let module = out_dir.join(format!("{name}.wasm"));
        std::fs::create_dir_all(&out_dir).unwrap();
        polyglot::build(language, &dir, &workspace_path("wit"), &module)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        test_module(&module, &dir.join("rule.test.json"));
    }
}

#[test]
fn rules_new_in_python_and_javascript_builds_and_passes_unchanged() {
    for (language, flag) in [(Language::Python, "python"), (Language::JavaScript, "js")] {
        if !available(language) {
            continue;
        }
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join(format!("new-{flag}"));
        let out = peregrine(&[
            "rules",
            "new",
            "--lang",
            flag,
            "--dir",
            dir.to_str().unwrap(),
            "token-by-human",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        // The steps it prints work as printed, from where it ran, in a plain shell.
        let printed = text(&out);
        let steps = printed
            .split_once("next:\n")
            .unwrap_or_else(|| panic!("no next steps: {printed}"))
            .1;
        let ran = std::process::Command::new("sh")
            .args(["-e", "-c", steps])
            .current_dir(parent.path())
            .output()
            .unwrap();
        assert!(ran.status.success(), "{steps}\n{}", text(&ran));
        assert!(text(&ran).contains("1 passed, 0 failed"), "{}", text(&ran));
        test_module(&dir.join("rule.wasm"), &dir.join("fixtures/rule.test.json"));
    }
}

#[test]
fn a_module_that_imports_http_is_refused_by_inspect() {
    if !available(Language::JavaScript) {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("with-http");
    let out = peregrine(&[
        "rules",
        "new",
        "--lang",
        "js",
        "--dir",
        dir.to_str().unwrap(),
        "with-http",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // Built without leaving out HTTP, the module imports wasi:http.
    let mut build = polyglot::componentizer(Language::JavaScript).unwrap();
    let status = build
        .current_dir(&dir)
        .args(["rule.js", "--wit", "wit", "-n", "rule", "-o", "rule.wasm"])
        .status()
        .unwrap();
    assert!(status.success());
    let out = peregrine(&["rules", "inspect", dir.join("rule.wasm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("REFUSED: imports wasi:http/"), "{shown}");
    assert!(
        shown.contains("which the sandbox does not offer"),
        "{shown}"
    );
}
