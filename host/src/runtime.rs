//! The composition root: the engine, the rule set, the threat lists and the pipeline,
//! wired once for `scan` and `serve` alike. What differs between them is chosen by the
//! caller: where findings go (a [`Sink`]), whether the lists are watched, and the rule
//! state to start from.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::{EngineConfig, EngineError, RuleEngine, StateStores};
use crate::findings::FindingContext;
use crate::intel::LiveIntel;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, PipelineConfig, Sink};
use crate::ruleset::RuleSet;

/// What a runtime is made of.
pub struct RuntimeOptions {
    pub rules_dir: PathBuf,
    pub engine: EngineConfig,
    pub pipeline: PipelineConfig,
    pub context: FindingContext,
    /// The threat lists: fixed for a scan, watched for a server.
    pub intel: Arc<LiveIntel>,
    /// The rules' state to start from (a server restores it from the store).
    pub states: Arc<StateStores>,
    pub metrics: Arc<Metrics>,
}

/// The running event path.
pub struct Runtime {
    pub rules: Arc<RuleSet>,
    pub intel: Arc<LiveIntel>,
    pub pipeline: Arc<Pipeline>,
    pub metrics: Arc<Metrics>,
}

impl Runtime {
    /// Starts the engine and the pipeline into `sink`. The rule set starts empty: the
    /// caller syncs it with the directory (a scan refuses to run without rules; a server
    /// waits for them), and batches are judged by the rules loaded when they arrive.
    pub fn start(options: RuntimeOptions, sink: Box<dyn Sink>) -> Result<Runtime, EngineError> {
        let engine = Arc::new(RuleEngine::new(options.engine)?);
        let rules = Arc::new(RuleSet::new(
            engine,
            options.states,
            options.rules_dir,
            Some(Arc::clone(&options.metrics) as _),
        ));
        let pipeline = Arc::new(Pipeline::start(
            options.pipeline,
            Arc::clone(&rules),
            Arc::clone(&options.intel),
            options.context,
            sink,
            Arc::clone(&options.metrics),
        ));
        Ok(Runtime {
            rules,
            intel: options.intel,
            pipeline,
            metrics: options.metrics,
        })
    }
}
