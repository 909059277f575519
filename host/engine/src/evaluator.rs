//! One worker's view of the rules: a warm instance per rule, dispatch by subscription,
//! and failure handling that loses as little as possible.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use peregrine_rules_sdk as sdk;

use super::bindings::{audit, detection, runtime};
use super::instance::WarmInstance;
use super::module::LoadedRule;
use super::{EngineConfig, Failure, RuleEngine, convert};

/// A finding a rule raised, with the batch index of the event that raised it.
pub struct RuleFinding {
    pub rule: Arc<LoadedRule>,
    pub event_index: usize,
    pub finding: sdk::Finding,
}

/// What the evaluator needs of an event kind: which rules want an event, its WIT record,
/// and the call that judges a batch of them.
trait EventKind {
    type Event: Clone;
    type Wit;
    fn wanted(rule: &LoadedRule, event: &Self::Event) -> bool;
    fn to_wit(event: Self::Event) -> Self::Wit;
    fn call(
        instance: &mut WarmInstance,
        config: &EngineConfig,
        events: &[&Self::Wit],
    ) -> Result<Vec<detection::Finding>, Failure>;
    /// How a log line names the event.
    fn id(event: &Self::Event) -> (&'static str, &str);
}

struct Audit;

impl EventKind for Audit {
    type Event = sdk::AuditEvent;
    type Wit = audit::AuditEvent;
    fn wanted(rule: &LoadedRule, event: &Self::Event) -> bool {
        rule.subscribes_to(event)
    }
    fn to_wit(event: Self::Event) -> Self::Wit {
        convert::audit_event(event)
    }
    fn call(
        instance: &mut WarmInstance,
        config: &EngineConfig,
        events: &[&Self::Wit],
    ) -> Result<Vec<detection::Finding>, Failure> {
        instance.evaluate_audit(config, events)
    }
    fn id(event: &Self::Event) -> (&'static str, &str) {
        ("audit ID", &event.audit_id)
    }
}

struct Runtime;

impl EventKind for Runtime {
    type Event = sdk::RuntimeEvent;
    type Wit = runtime::RuntimeEvent;
    fn wanted(rule: &LoadedRule, event: &Self::Event) -> bool {
        rule.subscribes_to_runtime(event)
    }
    fn to_wit(event: Self::Event) -> Self::Wit {
        convert::runtime_event(event)
    }
    fn call(
        instance: &mut WarmInstance,
        config: &EngineConfig,
        events: &[&Self::Wit],
    ) -> Result<Vec<detection::Finding>, Failure> {
        instance.evaluate_runtime(config, events)
    }
    fn id(event: &Self::Event) -> (&'static str, &str) {
        ("event ID", &event.event_id)
    }
}

pub struct Evaluator {
    engine: wasmtime::Engine,
    config: EngineConfig,
    rules: Vec<Arc<LoadedRule>>,
    instances: Vec<Option<WarmInstance>>,
}

impl Evaluator {
    pub fn new(engine: &RuleEngine, rules: Vec<Arc<LoadedRule>>) -> Self {
        let instances = rules.iter().map(|_| None).collect();
        Evaluator {
            engine: engine.wasm_engine().clone(),
            config: engine.config().clone(),
            rules,
            instances,
        }
    }

    /// Switches to another set of rules, keeping the warm instances of the rules that are
    /// in both.
    pub fn set_rules(&mut self, rules: Vec<Arc<LoadedRule>>) {
        let mut old: Vec<(Arc<LoadedRule>, Option<WarmInstance>)> =
            self.rules.drain(..).zip(self.instances.drain(..)).collect();
        self.instances = rules
            .iter()
            .map(|rule| {
                old.iter_mut()
                    .find(|(r, _)| Arc::ptr_eq(r, rule))
                    .and_then(|(_, instance)| instance.take())
            })
            .collect();
        self.rules = rules;
    }

    /// Judges a batch of audit events with every rule that wants some of it. Each rule
    /// gets, in one call, the events its subscription matches, in order; only events some
    /// rule wants are converted to the WIT record, and each once.
    pub fn evaluate(&mut self, events: &[sdk::AuditEvent], out: &mut Vec<RuleFinding>) {
        self.evaluate_kind::<Audit>(events, out)
    }

