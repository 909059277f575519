//! Helpers for the end-to-end tests: the real rule modules, built once per run, and
//! directories of them to scan with.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use peregrine::scan::{self, Notice, ScanOptions, ScanReport};

/// Where the tests' wasm build and its modules live.
fn build_root() -> PathBuf {
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

/// A path under the workspace root.
pub fn workspace_path(relative: &str) -> PathBuf {
    xtask::workspace_root().join(relative)
}

/// Every file matching `dir/*.<ext>`, sorted.
pub fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace_path(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// What a scan reported, with the notices it gave along the way.
pub struct Scanned {
    pub report: ScanReport,
    pub notices: Vec<String>,
}

/// Scans `files` with the modules in `rules`.
pub fn scan_with(options: ScanOptions, files: &[PathBuf]) -> Scanned {
    let mut notices = Vec::new();
    let mut notify = |n: Notice<'_>| {
        notices.push(match n {
            Notice::Malformed { location, reason } => format!("{location}: {reason}"),
            Notice::RuleNotLoaded(e) => format!("rule not loaded: {e}"),
            Notice::IntelWarning(w) => format!("intel: {w}"),
            Notice::FileFailed(e) => format!("file failed: {e}"),
        })
    };
    let report =
        scan::run(&options, files, &mut notify).unwrap_or_else(|e| panic!("scan failed: {e}"));
    Scanned { report, notices }
}

/// Scans with the modules in `rules`, the fixture threat lists (`tests/fixtures/intel`,
/// the same addresses `peregrine_rules_sdk::testing` marks) and defaults otherwise.
pub fn scan(rules: &Path, files: &[PathBuf]) -> Scanned {
    let mut options = test_options(rules);
    options.intel_dir = Some(workspace_path("tests/fixtures/intel"));
    scan_with(options, files)
}

/// Scan options for tests: a test cluster name and a compile cache shared by the tests.
pub fn test_options(rules: &Path) -> ScanOptions {
    let mut options = ScanOptions::new(rules);
    options.cluster = "test-cluster".into();
    options.engine.cache_dir = Some(build_root().join("compile-cache"));
    options
}

/// The positive (or negative) fixture file of every shipped rule.
pub fn rule_fixtures(kind: &str) -> Vec<PathBuf> {
    xtask::shipped_rules()
        .unwrap()
        .iter()
        .map(|c| c.dir.join(format!("fixtures/{kind}.jsonl")))
        .collect()
}

/// `(type, username, workload "type/namespace/name" or "-", count)` of each finding, sorted.
pub fn summarize(report: &ScanReport) -> Vec<(String, String, String, u64)> {
    let mut rows: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let workload = f
                .resource
                .kubernetes_details
                .kubernetes_workload_details
                .as_ref()
                .map(|w| {
                    format!(
                        "{}/{}/{}",
                        w.workload_type,
                        w.namespace.as_deref().unwrap_or(""),
                        w.name.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "-".into());
            (
                f.finding_type.clone(),
                f.resource
                    .kubernetes_details
                    .kubernetes_user_details
                    .username
                    .clone(),
                workload,
                f.service.count,
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Databases for store and API tests: PostgreSQL from `PEREGRINE_TEST_POSTGRES` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`, where tests create and drop their own
/// databases) and SQLite files in temporary directories.
pub mod db {
    use sqlx::Connection;

    fn admin_url() -> String {
        std::env::var("PEREGRINE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    /// A database of its own for one test, dropped at the end.
    pub struct TestDatabase {
        /// The database URL to connect to.
        pub url: String,
        drop_name: Option<String>,
        _dir: Option<tempfile::TempDir>,
    }

    impl TestDatabase {
        pub async fn postgres() -> TestDatabase {
            let name = format!("peregrine_test_{}_{}", std::process::id(), rand_suffix());
            let mut admin = sqlx::PgConnection::connect(&admin_url())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is needed at {} ({e}); `cargo xtask test` starts it",
                        admin_url()
                    )
                });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let base = admin_url();
            let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
            TestDatabase {
                url,
                drop_name: Some(name),
                _dir: None,
            }
        }

        pub fn sqlite() -> TestDatabase {
            let dir = tempfile::tempdir().unwrap();
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("findings.db").display()
            );
            TestDatabase {
                url,
                drop_name: None,
                _dir: Some(dir),
            }
        }

        pub async fn cleanup(self) {
            if let Some(name) = self.drop_name {
                let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
            }
        }
    }

    fn rand_suffix() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64,
        );
        h.finish() % 1_000_000_000
    }

    /// Runs `test` against a fresh PostgreSQL database and a fresh SQLite file.
    pub async fn on_both_backends<F, Fut>(test: F)
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        for db in [TestDatabase::postgres().await, TestDatabase::sqlite()] {
            test(db.url.clone()).await;
            db.cleanup().await;
        }
    }
}
