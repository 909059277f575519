//! GuardDuty's finding, as the API returns it (camelCase JSON).

use serde::Serialize;

pub const SCHEMA_VERSION: &str = "2.0";

/// Deployment-wide values every finding carries.
#[derive(Clone, Debug)]
pub struct FindingContext {
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub detector_id: String,
}

impl Default for FindingContext {
    fn default() -> Self {
        FindingContext {
            account_id: "000000000000".into(),
            region: "local".into(),
            partition: "peregrine".into(),
            detector_id: "peregrine".into(),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GuardDutyFinding {
    pub schema_version: String,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub arn: String,
    pub id: String,
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: f64,
    pub title: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub resource: Resource,
    pub service: Service,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub resource_type: String,
    pub eks_cluster_details: ClusterDetails,
    pub kubernetes_details: KubernetesDetails,
    /// The node a runtime finding's process ran on (an extension: GuardDuty's
    /// `instanceDetails` needs the cloud's instance inventory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_details: Option<NodeDetails>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct NodeDetails {
    pub name: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ClusterDetails {
    pub name: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesDetails {
    /// The API caller of an audit-log finding; runtime findings have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_user_details: Option<UserDetails>,
    pub kubernetes_workload_details: Option<WorkloadDetails>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub session_name: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<ImpersonatedUser>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ImpersonatedUser {
    pub username: String,
    pub groups: Vec<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadDetails {
    pub name: Option<String>,
    /// Lower-case plural resource, e.g. `pods`.
    #[serde(rename = "type")]
    pub workload_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub namespace: Option<String>,
    pub host_network: bool,
    #[serde(rename = "hostPID")]
    pub host_pid: bool,
    #[serde(rename = "hostIPC")]
    pub host_ipc: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    pub containers: Vec<ContainerDetails>,
    pub volumes: Vec<VolumeDetails>,
    /// The pod of a runtime finding whose workload is its owner (extensions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub image: String,
    pub image_prefix: String,
    pub security_context: SecurityContextDetails,
    pub volume_mounts: Vec<MountDetails>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContextDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MountDetails {
    pub name: String,
    pub mount_path: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeDetails {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPath>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct HostPath {
    pub path: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub service_name: String,
    pub detector_id: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    pub additional_info: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    pub archived: bool,
    pub count: u64,
    pub event_first_seen: String,
    pub event_last_seen: String,
    /// `TARGET` on audit-log findings; runtime findings have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_role: Option<String>,
    pub feature_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_details: Option<RuntimeDetails>,
}

/// `service.runtimeDetails`: the process and what it did.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RuntimeDetails {
    pub process: ProcessDetails,
    pub context: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProcessDetails {
    pub name: String,
    pub executable_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    pub uuid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub euid: Option<u32>,
    /// The command line (an extension; GuardDuty's agent collects it but the finding
    /// format has no field for it).
    pub command_line: String,
    /// Parent first. Lineage entries carry no lineage of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<ProcessDetails>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// `KUBERNETES_API_CALL` on audit-log findings; runtime findings have an empty action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_api_call_action: Option<ApiCallAction>,
    /// The permission an access review checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_permission_checked_details: Option<PermissionCheckedDetails>,
    /// The binding a RoleBinding or ClusterRoleBinding write made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_role_binding_details: Option<RoleBindingDetails>,
    /// The role a Role or ClusterRole write made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_role_details: Option<RoleDetails>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PermissionCheckedDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleBindingDetails {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    pub role_ref_name: String,
    pub role_ref_kind: String,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleDetails {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiCallAction {
    pub request_uri: String,
    pub verb: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip_details: Option<RemoteIpDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteIpDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address_v4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address_v6: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub threat_intelligence_details: Vec<ThreatIntelligenceDetail>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThreatIntelligenceDetail {
    pub threat_list_name: String,
    pub threat_names: Vec<String>,
    /// The executable's SHA-256, when the list is one its hash is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_file_sha256: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Detection {
    pub anomaly: serde_json::Value,
}

/// GuardDuty's severity bands.
pub fn severity_label(severity: f64) -> &'static str {
    match severity {
        s if s >= 9.0 => "Critical",
        s if s >= 7.0 => "High",
        s if s >= 4.0 => "Medium",
        _ => "Low",
    }
}
