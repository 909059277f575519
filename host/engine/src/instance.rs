//! A warm instance of one rule, owned by one worker: a store and the instantiated
//! component, called under a deadline and a memory cap.

use std::sync::Arc;

use wasmtime::component::{Func, TypedFunc};
use wasmtime::{Store, StoreLimitsBuilder, Trap};

use super::bindings::{audit, detection, runtime};
use super::host::HostState;
use super::module::{LoadedRule, World};
use super::{EngineConfig, Failure, previous};

/// The evaluate calls take events by reference, so a call passes any subset of a batch
/// without copying it first (`&T` lowers exactly as `T`).
type Evaluate<'a, E, F> = TypedFunc<(&'a [&'a E],), (Result<Vec<F>, String>,)>;
type Describe<D> = TypedFunc<(), (D,)>;

pub struct WarmInstance {
    store: Store<HostState>,
    world: World,
    describe: Func,
    evaluate_audit: Func,
    evaluate_runtime: Option<Func>,
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
            .instantiate(&mut store)
            .map_err(|e| classify(e, &store, "instantiation failed"))?;
        let mut export = |name: &str| {
            instance
                .get_func(&mut store, name)
                .ok_or_else(|| Failure::Incompatible(format!("the component exports no {name}")))
        };
        let describe = export("describe")?;
        let evaluate_audit = export("evaluate-audit")?;
        let evaluate_runtime = match loaded.world.has_runtime() {
            true => Some(export("evaluate-runtime")?),
            false => None,
        };
        // Type-checked once here; calls then skip the check (see `evaluate_audit`).
        fn wrong(name: &'static str) -> impl Fn(wasmtime::Error) -> Failure {
            move |e: wasmtime::Error| {
                Failure::Incompatible(format!("{name} has the wrong type: {:#}", e.root_cause()))
            }
        }
        match loaded.world {
            World::Current => {
                let _: Describe<detection::Descriptor> =
                    describe.typed(&store).map_err(wrong("describe"))?;
            }
            World::V0_2 => {
                let _: Describe<previous::DescriptorV0_2> =
                    describe.typed(&store).map_err(wrong("describe"))?;
            }
            World::V0_1 => {
                let _: Describe<previous::DescriptorV0_1> =
                    describe.typed(&store).map_err(wrong("describe"))?;
                let _: Evaluate<'_, audit::AuditEvent, previous::FindingV0_1> = evaluate_audit
                    .typed(&store)
                    .map_err(wrong("evaluate-audit"))?;
            }
        }
        // 0.2.0's events and findings are today's.
        if loaded.world.has_runtime() {
            let _: Evaluate<'_, audit::AuditEvent, detection::Finding> = evaluate_audit
                .typed(&store)
                .map_err(wrong("evaluate-audit"))?;
            let _: Evaluate<'_, runtime::RuntimeEvent, detection::Finding> = evaluate_runtime
                .expect("worlds with runtime events export evaluate-runtime")
                .typed(&store)
                .map_err(wrong("evaluate-runtime"))?;
        }
        Ok(WarmInstance {
            store,
            world: loaded.world,
            describe,
            evaluate_audit,
            evaluate_runtime,
            calls: 0,
        })
    }

    /// Instances are recycled after this many calls so guest memory cannot grow forever.
    pub fn is_worn_out(&self, config: &EngineConfig) -> bool {
        self.calls >= config.recycle_after_calls
    }

    fn enter(&mut self, config: &EngineConfig) {
        self.store.set_epoch_deadline(config.deadline_ticks());
        self.calls += 1;
    }

    pub fn describe(&mut self, config: &EngineConfig) -> Result<detection::Descriptor, Failure> {
        self.enter(config);
        let result = match self.world {
            World::Current => {
                // SAFETY: `new` checked that `describe` has exactly this type.
                let f: Describe<detection::Descriptor> =
                    unsafe { TypedFunc::new_unchecked(self.describe) };
                f.call(&mut self.store, ()).map(|(d,)| d)
            }
            World::V0_2 => {
                // SAFETY: as above, for 0.2.0's type.
                let f: Describe<previous::DescriptorV0_2> =
                    unsafe { TypedFunc::new_unchecked(self.describe) };
                f.call(&mut self.store, ()).map(|(d,)| d.into())
            }
            World::V0_1 => {
                // SAFETY: as above, for 0.1.0's type.
                let f: Describe<previous::DescriptorV0_1> =
                    unsafe { TypedFunc::new_unchecked(self.describe) };
                f.call(&mut self.store, ()).map(|(d,)| d.into())
            }
        };
        result.map_err(|e| classify(e, &self.store, "describe failed"))
    }

    pub fn evaluate_audit(
        &mut self,
        config: &EngineConfig,
        events: &[&audit::AuditEvent],
    ) -> Result<Vec<detection::Finding>, Failure> {
        self.enter(config);
        let result = match self.world {
            World::Current | World::V0_2 => {
                // SAFETY: `new` checked that `evaluate-audit` has exactly this type.
                let f: Evaluate<'_, audit::AuditEvent, detection::Finding> =
                    unsafe { TypedFunc::new_unchecked(self.evaluate_audit) };
                f.call(&mut self.store, (events,)).map(|(r,)| r)
            }
            World::V0_1 => {
                // SAFETY: as above, for 0.1.0's type.
                let f: Evaluate<'_, audit::AuditEvent, previous::FindingV0_1> =
                    unsafe { TypedFunc::new_unchecked(self.evaluate_audit) };
                f.call(&mut self.store, (events,))
                    .map(|(r,)| r.map(|fs| fs.into_iter().map(Into::into).collect()))
            }
        };
        self.finish(result)
    }

    pub fn evaluate_runtime(
        &mut self,
        config: &EngineConfig,
        events: &[&runtime::RuntimeEvent],
    ) -> Result<Vec<detection::Finding>, Failure> {
        let Some(func) = self.evaluate_runtime else {
            return Err(Failure::Incompatible(format!(
                "built against peregrine:rules@{}, which has no runtime events",
                previous::V0_1
            )));
        };
        self.enter(config);
        // SAFETY: `new` checked that `evaluate-runtime` has exactly this type.
        let f: Evaluate<'_, runtime::RuntimeEvent, detection::Finding> =
            unsafe { TypedFunc::new_unchecked(func) };
        let result = f.call(&mut self.store, (events,)).map(|(r,)| r);
        self.finish(result)
    }

    fn finish(
        &self,
        result: wasmtime::Result<Result<Vec<detection::Finding>, String>>,
    ) -> Result<Vec<detection::Finding>, Failure> {
        match result {
            Ok(Ok(findings)) => Ok(findings),
            Ok(Err(message)) => Err(Failure::Error(message)),
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
