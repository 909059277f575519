//! Peregrine: Kubernetes threat detection with sandboxed WebAssembly rules.
//!
//! The path of an event, one module per stage: [`ingest`] reads sources into batches (the
//! SDK's normalizer turns each audit event into the WIT record), [`pipeline`] admits each
//! request once, marks source IPs from [`intel`], judges with the [`engine`]'s rules and
//! commits what they raise, built and folded by [`findings`], to the [`store`], which the
//! [`api`] serves. [`runtime`] wires the path once for `scan` and `serve`.

pub mod api;
pub mod authoring;
pub mod cli;
pub use peregrine_engine as engine;
pub mod findings;
pub mod ingest;
pub mod intel;
pub mod metrics;
pub mod pipeline;
pub use peregrine_engine::ruleset;
pub mod runtime;
pub mod scan;
pub mod serve;
pub use peregrine_simulate as simulate;
pub mod store;
pub mod watch;
