//! A rule built against `peregrine:rules@0.1.0`, the previous contract (`wit/v0.1.0`), as
//! modules compiled before runtime events existed are: the host must keep loading it and
//! judging audit events with it. It uses every capability of that world (log, state,
//! settings), so the old import names are exercised too.
//!
//! It reports an exec into a pod, numbering the execs it has seen in its state, and names
//! the `fixture-label` setting when the operator gives one.

wit_bindgen::generate!({ path: "../../../wit/v0.1.0", world: "rule" });

use peregrine::rules::detection::AuditSubscription;
use peregrine::rules::{log, settings, state};

struct PreviousRule;

impl Guest for PreviousRule {
    fn describe() -> Descriptor {
        log::log(log::Level::Info, "describing a 0.1.0 rule");
        Descriptor {
            finding_type: "Test:Fixture/PreviousWorld".into(),
            severity: 5.0,
            title: "An exec judged by a 0.1.0 module.".into(),
            description: "Built against the previous contract.".into(),
            audit: Some(AuditSubscription {
                verbs: vec!["create".into(), "get".into()],
                resources: vec!["pods".into()],
                subresources: vec!["exec".into()],
                namespaces: Vec::new(),
                users: Vec::new(),
                source_ip_listed: false,
            }),
            wants_raw: false,
        }
    }

    fn evaluate_audit(events: Vec<AuditEvent>) -> Result<Vec<Finding>, String> {
        let label = settings::get("fixture-label").unwrap_or_else(|| "unlabelled".into());
        let mut findings = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if event.response_code.is_some_and(|c| c >= 400) {
                continue;
            }
            let seen = state::get("execs")
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            state::set("execs", seen.to_string().as_bytes()).map_err(|e| format!("{e:?}"))?;
            let command = event
                .exec
                .as_ref()
                .map(|x| x.command.join(" "))
                .unwrap_or_default();
            findings.push(Finding {
                event_index: index as u32,
                severity: None,
                title: None,
                description: format!("exec number {seen} by {}", event.user.username),
                parameters: Some(command),
                threat_intel: Vec::new(),
                additional_info: vec![("label".into(), label.clone())],
                anomaly: Vec::new(),
                aggregation_key: Some(event.audit_id.clone()),
            });
        }
        Ok(findings)
    }
}

export!(PreviousRule);
