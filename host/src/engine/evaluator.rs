//! One worker's view of the rules: a warm instance per rule, dispatch by subscription,
//! and failure handling that loses as little as possible.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use peregrine_rules_sdk as sdk;

use super::bindings::audit;
use super::instance::WarmInstance;
use super::module::LoadedRule;
use super::{EngineConfig, Failure, RuleEngine, convert};

/// A finding a rule raised, with the batch index of the event that raised it.
pub struct RuleFinding {
    pub rule: Arc<LoadedRule>,
    pub event_index: usize,
    pub finding: sdk::Finding,
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

    pub fn rules(&self) -> &[Arc<LoadedRule>] {
        &self.rules
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

    /// Judges a batch with every rule that wants some of it. Each rule sees the events it
    /// subscribes to, in order, in as few calls as runs of matching events allow.
    pub fn evaluate(&mut self, events: &[sdk::AuditEvent], out: &mut Vec<RuleFinding>) {
        let mut wit_events: Option<Vec<audit::AuditEvent>> = None;
        for rule_index in 0..self.rules.len() {
            let rule = Arc::clone(&self.rules[rule_index]);
            let mut start = 0;
            while start < events.len() {
                if rule.stats.is_quarantined() {
                    break;
                }
                if !rule.subscribes_to(&events[start]) {
                    start += 1;
                    continue;
                }
                let mut end = start + 1;
                while end < events.len() && rule.subscribes_to(&events[end]) {
                    end += 1;
                }
                let wit = wit_events.get_or_insert_with(|| {
                    events.iter().cloned().map(convert::audit_event).collect()
                });
                self.run(rule_index, wit, start, end, events, out);
                start = end;
            }
        }
    }

    fn run(
        &mut self,
        rule_index: usize,
        wit: &[audit::AuditEvent],
        start: usize,
        end: usize,
        events: &[sdk::AuditEvent],
        out: &mut Vec<RuleFinding>,
    ) {
        let rule = Arc::clone(&self.rules[rule_index]);
        match self.call(rule_index, &wit[start..end]) {
            Ok(findings) => {
                let before = out.len();
                for finding in findings {
                    let index = finding.event_index as usize;
                    if index >= end - start {
                        tracing::warn!(rule = %rule.name, index, "finding names an event outside its batch; dropped");
                        continue;
                    }
                    out.push(RuleFinding {
                        rule: Arc::clone(&rule),
                        event_index: start + index,
                        finding: convert::finding(finding),
                    });
                }
                rule.stats
                    .record_success((end - start) as u64, (out.len() - before) as u64);
            }
            // A failed batch is retried one event at a time, so one poisonous event costs
            // only its own judgement.
            Err(_) if end - start > 1 => {
                for single in start..end {
                    if rule.stats.is_quarantined() {
                        break;
                    }
                    self.run(rule_index, wit, single, single + 1, events, out);
                }
            }
            Err(failure) => self.record_failure(&rule, &failure, &events[start]),
        }
    }

    fn call(
        &mut self,
        rule_index: usize,
        events: &[audit::AuditEvent],
    ) -> Result<Vec<super::bindings::detection::Finding>, Failure> {
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
        let result = instance.evaluate(&self.config, events);
        rule.stats
            .busy_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if result.is_err() {
            // A trapped instance cannot be entered again; a failed one is not trusted.
            *slot = None;
        }
        result
    }

    fn record_failure(&self, rule: &LoadedRule, failure: &Failure, event: &sdk::AuditEvent) {
        match failure {
            Failure::Timeout => rule.stats.timeouts.fetch_add(1, Ordering::Relaxed),
            Failure::OutOfMemory => rule.stats.out_of_memory.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        tracing::warn!(rule = %rule.name, audit_id = %event.audit_id, "rule failed on an event: {failure}");
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
