//! The rules a running Peregrine judges with, kept in step with its rules directory.
//!
//! Readers take a [`RuleSnapshot`], an immutable list swapped in whole: the pipeline takes
//! one per batch, so every event is judged by exactly one version of each rule and a change
//! lands between batches. A changed module is compiled and described before it replaces
//! anything; one that fails to load never replaces a working one (the old version keeps
//! running and the failure is kept for `/v1/rules` and the log). Rule state lives in
//! [`StateStores`] by finding type, so it outlives reloads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::{LoadError, LoadedRule, RuleEngine, StateStores};

/// One consistent set of loaded rules.
pub struct RuleSnapshot {
    /// Goes up by one with every change.
    pub generation: u64,
    pub rules: Vec<Arc<LoadedRule>>,
}

impl RuleSnapshot {
    /// Whether any rule reads the event's raw JSON.
    pub fn wants_raw(&self) -> bool {
        self.rules.iter().any(|r| r.descriptor.wants_raw)
    }
}

/// A module file as last seen: size and modification time, to notice changes cheaply.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// A module that could not be loaded, and what was wrong with it.
#[derive(Clone, Debug)]
pub struct RuleFailure {
    pub path: PathBuf,
    pub error: String,
}

impl std::fmt::Display for RuleFailure {
    /// The error names the module's path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

/// What a sync of the directory changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub loaded: Vec<String>,
    pub removed: Vec<String>,
    pub failed: Vec<String>,
}

/// Told of every sync (the host counts reloads in its metrics).
pub trait ReloadObserver: Send + Sync {
    fn reloaded(&self, report: &SyncReport);
}

#[derive(Default)]
struct Known {
    /// Modules loaded, by path, with the stamp of the file they were loaded from.
    loaded: BTreeMap<PathBuf, (Stamp, Arc<LoadedRule>)>,
    /// Modules that failed, by path, with the stamp of the file that failed.
    failed: BTreeMap<PathBuf, (Stamp, String)>,
}

pub struct RuleSet {
    engine: Arc<RuleEngine>,
    states: Arc<StateStores>,
    directory: PathBuf,
    current: RwLock<Arc<RuleSnapshot>>,
    known: Mutex<Known>,
    metrics: Option<Arc<dyn ReloadObserver>>,
}

impl RuleSet {
    /// An empty set over `directory`; [`RuleSet::sync`] loads it.
    pub fn new(
        engine: Arc<RuleEngine>,
        states: Arc<StateStores>,
        directory: PathBuf,
        metrics: Option<Arc<dyn ReloadObserver>>,
    ) -> Self {
        RuleSet {
            engine,
            states,
            directory,
            current: RwLock::new(Arc::new(RuleSnapshot {
                generation: 0,
                rules: Vec::new(),
            })),
            known: Mutex::new(Known::default()),
            metrics,
        }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    pub fn engine(&self) -> &RuleEngine {
        &self.engine
    }

    /// The rules' state stores, by finding type.
    pub fn states(&self) -> Arc<StateStores> {
        Arc::clone(&self.states)
    }

    pub fn current(&self) -> Arc<RuleSnapshot> {
        Arc::clone(&self.current.read().unwrap())
    }

    /// Modules in the directory that are not running, and why.
    pub fn failures(&self) -> Vec<RuleFailure> {
        let known = self.known.lock().unwrap();
        known
            .failed
            .iter()
            .map(|(path, (_, error))| RuleFailure {
                path: path.clone(),
                error: error.clone(),
            })
            .collect()
    }

    /// Brings the loaded rules in step with the directory: loads new and changed modules
    /// (all cores compile), drops removed ones, and swaps the result in at once.
    pub fn sync(&self) -> Result<SyncReport, std::io::Error> {
        let mut present: BTreeMap<PathBuf, Stamp> = BTreeMap::new();
        for entry in std::fs::read_dir(&self.directory)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm")
                && let Some(s) = stamp(&path)
            {
                present.insert(path, s);
            }
        }
        let mut known = self.known.lock().unwrap();
        let changed: Vec<PathBuf> = present
            .iter()
            .filter(|(path, s)| {
                known.loaded.get(*path).map(|(k, _)| k) != Some(*s)
                    && known.failed.get(*path).map(|(k, _)| k) != Some(*s)
            })
            .map(|(path, _)| path.clone())
            .collect();
        let removed: Vec<PathBuf> = known
            .loaded
            .keys()
            .chain(known.failed.keys())
            .filter(|path| !present.contains_key(*path))
            .cloned()
            .collect();
        if changed.is_empty() && removed.is_empty() {
            return Ok(SyncReport::default());
        }

        let mut report = SyncReport::default();
        for path in &removed {
            known.failed.remove(path);
            if let Some((_, rule)) = known.loaded.remove(path) {
                tracing::info!(rule = %rule.name, "rule module removed");
                report.removed.push(rule.name.clone());
            }
        }
        let results = self.engine.load_paths(&changed, &self.states);
        for (path, result) in changed.iter().zip(results) {
            let stamp = present[path];
            let result = result.and_then(|rule| {
                match known.loaded.iter().find(|(other, (_, r))| {
                    *other != path && r.finding_type() == rule.finding_type()
                }) {
                    Some((other, _)) => Err(LoadError::Duplicate {
                        path: path.clone(),
                        finding_type: rule.finding_type().to_string(),
                        other: other.display().to_string(),
                    }),
                    None => Ok(rule),
                }
            });
            match result {
                Ok(rule) => {
                    let replaced = known
                        .loaded
                        .get(path)
                        .map(|(_, old)| old.short_hash().to_string());
                    tracing::info!(
                        rule = %rule.name,
                        version = rule.short_hash(),
                        replaced = replaced.as_deref().unwrap_or("-"),
                        "rule module loaded"
                    );
                    report.loaded.push(rule.name.clone());
                    known.failed.remove(path);
                    known.loaded.insert(path.clone(), (stamp, Arc::new(rule)));
                }
                Err(e) => {
                    let running = known.loaded.contains_key(path);
                    tracing::error!(
                        "rule module not loaded{}: {e}",
                        if running {
                            "; the previous version keeps running"
                        } else {
                            ""
                        }
                    );
                    report.failed.push(e.to_string());
                    known.failed.insert(path.clone(), (stamp, e.to_string()));
                }
            }
        }

        if !report.loaded.is_empty() || !report.removed.is_empty() {
            let mut current = self.current.write().unwrap();
            *current = Arc::new(RuleSnapshot {
                generation: current.generation + 1,
                rules: known.loaded.values().map(|(_, r)| Arc::clone(r)).collect(),
            });
        }
        if let Some(metrics) = &self.metrics {
            metrics.reloaded(&report);
        }
        Ok(report)
    }
}
