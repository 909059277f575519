//! `peregrine scan`: judge audit log files with every loaded rule and aggregate findings.
//!
//! The reading thread normalizes events and hands batches to the [`Pipeline`], which judges
//! them on every core and collects the findings in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{EngineConfig, LoadedRule, StateStores};
use crate::findings::{FindingContext, GuardDutyFinding};
use crate::ingest::{self, IngestError, Item, Location};
use crate::intel::{IntelDir, IntelError, IntelWarning, LiveIntel, ThreatLists};
use crate::metrics::Metrics;
use crate::pipeline::{Batch, CollectSink, PipelineConfig, Sink};
use crate::ruleset::RuleFailure;
use crate::runtime::{Runtime, RuntimeOptions};

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
            workers: crate::pipeline::default_workers(),
            batch_size: 1024,
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
    /// A runtime sensor reported that it dropped events (they were never seen).
    SensorDropped {
        location: &'a Location,
        count: u64,
    },
    RuleNotLoaded(&'a RuleFailure),
    IntelWarning(&'a IntelWarning),
    FileFailed(&'a IngestError),
}

pub struct ScanReport {
    pub findings: Vec<GuardDutyFinding>,
    pub events_read: u64,
    /// Of `events_read`, the runtime events (the rest are audit events).
    pub runtime_events_read: u64,
    pub events_judged: u64,
    pub malformed: u64,
    /// Events the runtime sensors said they dropped.
    pub sensor_dropped: u64,
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

pub fn run(
    options: &ScanOptions,
    files: &[PathBuf],
    notify: &mut dyn FnMut(Notice<'_>),
) -> Result<ScanReport, ScanError> {
    let collected = CollectSink::default();
    let mut report = run_into(options, files, notify, Box::new(collected.clone()))?;
    report.findings = std::mem::take(&mut *collected.0.lock().unwrap()).into_sorted();
    Ok(report)
}

/// [`run`], handing every finding occurrence to `sink` instead of aggregating them (the
/// report's `findings` is empty).
pub fn run_into(
    options: &ScanOptions,
    files: &[PathBuf],
    notify: &mut dyn FnMut(Notice<'_>),
    sink: Box<dyn Sink>,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let intel = match &options.intel_dir {
        Some(dir) => {
            let (intel, warnings) = IntelDir::new(dir).load()?;
            warnings
                .iter()
                .for_each(|w| notify(Notice::IntelWarning(w)));
            intel
        }
        None => ThreatLists::default(),
    };
    let batch_size = options.batch_size.max(1);
    let runtime = Runtime::start(
        RuntimeOptions {
            rules_dir: options.rules_dir.clone(),
            engine: options.engine.clone(),
            pipeline: PipelineConfig {
                workers: options.workers.max(1),
                // Enough to keep every worker busy; more would only hold memory.
                max_queued_events: batch_size * 32,
                ..PipelineConfig::default()
            },
            context: options.context.clone(),
            intel: Arc::new(LiveIntel::fixed(intel)),
            states: Arc::new(StateStores::default()),
            metrics: Arc::new(Metrics::default()),
        },
        sink,
    )?;
    let Runtime {
        rules,
        pipeline,
        metrics,
        ..
    } = runtime;
    rules.sync().map_err(|source| ScanError::RulesDir {
        path: options.rules_dir.clone(),
        source,
    })?;
    let failures = rules.failures();
    failures
        .iter()
        .for_each(|e| notify(Notice::RuleNotLoaded(e)));
    let snapshot = rules.current();
    let Some(normalizer) = pipeline.normalizer(&options.cluster) else {
        return Err(ScanError::NoRules(options.rules_dir.clone()));
    };
    let mut events_read = 0u64;
    let mut runtime_events_read = 0u64;
    let mut malformed = 0u64;
    let mut sensor_dropped = 0u64;
    let mut files_failed = 0usize;
    let mut batch = Batch::default();
    let submit = |batch: Batch| {
        // Only a pipeline that stopped refuses a waiting submit; nothing to do then.
        let _ = pipeline.submit(batch);
    };
    for file in files {
        let mut take = |item: Item| {
            match item {
                Item::Event(event, _) => {
                    events_read += 1;
                    batch.events.push(event);
                }
                Item::Owner(owner) => batch.owners.push(owner),
                Item::Runtime(event, _) => {
                    events_read += 1;
                    runtime_events_read += 1;
                    batch.runtime.push(*event);
                }
                Item::Dropped { count, location } => {
                    sensor_dropped += count;
                    notify(Notice::SensorDropped {
                        location: &location,
                        count,
                    });
                }
                Item::Malformed { location, reason } => {
                    malformed += 1;
                    notify(Notice::Malformed {
                        location: &location,
                        reason: &reason,
                    });
                }
            }
            if batch.len() >= batch_size {
                submit(std::mem::take(&mut batch));
            }
        };
        if let Err(e) = ingest::read_path(file, &normalizer, &mut take) {
            files_failed += 1;
            notify(Notice::FileFailed(&e));
        }
    }
    if !batch.is_empty() {
        submit(batch);
    }
    pipeline.shutdown();
    Ok(ScanReport {
        findings: Vec::new(),
        events_read,
        runtime_events_read,
        events_judged: metrics
            .events_judged
            .load(std::sync::atomic::Ordering::Relaxed),
        malformed,
        sensor_dropped,
        files_failed,
        rules: snapshot.rules.clone(),
        rules_failed_to_load: failures.len(),
        elapsed: started.elapsed(),
    })
}

/// The table format: one finding per row.
pub fn render_table(findings: &[GuardDutyFinding]) -> String {
    let mut rows = vec![[
        "SEVERITY".to_string(),
        "TYPE".to_string(),
        "COUNT".to_string(),
        "USER".to_string(),
        "TARGET".to_string(),
        "LAST SEEN".to_string(),
    ]];
    for f in findings {
        let action = f.service.action.kubernetes_api_call_action.as_ref();
        let target = match (
            &f.resource.kubernetes_details.kubernetes_workload_details,
            action,
        ) {
            (Some(w), _) => format!(
                "{}/{}/{}",
                w.workload_type,
                w.namespace.as_deref().unwrap_or("-"),
                w.name.as_deref().unwrap_or("-")
            ),
            (None, Some(action)) => match (&action.resource, &action.resource_name) {
                (Some(r), Some(n)) => format!("{r}/{n}"),
                (Some(r), None) => r.clone(),
                _ => action
                    .request_uri
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            },
            (None, None) => match &f.resource.node_details {
                Some(node) => format!("node/{}", node.name),
                None => "-".into(),
            },
        };
        // The caller of an API call, or the process of a runtime finding.
        let actor = match (
            &f.resource.kubernetes_details.kubernetes_user_details,
            &f.service.runtime_details,
        ) {
            (Some(user), _) => user.username.clone(),
            (None, Some(runtime)) => format!("process {}", runtime.process.executable_path),
            (None, None) => "-".into(),
        };
        rows.push([
            crate::findings::severity_label(f.severity).to_string(),
            f.finding_type.clone(),
            f.service.count.to_string(),
            actor,
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
    if report.runtime_events_read > 0 {
        line.push_str(&format!(
            "; {} of the events were runtime events",
            report.runtime_events_read
        ));
    }
    if report.sensor_dropped > 0 {
        line.push_str(&format!(
            "; the sensors said they dropped {} events",
            report.sensor_dropped
        ));
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
