//! What a rule's store holds: a WASI context with nothing in it, memory limits, and the
//! capabilities of the `rule` world (log, state and settings).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{log, settings, state};

/// Longest log line a rule may write; the rest is cut.
const MAX_LOG_LINE: usize = 4096;
/// What a rule's stderr (panic messages) may hold per instance.
const STDERR_CAPACITY: usize = 16 * 1024;

pub const MAX_STATE_KEY: usize = 1024;
pub const MAX_STATE_VALUE: usize = 64 * 1024;
pub const MAX_STATE_KEYS: usize = 1_000_000;

/// The operator's settings for rules (`--rule-setting NAME=VALUE`), the same for every rule.
pub type RuleSettings = std::collections::BTreeMap<String, String>;

/// One rule's key-value state. Shared by every instance of the rule on every worker, and
/// kept across module reloads (it is found again by finding type). Changes are remembered
/// until [`StateStores::take_changes`] hands them to the store.
#[derive(Default)]
pub struct StateBucket {
    inner: Mutex<Bucket>,
}

#[derive(Default)]
struct Bucket {
    entries: HashMap<String, Vec<u8>>,
    changed: std::collections::HashSet<String>,
}

impl StateBucket {
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.lock().unwrap().entries.get(key).cloned()
    }

    pub fn set(&self, key: String, value: Vec<u8>) -> Result<(), state::StateError> {
        if key.len() > MAX_STATE_KEY || value.len() > MAX_STATE_VALUE {
            return Err(state::StateError::TooLarge);
        }
        let mut bucket = self.inner.lock().unwrap();
        if bucket.entries.len() >= MAX_STATE_KEYS && !bucket.entries.contains_key(&key) {
            return Err(state::StateError::Full);
        }
        bucket.changed.insert(key.clone());
        bucket.entries.insert(key, value);
        Ok(())
    }

    pub fn delete(&self, key: &str) {
        let mut bucket = self.inner.lock().unwrap();
        if bucket.entries.remove(key).is_some() {
            bucket.changed.insert(key.to_string());
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A change to a rule's state: the key's new value, or `None` when it was deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub finding_type: String,
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// State buckets by finding type.
#[derive(Default)]
pub struct StateStores {
    buckets: Mutex<HashMap<String, Arc<StateBucket>>>,
}

impl StateStores {
    pub fn bucket(&self, finding_type: &str) -> Arc<StateBucket> {
        self.buckets
            .lock()
            .unwrap()
            .entry(finding_type.to_string())
            .or_default()
            .clone()
    }

    /// Puts back one stored key of a rule's state (at start, before any rule runs).
    pub fn restore(&self, finding_type: &str, key: String, value: Vec<u8>) {
        let bucket = self.bucket(finding_type);
        bucket.inner.lock().unwrap().entries.insert(key, value);
    }

    /// The changes since the last call, with the values they have now.
    pub fn take_changes(&self) -> Vec<StateChange> {
        let buckets: Vec<(String, Arc<StateBucket>)> = self
            .buckets
            .lock()
            .unwrap()
            .iter()
            .map(|(t, b)| (t.clone(), Arc::clone(b)))
            .collect();
        let mut changes = Vec::new();
        for (finding_type, bucket) in buckets {
            let mut bucket = bucket.inner.lock().unwrap();
            let keys: Vec<String> = bucket.changed.drain().collect();
            for key in keys {
                let value = bucket.entries.get(&key).cloned();
                changes.push(StateChange {
                    finding_type: finding_type.clone(),
                    key,
                    value,
                });
            }
        }
        changes
    }
}

/// A clock that always reads zero (the Unix epoch).
struct StoppedClock;

impl wasmtime_wasi::HostWallClock for StoppedClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: StoreLimits,
    rule: Arc<str>,
    state: Arc<StateBucket>,
    settings: Arc<RuleSettings>,
    stderr: MemoryOutputPipe,
}

impl HostState {
    pub fn new(
        rule: Arc<str>,
        state: Arc<StateBucket>,
        settings: Arc<RuleSettings>,
        limits: StoreLimits,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // No preopened directories, no environment, no arguments, no sockets, no name
        // lookups, and stopped clocks: a rule sees only what the `rule` world gives it and
        // judges by the event's own timestamps, so the same events get the same verdict.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .wall_clock(StoppedClock)
            .monotonic_clock(StoppedClock)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits,
            rule,
            state,
            settings,
            stderr,
        }
    }

    /// What the rule wrote to stderr, e.g. a Rust panic message before its trap.
    pub fn stderr(&self) -> String {
        let bytes = self.stderr.contents();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let rule = &*self.rule;
        match level {
            log::Level::Trace => tracing::trace!(rule, "{message}"),
            log::Level::Debug => tracing::debug!(rule, "{message}"),
            log::Level::Info => tracing::info!(rule, "{message}"),
            log::Level::Warn => tracing::warn!(rule, "{message}"),
            log::Level::Error => tracing::error!(rule, "{message}"),
        }
    }
}

impl state::Host for HostState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.state.get(&key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), state::StateError> {
        self.state.set(key, value)
    }

    fn delete(&mut self, key: String) {
        self.state.delete(&key)
    }
}

impl settings::Host for HostState {
    fn get(&mut self, name: String) -> Option<String> {
        self.settings.get(&name).cloned()
    }
}

// The type-only interfaces have no functions to provide.
impl super::bindings::audit::Host for HostState {}
impl super::bindings::detection::Host for HostState {}
impl super::bindings::runtime::Host for HostState {}
