//! `peregrine serve` as a user starts it: over plain HTTP and over TLS, with a real socket,
//! the embedded store, and findings a scan stored.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use peregrine_e2e::live::{self, Server};
use peregrine_e2e::{shipped_rules_dir, workspace_path};

const TOKEN: &str = live::ADMIN;

/// `peregrine serve` over `database` with the shipped rules.
fn start(database: &str, extra: &[&str]) -> Server {
    let mut args = vec![
        "--database-url".to_string(),
        database.to_string(),
        "--rules".into(),
        shipped_rules_dir().display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    Server::start(env!("CARGO_BIN_EXE_peregrine-under-test"), &args)
}

fn store_a_scan(database: &str) {
    let fixture = workspace_path("rules/impact-tor-ip-caller/fixtures/positive.jsonl");
    let intel = workspace_path("tests/fixtures/intel");
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args(["scan", "--database-url", database, "--rules"])
        .arg(shipped_rules_dir())
        .arg("--intel")
        .arg(&intel)
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn list_findings(agent: &ureq::Agent, server: &Server) -> serde_json::Value {
    let mut response = agent
        .get(format!("{}/v1/findings", server.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

#[test]
fn scan_then_serve_then_curl_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("peregrine.db").display()
    );
    store_a_scan(&database);
    let server = start(&database, &[]);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let findings = list_findings(&agent, &server);
    let types: Vec<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Impact:Kubernetes/TorIPCaller"),
        "{types:?}"
    );
    let unauthorized = agent
        .get(format!("{}/v1/findings", server.url))
        .call()
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let mut rules = agent
        .get(format!("{}/v1/rules", server.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    let rules: serde_json::Value =
        serde_json::from_str(&rules.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        rules["rules"].as_array().unwrap().len(),
        xtask::shipped_rules().unwrap().len()
    );
}

fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test certificate");
    assert!(status.success());
    (cert, key)
}

#[test]
fn serves_https_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("peregrine.db").display()
    );
    store_a_scan(&database);
    let (cert, key) = self_signed(dir.path());
    let server = start(
        &database,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    let pem = std::fs::read(&cert).unwrap();
    let root = ureq::tls::Certificate::from_pem(&pem).unwrap().to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![root])))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let findings = list_findings(&agent, &server);
    assert!(!findings["findings"].as_array().unwrap().is_empty());

    // Plain HTTP to the TLS port is not served.
    let plain: ureq::Agent = ureq::Agent::config_builder().build().into();
    assert!(
        plain
            .get(server.url.replace("https://", "http://") + "/healthz")
            .call()
            .is_err()
    );
}

#[test]
fn a_missing_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("peregrine.db").display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ])
        .env("PEREGRINE_ADMIN_TOKENS", TOKEN)
        .env("PEREGRINE_RULES", shipped_rules_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot load the TLS certificate /nonexistent/cert.pem")
    );
}

#[test]
fn tokens_and_the_database_url_can_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let database = file(
        "database-url",
        &format!("sqlite://{}?mode=rwc\n", dir.path().join("p.db").display()),
    );
    let admin = file("admin", "# mounted from a Secret\n\nfile-admin-token\n");
    let read = file("read", "file-read-token\n");
    let clusters = file("clusters", "prod=file-prod-token\n");
    let server = start(
        "sqlite::memory:",
        &[
            "--database-url-file",
            &database,
            "--admin-tokens-file",
            &admin,
            "--read-tokens-file",
            &read,
            "--cluster-tokens-file",
            &clusters,
        ],
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = |method: &str, path: &str, token: &str| {
        let url = format!("{}{path}", server.url);
        let auth = format!("Bearer {token}");
        match method {
            "GET" => agent.get(&url).header("Authorization", &auth).call(),
            _ => agent
                .post(&url)
                .header("Authorization", &auth)
                .send(r#"{"name":"from-file","action":"ARCHIVE","findingCriteria":{"criterion":{"severity":{"gte":8}}}}"#),
        }
        .unwrap()
        .status()
        .as_u16()
    };
    assert_eq!(status("GET", "/v1/findings", "file-read-token"), 200);
    assert_eq!(status("POST", "/v1/filters", "file-read-token"), 403);
    assert_eq!(status("POST", "/v1/filters", "file-admin-token"), 201);
    assert_eq!(status("GET", "/v1/findings", "not-a-token"), 401);
    let (code, body) = server.post_audit_as(
        "prod",
        "file-prod-token",
        &peregrine_e2e::live::event_list(&peregrine_e2e::live::numbered_events("f", 1)),
    );
    assert_eq!(code, 200, "{body}");
    // The store is the file's, not --database-url's.
    assert!(dir.path().join("p.db").exists());
    drop(server);

    let out = Command::new(env!("CARGO_BIN_EXE_peregrine-under-test"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-tokens-file"])
        .arg(dir.path().join("missing"))
        .env("PEREGRINE_RULES", shipped_rules_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read --admin-tokens-file"),
        "{stderr}"
    );
}
