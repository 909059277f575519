//! A warm instance of one rule, owned by one worker: a store and the instantiated
//! component, called under a deadline and a memory cap.

use std::sync::Arc;

use wasmtime::{Store, StoreLimitsBuilder, Trap};

use super::bindings::{Rule, audit, detection};
use super::host::HostState;
use super::module::LoadedRule;
use super::{EngineConfig, Failure};

/// `evaluate-audit`, taking events by reference so a call passes any subset of a batch
/// without copying it first (`&T` lowers exactly as `T`).
type EvaluateAudit<'a> = wasmtime::component::TypedFunc<
    (&'a [&'a audit::AuditEvent],),
    (Result<Vec<detection::Finding>, String>,),
>;

pub struct WarmInstance {
    store: Store<HostState>,
    rule: Rule,
    evaluate: wasmtime::component::Func,
    calls: u64,
}

impl WarmInstance {
    pub fn new(
        engine: &wasmtime::Engine,
        config: &EngineConfig,
        loaded: &LoadedRule,
    ) -> Result<Self, Failure> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(config.memory_limit)
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build();
        let state = HostState::new(
            loaded.label.clone(),
            Arc::clone(&loaded.state),
            Arc::clone(&config.settings),
            limits,
        );
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(config.deadline_ticks());
        let instance = loaded
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| classify(e, &store, "instantiation failed"))?;
        let rule = Rule::new(&mut store, &instance)
            .map_err(|e| classify(e, &store, "instantiation failed"))?;
        let evaluate = instance
            .get_func(&mut store, "evaluate-audit")
            .ok_or_else(|| Failure::Trap("the component exports no evaluate-audit".into()))?;
        // Type-checked once here; calls then skip the check (see `evaluate`).
        let _: EvaluateAudit<'_> = evaluate
            .typed(&store)
            .map_err(|e| classify(e, &store, "evaluate-audit has the wrong type"))?;
        Ok(WarmInstance {
            store,
            rule,
            evaluate,
            calls: 0,
        })
    }

    /// Instances are recycled after this many calls so guest memory cannot grow forever.
    pub fn is_worn_out(&self, config: &EngineConfig) -> bool {
        self.calls >= config.recycle_after_calls
    }

    pub fn describe(&mut self, config: &EngineConfig) -> Result<detection::Descriptor, Failure> {
        self.store.set_epoch_deadline(config.deadline_ticks());
        self.calls += 1;
        self.rule
            .call_describe(&mut self.store)
            .map_err(|e| classify(e, &self.store, "describe failed"))
    }

    pub fn evaluate(
        &mut self,
        config: &EngineConfig,
        events: &[&audit::AuditEvent],
    ) -> Result<Vec<detection::Finding>, Failure> {
        self.store.set_epoch_deadline(config.deadline_ticks());
        self.calls += 1;
        // SAFETY: `new` checked that `evaluate` has exactly this type.
        let evaluate: EvaluateAudit<'_> =
            unsafe { wasmtime::component::TypedFunc::new_unchecked(self.evaluate) };
        match evaluate.call(&mut self.store, (events,)) {
            Ok((Ok(findings),)) => Ok(findings),
            Ok((Err(message),)) => Err(Failure::Error(message)),
            Err(e) => Err(classify(e, &self.store, "evaluation failed")),
        }
    }
}

/// Turns a wasmtime error into the failure we report, with the rule's panic message when
/// it left one on stderr.
fn classify(error: wasmtime::Error, store: &Store<HostState>, context: &str) -> Failure {
    if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return Failure::Timeout;
    }
    // The root cause without the wasm backtrace wasmtime wraps around it.
    let cause = error.root_cause().to_string();
    if cause.contains("growing memory") || cause.contains("memory growth") {
        return Failure::OutOfMemory;
    }
    let stderr = store.data().stderr();
    let detail = match error.downcast_ref::<Trap>() {
        Some(trap) => format!("trap: {trap}"),
        None => format!("{context}: {cause}"),
    };
    if stderr.is_empty() {
        Failure::Trap(detail)
    } else {
        Failure::Trap(format!("{detail}; stderr: {stderr}"))
    }
}
