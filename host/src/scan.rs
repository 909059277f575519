//! `peregrine scan`: judge audit log files with every loaded rule and aggregate findings.
//!
//! The reading thread normalizes events, judges each audit ID once, marks listed IPs, and
//! hands batches to workers by a hash of the username, so each user's events are judged in
//! order (rules that keep state rely on it) while users spread over all cores. Each worker
//! has its own warm instance of every rule.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use peregrine_rules_sdk::AuditEvent;
use peregrine_rules_sdk::normalize::{JudgeOnce, Normalizer};

use crate::aggregate::Aggregator;
use crate::engine::{EngineConfig, Evaluator, LoadError, LoadedRule, RuleEngine, StateStores};
use crate::finding::{self, Finding, FindingContext};
use crate::ingest::{self, IngestError, Item, Location};
use crate::intel::{IntelError, IntelWarning, ThreatIntel};

#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub rules_dir: PathBuf,
    pub intel_dir: Option<PathBuf>,
    pub cluster: String,
    pub workers: usize,
    pub batch_size: usize,
    pub engine: EngineConfig,
    pub context: FindingContext,
}

impl ScanOptions {
    pub fn new(rules_dir: impl Into<PathBuf>) -> Self {
        ScanOptions {
            rules_dir: rules_dir.into(),
            intel_dir: None,
            cluster: "default".into(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_size: 256,
            engine: EngineConfig::default(),
            context: FindingContext::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("cannot read the rules directory {path}: {source}")]
    RulesDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no rule modules loaded from {0} (build them with `cargo xtask dist`)")]
    NoRules(PathBuf),
    #[error("cannot load threat intelligence: {0}")]
    Intel(#[from] IntelError),
}

/// Things worth telling the user as they happen.
pub enum Notice<'a> {
    Malformed {
        location: &'a Location,
        reason: &'a str,
    },
    RuleNotLoaded(&'a LoadError),
    IntelWarning(&'a IntelWarning),
    FileFailed(&'a IngestError),
}

pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub events_read: u64,
    pub events_judged: u64,
    pub malformed: u64,
    pub files_failed: usize,
    pub rules: Vec<Arc<LoadedRule>>,
    pub rules_failed_to_load: usize,
    pub elapsed: Duration,
}

impl ScanReport {
    pub fn findings_by_type(&self) -> BTreeMap<&str, u64> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.finding_type.as_str()).or_default() += 1;
        }
        counts
    }

    pub fn events_per_second(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn worker_for(event: &AuditEvent, workers: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    event.user.username.hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

pub fn run(
    options: &ScanOptions,
    files: &[PathBuf],
    notify: &mut dyn FnMut(Notice<'_>),
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let engine = RuleEngine::new(options.engine.clone())?;
    let states = StateStores::default();
    let (rules, load_errors) = engine
        .load_dir(&options.rules_dir, &states)
        .map_err(|source| ScanError::RulesDir {
            path: options.rules_dir.clone(),
            source,
        })?;
    load_errors
        .iter()
        .for_each(|e| notify(Notice::RuleNotLoaded(e)));
    if rules.is_empty() {
        return Err(ScanError::NoRules(options.rules_dir.clone()));
    }
    let intel = match &options.intel_dir {
        Some(dir) => {
            let (intel, warnings) = ThreatIntel::load_dir(dir)?;
            warnings
                .iter()
                .for_each(|w| notify(Notice::IntelWarning(w)));
            intel
        }
        None => ThreatIntel::default(),
    };
    let normalizer = Normalizer {
        cluster: options.cluster.clone(),
        keep_raw: rules.iter().any(|r| r.descriptor.wants_raw),
    };
    let workers = options.workers.max(1);
    let batch_size = options.batch_size.max(1);

    let mut events_read = 0u64;
    let mut events_judged = 0u64;
    let mut malformed = 0u64;
    let mut files_failed = 0usize;

    let aggregator = std::thread::scope(|scope| {
        let (found_tx, found_rx) = mpsc::sync_channel::<Vec<Finding>>(workers * 4);
        let collector = scope.spawn(move || {
            let mut aggregator = Aggregator::default();
            for batch in found_rx {
                batch.into_iter().for_each(|f| aggregator.add(f));
            }
            aggregator
        });
        let mut senders = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Vec<AuditEvent>>(4);
            senders.push(tx);
            let found_tx = found_tx.clone();
            let rules = rules.clone();
            let (engine, context) = (&engine, &options.context);
            scope.spawn(move || {
                let mut evaluator = Evaluator::new(engine, rules);
                let mut raised = Vec::new();
                for batch in rx {
                    evaluator.evaluate(&batch, &mut raised);
                    if raised.is_empty() {
                        continue;
                    }
                    let now = finding::now_micros();
                    let built = raised
                        .drain(..)
                        .map(|r| {
                            finding::build(context, &r.rule, &batch[r.event_index], r.finding, now)
                        })
                        .collect();
                    if found_tx.send(built).is_err() {
                        break;
                    }
                }
            });
        }
        drop(found_tx);

        let mut judge = JudgeOnce::default();
        let mut pending: Vec<Vec<AuditEvent>> = (0..workers)
            .map(|_| Vec::with_capacity(batch_size))
            .collect();
        for file in files {
            let mut sink = |item: Item| match item {
                Item::Event(mut event, _) => {
                    events_read += 1;
                    if !judge.admit(&event) {
                        return;
                    }
                    events_judged += 1;
                    intel.enrich(&mut event);
                    let w = worker_for(&event, workers);
                    pending[w].push(event);
                    if pending[w].len() >= batch_size {
                        let batch =
                            std::mem::replace(&mut pending[w], Vec::with_capacity(batch_size));
                        let _ = senders[w].send(batch);
                    }
                }
                Item::Malformed { location, reason } => {
                    malformed += 1;
                    notify(Notice::Malformed {
                        location: &location,
                        reason: &reason,
                    });
                }
            };
            if let Err(e) = ingest::read_path(file, &normalizer, &mut sink) {
                files_failed += 1;
                notify(Notice::FileFailed(&e));
            }
        }
        for (w, batch) in pending.into_iter().enumerate() {
            if !batch.is_empty() {
                let _ = senders[w].send(batch);
            }
        }
        drop(senders);
        collector
            .join()
            .expect("the collector thread does not panic")
    });

    Ok(ScanReport {
        findings: aggregator.into_sorted(),
        events_read,
        events_judged,
        malformed,
        files_failed,
        rules,
        rules_failed_to_load: load_errors.len(),
        elapsed: started.elapsed(),
    })
}

/// The table format: one finding per row.
pub fn render_table(findings: &[Finding]) -> String {
    let mut rows = vec![[
        "SEVERITY".to_string(),
        "TYPE".to_string(),
        "COUNT".to_string(),
        "USER".to_string(),
        "TARGET".to_string(),
        "LAST SEEN".to_string(),
    ]];
    for f in findings {
        let action = &f.service.action.kubernetes_api_call_action;
        let target = match &f.resource.kubernetes_details.kubernetes_workload_details {
            Some(w) => format!(
                "{}/{}/{}",
                w.workload_type,
                w.namespace.as_deref().unwrap_or("-"),
                w.name.as_deref().unwrap_or("-")
            ),
            None => match (&action.resource, &action.resource_name) {
                (Some(r), Some(n)) => format!("{r}/{n}"),
                (Some(r), None) => r.clone(),
                _ => action
                    .request_uri
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            },
        };
        rows.push([
            severity_label(f.severity).to_string(),
            f.finding_type.clone(),
            f.service.count.to_string(),
            f.resource
                .kubernetes_details
                .kubernetes_user_details
                .username
                .clone(),
            target,
            f.service.event_last_seen.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// GuardDuty's severity bands.
pub fn severity_label(severity: f64) -> &'static str {
    match severity {
        s if s >= 9.0 => "Critical",
        s if s >= 7.0 => "High",
        s if s >= 4.0 => "Medium",
        _ => "Low",
    }
}

/// The one-line summary printed on stderr after a scan.
pub fn summary(report: &ScanReport) -> String {
    let by_type: Vec<String> = report
        .findings_by_type()
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    let failing: Vec<String> = report
        .rules
        .iter()
        .filter(|r| r.stats.failures.load(std::sync::atomic::Ordering::Relaxed) > 0)
        .map(|r| {
            let failures = r.stats.failures.load(std::sync::atomic::Ordering::Relaxed);
            let state = if r.stats.is_quarantined() {
                "quarantined"
            } else {
                "failing"
            };
            format!("{} {state} ({failures} failures)", r.name)
        })
        .collect();
    let mut line = format!(
        "scanned {} events ({} judged, {} malformed) with {} rules: {} findings{} in {:.2}s ({:.0} events/s)",
        report.events_read,
        report.events_judged,
        report.malformed,
        report.rules.len(),
        report.findings.len(),
        if by_type.is_empty() {
            String::new()
        } else {
            format!(" [{}]", by_type.join(", "))
        },
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
    );
    if !failing.is_empty() {
        line.push_str(&format!("; rules with failures: {}", failing.join(", ")));
    }
    if report.files_failed > 0 {
        line.push_str(&format!(
            "; {} files could not be read",
            report.files_failed
        ));
    }
    line
}

/// Whether `path` holds any `.wasm` file.
pub fn has_modules(path: &Path) -> bool {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .unwrap_or(false)
}
