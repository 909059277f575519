//! A rule built against `peregrine:rules@0.4.0` (a copy of the world with a bumped
//! version): the host must refuse it and name both versions.

wit_bindgen::generate!({ path: "wit", world: "rule" });

struct FutureRule;

impl Guest for FutureRule {
    fn describe() -> Descriptor {
        peregrine::rules::log::log(peregrine::rules::log::Level::Info, "describing");
        Descriptor {
            finding_type: "Test:Fixture/Future".into(),
            severity: 2.0,
            title: "Future.".into(),
            description: "Built against a newer contract.".into(),
            audit: None,
            wants_raw: false,
        }
    }

    fn evaluate_audit(
        _events: Vec<peregrine::rules::audit::AuditEvent>,
    ) -> Result<Vec<Finding>, String> {
        Ok(Vec::new())
    }
}

export!(FutureRule);
