//! Building a GuardDuty finding from what a rule reported and the event that raised it.
//! The host fills everything the event says (user, API call, workload, cluster), so a
//! rule reports only its judgement.
//!
//! Aggregation key: `type | cluster | username | workload (kind/namespace/name, when the
//! call touched a workload) | the rule's own key`. The finding `id` is the first 32 hex
//! digits of the key's SHA-256, so the same issue gets the same id in every run.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use peregrine_rules_sdk::{self as sdk, AuditEvent, WORKLOAD_RESOURCES, image_prefix};

use super::wire::*;

/// ISO-8601 UTC with milliseconds, as GuardDuty writes finding times.
pub fn format_time(micros: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format).unwrap_or_default()
}

pub fn now_micros() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

fn workload_details(event: &AuditEvent) -> Option<WorkloadDetails> {
    let object = event.object_ref.as_ref()?;
    if !WORKLOAD_RESOURCES.contains(&object.resource.as_str()) {
        return None;
    }
    let Some(w) = event.workload() else {
        // A list or collection call names no workload.
        object.name.as_ref()?;
        return Some(WorkloadDetails {
            name: object.name.clone(),
            workload_type: object.resource.clone(),
            uid: object.uid.clone(),
            namespace: object.namespace.clone(),
            host_network: false,
            host_pid: false,
            host_ipc: false,
            service_account_name: None,
            containers: Vec::new(),
            volumes: Vec::new(),
            pod_name: None,
            pod_uid: None,
        });
    };
    Some(WorkloadDetails {
        name: w.name.clone().or_else(|| object.name.clone()),
        workload_type: object.resource.clone(),
        uid: w.uid.clone(),
        namespace: w.namespace.clone(),
        host_network: w.host_network,
        host_pid: w.host_pid,
        host_ipc: w.host_ipc,
        service_account_name: w.service_account_name.clone(),
        containers: w
            .containers
            .iter()
            .map(|c| ContainerDetails {
                container_runtime: None,
                id: None,
                name: c.name.clone(),
                image: c.image.clone(),
                image_prefix: image_prefix(&c.image).to_string(),
                security_context: SecurityContextDetails {
                    privileged: c.security_context.privileged,
                    allow_privilege_escalation: c.security_context.allow_privilege_escalation,
                },
                volume_mounts: c
                    .volume_mounts
                    .iter()
                    .map(|m| MountDetails {
                        name: m.name.clone(),
                        mount_path: m.mount_path.clone(),
                    })
                    .collect(),
            })
            .collect(),
        volumes: w
            .volumes
            .iter()
            .map(|v| VolumeDetails {
                name: v.name.clone(),
                host_path: v.host_path.clone().map(|path| HostPath { path }),
            })
            .collect(),
        pod_name: None,
        pod_uid: None,
    })
}

