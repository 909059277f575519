//! `/v1/rules`: the loaded rule modules, their versions, status and counters, and the
//! modules that failed to load with the reason.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiState, Problem};
use crate::engine::LoadedRule;

fn rule_json(rule: &LoadedRule) -> Value {
    let s = &rule.stats;
    json!({
        "module": rule.name,
        "findingType": rule.descriptor.finding_type,
        "severity": rule.descriptor.severity,
        "title": rule.descriptor.title,
        "description": rule.descriptor.description,
        "version": rule.hash,
        "status": if s.is_quarantined() { "QUARANTINED" } else { "ACTIVE" },
        "counters": {
            "calls": s.calls.load(Ordering::Relaxed),
            "evaluated": s.evaluated.load(Ordering::Relaxed),
            "findings": s.findings.load(Ordering::Relaxed),
            "failures": s.failures.load(Ordering::Relaxed),
            "timeouts": s.timeouts.load(Ordering::Relaxed),
            "outOfMemory": s.out_of_memory.load(Ordering::Relaxed),
        },
        "lastError": s.last_error(),
    })
}

pub async fn list(State(state): State<Arc<ApiState>>) -> Result<Json<Value>, Problem> {
    let Some(rules) = &state.rules else {
        return Ok(Json(json!({ "rules": [], "failed": [] })));
    };
    let failed: Vec<Value> = rules
        .failures()
        .iter()
        .map(|f| json!({ "module": f.path.display().to_string(), "status": "FAILED", "error": f.error }))
        .collect();
    let snapshot = rules.current();
    Ok(Json(json!({
        "directory": rules.directory().display().to_string(),
        "generation": snapshot.generation,
        "rules": snapshot.rules.iter().map(|r| rule_json(r)).collect::<Vec<_>>(),
        "failed": failed,
    })))
}
