//! Peregrine: Kubernetes threat detection with sandboxed WebAssembly rules.
//!
//! The path of an event: [`ingest`] reads audit logs, the SDK's normalizer turns each
//! event into the WIT record, [`intel`] marks source IPs on threat lists, the [`engine`]
//! dispatches it to the rules that subscribe to it, [`finding`] builds GuardDuty-format
//! findings from what they report, and [`aggregate`] folds repeats into one finding.

pub mod accuracy;
pub mod aggregate;
pub mod api;
pub mod authoring;
pub mod cli;
pub mod criteria;
pub use peregrine_engine as engine;
pub mod feeds;
pub mod filters;
pub mod finding;
pub mod follow;
pub mod ingest;
pub mod intel;
pub mod metrics;
pub mod pipeline;
pub use peregrine_engine::ruleset;
pub mod scaffold;
pub mod scan;
pub mod serve;
pub use peregrine_simulate as simulate;
pub mod store;
pub mod watch;
