//! The previous worlds, whose modules keep loading. Their imports are today's functions
//! under the old names.
//!
//! - `peregrine:rules@0.2.0` (frozen in `wit/v0.2.0/rules.wit`): today's world, except that
//!   its runtime subscription has no `matching`.
//! - `peregrine:rules@0.1.0` (frozen in `wit/v0.1.0/rules.wit`): audit events only; its
//!   descriptor and finding are today's records without the runtime fields, and its audit
//!   event is today's (the `audit` interface is unchanged).

use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentType, Lift, Linker};

use super::bindings::{detection, log, runtime, settings, state};
use super::host::HostState;

pub const V0_2: &str = "0.2.0";
pub const V0_1: &str = "0.1.0";

/// `describe`'s result in 0.2.0.
#[derive(ComponentType, Lift)]
#[component(record)]
pub struct DescriptorV0_2 {
    #[component(name = "finding-type")]
    finding_type: String,
    severity: f64,
    title: String,
    description: String,
    audit: Option<detection::AuditSubscription>,
    runtime: Option<RuntimeSubscriptionV0_2>,
    #[component(name = "wants-raw")]
    wants_raw: bool,
}

/// A runtime subscription in 0.2.0: no `matching`.
#[derive(ComponentType, Lift)]
#[component(record)]
pub struct RuntimeSubscriptionV0_2 {
    activities: Vec<runtime::ActivityKind>,
    sensors: Vec<String>,
    listed: bool,
    #[component(name = "containers-only")]
    containers_only: bool,
}

impl From<DescriptorV0_2> for detection::Descriptor {
    fn from(d: DescriptorV0_2) -> Self {
        detection::Descriptor {
            finding_type: d.finding_type,
            severity: d.severity,
            title: d.title,
            description: d.description,
            audit: d.audit,
            runtime: d.runtime.map(|r| detection::RuntimeSubscription {
                activities: r.activities,
                sensors: r.sensors,
                listed: r.listed,
                containers_only: r.containers_only,
                matching: Vec::new(),
            }),
            wants_raw: d.wants_raw,
        }
    }
}

/// `describe`'s result in 0.1.0.
#[derive(ComponentType, Lift)]
#[component(record)]
pub struct DescriptorV0_1 {
    #[component(name = "finding-type")]
    finding_type: String,
    severity: f64,
    title: String,
    description: String,
    audit: Option<detection::AuditSubscription>,
    #[component(name = "wants-raw")]
    wants_raw: bool,
}

impl From<DescriptorV0_1> for detection::Descriptor {
    fn from(d: DescriptorV0_1) -> Self {
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
pub struct FindingV0_1 {
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

impl From<FindingV0_1> for detection::Finding {
    fn from(f: FindingV0_1) -> Self {
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

/// Offers the previous versions' imports: the same host functions as today's.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    for (version, type_interfaces) in [
        (V0_2, &["audit", "detection", "runtime"][..]),
        (V0_1, &["audit", "detection"][..]),
    ] {
        add_version(linker, version, type_interfaces)?;
    }
    Ok(())
}

fn add_version(
    linker: &mut Linker<HostState>,
    version: &str,
    type_interfaces: &[&str],
) -> wasmtime::Result<()> {
    let name = |interface: &str| format!("peregrine:rules/{interface}@{version}");
    // The type-only interfaces are imported as (empty) instances.
    for interface in type_interfaces {
        linker.instance(&name(interface))?;
    }
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
