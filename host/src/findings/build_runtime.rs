//! Building a GuardDuty runtime finding (`featureName` `RuntimeMonitoring`) from what a
//! rule reported and the runtime event that raised it: the process with its lineage in
//! `service.runtimeDetails`, the rule's context, and the workload, container and node in
//! the resource.
//!
//! Aggregation key: `type | cluster | workload (kind/namespace/name, else the node) |
//! container image | executable path | the rule's own key`.

use sha2::{Digest, Sha256};

use peregrine_rules_sdk::runtime::{Process, RuntimeEvent};
use peregrine_rules_sdk::{self as sdk, image_prefix};

use super::build::{RuleId, additional_info, assemble, evidence, finding_id, format_time};
use super::wire::*;

/// GuardDuty's `process.uuid`: a UUID (version-5 layout) derived from the process's
/// cluster-unique id, so the same process has the same uuid in every finding.
pub fn process_uuid(id: &str) -> String {
    let digest = Sha256::digest(format!("peregrine-process:{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn process_details(p: &Process, lineage: &[Process]) -> ProcessDetails {
    ProcessDetails {
        name: p.name.clone(),
        executable_path: p.executable_path.clone(),
        executable_sha256: p.sha256.clone(),
        namespace_pid: p.namespace_pid,
        pwd: p.cwd.clone(),
        pid: p.pid,
        start_time: p.start_time.map(format_time),
        uuid: process_uuid(&p.id),
        parent_uuid: p.parent_id.as_deref().map(process_uuid),
        user: p.user_name.clone().or_else(|| {
            // uid 0 is root in every container; other names need the image's passwd.
            (p.euid.or(p.uid) == Some(0)).then(|| "root".to_string())
        }),
        user_id: p.uid,
        euid: p.euid,
        command_line: p.command_line.clone(),
        lineage: lineage.iter().map(|a| process_details(a, &[])).collect(),
    }
}

/// Lower-case plural of a workload kind (`Deployment` → `deployments`).
fn plural(kind: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    if kind.is_empty() {
        "pods".into()
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

fn workload_details(event: &RuntimeEvent) -> Option<WorkloadDetails> {
    let pod = event.pod.as_ref()?;
    // Name the owner when it is known (from the sensor, or from the audit stream), and
    // keep the pod beside it.
    let (name, workload_type) = match &event.workload {
        Some(w) if !w.kind.is_empty() && w.kind != "Pod" => (w.name.clone(), plural(&w.kind)),
        _ => (pod.name.clone(), "pods".to_string()),
    };
    let is_owner = workload_type != "pods";
    Some(WorkloadDetails {
        name: Some(name),
        workload_type,
        uid: if is_owner { None } else { pod.uid.clone() },
        namespace: Some(pod.namespace.clone()),
        host_network: false,
        host_pid: false,
        host_ipc: false,
        service_account_name: None,
        containers: event
            .container
            .iter()
            .map(|c| {
                let image = c.image.clone().unwrap_or_default();
                ContainerDetails {
                    container_runtime: c.runtime.clone(),
                    id: Some(c.id.clone()),
                    name: c.name.clone().unwrap_or_default(),
                    image_prefix: image_prefix(&image).to_string(),
                    image,
                    security_context: SecurityContextDetails {
                        privileged: c.privileged,
                        allow_privilege_escalation: None,
                    },
                    volume_mounts: Vec::new(),
                }
            })
            .collect(),
        volumes: Vec::new(),
        pod_name: is_owner.then(|| pod.name.clone()),
        pod_uid: if is_owner { pod.uid.clone() } else { None },
    })
}

pub fn aggregation_key(
    finding_type: &str,
    event: &RuntimeEvent,
    workload: Option<&WorkloadDetails>,
    rule_key: Option<&str>,
) -> String {
    let place = match workload {
        Some(w) => format!(
            "{}/{}/{}",
            w.workload_type,
            w.namespace.as_deref().unwrap_or(""),
            w.name.as_deref().unwrap_or("")
        ),
        None => format!("node/{}", event.node),
    };
    let image = event
        .container
        .as_ref()
        .and_then(|c| c.image.as_deref())
        .unwrap_or("");
    format!(
        "{finding_type}|{}|{place}|{image}|{}|{}",
        event.cluster,
        event.process.executable_path,
        rule_key.unwrap_or("")
    )
}

/// A context value that is a JSON array (`flags`, `relatedFilePaths`, `memoryRegions`) is
/// written as that array; anything else as the string it is.
fn context(entries: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    entries
        .iter()
        .map(|(k, v)| {
            let value = match serde_json::from_str::<serde_json::Value>(v) {
                Ok(array @ serde_json::Value::Array(_)) => array,
                _ => serde_json::Value::String(v.clone()),
            };
            (k.clone(), value)
        })
        .collect()
}

/// Builds the finding that the rule of `descriptor` reported about a runtime event.
pub fn build_runtime(
    ctx: &FindingContext,
    descriptor: &sdk::Descriptor,
    rule: RuleId<'_>,
    event: &RuntimeEvent,
    reported: sdk::Finding,
    now: i64,
) -> GuardDutyFinding {
    let workload = workload_details(event);
    let key = aggregation_key(
        &descriptor.finding_type,
        event,
        workload.as_ref(),
        reported.aggregation_key.as_deref(),
    );
    let id = finding_id(&key);
    let seen = format_time(event.time);
    let now = format_time(now);
    let mut extra = vec![
        ("sensor", event.sensor.as_str()),
        ("eventId", event.event_id.as_str()),
    ];
    if let Some(policy) = &event.policy {
        extra.push(("sensorPolicy", policy));
    }
    let additional_info = additional_info(&reported, rule, &extra);
    let judgement = (reported.severity, reported.title, reported.description);
    assemble(
        ctx,
        descriptor,
        id,
        judgement,
        now,
        Resource {
            // A process on the node itself is the instance's; one in a pod the cluster's.
            resource_type: if event.pod.is_some() {
                "EKSCluster".into()
            } else {
                "Instance".into()
            },
            eks_cluster_details: ClusterDetails {
                name: event.cluster.clone(),
            },
            kubernetes_details: KubernetesDetails {
                kubernetes_user_details: None,
                kubernetes_workload_details: workload,
            },
            // Tracee cannot name the node of a containerised process.
            node_details: (!event.node.is_empty()).then(|| NodeDetails {
                name: event.node.clone(),
            }),
        },
        Service {
            service_name: "peregrine".into(),
            detector_id: ctx.detector_id.clone(),
            action: Action {
                action_type: None,
                kubernetes_api_call_action: None,
                kubernetes_permission_checked_details: None,
                kubernetes_role_binding_details: None,
                kubernetes_role_details: None,
            },
            evidence: file_evidence(evidence(reported.threat_intel), event),
            additional_info,
            detection: None,
            archived: false,
            count: 1,
            event_first_seen: seen.clone(),
            event_last_seen: seen,
            resource_role: None,
            feature_name: "RuntimeMonitoring".into(),
            runtime_details: Some(RuntimeDetails {
                process: process_details(&event.process, &event.lineage),
                context: context(&reported.runtime_context),
            }),
        },
    )
}

/// Names the executable's hash on the evidence of each list the hash is on (GuardDuty's
/// `threatFileSha256`).
fn file_evidence(
    evidence: Option<super::wire::Evidence>,
    event: &RuntimeEvent,
) -> Option<super::wire::Evidence> {
    let mut evidence = evidence?;
    if let Some(digest) = &event.process.sha256 {
        for detail in &mut evidence.threat_intelligence_details {
            if event
                .process
                .sha256_listed
                .iter()
                .any(|l| l.name == detail.threat_list_name)
            {
                detail.threat_file_sha256 = Some(digest.clone());
            }
        }
    }
    Some(evidence)
}
