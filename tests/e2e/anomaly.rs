//! Anomaly profiles outlive the process and the module: an `AnomalousBehavior` rule that
//! has learned half of a cluster's habits before `peregrine serve` is stopped (SIGTERM or
//! SIGKILL), or before its module file is replaced, goes on from what it learned and flags
//! the attack at the end of its fixture. Without the stored profiles it could not: the
//! events after the split alone are still inside the learning period (48 hours by default),
//! which the control test shows.

use std::path::Path;
use std::time::Duration;

use peregrine_e2e::live::{Server, event_list, jsonl_events, wait_until};
use peregrine_e2e::rules_dir;
use serde_json::Value;

const PEREGRINE: &str = env!("CARGO_BIN_EXE_peregrine-under-test");

/// The rule under test, its module's name and its finding type.
const RULE: &str = "execution-anomalous-exec-in-pod";
const TYPE: &str = "Execution:Kubernetes/AnomalousBehavior.ExecInPod";
/// Habits posted before the restart or reload: fixture lines 1–60; lines 61–96 (the rest
/// of the habits) and 97 (the attack) come after it.
const SPLIT: usize = 60;
/// The rule's learning period (the default), in hours of event time.
const LEARNING_HOURS: i64 = 48;

/// The fixture's 96 hourly habit events and the attack after them.
fn fixture() -> (Vec<Value>, Value) {
    let mut events = jsonl_events(&format!("rules/{RULE}/fixtures/positive.jsonl"));
    let attack = events.pop().unwrap();
    assert_eq!(events.len(), 96);
    (events, attack)
}

