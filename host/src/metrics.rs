//! Prometheus metrics, kept in atomics and rendered in the text exposition format (0.0.4)
//! on `/metrics`, in base units (seconds). Per-rule counters are read from the loaded rules
//! at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::engine::LoadedRule;

/// Upper bounds of the latency histograms' buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| seconds <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Counters keyed by one label value.
#[derive(Default)]
pub struct LabeledCounter(Mutex<BTreeMap<String, u64>>);

impl LabeledCounter {
    pub fn add(&self, label: &str, n: u64) {
        let mut map = self.0.lock().unwrap();
        match map.get_mut(label) {
            Some(v) => *v += n,
            None => {
                map.insert(label.to_string(), n);
            }
        }
    }

    fn render(&self, out: &mut String, name: &str, label: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (value, n) in self.0.lock().unwrap().iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {n}", escape(value));
        }
    }
}

/// Counters by where events come from: the kind of source (`webhook`, `file`) and the
/// cluster they are from, as two labels. A followed file is counted under its cluster, not
/// its path, so rotated or many files do not multiply the series.
#[derive(Default)]
pub struct SourceCounter(Mutex<BTreeMap<(String, String), u64>>);

impl SourceCounter {
    /// Adds `n` for events of `kind` (`webhook`, `file`) from `cluster`.
    pub fn add(&self, kind: &str, cluster: &str, n: u64) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((kind.to_string(), cluster.to_string()))
            .or_default() += n;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for ((kind, cluster), n) in self.0.lock().unwrap().iter() {
            let _ = writeln!(
                out,
                "{name}{{kind=\"{}\",cluster=\"{}\"}} {n}",
                escape(kind),
                escape(cluster)
            );
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    /// Events received, by kind of source (`webhook`, `file`) and cluster.
    pub events_received: SourceCounter,
    /// Entries that could not be read as events, by kind of source and cluster.
    pub events_malformed: SourceCounter,
    /// Events a runtime sensor said it dropped (Tetragon's `rate_limit_info`), by kind of
    /// source and cluster.
    pub sensor_events_dropped: SourceCounter,
    /// Events judged by the rules (each audit ID once, at its first outcome stage).
    pub events_judged: AtomicU64,
    /// Events skipped: other stages of an audit ID already judged, or resent events.
    pub events_skipped: AtomicU64,
    /// Findings committed, by finding type (occurrences, before aggregation).
    pub findings: LabeledCounter,
    /// Worker time to evaluate one part of a batch with every rule.
    pub evaluation_seconds: Histogram,
    /// Time from a batch's submission to its findings being committed.
    pub ack_seconds: Histogram,
    /// Events accepted but not yet committed.
    pub queued_events: AtomicI64,
    /// Seconds between the newest committed event's timestamp and its commit.
    pub ingest_lag_millis: AtomicI64,
    /// Failed attempts to commit findings to the store.
    pub commit_failures: AtomicU64,
    /// Findings and rule state values the store refused (left out of their commit).
    pub findings_rejected: AtomicU64,
    pub state_rejected: AtomicU64,
    /// Requests judged whose audit ID a different request had already used.
    pub audit_ids_reused: AtomicU64,
    /// 1 while the last commit succeeded.
    pub store_up: AtomicI64,
    /// Webhook responses, by status code.
    pub webhook_responses: LabeledCounter,
    /// Rule module reloads, by result (`loaded`, `removed`, `failed`).
    pub rule_reloads: LabeledCounter,
    /// Threat list reloads, by result (`loaded`, `failed`).
    pub intel_reloads: LabeledCounter,
}

impl Metrics {
    /// The exposition text, with the per-rule counters of `rules`.
    pub fn render(&self, rules: &[std::sync::Arc<LoadedRule>]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP peregrine_build_info The running build; always 1.\n# TYPE peregrine_build_info gauge\nperegrine_build_info{{version=\"{}\"}} 1",
            escape(env!("CARGO_PKG_VERSION"))
        );
        self.events_received.render(
            &mut out,
            "peregrine_events_received_total",
            "Events received (audit and runtime), by kind of source (webhook, file) and cluster.",
        );
        self.events_malformed.render(
            &mut out,
            "peregrine_events_malformed_total",
            "Entries that were not readable events, by kind of source and cluster.",
        );
        self.sensor_events_dropped.render(
            &mut out,
            "peregrine_sensor_events_dropped_total",
            "Events a runtime sensor reported it dropped, by kind of source and cluster.",
        );
        gauge(
            &mut out,
            "peregrine_events_judged_total",
            "counter",
            "Events judged by the rules.",
            self.events_judged.load(Ordering::Relaxed) as f64,
        );
        gauge(
            &mut out,
            "peregrine_events_skipped_total",
            "counter",
            "Events not judged: other stages of an audit ID already judged, or resent events.",
            self.events_skipped.load(Ordering::Relaxed) as f64,
        );
        self.findings.render(
            &mut out,
            "peregrine_findings_total",
            "type",
            "Finding occurrences committed, by finding type.",
        );
        self.evaluation_seconds.render(
            &mut out,
            "peregrine_evaluation_seconds",
            "Worker time to judge one part of a batch with every rule.",
        );
        self.ack_seconds.render(
            &mut out,
            "peregrine_ack_seconds",
            "Time from a batch's arrival to its findings being committed.",
        );
        gauge(
            &mut out,
            "peregrine_queued_events",
            "gauge",
            "Events accepted and not yet committed.",
            self.queued_events.load(Ordering::Relaxed) as f64,
        );
        gauge(
            &mut out,
            "peregrine_ingest_lag_seconds",
            "gauge",
            "Age of the newest committed event at its commit.",
            self.ingest_lag_millis.load(Ordering::Relaxed) as f64 / 1000.0,
        );
        gauge(
            &mut out,
            "peregrine_commit_failures_total",
            "counter",
            "Failed attempts to commit findings to the store.",
            self.commit_failures.load(Ordering::Relaxed) as f64,
        );
        for (name, help, value) in [
            (
                "peregrine_findings_rejected_total",
                "Findings the store refused to hold, left out of their commit (see the log).",
                &self.findings_rejected,
            ),
            (
                "peregrine_rule_state_rejected_total",
                "Rule state values the store refused to hold, left out of their commit.",
                &self.state_rejected,
            ),
            (
                "peregrine_audit_ids_reused_total",
                "Requests judged whose audit ID a different request had already used.",
                &self.audit_ids_reused,
            ),
        ] {
            gauge(
                &mut out,
                name,
                "counter",
                help,
                value.load(Ordering::Relaxed) as f64,
            );
        }
        gauge(
            &mut out,
            "peregrine_store_up",
            "gauge",
            "1 while the findings store accepts commits.",
            self.store_up.load(Ordering::Relaxed) as f64,
        );
        self.webhook_responses.render(
            &mut out,
            "peregrine_webhook_responses_total",
            "code",
            "Audit webhook responses, by status code.",
        );
        self.rule_reloads.render(
            &mut out,
            "peregrine_rule_reloads_total",
            "result",
            "Rule module changes picked up from the rules directory.",
        );
        self.intel_reloads.render(
            &mut out,
            "peregrine_intel_reloads_total",
            "result",
            "Threat list reloads.",
        );
        render_rules(&mut out, rules);
        out
    }
}

