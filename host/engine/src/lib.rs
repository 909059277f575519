//! The rule engine: one wasmtime `Engine`, one `Linker` offering the `rule` world's
//! imports and an empty WASI, and one pre-linked instance per loaded module.
//!
//! Isolation: every call runs under an epoch deadline (a ticker thread advances the epoch
//! every [`TICK`]) and every store under a memory cap. A trap, timeout or out-of-memory is
//! caught, counted against the rule, and the instance is thrown away; a rule that fails
//! [`EngineConfig::quarantine_after`] times in a row is quarantined. Nothing a rule does
//! stops the host or other rules.
//!
//! This crate knows no HTTP and writes no store: the host feeds it events and keeps what
//! it returns. [`ruleset`] holds the loaded modules of a directory and swaps them live.

mod bindings;
mod convert;
mod evaluator;
mod host;
mod instance;
mod module;
mod previous;
pub mod ruleset;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};

pub use convert::{audit_event as to_wit_event, runtime_event as to_wit_runtime_event};
pub use evaluator::{Evaluator, RuleFinding};
pub use host::{RuleSettings, StateBucket, StateChange, StateStores};
pub use instance::WarmInstance;
pub use module::{LoadedRule, RuleStats, World, content_hash};

use bindings::Rule;
use host::HostState;

/// The epoch tick: the granularity of call deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "peregrine:rules";
pub const WIT_VERSION: &str = peregrine_rules_sdk::WIT_VERSION;
/// Every version of the package this host loads modules of, newest first.
pub const WIT_VERSIONS: [&str; 3] = [WIT_VERSION, previous::V0_2, previous::V0_1];

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Longest a single call into a rule may run.
    pub timeout: Duration,
    /// Largest linear memory a rule instance may have, in bytes.
    pub memory_limit: usize,
    /// Consecutive failures after which a rule is quarantined.
    pub quarantine_after: u64,
    /// Calls after which a warm instance is replaced by a fresh one.
    pub recycle_after_calls: u64,
    /// Where compiled modules are cached, keyed by content and engine settings, so a
    /// restart does not recompile unchanged modules. `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// What the `settings` capability answers.
    pub settings: Arc<host::RuleSettings>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            timeout: Duration::from_millis(250),
            memory_limit: 128 << 20,
            quarantine_after: 5,
            recycle_after_calls: 100_000,
            cache_dir: None,
            settings: Arc::default(),
        }
    }
}

impl EngineConfig {
    fn deadline_ticks(&self) -> u64 {
        (self.timeout.as_millis() / TICK.as_millis()).max(1) as u64 + 1
    }
}

/// How a call into a rule failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("timed out")]
    Timeout,
    #[error("ran out of memory")]
    OutOfMemory,
    #[error("{0}")]
    Trap(String),
    #[error("returned an error: {0}")]
    Error(String),
    /// The component's exports do not have the world's types.
    #[error("{0}")]
    Incompatible(String),
}

