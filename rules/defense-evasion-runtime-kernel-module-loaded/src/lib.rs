//! DefenseEvasion:Runtime/KernelModuleLoaded — a kernel module was loaded (or the kernel
//! was asked to load one) on a node. Modules run with the kernel's privileges: loading one
//! is how rootkits hide and how a container escapes for good.
//!
//! Fed by every sensor: Tetragon's module hooks (`do_init_module`,
//! `security_kernel_read_file` of a module, `security_kernel_module_request`; see
//! `deploy/tetragon/`), Tracee's `init_module`/`finit_module` events, and the sensors' own
//! alerts named in [`SENSOR_ALERTS`]. An unload is not a load.

use peregrine_rules_sdk::runtime::{Activity, KernelModuleActivity};
use peregrine_rules_sdk::*;

/// Sensor rules that report a module load: Falco's stock rule and Tracee's signature.
pub const SENSOR_ALERTS: &[&str] = &[
    "Linux Kernel Module Injection Detected",
    "TRC-1017",
    "Kernel Module Loading",
];

pub struct KernelModuleLoaded;

fn module_of(event: &RuntimeEvent) -> Option<KernelModuleActivity> {
    match &event.activity {
        Activity::KernelModule(m) => Some(m.clone()),
        Activity::Alert(a) if SENSOR_ALERTS.iter().any(|s| a.rule.contains(s)) => {
            let field = |names: &[&str]| {
                a.fields
                    .iter()
                    .find(|(k, _)| names.contains(&k.as_str()))
                    .map(|(_, v)| v.clone())
            };
            Some(KernelModuleActivity {
                name: field(&["evt.arg.name", "args.name", "name"]),
                path: field(&["evt.arg.path", "args.pathname", "pathname", "fd.name"]),
                sha256: None,
                signed: None,
                tainted: Vec::new(),
            })
        }
        _ => None,
    }
}

impl Rule for KernelModuleLoaded {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "DefenseEvasion:Runtime/KernelModuleLoaded",
            HIGH,
            "A kernel module was loaded.",
            "A process loaded a kernel module, or asked the kernel to load one, on a node. \
             Kernel modules run with full kernel privileges and are used by rootkits to hide \
             and persist.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::KernelModule, ActivityKind::Alert]),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let module = module_of(event)?;
        let what = module
            .name
            .as_deref()
            .or(module.path.as_deref())
            .unwrap_or("an unnamed module");
        let place = match &event.pod {
            Some(pod) => format!("in pod {}/{}", pod.namespace, pod.name),
            None => "on the node itself".to_string(),
        };
        let mut finding = Finding::new(format!(
            "Process {} ({}) {place} on node {} of cluster {} loaded kernel module {what}.",
            event.process.name, event.process.executable_path, event.node, event.cluster
        ))
        .with_aggregation_key(what.to_string());
        if let Some(name) = &module.name {
            finding = finding.with_context("moduleName", name.clone());
        }
        if let Some(path) = &module.path {
            finding = finding.with_context("moduleFilePath", path.clone());
        }
        if let Some(hash) = &module.sha256 {
            finding = finding.with_context("moduleSha256", hash.clone());
        }
        if !module.tainted.is_empty() {
            finding = finding.with_info("moduleTaint", module.tainted.join(","));
        }
        if let Some(signed) = module.signed {
            finding = finding.with_info("moduleSignatureValid", signed.to_string());
        }
        Some(finding)
    }
}

export_rule!(KernelModuleLoaded);

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_rules_sdk::testing::run_runtime_file;

    #[test]
    fn module_loads_are_found_from_tetragon_and_tracee() {
        let findings = run_runtime_file::<KernelModuleLoaded>("fixtures/positive.jsonl");
        let context: Vec<Vec<(String, String)>> =
            findings.iter().map(|f| f.runtime_context.clone()).collect();
        assert_eq!(findings.len(), 4, "{findings:#?}");
        assert_eq!(
            context[0],
            vec![(
                "moduleFilePath".to_string(),
                "/home/tixxdz/tetragon/contrib/tester-progs/kernel_module_hello.ko".to_string()
            )]
        );
        assert_eq!(
            context[1],
            vec![("moduleName".to_string(), "kernel_module_hello".to_string())]
        );
        assert!(findings[1].additional_info.contains(&(
            "moduleTaint".into(),
            "TAINT_OUT_OF_TREE_MODULE,TAINT_UNSIGNED_MODULE".into()
        )));
        assert!(
            findings[1].description.contains("/usr/sbin/insmod"),
            "{}",
            findings[1].description
        );
        assert!(
            findings[3]
                .description
                .contains("in pod shop/web-7d9f8-abcde"),
            "{}",
            findings[3].description
        );
    }

    #[test]
    fn unloads_firmware_reads_and_plain_execs_are_not() {
        assert_eq!(
            run_runtime_file::<KernelModuleLoaded>("fixtures/negative.jsonl"),
            vec![]
        );
    }

    #[test]
    fn sensor_alerts_of_a_module_load_are_found() {
        let event = peregrine_rules_sdk::testing::runtime_event(
            r#"{"time":"2026-01-01T00:00:00.000000000Z","rule":"Linux Kernel Module Injection Detected","priority":"Warning","output":"Kernel module loaded","source":"syscall","hostname":"node-1","output_fields":{"proc.name":"insmod","proc.exepath":"/usr/sbin/insmod","proc.pid":77,"evt.arg.name":"rootkit","container.id":"host"}}"#,
        );
        let finding = KernelModuleLoaded::evaluate_runtime(&event).expect("a finding");
        assert!(
            finding.description.contains("rootkit"),
            "{}",
            finding.description
        );
        assert!(finding.description.contains("on the node itself"));
    }
}
