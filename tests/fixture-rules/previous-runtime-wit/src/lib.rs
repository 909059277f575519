//! A rule built against `peregrine:rules@0.2.0` (`wit/v0.2.0`), whose runtime subscription
//! cannot narrow by executable or path: the host must keep loading it and sending it every
//! exec. It reports each exec it is given, naming the executable, and logs through the
//! 0.2.0 import names.

wit_bindgen::generate!({ path: "../../../wit/v0.2.0", world: "rule" });

use peregrine::rules::detection::RuntimeSubscription;
use peregrine::rules::log;
use peregrine::rules::runtime::{Activity, ActivityKind};

struct PreviousRuntimeRule;

impl Guest for PreviousRuntimeRule {
    fn describe() -> Descriptor {
        log::log(log::Level::Info, "describing a 0.2.0 rule");
        Descriptor {
            finding_type: "Test:Fixture/PreviousRuntimeWorld".into(),
            severity: 2.0,
            title: "An exec judged by a 0.2.0 module.".into(),
            description: "Built against the 0.2.0 contract.".into(),
            audit: None,
            runtime: Some(RuntimeSubscription {
                activities: vec![ActivityKind::Exec],
                sensors: Vec::new(),
                listed: false,
                containers_only: false,
            }),
            wants_raw: false,
        }
    }

    fn evaluate_audit(_: Vec<AuditEvent>) -> Result<Vec<Finding>, String> {
        Ok(Vec::new())
    }

    fn evaluate_runtime(events: Vec<RuntimeEvent>) -> Result<Vec<Finding>, String> {
        Ok(events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.activity, Activity::Exec))
            .map(|(index, event)| Finding {
                event_index: index as u32,
                severity: None,
                title: None,
                description: format!("exec of {}", event.process.executable_path),
                parameters: None,
                threat_intel: Vec::new(),
                additional_info: Vec::new(),
                anomaly: Vec::new(),
                aggregation_key: Some(event.event_id.clone()),
                runtime_context: Vec::new(),
            })
            .collect())
    }
}

export!(PreviousRuntimeRule);
