//! Findings: GuardDuty's wire format, building one from what a rule reported, folding
//! repeats into one, the filter criteria over them, and saved filters.

mod aggregate;
mod build;
mod build_runtime;
pub mod criteria;
pub mod saved_filters;
mod wire;

pub use aggregate::{Aggregator, fold};
pub use build::{RuleId, aggregation_key, build, format_time, now_micros};
pub use build_runtime::{build_runtime, process_uuid};
pub use wire::*;
