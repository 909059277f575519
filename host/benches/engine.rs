//! Micro figures of the event path: normalizing an event, judging it once and marking its
//! source IPs, and each rule's cost per event it is given (with the WIT conversion and the
//! call into the component). Rules come from `dist/rules` (`cargo xtask dist`) or
//! `PEREGRINE_RULES`. Run: `cargo bench -p peregrine --bench engine`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use peregrine::engine::{EngineConfig, Evaluator, RuleEngine, StateStores};
use peregrine::intel::ThreatLists;
use peregrine::ruleset::RuleSet;
use peregrine_rules_sdk::AuditEvent;
use peregrine_rules_sdk::normalize::{JudgeOnce, Normalizer};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sample_lines() -> Vec<String> {
    std::fs::read_to_string(workspace().join("samples/attack-scenario.jsonl"))
        .expect("the bundled sample")
        .lines()
        .map(String::from)
        .collect()
}

fn normalize(c: &mut Criterion) {
    let lines = sample_lines();
    let pick = |verb: &str, needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("\"verb\":\"{verb}\"")) && l.contains(needle))
            .cloned()
            .unwrap_or_else(|| panic!("no {verb} {needle} event in the sample"))
    };
    let normalizer = Normalizer::new("bench");
    let mut group = c.benchmark_group("normalize");
    for (name, line) in [
        ("kubelet get node", pick("get", "system:node:")),
        (
            "daemonset create with pod template",
            pick("create", "daemonsets"),
        ),
        ("exec", pick("create", "/exec")),
    ] {
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                normalizer
                    .event_from_json(std::hint::black_box(&line))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn events() -> Vec<AuditEvent> {
    let normalizer = Normalizer::new("bench");
    sample_lines()
        .iter()
        .map(|l| normalizer.event_from_json(l).unwrap())
        .collect()
}

fn judge_and_enrich(c: &mut Criterion) {
    let events = events();
    let (intel, _) = ThreatLists::load_dir(&workspace().join("samples/intel")).unwrap();
    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("judge once + mark listed IPs", |b| {
        b.iter_batched(
            || events.clone(),
            |mut batch| {
                let mut judge = JudgeOnce::default();
                for e in &mut batch {
                    if judge.admit(e).judged().is_some() {
                        intel.enrich(e);
                    }
                }
                batch
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn rules(c: &mut Criterion) {
    let dir = std::env::var_os("PEREGRINE_RULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("dist/rules"));
    if !dir.is_dir() {
        eprintln!(
            "no rule modules in {}: run `cargo xtask dist` first; per-rule figures skipped",
            dir.display()
        );
        return;
    }
    let engine = Arc::new(RuleEngine::new(EngineConfig::default()).unwrap());
    let set = RuleSet::new(
        Arc::clone(&engine),
        Arc::new(StateStores::default()),
        dir,
        None,
    );
    set.sync().unwrap();
    let (intel, _) = ThreatLists::load_dir(&workspace().join("samples/intel")).unwrap();
    let mut events = events();
    events.iter_mut().for_each(|e| intel.enrich(e));
    let mut group = c.benchmark_group("rule");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    for rule in set.current().rules.iter() {
        // A batch of 256 events the rule subscribes to, from the sample.
        let wanted: Vec<AuditEvent> = events
            .iter()
            .filter(|e| rule.subscribes_to(e))
            .cloned()
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let batch: Vec<AuditEvent> = wanted.iter().cycle().take(256).cloned().collect();
        let mut evaluator = Evaluator::new(&engine, vec![Arc::clone(rule)]);
        let mut out = Vec::new();
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(&rule.name),
            &batch,
            |b, batch| {
                b.iter(|| {
                    evaluator.evaluate(batch, &mut out);
                    out.clear();
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, normalize, judge_and_enrich, rules);
criterion_main!(benches);