fn hours_between(from: &Value, to: &Value) -> i64 {
    let at = |e: &Value| {
        time::OffsetDateTime::parse(
            e["stageTimestamp"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    (at(to) - at(from)).whole_hours()
}

/// The split is where the argument needs it: all the habits span the learning period
/// before the attack, the part after the split does not.
fn check_the_split(habits: &[Value], attack: &Value) {
    assert!(hours_between(&habits[0], attack) >= LEARNING_HOURS);
    assert!(
        hours_between(&habits[SPLIT], attack) < LEARNING_HOURS,
        "the habits after the split must not cover the learning period on their own"
    );
}

/// `peregrine serve` over the SQLite file `db` with the modules in `rules`.
fn serve(db: &Path, rules: &Path) -> Server {
    serve_with(db, rules, &[])
}

fn serve_with(db: &Path, rules: &Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "--database-url".to_string(),
        format!("sqlite://{}?mode=rwc", db.display()),
        "--rules".into(),
        rules.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    Server::start(PEREGRINE, &args)
}

/// Posts `events` to the webhook in `EventList` batches, each acknowledged (judged and
/// committed, rule state with it) before the next.
fn post(server: &Server, events: &[Value]) {
    for batch in events.chunks(12) {
        let (status, body) = server.post_audit(&event_list(batch));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["accepted"], batch.len(), "{body}");
    }
}

fn anomalies(server: &Server) -> Vec<Value> {
    server.all_findings(Some(TYPE))
}

/// The attack raised exactly one finding, of the rule's type, about alice's credential,
/// whose explanation names the network and the user agent as unusual.
fn assert_the_attack_is_flagged(server: &Server) {
    let found = anomalies(server);
    assert_eq!(found.len(), 1, "{found:#?}\n{}", server.log());
    let finding = &found[0];
    assert_eq!(finding["service"]["count"], 1, "{finding:#}");
    assert_eq!(
        finding["resource"]["kubernetesDetails"]["kubernetesUserDetails"]["username"],
        "alice@example.com"
    );
    let behavior = &finding["service"]["detection"]["anomaly"]["unusual"]["behavior"];
    let observed = |feature: &str| -> Vec<String> {
        behavior
            .as_object()
            .unwrap_or_else(|| panic!("no service.detection.anomaly in {finding:#}"))
            .values()
            .filter_map(|scope| scope.get(feature))
            .map(|o| o["observations"]["text"][0].as_str().unwrap().to_string())
            .collect()
    };
    let network = observed("network");
    let agent = observed("userAgent");
    assert!(
        !network.is_empty(),
        "network is not named unusual: {behavior:#}"
    );
    assert!(
        !agent.is_empty(),
        "userAgent is not named unusual: {behavior:#}"
    );
    assert!(network.iter().all(|n| n == "45.83.64.0/24"), "{network:?}");
    assert!(agent.iter().all(|a| a == "python-requests"), "{agent:?}");
}

enum Stop {
    Terminate,
    Kill,
}

/// Habits 1–60, the server stopped and started again on the same database, then habits
/// 61–96 and the attack.
fn restart_mid_stream(stop: Stop) {
    let (habits, attack) = fixture();
    check_the_split(&habits, &attack);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("peregrine.db");
    let rules = rules_dir(true, &[]);

    let server = serve(&db, rules.path());
    post(&server, &habits[..SPLIT]);
    assert!(anomalies(&server).is_empty(), "habits are not anomalies");
    match stop {
        Stop::Terminate => {
            let status = server.terminate();
            assert!(status.success(), "{status}");
        }
        Stop::Kill => server.kill9(),
    }

    let server = serve(&db, rules.path());
    post(&server, &habits[SPLIT..]);
    assert!(anomalies(&server).is_empty(), "habits are not anomalies");
    post(&server, std::slice::from_ref(&attack));
    assert_the_attack_is_flagged(&server);
}

#[test]
fn profiles_survive_a_graceful_restart() {
    restart_mid_stream(Stop::Terminate);
}

#[test]
fn profiles_survive_a_kill() {
    restart_mid_stream(Stop::Kill);
}

/// The control: what the rule would see if the profiles were lost. On a fresh database,
/// the habits after the split and the same attack flag nothing, the rule still learning;
/// with a learning period short enough for them, the same events are flagged, so the
/// learning period is all that keeps them from being flagged.
#[test]
fn without_the_stored_profiles_the_attack_falls_in_the_learning_period() {
    let (habits, attack) = fixture();
    check_the_split(&habits, &attack);
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_dir(true, &[]);

    let short = hours_between(&habits[SPLIT], &attack) / 2;
    let server = serve_with(
        &dir.path().join("short.db"),
        rules.path(),
        &["--rule-setting", &format!("anomaly.learning-hours={short}")],
    );
    post(&server, &habits[SPLIT..]);
    post(&server, std::slice::from_ref(&attack));
    assert_the_attack_is_flagged(&server);
    drop(server);

    let server = serve(&dir.path().join("fresh.db"), rules.path());
    post(&server, &habits[SPLIT..]);
    post(&server, std::slice::from_ref(&attack));
    assert_eq!(anomalies(&server), Vec::<Value>::new());
    let (_, listed) = server.get("/v1/rules");
    let rule = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == RULE)
        .unwrap_or_else(|| panic!("{RULE} is not loaded: {listed:#}"));
    assert!(
        rule["counters"]["evaluated"].as_u64().unwrap() >= 1,
        "the rule judged the attack: {rule:#}"
    );
}

/// `module` with a custom section appended: the same rule, a different module file (and
/// version). A component may end with a custom section: id 0, the section's size
/// (LEB128), then the name (length, bytes) and the payload.
fn with_custom_section(module: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut content = Vec::new();
    leb128(name.len(), &mut content);
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(payload);
    let mut out = module.to_vec();
    out.push(0);
    leb128(content.len(), &mut out);
    out.extend_from_slice(&content);
    out
}

#[test]
fn profiles_survive_a_reload_of_the_rule_module() {
    let (habits, attack) = fixture();
    check_the_split(&habits, &attack);
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_dir(true, &[]);
    let module = rules.path().join(format!("{RULE}.wasm"));
    let server = serve(&dir.path().join("peregrine.db"), rules.path());
    let old = server
        .module_version(RULE)
        .unwrap_or_else(|| panic!("{RULE} is not loaded"));
    post(&server, &habits[..SPLIT]);
    assert!(anomalies(&server).is_empty(), "habits are not anomalies");

    // Another build of the rule (the same code, different bytes), moved into place.
    let generation = server.get("/v1/rules").1["generation"].as_u64().unwrap();
    let rebuilt = with_custom_section(
        &std::fs::read(&module).unwrap(),
        "peregrine-e2e-rebuild",
        b"a different build of the same rule",
    );
    let staged = rules.path().join(format!(".{RULE}.wasm.tmp"));
    std::fs::write(&staged, rebuilt).unwrap();
    std::fs::rename(&staged, &module).unwrap();
    wait_until("the new build to run", Duration::from_secs(30), || {
        server.module_version(RULE).is_some_and(|v| v != old)
    });
    let (_, listed) = server.get("/v1/rules");
    assert!(
        listed["generation"].as_u64().unwrap() > generation,
        "{listed:#}"
    );
    assert_eq!(listed["failed"], serde_json::json!([]), "{listed:#}");
    let rule = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["module"] == RULE)
        .unwrap();
    assert_eq!(rule["findingType"], TYPE);

    post(&server, &habits[SPLIT..]);
    assert!(anomalies(&server).is_empty(), "habits are not anomalies");
    post(&server, std::slice::from_ref(&attack));
    assert_the_attack_is_flagged(&server);
    let new = server.module_version(RULE).unwrap();
    let judged_by = anomalies(&server)[0]["service"]["additionalInfo"]["moduleVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        new.starts_with(&judged_by) && !old.starts_with(&judged_by),
        "the new build judged the attack: {judged_by}, old {old}, new {new}"
    );
}