fn render_rules(out: &mut String, rules: &[std::sync::Arc<LoadedRule>]) {
    type Read = fn(&LoadedRule) -> f64;
    let counters: [(&str, &str, Read); 7] = [
        ("calls", "Calls into the rule module.", |r| {
            r.stats.calls.load(Ordering::Relaxed) as f64
        }),
        ("evaluations", "Events the rule judged.", |r| {
            r.stats.evaluated.load(Ordering::Relaxed) as f64
        }),
        ("findings", "Findings the rule raised.", |r| {
            r.stats.findings.load(Ordering::Relaxed) as f64
        }),
        (
            "failures",
            "Events the rule failed on (trap, timeout, out of memory, error).",
            |r| r.stats.failures.load(Ordering::Relaxed) as f64,
        ),
        ("timeouts", "Calls stopped at the deadline.", |r| {
            r.stats.timeouts.load(Ordering::Relaxed) as f64
        }),
        ("out_of_memory", "Calls stopped at the memory cap.", |r| {
            r.stats.out_of_memory.load(Ordering::Relaxed) as f64
        }),
        (
            "busy_seconds",
            "Time spent in calls into the rule, in seconds.",
            |r| r.stats.busy_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        ),
    ];
    for (name, help, read) in counters {
        let _ = writeln!(
            out,
            "# HELP peregrine_rule_{name}_total {help}\n# TYPE peregrine_rule_{name}_total counter"
        );
        for rule in rules {
            let _ = writeln!(
                out,
                "peregrine_rule_{name}_total{{rule=\"{}\",version=\"{}\"}} {}",
                escape(&rule.name),
                rule.short_hash(),
                read(rule)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP peregrine_rule_quarantined 1 if the rule is quarantined.\n# TYPE peregrine_rule_quarantined gauge"
    );
    for rule in rules {
        let _ = writeln!(
            out,
            "peregrine_rule_quarantined{{rule=\"{}\",version=\"{}\"}} {}",
            escape(&rule.name),
            rule.short_hash(),
            u8::from(rule.stats.is_quarantined())
        );
    }
}

fn gauge(out: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl crate::ruleset::ReloadObserver for Metrics {
    fn reloaded(&self, report: &crate::ruleset::SyncReport) {
        self.rule_reloads.add("loaded", report.loaded.len() as u64);
        self.rule_reloads
            .add("removed", report.removed.len() as u64);
        self.rule_reloads.add("failed", report.failed.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_counted_by_kind_and_cluster_in_two_labels() {
        let metrics = Metrics::default();
        metrics.events_received.add("webhook", "prod", 3);
        metrics.events_received.add("webhook", "prod", 2);
        metrics.events_received.add("file", "staging", 7);
        metrics.events_malformed.add("file", "staging", 1);
        let text = metrics.render(&[]);
        assert!(
            text.contains("peregrine_events_received_total{kind=\"webhook\",cluster=\"prod\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("peregrine_events_received_total{kind=\"file\",cluster=\"staging\"} 7\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "peregrine_events_malformed_total{kind=\"file\",cluster=\"staging\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!(
            "# TYPE peregrine_build_info gauge\nperegrine_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(!text.contains("source="), "{text}");
    }
}
