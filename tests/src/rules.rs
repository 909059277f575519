//! The real rule modules, built once per run, and directories of them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the tests' wasm build and its modules live.
pub(crate) fn build_root() -> PathBuf {
    xtask::workspace_root().join("target/rules-wasm")
}

/// Builds every shipped rule and every fixture rule (once per process; a file lock keeps
/// concurrent test processes from building at the same time).
fn built() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = build_root();
        std::fs::create_dir_all(&root).unwrap();
        let lock = File::create(root.join(".e2e-build.lock")).unwrap();
        lock.lock().unwrap();
        let rules = root.join("modules/rules");
        let fixtures = root.join("modules/fixture-rules");
        xtask::build_rules(&xtask::shipped_rules().unwrap(), &root, &rules)
            .and_then(|_| xtask::build_rules(&xtask::fixture_rules().unwrap(), &root, &fixtures))
            .unwrap_or_else(|e| panic!("cannot build the rule modules: {e}"));
        (rules, fixtures)
    })
}

/// The directory of shipped rule modules.
pub fn shipped_rules_dir() -> &'static Path {
    &built().0
}

/// The module file of a fixture (test-only) rule.
pub fn fixture_rule(slug: &str) -> PathBuf {
    let path = built().1.join(format!("{slug}.wasm"));
    assert!(path.is_file(), "no fixture rule {slug}");
    path
}

/// A fresh directory holding the shipped rules (if `shipped`) and the named fixture rules.
pub fn rules_dir(shipped: bool, fixtures: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if shipped {
        for entry in std::fs::read_dir(shipped_rules_dir()).unwrap().flatten() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    for slug in fixtures {
        std::fs::copy(fixture_rule(slug), dir.path().join(format!("{slug}.wasm"))).unwrap();
    }
    dir
}

/// The rules of `dir`, loaded as `serve` loads them.
pub fn rule_set(dir: &Path) -> std::sync::Arc<peregrine::ruleset::RuleSet> {
    let engine = peregrine::engine::RuleEngine::new(crate::test_options(dir).engine).unwrap();
    let rules = std::sync::Arc::new(peregrine::ruleset::RuleSet::new(
        std::sync::Arc::new(engine),
        Default::default(),
        dir.into(),
        None,
    ));
    rules.sync().unwrap();
    rules
}

/// The positive (or negative) fixture file of every shipped rule.
pub fn rule_fixtures(kind: &str) -> Vec<PathBuf> {
    xtask::shipped_rules()
        .unwrap()
        .iter()
        .map(|c| c.dir.join(format!("fixtures/{kind}.jsonl")))
        .collect()
}