/// The identity of "the same security issue" for aggregation.
pub fn aggregation_key(
    finding_type: &str,
    event: &AuditEvent,
    workload: Option<&WorkloadDetails>,
    rule_key: Option<&str>,
) -> String {
    let workload = workload
        .map(|w| {
            format!(
                "{}/{}/{}",
                w.workload_type,
                w.namespace.as_deref().unwrap_or(""),
                w.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    format!(
        "{finding_type}|{}|{}|{workload}|{}",
        event.cluster,
        event.user.username,
        rule_key.unwrap_or("")
    )
}

pub(super) fn finding_id(key: &str) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

/// Which module raised a finding: its name and version, as the finding records them.
#[derive(Clone, Copy, Debug)]
pub struct RuleId<'a> {
    /// The module's file stem.
    pub module: &'a str,
    /// The first digits of the module's SHA-256.
    pub version: &'a str,
}

/// Builds the finding that the rule of `descriptor` reported about `event`.
pub fn build(
    ctx: &FindingContext,
    descriptor: &sdk::Descriptor,
    rule: RuleId<'_>,
    event: &AuditEvent,
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
    let seen = format_time(event.stage_at.or(event.request_received_at).unwrap_or(now));
    let now = format_time(now);
    let caller = event.caller_ip().map(|ip| ip.address.clone());
    let remote_ip_details = caller.map(|ip| {
        if ip.contains(':') {
            RemoteIpDetails {
                ip_address_v4: None,
                ip_address_v6: Some(ip),
            }
        } else {
            RemoteIpDetails {
                ip_address_v4: Some(ip),
                ip_address_v6: None,
            }
        }
    });
    let object = event.object_ref.as_ref();
    let additional_info = additional_info(&reported, rule, &[("auditId", &event.audit_id)]);

    let judgement = (reported.severity, reported.title, reported.description);
    assemble(
        ctx,
        descriptor,
        id,
        judgement,
        now,
        Resource {
            resource_type: "EKSCluster".into(),
            eks_cluster_details: ClusterDetails {
                name: event.cluster.clone(),
            },
            kubernetes_details: KubernetesDetails {
                kubernetes_user_details: Some(UserDetails {
                    username: event.user.username.clone(),
                    uid: event.user.uid.clone(),
                    groups: event.user.groups.clone(),
                    session_name: event
                        .user
                        .extra
                        .iter()
                        .find(|(k, _)| k == "sessionName")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                    impersonated_user: event.impersonated_user.as_ref().map(|u| ImpersonatedUser {
                        username: u.username.clone(),
                        groups: u.groups.clone(),
                    }),
                }),
                kubernetes_workload_details: workload,
            },
            node_details: None,
        },
        Service {
            service_name: "peregrine".into(),
            detector_id: ctx.detector_id.clone(),
            action: Action {
                action_type: Some("KUBERNETES_API_CALL".into()),
                kubernetes_api_call_action: Some(ApiCallAction {
                    request_uri: event.request_uri.clone(),
                    verb: event.verb.clone(),
                    resource: object.map(|o| o.resource.clone()),
                    subresource: object.and_then(|o| o.subresource.clone()),
                    namespace: object.and_then(|o| o.namespace.clone()),
                    resource_name: event.object_name().map(str::to_string),
                    source_ips: event
                        .source_ips
                        .iter()
                        .map(|ip| ip.address.clone())
                        .collect(),
                    user_agent: event.user_agent.clone(),
                    remote_ip_details,
                    status_code: event.response_code,
                    parameters: reported.parameters,
                }),
                kubernetes_permission_checked_details: event.access_review().map(|r| {
                    PermissionCheckedDetails {
                        verb: r.verb.clone(),
                        resource: r.resource.clone().or_else(|| r.non_resource_path.clone()),
                        namespace: r.namespace.clone(),
                        allowed: r.allowed,
                    }
                }),
                kubernetes_role_binding_details: event.role_binding().map(|b| RoleBindingDetails {
                    kind: b.kind.clone(),
                    name: b.name.clone(),
                    uid: b.uid.clone(),
                    role_ref_name: b.role_ref.name.clone(),
                    role_ref_kind: b.role_ref.kind.clone(),
                }),
                kubernetes_role_details: event.role().map(|r| RoleDetails {
                    kind: r.kind.clone(),
                    name: r.name.clone(),
                    uid: r.uid.clone(),
                }),
            },
            evidence: evidence(reported.threat_intel),
            additional_info,
            detection: (!reported.anomaly.is_empty()).then(|| Detection {
                anomaly: anomaly_json(&reported.anomaly),
            }),
            archived: false,
            count: 1,
            event_first_seen: seen.clone(),
            event_last_seen: seen,
            resource_role: Some("TARGET".into()),
            feature_name: "KubernetesAuditLogs".into(),
            runtime_details: None,
        },
    )
}

/// The parts every finding shares: its identity (from the aggregation key's `id`) and the
/// rule's judgement (severity, title, description) over the descriptor's defaults.
pub(super) fn assemble(
    ctx: &FindingContext,
    descriptor: &sdk::Descriptor,
    id: String,
    (severity, title, description): (Option<f64>, Option<String>, String),
    now: String,
    resource: Resource,
    service: Service,
) -> GuardDutyFinding {
    GuardDutyFinding {
        schema_version: SCHEMA_VERSION.into(),
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        partition: ctx.partition.clone(),
        arn: format!(
            "arn:{}:guardduty:{}:{}:detector/{}/finding/{id}",
            ctx.partition, ctx.region, ctx.account_id, ctx.detector_id
        ),
        id,
        finding_type: descriptor.finding_type.clone(),
        severity: severity.unwrap_or(descriptor.severity),
        title: title.unwrap_or_else(|| descriptor.title.clone()),
        description,
        created_at: now.clone(),
        updated_at: now,
        resource,
        service,
    }
}

pub(super) fn evidence(threat_intel: Vec<sdk::ThreatIntel>) -> Option<Evidence> {
    (!threat_intel.is_empty()).then(|| Evidence {
        threat_intelligence_details: threat_intel
            .into_iter()
            .map(|t| ThreatIntelligenceDetail {
                threat_list_name: t.threat_list_name,
                threat_names: t.threat_names,
                threat_file_sha256: None,
            })
            .collect(),
    })
}

/// `service.additionalInfo`: the rule's keys, the list named first, and what Peregrine
/// adds (`extra`), then GuardDuty's `value` (the same keys as a JSON string) and `type`.
pub(super) fn additional_info(
    reported: &sdk::Finding,
    rule: RuleId<'_>,
    extra: &[(&str, &str)],
) -> serde_json::Map<String, serde_json::Value> {
    let mut info = serde_json::Map::new();
    for (k, v) in &reported.additional_info {
        info.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    if let Some(first) = reported.threat_intel.first() {
        info.insert(
            "threatListName".into(),
            first.threat_list_name.clone().into(),
        );
    }
    info.insert("module".into(), rule.module.into());
    info.insert("moduleVersion".into(), rule.version.into());
    for (k, v) in extra {
        info.insert((*k).into(), (*v).into());
    }
    let value = serde_json::Value::Object(info.clone()).to_string();
    info.insert("value".into(), value.into());
    info.insert("type".into(), "default".into());
    info
}

/// GuardDuty's `detection.anomaly`: `unusual.behavior[scope][feature]` is the value seen,
/// `profiles[scope][feature]` the profile it was compared with.
fn anomaly_json(features: &[sdk::AnomalyFeature]) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let object = |o: &sdk::AnomalyObject| {
        json!({"profileType": o.profile_type, "profileSubtype": o.profile_subtype,
               "observations": {"text": o.text, "number": o.number}})
    };
    let mut unusual: Map<String, Value> = Map::new();
    let mut profiles: Map<String, Value> = Map::new();
    for f in features {
        let u = unusual.entry(f.scope.clone()).or_insert_with(|| json!({}));
        u[&f.feature] = object(&f.unusual);
        let p = profiles.entry(f.scope.clone()).or_insert_with(|| json!({}));
        p[&f.feature] = Value::Array(f.profile.iter().map(object).collect());
    }
    json!({"unusual": {"behavior": unusual}, "profiles": profiles})
}
