//! A loaded rule module: its compiled component, pre-linked instance, descriptor, state and
//! counters.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use peregrine_rules_sdk as sdk;
use sha2::{Digest, Sha256};

use wasmtime::component::InstancePre;

use super::host::{HostState, StateBucket};

/// Counters a rule accumulates while it runs, shown by `scan` and `/v1/rules`.
#[derive(Default)]
pub struct RuleStats {
    /// Component calls made.
    pub calls: AtomicU64,
    /// Events judged (dispatched to the rule and evaluated without failure).
    pub evaluated: AtomicU64,
    pub findings: AtomicU64,
    /// Events the rule failed on (trap, timeout, out of memory or an error it returned).
    pub failures: AtomicU64,
    pub timeouts: AtomicU64,
    /// Time spent in calls into the rule, in nanoseconds.
    pub busy_nanos: AtomicU64,
    pub out_of_memory: AtomicU64,
    consecutive_failures: AtomicU64,
    quarantined: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl RuleStats {
    pub fn is_quarantined(&self) -> bool {
        self.quarantined.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap().clone()
    }

    pub fn record_success(&self, events: u64, findings: u64) {
        self.evaluated.fetch_add(events, Ordering::Relaxed);
        self.findings.fetch_add(findings, Ordering::Relaxed);
        self.consecutive_failures.store(0, Ordering::Relaxed);
    }

    /// Counts a failure; returns true if it is the one that quarantines the rule.
    pub fn record_failure(&self, error: &str, quarantine_after: u64) -> bool {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap() = Some(error.to_string());
        let streak = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        streak >= quarantine_after && !self.quarantined.swap(true, Ordering::Relaxed)
    }
}

/// The version of the `rule` world a module was built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// `peregrine:rules@0.3.0`: audit and runtime events, runtime subscriptions that
    /// name executables and paths.
    Current,
    /// `peregrine:rules@0.2.0`: audit and runtime events.
    V0_2,
    /// `peregrine:rules@0.1.0`: audit events only.
    V0_1,
}

impl World {
    pub fn version(self) -> &'static str {
        match self {
            World::Current => super::WIT_VERSION,
            World::V0_2 => super::previous::V0_2,
            World::V0_1 => super::previous::V0_1,
        }
    }

    /// Whether modules of this world judge runtime events.
    pub fn has_runtime(self) -> bool {
        self != World::V0_1
    }
}

pub struct LoadedRule {
    /// The module's file stem, e.g. `execution-exec-in-kube-system-pod`.
    pub name: String,
    pub path: PathBuf,
    /// SHA-256 of the module file: its version.
    pub hash: String,
    pub descriptor: sdk::Descriptor,
    /// The world the module targets.
    pub world: World,
    pub(super) pre: InstancePre<HostState>,
    pub(super) state: Arc<StateBucket>,
    pub(super) label: Arc<str>,
    pub stats: RuleStats,
}

impl LoadedRule {
    pub fn finding_type(&self) -> &str {
        &self.descriptor.finding_type
    }

    /// The first 12 hex digits of the hash, for display.
    pub fn short_hash(&self) -> &str {
        &self.hash[..12]
    }

    /// Whether the rule wants this event.
    pub fn subscribes_to(&self, event: &sdk::AuditEvent) -> bool {
        self.descriptor
            .audit
            .as_ref()
            .is_some_and(|s| sdk::subscription::matches(s, event))
    }

    /// Whether the rule wants this runtime event.
    pub fn subscribes_to_runtime(&self, event: &sdk::RuntimeEvent) -> bool {
        self.descriptor
            .runtime
            .as_ref()
            .is_some_and(|s| sdk::subscription::matches_runtime(s, event))
    }
}

pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The rule name for a module path: its file stem.
pub fn module_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
