//! The Peregrine rules SDK: write a detection rule as a short Rust crate.
//!
//! A rule is a type that implements [`Rule`]: a [`Descriptor`] saying what it detects and
//! which events it wants, and an `evaluate` that turns one [`AuditEvent`] into at most
//! one [`Finding`]. [`export_rule!`] makes the crate a WebAssembly component for the
//! `peregrine:rules` world (build it with `--target wasm32-wasip2`).
//!
//! ```
//! use peregrine_rules_sdk::*;
//!
//! struct ExecInKubeSystemPod;
//!
//! impl Rule for ExecInKubeSystemPod {
//!     fn descriptor() -> Descriptor {
//!         Descriptor::new("Execution:Kubernetes/ExecInKubeSystemPod", MEDIUM,
//!             "A command was executed inside a pod in kube-system namespace.",
//!             "Detects the exec API used against pods in kube-system.")
//!             .subscribe(AuditSubscription::any().resources(&["pods"]).subresources(&["exec"]))
//!     }
//!     fn evaluate(event: &AuditEvent) -> Option<Finding> {
//!         (event.namespace() == Some("kube-system")).then(|| Finding::new("..."))
//!     }
//! }
//!
//! export_rule!(ExecInKubeSystemPod);
//! ```
//!
//! Rules are unit-tested natively with plain `cargo test`: enable the `testing` feature
//! in `[dev-dependencies]` and load fixture files of real audit events with
//! [`testing::events_from_file`]. Host capabilities ([`log`], [`state`]) have in-memory
//! stand-ins outside WebAssembly.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "rule",
        pub_export_macro: true,
        default_bindings_module: "peregrine_rules_sdk::bindings",
        additional_derives: [Clone, PartialEq],
    });
}

pub mod anomaly;
mod builders;
pub mod caller;
pub mod commands;
mod event;
pub mod exposure;
pub mod host;
pub mod listed;
pub mod paths;
pub mod profile;
pub mod risk;
pub mod runtime;
pub mod sensitive_files;
pub mod subscription;
pub mod tactic;
pub mod written;

#[cfg(feature = "normalize")]
pub mod normalize;
#[cfg(feature = "testing")]
pub mod testing;

pub use bindings::peregrine::rules::audit::*;
pub use bindings::peregrine::rules::detection::{
    AnomalyFeature, AnomalyObject, AuditSubscription, Descriptor, EventMatch, Finding,
    RuntimeSubscription, ThreatIntel,
};
pub use event::{WORKLOAD_RESOURCES, image_prefix};
pub use host::{log, settings, state};
pub use runtime::{Activity, ActivityKind, RuntimeEvent};

/// The version of the WIT package this SDK targets.
pub const WIT_VERSION: &str = "0.3.0";

/// GuardDuty's default numbers for its severity bands.
pub const LOW: f64 = 2.0;
pub const MEDIUM: f64 = 5.0;
pub const HIGH: f64 = 8.0;

/// A detection rule: one finding type.
pub trait Rule {
    /// What the rule detects and which events the host should send it.
    fn descriptor() -> Descriptor;

    /// Judges one audit event. Called only for events that match the audit subscription.
    fn evaluate(event: &AuditEvent) -> Option<Finding> {
        let _ = event;
        None
    }

    /// Judges a batch (the events of one `evaluate-audit` call, in order), numbering
    /// each finding with its event's index. A rule that keeps state across a batch
    /// wraps [`evaluate_each`] (the anomaly rules: [`anomaly::evaluate_batch`]).
    fn evaluate_batch(events: &[AuditEvent]) -> Vec<Finding>
    where
        Self: Sized,
    {
        evaluate_each::<Self>(events)
    }

    /// Judges one runtime event. Called only for events that match the runtime
    /// subscription.
    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let _ = event;
        None
    }

    /// Judges a batch of runtime events, as [`Rule::evaluate_batch`] does audit events.
    fn evaluate_runtime_batch(events: &[RuntimeEvent]) -> Vec<Finding>
    where
        Self: Sized,
    {
        number(events.iter().map(|event| Self::evaluate_runtime(event)))
    }
}

/// Runs [`Rule::evaluate`] over each event of a batch, numbering each finding with its
/// event's index.
pub fn evaluate_each<R: Rule>(events: &[AuditEvent]) -> Vec<Finding> {
    number(events.iter().map(|event| R::evaluate(event)))
}

/// Numbers each finding with the index of the event that raised it.
fn number(verdicts: impl Iterator<Item = Option<Finding>>) -> Vec<Finding> {
    verdicts
        .enumerate()
        .filter_map(|(index, finding)| {
            finding.map(|mut finding| {
                finding.event_index = index as u32;
                finding
            })
        })
        .collect()
}

/// The checks the host applies to a descriptor when it loads a module.
pub fn check_descriptor(d: &Descriptor) -> Result<(), String> {
    if d.finding_type.trim().is_empty() {
        return Err("finding-type is empty".into());
    }
    if !(0.0..=10.0).contains(&d.severity) {
        return Err(format!("severity {} is outside 0..10", d.severity));
    }
    if d.title.trim().is_empty() {
        return Err("title is empty".into());
    }

    Ok(())
}

/// Exports a rule of one of the SDK's runtime families ([`listed`], [`commands`],
/// [`sensitive_files`]): a struct `$rule` whose descriptor is `$descriptor($kind)` and
/// whose judgement is `$evaluate($kind, event)`, with a test of the crate's
/// `fixtures/positive.jsonl` (every event found) and `fixtures/negative.jsonl` (none).
/// The families' own macros (`export_listed_rule!` and the others) name the arguments.
#[macro_export]
macro_rules! export_family_rule {
    ($rule:ident, $descriptor:path, $evaluate:path, $kind:expr) => {
        pub struct $rule;

        impl $crate::Rule for $rule {
            fn descriptor() -> $crate::Descriptor {
                $descriptor($kind)
            }

            fn evaluate_runtime(event: &$crate::RuntimeEvent) -> Option<$crate::Finding> {
                $evaluate($kind, event)
            }
        }

        $crate::export_rule!($rule);

        #[cfg(test)]
        mod fixture_tests {
            #[test]
            fn fixtures() {
                $crate::testing::check_runtime_fixtures::<super::$rule>();
            }
        }
    };
}

/// Makes the crate a `peregrine:rules` component whose rule is `$rule`.
///
/// Outside WebAssembly it expands to nothing, so the crate builds and tests natively.
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            impl $crate::bindings::Guest for Component {
                fn describe() -> $crate::Descriptor {
                    <$rule as $crate::Rule>::descriptor()
                }

                fn evaluate_audit(
                    events: ::std::vec::Vec<$crate::AuditEvent>,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, ::std::string::String>
                {
                    Ok(<$rule as $crate::Rule>::evaluate_batch(&events))
                }

                fn evaluate_runtime(
                    events: ::std::vec::Vec<$crate::RuntimeEvent>,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, ::std::string::String>
                {
                    Ok(<$rule as $crate::Rule>::evaluate_runtime_batch(&events))
                }
            }

    $crate::bindings::export!(Component with_types_in $crate::bindings);
        };

        // Natively the rule is reached only by tests; this keeps the build free of
        // dead-code warnings.
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $crate::Descriptor = <$rule as $crate::Rule>::descriptor;

        /// Every rule crate tests that its descriptor is one the host accepts.
        #[cfg(test)]
        #[test]
        fn descriptor_is_valid() {
            $crate::check_descriptor(&<$rule as $crate::Rule>::descriptor()).unwrap();
        }
    };
}
