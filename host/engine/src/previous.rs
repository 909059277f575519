//! The previous world, `peregrine:rules@0.1.0` (frozen in `wit/v0.1.0/rules.wit`): modules
//! built against it keep loading and judging audit events. Its imports are today's
//! functions under the old names; its descriptor and finding are today's records without
//! the runtime fields, and its audit event is today's (the `audit` interface is unchanged).

use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker};

use super::bindings::{detection, log, settings, state};
use super::host::HostState;

pub const VERSION: &str = "0.1.0";

/// `describe`'s result in 0.1.0.
#[derive(ComponentType, Lift)]
#[component(record)]
pub struct Descriptor {
    #[component(name = "finding-type")]
    finding_type: String,
    severity: f64,
    title: String,
    description: String,
    audit: Option<detection::AuditSubscription>,
    #[component(name = "wants-raw")]
    wants_raw: bool,
}

impl From<Descriptor> for detection::Descriptor {
    fn from(d: Descriptor) -> Self {
        detection::Descriptor {
            finding_type: d.finding_type,
            severity: d.severity,
            title: d.title,
            description: d.description,
            audit: d.audit,
            runtime: None,
            wants_raw: d.wants_raw,
        }
    }
}

/// A finding in 0.1.0.
#[derive(ComponentType, Lift)]
#[component(record)]
pub struct Finding {
    #[component(name = "event-index")]
    event_index: u32,
    severity: Option<f64>,
    title: Option<String>,
    description: String,
    parameters: Option<String>,
    #[component(name = "threat-intel")]
    threat_intel: Vec<detection::ThreatIntel>,
    #[component(name = "additional-info")]
    additional_info: Vec<(String, String)>,
    anomaly: Vec<detection::AnomalyFeature>,
    #[component(name = "aggregation-key")]
    aggregation_key: Option<String>,
}

impl From<Finding> for detection::Finding {
    fn from(f: Finding) -> Self {
        detection::Finding {
            event_index: f.event_index,
            severity: f.severity,
            title: f.title,
            description: f.description,
            parameters: f.parameters,
            threat_intel: f.threat_intel,
            additional_info: f.additional_info,
            anomaly: f.anomaly,
            aggregation_key: f.aggregation_key,
            runtime_context: Vec::new(),
        }
    }
}

type Store<'a> = StoreContextMut<'a, HostState>;

/// Offers the 0.1.0 imports: the same host functions as today's.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let name = |interface: &str| format!("peregrine:rules/{interface}@{VERSION}");
    // The type-only interfaces are imported as (empty) instances.
    linker.instance(&name("audit"))?;
    linker.instance(&name("detection"))?;

    let mut i = linker.instance(&name("log"))?;
    i.func_wrap(
        "log",
        |mut s: Store, (level, message): (log::Level, String)| {
            log::Host::log(s.data_mut(), level, message);
            Ok(())
        },
    )?;

    let mut i = linker.instance(&name("state"))?;
    i.func_wrap("get", |mut s: Store, (key,): (String,)| {
        Ok((state::Host::get(s.data_mut(), key),))
    })?;
    i.func_wrap("set", |mut s: Store, (key, value): (String, Vec<u8>)| {
        Ok((state::Host::set(s.data_mut(), key, value),))
    })?;
    i.func_wrap("delete", |mut s: Store, (key,): (String,)| {
        state::Host::delete(s.data_mut(), key);
        Ok(())
    })?;

    let mut i = linker.instance(&name("settings"))?;
    i.func_wrap("get", |mut s: Store, (key,): (String,)| {
        Ok((settings::Host::get(s.data_mut(), key),))
    })?;
    Ok(())
}