/// Why a module could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a WebAssembly component: {reason}")]
    NotAComponent { path: PathBuf, reason: String },
    #[error(
        "{path}: built against {WIT_PACKAGE}@{found}, but this host implements \
         {WIT_PACKAGE}@{WIT_VERSION} (and still loads {v0_2} and {v0_1}); rebuild the rule \
         with a matching SDK", v0_2 = previous::V0_2, v0_1 = previous::V0_1
    )]
    WitVersion { path: PathBuf, found: String },
    #[error("{path}: does not fit the {WIT_PACKAGE}@{version} `rule` world: {reason}")]
    Incompatible {
        path: PathBuf,
        version: &'static str,
        reason: String,
    },
    #[error("{path}: describe() failed: {failure}")]
    Describe { path: PathBuf, failure: Failure },
    #[error("{path}: invalid descriptor: {reason}")]
    Descriptor { path: PathBuf, reason: String },
    #[error("{path}: finding type {finding_type} is already provided by {other}")]
    Duplicate {
        path: PathBuf,
        finding_type: String,
        other: String,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the WebAssembly engine: {0}")]
pub struct EngineError(String);

pub struct RuleEngine {
    engine: wasmtime::Engine,
    linker: Linker<HostState>,
    config: EngineConfig,
    stop_ticker: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl RuleEngine {
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let mut wasm = wasmtime::Config::new();
        wasm.epoch_interruption(true);
        // `PEREGRINE_PERFMAP=1` writes /tmp/perf-<pid>.map so `perf report` names the
        // functions of rule modules (for profiling; see BENCHMARKS.md).
        if std::env::var_os("PEREGRINE_PERFMAP").is_some() {
            wasm.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        if let Some(dir) = &config.cache_dir {
            let mut cache = wasmtime::CacheConfig::new();
            cache.with_directory(std::path::absolute(dir).unwrap_or_else(|_| dir.clone()));
            match wasmtime::Cache::new(cache) {
                Ok(cache) => {
                    wasm.cache(Some(cache));
                }
                // A cache is an optimisation: without one, modules still compile.
                Err(e) => tracing::warn!(dir = %dir.display(), "compile cache disabled: {e:#}"),
            }
        }
        let engine = wasmtime::Engine::new(&wasm).map_err(|e| EngineError(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        previous::add_to_linker(&mut linker).map_err(|e| EngineError(format!("{e:#}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = Arc::clone(&stop_ticker);
            std::thread::Builder::new()
                .name("epoch-ticker".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| EngineError(e.to_string()))?
        };
        Ok(RuleEngine {
            engine,
            linker,
            config,
            stop_ticker,
            ticker: Some(ticker),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn wasm_engine(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// Compiles a module, checks it against the world, and asks it to describe itself.
    pub fn load(&self, path: &Path, states: &StateStores) -> Result<LoadedRule, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.into(),
            source,
        })?;
        self.load_bytes(path, &bytes, states)
    }

    pub fn load_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        states: &StateStores,
    ) -> Result<LoadedRule, LoadError> {
        let component = self.compile(path, bytes)?;
        self.load_compiled(path, bytes, &component, states)
    }

    /// Compiles a component (from the cache when it was compiled before).
    pub fn compile(&self, path: &Path, bytes: &[u8]) -> Result<Component, LoadError> {
        check_is_component(bytes).map_err(|reason| LoadError::NotAComponent {
            path: path.into(),
            reason,
        })?;
        Component::new(&self.engine, bytes).map_err(|e| LoadError::NotAComponent {
            path: path.into(),
            reason: format!("{e:#}"),
        })
    }

    /// The names of the interfaces a compiled component imports.
    pub fn imports_of(&self, component: &Component) -> Vec<String> {
        component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// Links a compiled component against the world and asks it to describe itself.
    pub fn load_compiled(
        &self,
        path: &Path,
        bytes: &[u8],
        component: &Component,
        states: &StateStores,
    ) -> Result<LoadedRule, LoadError> {
        let path_buf = path.to_path_buf();
        let world = match wit_version(&self.engine, component) {
            Some(v) if v == WIT_VERSION => World::Current,
            Some(v) if v == previous::V0_2 => World::V0_2,
            Some(v) if v == previous::V0_1 => World::V0_1,
            Some(found) => {
                return Err(LoadError::WitVersion {
                    path: path_buf,
                    found,
                });
            }
            // A module that imports no capability names no version: its exports tell.
            None if exports(&self.engine, component, "evaluate-runtime") => World::Current,
            None => World::V0_1,
        };
        let incompatible = |reason: String| LoadError::Incompatible {
            path: path_buf.clone(),
            version: world.version(),
            reason,
        };
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| incompatible(format!("{e:#}")))?;

        let name = module::module_name(path);
        let mut loaded = LoadedRule {
            name: name.clone(),
            path: path_buf.clone(),
            hash: module::content_hash(bytes),
            descriptor: peregrine_rules_sdk::Descriptor::new("", 0.0, "", ""),
            world,
            pre,
            state: Arc::new(StateBucket::default()),
            label: Arc::from(name.as_str()),
            stats: RuleStats::default(),
        };
        let descriptor = WarmInstance::new(&self.engine, &self.config, &loaded)
            .and_then(|mut instance| instance.describe(&self.config))
            .map_err(|failure| match failure {
                Failure::Incompatible(reason) => incompatible(reason),
                failure => LoadError::Describe {
                    path: path_buf.clone(),
                    failure,
                },
            })?;
        let descriptor = convert::descriptor(descriptor);
        peregrine_rules_sdk::check_descriptor(&descriptor).map_err(|reason| {
            LoadError::Descriptor {
                path: path_buf,
                reason,
            }
        })?;
        loaded.state = states.bucket(&descriptor.finding_type);
        loaded.descriptor = descriptor;
        Ok(loaded)
    }

    /// Loads modules on all cores; the results are in the order of `paths`.
    pub fn load_paths(
        &self,
        paths: &[PathBuf],
        states: &StateStores,
    ) -> Vec<Result<LoadedRule, LoadError>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(paths.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut loaded: Vec<(usize, Result<LoadedRule, LoadError>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(path) = paths.get(i) else { break done };
                            done.push((i, self.load(path, states)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("module loading does not panic"))
                .collect()
        });
        loaded.sort_by_key(|(i, _)| *i);
        loaded.into_iter().map(|(_, r)| r).collect()
    }
}

impl Drop for RuleEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

/// A component starts with the wasm magic and a layer of 1 (core modules have 0).
fn check_is_component(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err("the file does not start with the WebAssembly magic number".into());
    }
    if bytes[6..8] == [0, 0] {
        return Err(
            "it is a core module; build rules for the wasm32-wasip2 target, which makes components"
                .into(),
        );
    }
    Ok(())
}

/// The version of `peregrine:rules` a component imports, if it imports any of it.
fn wit_version(engine: &wasmtime::Engine, component: &Component) -> Option<String> {
    let prefix = format!("{WIT_PACKAGE}/");
    component
        .component_type()
        .imports(engine)
        .find_map(|(name, _)| {
            let rest = name.strip_prefix(&prefix)?;
            Some(match rest.split_once('@') {
                Some((_, version)) => version.to_string(),
                None => "(unversioned)".to_string(),
            })
        })
}

fn exports(engine: &wasmtime::Engine, component: &Component, name: &str) -> bool {
    component
        .component_type()
        .exports(engine)
        .any(|(export, _)| export == name)
}
