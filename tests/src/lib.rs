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

/// The rules of `dir`, loaded as `serve` loads them.
pub fn rule_set(dir: &Path) -> std::sync::Arc<peregrine::ruleset::RuleSet> {
    let engine = peregrine::engine::RuleEngine::new(test_options(dir).engine).unwrap();
    let rules = std::sync::Arc::new(peregrine::ruleset::RuleSet::new(
        std::sync::Arc::new(engine),
        Default::default(),
        dir.into(),
        None,
    ));
    rules.sync().unwrap();
    rules
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

/// `peregrine serve` as a separate process, the way a user runs it, and what the live
/// tests send it.
pub mod live {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    /// The admin token the live tests give the server.
    pub const ADMIN: &str = "live-test-admin-token";
    /// The webhook token of cluster `test`.
    pub const CLUSTER_TOKEN: &str = "live-test-cluster-token";

    /// A running `peregrine serve`, killed when dropped.
    pub struct Server {
        child: Child,
        pub url: String,
        log: Arc<Mutex<String>>,
    }

    impl Server {
        /// Starts `peregrine serve` (the test's `CARGO_BIN_EXE_peregrine-under-test`) with
        /// `args` (after `serve --listen 127.0.0.1:0`) and waits until it listens.
        pub fn start(binary: &str, args: &[String]) -> Server {
            let mut child = Command::new(binary)
                .args(["serve", "--listen", "127.0.0.1:0", "--log", "info"])
                .arg("--cache-dir")
                .arg(crate::build_root().join("compile-cache"))
                .args(args)
                .env("PEREGRINE_ADMIN_TOKENS", ADMIN)
                .env("PEREGRINE_CLUSTER_TOKENS", format!("test={CLUSTER_TOKEN}"))
                .env("NO_COLOR", "1")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stderr = BufReader::new(child.stderr.take().unwrap());
            let log = Arc::new(Mutex::new(String::new()));
            let (tx, rx) = std::sync::mpsc::channel();
            {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for line in stderr.lines().map_while(Result::ok) {
                        if let Some(rest) = line.split("API on ").nth(1) {
                            let _ = tx.send(rest.split("/v1/").next().unwrap().to_string());
                        }
                        let mut log = log.lock().unwrap();
                        log.push_str(&line);
                        log.push('\n');
                    }
                });
            }
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(url) => Server { child, url, log },
                Err(_) => {
                    let _ = child.kill();
                    panic!("serve did not start:\n{}", log.lock().unwrap());
                }
            }
        }

        /// The server's process id.
        pub fn pid(&self) -> u32 {
            self.child.id()
        }

        /// What the server wrote to stderr so far.
        pub fn log(&self) -> String {
            self.log.lock().unwrap().clone()
        }

        /// SIGKILL: no shutdown, no draining.
        pub fn kill9(mut self) {
            self.child.kill().unwrap();
            self.child.wait().unwrap();
        }

        /// SIGTERM, and the exit status once it has drained.
        pub fn terminate(mut self) -> std::process::ExitStatus {
            let pid = self.child.id().to_string();
            assert!(
                Command::new("kill")
                    .args(["-TERM", &pid])
                    .status()
                    .unwrap()
                    .success()
            );
            self.child.wait().unwrap()
        }

        fn agent() -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into()
        }

        /// GET with the admin token: status and JSON body.
        pub fn get(&self, path: &str) -> (u16, Value) {
            let mut response = Self::agent()
                .get(format!("{}{path}", self.url))
                .header("Authorization", format!("Bearer {ADMIN}"))
                .call()
                .unwrap();
            let text = response.body_mut().read_to_string().unwrap();
            (
                response.status().as_u16(),
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }

        /// POSTs an audit webhook body for cluster `test`, as kube-apiserver does.
        pub fn post_audit(&self, body: &str) -> (u16, Value) {
            self.post_audit_as("test", CLUSTER_TOKEN, body)
        }

        /// POSTs raw bytes (e.g. gzipped) for cluster `test`.
        pub fn post_audit_bytes(&self, body: Vec<u8>) -> (u16, Value) {
            let mut response = Self::agent()
                .post(format!("{}/v1/audit/test", self.url))
                .header("Authorization", format!("Bearer {CLUSTER_TOKEN}"))
                .send(&body[..])
                .unwrap();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (
                response.status().as_u16(),
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }

        pub fn post_audit_as(&self, cluster: &str, token: &str, body: &str) -> (u16, Value) {
            let result = Self::agent()
                .post(format!("{}/v1/audit/{cluster}", self.url))
                .header("Authorization", format!("Bearer {token}"))
                .header("Content-Type", "application/json")
                .send(body);
            match result {
                Ok(mut response) => {
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    (
                        response.status().as_u16(),
                        serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    )
                }
                // The connection itself failed: what the apiserver retries too.
                Err(e) => (0, Value::String(e.to_string())),
            }
        }

        /// Every finding (all pages), optionally of one type.
        pub fn all_findings(&self, finding_type: Option<&str>) -> Vec<Value> {
            let mut found = Vec::new();
            let mut next: Option<String> = None;
            loop {
                let mut path = "/v1/findings?maxResults=50".to_string();
                if let Some(t) = finding_type {
                    path.push_str(&format!("&type={t}"));
                }
                if let Some(token) = &next {
                    path.push_str(&format!("&nextToken={token}"));
                }
                let (status, page) = self.get(&path);
                assert_eq!(status, 200, "{page}");
                found.extend(page["findings"].as_array().unwrap().iter().cloned());
                match page["nextToken"].as_str() {
                    Some(token) if !token.is_empty() => next = Some(token.to_string()),
                    _ => return found,
                }
            }
        }

        /// The version (SHA-256) of the running module named `module`, if loaded.
        pub fn module_version(&self, module: &str) -> Option<String> {
            let (_, rules) = self.get("/v1/rules");
            rules["rules"]
                .as_array()?
                .iter()
                .find(|r| r["module"] == module)
                .and_then(|r| r["version"].as_str().map(String::from))
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Polls `check` until it holds, or panics with `what` after `timeout`.
    pub fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
        let started = Instant::now();
        while !check() {
            assert!(started.elapsed() < timeout, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `n` real audit events (the audit2rbac demo's `ResponseComplete` events, in turn)
    /// with audit IDs `<prefix>-000000`, `<prefix>-000001`, …
    pub fn numbered_events(prefix: &str, n: usize) -> Vec<Value> {
        let text = std::fs::read_to_string(crate::workspace_path(
            "tests/fixtures/corpus/audit2rbac-demo/demo-dc2769a-v1.log",
        ))
        .unwrap();
        let templates: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["stage"] == "ResponseComplete")
            .collect();
        (0..n)
            .map(|i| {
                let mut event = templates[i % templates.len()].clone();
                event["auditID"] = json!(format!("{prefix}-{i:06}"));
                event
            })
            .collect()
    }

    /// The audit events of a JSON-lines file under the workspace root (a rule's fixture),
    /// in order.
    pub fn jsonl_events(relative: &str) -> Vec<Value> {
        std::fs::read_to_string(crate::workspace_path(relative))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// A webhook-backend request body: an `EventList` as kube-apiserver batches it.
    pub fn event_list(events: &[Value]) -> String {
        json!({
            "kind": "EventList",
            "apiVersion": "audit.k8s.io/v1",
            "metadata": {},
            "items": events,
        })
        .to_string()
    }

    /// The audit ID a finding of the echo fixture rule is about.
    pub fn echo_audit_id(finding: &Value) -> String {
        finding["service"]["additionalInfo"]["auditId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Posts numbered events in batches, one batch at a time as the apiserver does, retrying
    /// a batch until it is acknowledged; returns the audit IDs in the order sent.
    pub struct Sender<'a> {
        server: &'a Server,
        prefix: String,
        /// Audit IDs acknowledged, in the order sent.
        pub sent: Vec<String>,
        /// Retryable refusals met, by status (0: no connection).
        pub refusals: std::collections::BTreeMap<u16, usize>,
    }

    impl<'a> Sender<'a> {
        pub fn new(server: &'a Server, prefix: &str) -> Self {
            Sender {
                server,
                prefix: prefix.into(),
                sent: Vec::new(),
                refusals: Default::default(),
            }
        }

        pub fn send_batch(&mut self, size: usize) {
            let start = self.sent.len();
            let events: Vec<Value> = numbered_events(&self.prefix, start + size).split_off(start);
            let body = event_list(&events);
            loop {
                let (status, reply) = self.server.post_audit(&body);
                match status {
                    200 => break,
                    0 | 429 | 500 | 503 | 504 => {
                        *self.refusals.entry(status).or_default() += 1;
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    other => panic!("not retryable: {other} {reply}"),
                }
            }
            self.sent.extend(
                events
                    .iter()
                    .map(|e| e["auditID"].as_str().unwrap().to_string()),
            );
        }
    }

    /// Echo findings by audit ID: (version that judged it, count).
    pub fn echo_verdicts(server: &Server) -> std::collections::HashMap<String, (String, u64)> {
        server
            .all_findings(Some("Test:Fixture/Echo"))
            .iter()
            .map(|f| {
                (
                    echo_audit_id(f),
                    (
                        f["service"]["additionalInfo"]["echoVersion"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                        f["service"]["count"].as_u64().unwrap(),
                    ),
                )
            })
            .collect()
    }
}

/// A PostgreSQL server of a test's own (initdb into a temporary directory, its own port),
/// so a test can stop and start it without touching the machine's server.
pub mod private_postgres {
    use std::path::PathBuf;
    use std::process::Command;

    pub struct PrivatePostgres {
        dir: tempfile::TempDir,
        bin: PathBuf,
        port: u16,
        as_postgres_user: bool,
    }

    /// The newest installed server's binaries: `pg_config --bindir`, else
    /// `/usr/lib/postgresql/<version>/bin`.
    fn bin_dir() -> PathBuf {
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if dir.join("pg_ctl").is_file() {
                return dir;
            }
        }
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
            .unwrap_or_default();
        versions.retain(|d| d.join("pg_ctl").is_file());
        versions.sort();
        versions.pop().unwrap_or_else(|| {
            panic!("this test runs a PostgreSQL server of its own and needs its binaries (initdb, pg_ctl); install the postgresql package")
        })
    }

    impl PrivatePostgres {
        /// Creates and starts a server.
        pub fn start() -> PrivatePostgres {
            let dir = tempfile::tempdir().unwrap();
            // PostgreSQL refuses to run as root; run it as the postgres user then.
            let root = Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
            if root {
                assert!(
                    Command::new("chown")
                        .args(["-R", "postgres"])
                        .arg(dir.path())
                        .status()
                        .unwrap()
                        .success()
                );
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let pg = PrivatePostgres {
                dir,
                bin: bin_dir(),
                port,
                as_postgres_user: root,
            };
            pg.run(
                "initdb",
                &[
                    "-D",
                    &pg.data(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ],
            );
            pg.resume();
            pg
        }

        fn data(&self) -> String {
            self.dir.path().join("data").display().to_string()
        }

        fn run(&self, tool: &str, args: &[&str]) {
            let program = self.bin.join(tool);
            let mut command = if self.as_postgres_user {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&program);
                c
            } else {
                Command::new(&program)
            };
            let out = command.args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        /// Starts the (stopped) server and waits until it takes connections.
        pub fn resume(&self) {
            let options = format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
                self.port,
                self.dir.path().display()
            );
            let log = self.dir.path().join("server.log").display().to_string();
            self.run(
                "pg_ctl",
                &[
                    "-D",
                    &self.data(),
                    "-o",
                    &options,
                    "-l",
                    &log,
                    "-w",
                    "start",
                ],
            );
        }

        /// Stops the server (open connections are cut).
        pub fn stop(&self) {
            self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        }

        pub fn url(&self) -> String {
            format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
        }
    }

    impl Drop for PrivatePostgres {
        fn drop(&mut self) {
            let program = self.bin.join("pg_ctl");
            let data = self.data();
            let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
            let _ = if self.as_postgres_user {
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(&program)
                    .args(args)
                    .output()
            } else {
                Command::new(&program).args(args).output()
            };
        }
    }
}

/// Running the `peregrine` command line and reading what it said.
pub mod cli {
    use std::process::{Command, Output};

    /// Runs `binary` (the test's `CARGO_BIN_EXE_peregrine-under-test`) with `args`.
    pub fn run(binary: &str, args: &[&str]) -> Output {
        Command::new(binary).args(args).output().unwrap()
    }

    /// Standard output then standard error, as text.
    pub fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}
