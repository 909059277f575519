//! `peregrine serve` as a separate process, the way a user runs it, and what the live
//! tests send it.

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
            .arg(crate::rules::build_root().join("compile-cache"))
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
        self.post_as(&format!("/v1/audit/{cluster}"), token, body)
    }

    /// POSTs runtime sensor lines for cluster `test`, as Fluent Bit's HTTP output does.
    pub fn post_runtime(&self, body: &str) -> (u16, Value) {
        self.post_as("/v1/runtime/test", CLUSTER_TOKEN, body)
    }

    /// PUTs a text body to the API with the admin token.
    pub fn put_text(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("PUT", path, ADMIN, "text/plain", body)
    }

    /// POSTs a JSON body to the API with the admin token.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(path, ADMIN, &body.to_string())
    }

    fn post_as(&self, path: &str, token: &str, body: &str) -> (u16, Value) {
        self.send("POST", path, token, "application/json", body)
    }

    fn send(&self, method: &str, path: &str, token: &str, kind: &str, body: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let agent = Self::agent();
        let request = match method {
            "PUT" => agent.put(url),
            _ => agent.post(url),
        };
        let result = request
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", kind)
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
                // `&` (C&C types) and `!` (DNS types) must not end the value.
                let t = t.replace('&', "%26").replace('!', "%21");
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