    /// Judges a batch of runtime events, as [`Evaluator::evaluate`] does audit events.
    pub fn evaluate_runtime(&mut self, events: &[sdk::RuntimeEvent], out: &mut Vec<RuleFinding>) {
        self.evaluate_kind::<Runtime>(events, out)
    }

    fn evaluate_kind<K: EventKind>(&mut self, events: &[K::Event], out: &mut Vec<RuleFinding>) {
        let mut wanted: Vec<Vec<usize>> = Vec::with_capacity(self.rules.len());
        let mut needed = vec![false; events.len()];
        for rule in &self.rules {
            let indices: Vec<usize> = if rule.stats.is_quarantined() {
                Vec::new()
            } else {
                (0..events.len())
                    .filter(|&i| K::wanted(rule, &events[i]))
                    .collect()
            };
            indices.iter().for_each(|&i| needed[i] = true);
            wanted.push(indices);
        }
        let wit: Vec<Option<K::Wit>> = events
            .iter()
            .zip(&needed)
            .map(|(e, &needed)| needed.then(|| K::to_wit(e.clone())))
            .collect();
        for (rule_index, indices) in wanted.iter().enumerate() {
            if !indices.is_empty() {
                self.run::<K>(rule_index, &wit, indices, events, out);
            }
        }
    }

    fn run<K: EventKind>(
        &mut self,
        rule_index: usize,
        wit: &[Option<K::Wit>],
        indices: &[usize],
        events: &[K::Event],
        out: &mut Vec<RuleFinding>,
    ) {
        let rule = Arc::clone(&self.rules[rule_index]);
        let batch: Vec<&K::Wit> = indices
            .iter()
            .map(|&i| wit[i].as_ref().expect("wanted events are converted"))
            .collect();
        match self.call::<K>(rule_index, &batch) {
            Ok(findings) => {
                let before = out.len();
                for finding in findings {
                    let index = finding.event_index as usize;
                    let Some(&event_index) = indices.get(index) else {
                        tracing::warn!(rule = %rule.name, index, "finding names an event outside its batch; dropped");
                        continue;
                    };
                    out.push(RuleFinding {
                        rule: Arc::clone(&rule),
                        event_index,
                        finding: convert::finding(finding),
                    });
                }
                rule.stats
                    .record_success(indices.len() as u64, (out.len() - before) as u64);
            }
            // A failed batch is retried one event at a time, so one poisonous event costs
            // only its own judgement.
            Err(_) if indices.len() > 1 => {
                for &single in indices {
                    if rule.stats.is_quarantined() {
                        break;
                    }
                    self.run::<K>(rule_index, wit, &[single], events, out);
                }
            }
            Err(failure) => self.record_failure(&rule, &failure, K::id(&events[indices[0]])),
        }
    }

    fn call<K: EventKind>(
        &mut self,
        rule_index: usize,
        events: &[&K::Wit],
    ) -> Result<Vec<detection::Finding>, Failure> {
        let rule = &self.rules[rule_index];
        rule.stats.calls.fetch_add(1, Ordering::Relaxed);
        let slot = &mut self.instances[rule_index];
        if slot.as_ref().is_some_and(|i| i.is_worn_out(&self.config)) {
            *slot = None;
        }
        let instance = match slot {
            Some(instance) => instance,
            None => slot.insert(WarmInstance::new(&self.engine, &self.config, rule)?),
        };
        let started = std::time::Instant::now();
        let result = K::call(instance, &self.config, events);
        rule.stats
            .busy_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if result.is_err() {
            // A trapped instance cannot be entered again; a failed one is not trusted.
            *slot = None;
        }
        result
    }

    fn record_failure(&self, rule: &LoadedRule, failure: &Failure, (what, id): (&str, &str)) {
        match failure {
            Failure::Timeout => rule.stats.timeouts.fetch_add(1, Ordering::Relaxed),
            Failure::OutOfMemory => rule.stats.out_of_memory.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        tracing::warn!(rule = %rule.name, "rule failed on the event with {what} {id}: {failure}");
        if rule
            .stats
            .record_failure(&failure.to_string(), self.config.quarantine_after)
        {
            tracing::error!(
                rule = %rule.name,
                "rule quarantined after {} consecutive failures; last: {failure}",
                self.config.quarantine_after
            );
        }
    }
}
