//! Typed views of the request and response objects rules inspect, decoded once by the host
//! so no rule parses JSON. Decoding is lenient: fields may be missing (patches, old API
//! versions), and an object of the wrong shape yields no view rather than an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::{
    AccessReview, Container, ContainerKind, DecodedObject, ObjectRef, ObjectSource, ObjectView,
    PolicyRule, Role, RoleBinding, RoleRef, SecurityContext, Service, ServicePort, Subject, Volume,
    VolumeMount, Workload,
};

/// Where a workload keeps its pod spec.
enum PodSpecAt {
    Spec,
    Template,
    JobTemplate,
}

enum Shape {
    Workload(PodSpecAt),
    RoleBinding,
    Role,
    Service,
    AccessReview,
}

fn shape_of(object: &ObjectRef) -> Option<Shape> {
    let sub = object.subresource.as_deref();
    Some(match (object.resource.as_str(), sub) {
        ("pods", None | Some("ephemeralcontainers")) => Shape::Workload(PodSpecAt::Spec),
        (
            "deployments"
            | "daemonsets"
            | "statefulsets"
            | "replicasets"
            | "jobs"
            | "replicationcontrollers",
            None,
        ) => Shape::Workload(PodSpecAt::Template),
        ("cronjobs", None) => Shape::Workload(PodSpecAt::JobTemplate),
        ("rolebindings" | "clusterrolebindings", None) => Shape::RoleBinding,
        ("roles" | "clusterroles", None) => Shape::Role,
        ("services", None) => Shape::Service,
        (
            "selfsubjectaccessreviews"
            | "subjectaccessreviews"
            | "localsubjectaccessreviews"
            | "selfsubjectrulesreviews",
            None,
        ) => Shape::AccessReview,
        _ => return None,
    })
}

/// The view of the object a call wrote or reviewed: the response object when it is the
/// stored object, else the request object (marked `patch` for patches).
pub fn decode(
    object_ref: Option<&ObjectRef>,
    verb: &str,
    request: Option<&RawValue>,
    response: Option<&RawValue>,
) -> Option<DecodedObject> {
    let object_ref = object_ref?;
    let shape = shape_of(object_ref)?;
    let from_response = response.and_then(|json| view(&shape, json.get(), object_ref));
    if let Some(view) = from_response {
        return Some(DecodedObject {
            source: ObjectSource::Response,
            view,
        });
    }
    let view = request.and_then(|json| view(&shape, json.get(), object_ref))?;
    let source = if verb == "patch" {
        ObjectSource::Patch
    } else {
        ObjectSource::Request
    };
    Some(DecodedObject { source, view })
}

fn parse<T: DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}

fn view(shape: &Shape, json: &str, object_ref: &ObjectRef) -> Option<ObjectView> {
    let head: Head = parse(json)?;
    // A `Status` (deletes, failures) or a list is not the object itself.
    if head
        .kind
        .as_deref()
        .is_some_and(|k| k == "Status" || k.ends_with("List"))
    {
        return None;
    }
    let meta = head.metadata.unwrap_or_default();
    Some(match shape {
        Shape::Workload(at) => {
            ObjectView::Workload(workload(at, json, head.kind, meta, object_ref)?)
        }
        Shape::RoleBinding => {
            let b: RawRoleBinding = parse(json)?;
            let role_ref = b.role_ref.unwrap_or_default();
            ObjectView::RoleBinding(RoleBinding {
                kind: kind_or(head.kind, object_ref, "RoleBinding", "ClusterRoleBinding"),
                name: meta.name.or_else(|| object_ref.name.clone()),
                namespace: meta.namespace.or_else(|| object_ref.namespace.clone()),
                uid: meta.uid,
                role_ref: RoleRef {
                    api_group: role_ref.api_group.unwrap_or_default(),
                    kind: role_ref.kind.unwrap_or_default(),
                    name: role_ref.name.unwrap_or_default(),
                },
                subjects: b
                    .subjects
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| Subject {
                        kind: s.kind.unwrap_or_default(),
                        name: s.name.unwrap_or_default(),
                        namespace: s.namespace,
                        api_group: s.api_group,
                    })
                    .collect(),
            })
        }
        Shape::Role => {
            let r: RawRole = parse(json)?;
            ObjectView::Role(Role {
                kind: kind_or(head.kind, object_ref, "Role", "ClusterRole"),
                name: meta.name.or_else(|| object_ref.name.clone()),
                namespace: meta.namespace.or_else(|| object_ref.namespace.clone()),
                uid: meta.uid,
                rules: r
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| PolicyRule {
                        verbs: p.verbs.unwrap_or_default(),
                        api_groups: p.api_groups.unwrap_or_default(),
                        resources: p.resources.unwrap_or_default(),
                        resource_names: p.resource_names.unwrap_or_default(),
                        non_resource_urls: p.non_resource_urls.unwrap_or_default(),
                    })
                    .collect(),
            })
        }
        Shape::Service => {
            let s: RawService = parse(json)?;
            let spec = s.spec.unwrap_or_default();
            ObjectView::Service(Service {
                name: meta.name.or_else(|| object_ref.name.clone()),
                namespace: meta.namespace.or_else(|| object_ref.namespace.clone()),
                uid: meta.uid,
                labels: meta.labels.unwrap_or_default().into_iter().collect(),
                annotations: meta.annotations.unwrap_or_default().into_iter().collect(),
                service_type: spec.type_.unwrap_or_else(|| "ClusterIP".to_string()),
                selector: spec.selector.unwrap_or_default().into_iter().collect(),
                ports: spec
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| ServicePort {
                        name: p.name,
                        protocol: p.protocol,
                        port: p.port.unwrap_or_default(),
                        target_port: p.target_port.map(|t| match t {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        }),
                        node_port: p.node_port,
                    })
                    .collect(),
                load_balancer_source_ranges: spec.load_balancer_source_ranges.unwrap_or_default(),
            })
        }
        Shape::AccessReview => {
            let r: RawReview = parse(json)?;
            let spec = r.spec.unwrap_or_default();
            let attrs = spec.resource_attributes.unwrap_or_default();
            ObjectView::AccessReview(AccessReview {
                kind: head
                    .kind
                    .unwrap_or_else(|| object_kind(&object_ref.resource)),
                namespace: attrs.namespace.or(spec.namespace),
                verb: attrs
                    .verb
                    .or_else(|| spec.non_resource_attributes.as_ref()?.verb.clone()),
                resource: attrs.resource,
                subresource: attrs.subresource,
                group: attrs.group,
                name: attrs.name,
                non_resource_path: spec.non_resource_attributes.and_then(|n| n.path),
                allowed: r.status.and_then(|s| s.allowed),
            })
        }
    })
}

/// The object's kind, or the one its resource implies.
fn kind_or(
    kind: Option<String>,
    object_ref: &ObjectRef,
    namespaced: &str,
    cluster: &str,
) -> String {
    kind.unwrap_or_else(|| {
        if object_ref.resource.starts_with("cluster") {
            cluster
        } else {
            namespaced
        }
        .to_string()
    })
}

/// `selfsubjectaccessreviews` -> `SelfSubjectAccessReview`, for objects without `kind`.
fn object_kind(resource: &str) -> String {
    match resource {
        "selfsubjectaccessreviews" => "SelfSubjectAccessReview",
        "subjectaccessreviews" => "SubjectAccessReview",
        "localsubjectaccessreviews" => "LocalSubjectAccessReview",
        "selfsubjectrulesreviews" => "SelfSubjectRulesReview",
        "pods" => "Pod",
        "deployments" => "Deployment",
        "daemonsets" => "DaemonSet",
        "statefulsets" => "StatefulSet",
        "replicasets" => "ReplicaSet",
        "jobs" => "Job",
        "cronjobs" => "CronJob",
        "replicationcontrollers" => "ReplicationController",
        other => other,
    }
    .to_string()
}

fn workload(
    at: &PodSpecAt,
    json: &str,
    kind: Option<String>,
    meta: Meta,
    object_ref: &ObjectRef,
) -> Option<Workload> {
    let spec = match at {
        PodSpecAt::Spec => parse::<WithSpec<PodSpec>>(json)?.spec,
        PodSpecAt::Template => parse::<WithSpec<TemplateHolder>>(json)?
            .spec
            .and_then(|s| s.template?.spec),
        PodSpecAt::JobTemplate => parse::<WithSpec<JobTemplateHolder>>(json)?
            .spec
            .and_then(|s| s.job_template?.spec?.template?.spec),
    }
    .unwrap_or_default();
    let mut containers = Vec::new();
    for (kind, list) in [
        (ContainerKind::Init, spec.init_containers),
        (ContainerKind::Regular, spec.containers),
        (ContainerKind::Ephemeral, spec.ephemeral_containers),
    ] {
        containers.extend(
            list.unwrap_or_default()
                .into_iter()
                .map(|c| container(kind, c)),
        );
    }
    Some(Workload {
        kind: kind.unwrap_or_else(|| object_kind(&object_ref.resource)),
        name: meta.name.or_else(|| object_ref.name.clone()),
        namespace: meta.namespace.or_else(|| object_ref.namespace.clone()),
        uid: meta.uid,
        labels: meta.labels.unwrap_or_default().into_iter().collect(),
        service_account_name: spec.service_account_name.or(spec.service_account),
        host_network: spec.host_network.unwrap_or(false),
        host_pid: spec.host_pid.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        containers,
        volumes: spec
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| Volume {
                name: v.name.unwrap_or_default(),
                host_path: v.host_path.and_then(|h| h.path),
            })
            .collect(),
    })
}

fn container(kind: ContainerKind, c: RawContainer) -> Container {
    let sc = c.security_context.unwrap_or_default();
    Container {
        kind,
        name: c.name.unwrap_or_default(),
        image: c.image.unwrap_or_default(),
        command: c.command.unwrap_or_default(),
        args: c.args.unwrap_or_default(),
        security_context: SecurityContext {
            privileged: sc.privileged,
            allow_privilege_escalation: sc.allow_privilege_escalation,
            run_as_user: sc.run_as_user,
            run_as_non_root: sc.run_as_non_root,
            capabilities_add: sc.capabilities.and_then(|c| c.add).unwrap_or_default(),
        },
        volume_mounts: c
            .volume_mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| VolumeMount {
                name: m.name.unwrap_or_default(),
                mount_path: m.mount_path.unwrap_or_default(),
                read_only: m.read_only.unwrap_or(false),
                sub_path: m.sub_path.filter(|s| !s.is_empty()),
            })
            .collect(),
    }
}

#[derive(Deserialize)]
struct Head {
    kind: Option<String>,
    metadata: Option<Meta>,
}

#[derive(Deserialize, Default)]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct WithSpec<T> {
    spec: Option<T>,
}

#[derive(Deserialize)]
struct TemplateHolder {
    template: Option<WithSpec<PodSpec>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobTemplateHolder {
    job_template: Option<WithSpec<TemplateHolder>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    containers: Option<Vec<RawContainer>>,
    init_containers: Option<Vec<RawContainer>>,
    ephemeral_containers: Option<Vec<RawContainer>>,
    volumes: Option<Vec<RawVolume>>,
    host_network: Option<bool>,
    #[serde(rename = "hostPID")]
    host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    host_ipc: Option<bool>,
    service_account_name: Option<String>,
    service_account: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainer {
    name: Option<String>,
    image: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    security_context: Option<RawSecurityContext>,
    volume_mounts: Option<Vec<RawVolumeMount>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSecurityContext {
    privileged: Option<bool>,
    allow_privilege_escalation: Option<bool>,
    run_as_user: Option<i64>,
    run_as_non_root: Option<bool>,
    capabilities: Option<RawCapabilities>,
}

#[derive(Deserialize)]
struct RawCapabilities {
    add: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolumeMount {
    name: Option<String>,
    mount_path: Option<String>,
    read_only: Option<bool>,
    sub_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolume {
    name: Option<String>,
    host_path: Option<RawHostPath>,
}

#[derive(Deserialize)]
struct RawHostPath {
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoleBinding {
    role_ref: Option<RawRoleRef>,
    subjects: Option<Vec<RawSubject>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRoleRef {
    api_group: Option<String>,
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSubject {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    api_group: Option<String>,
}

#[derive(Deserialize)]
struct RawRole {
    rules: Option<Vec<RawPolicyRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPolicyRule {
    verbs: Option<Vec<String>>,
    api_groups: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    resource_names: Option<Vec<String>>,
    #[serde(rename = "nonResourceURLs")]
    non_resource_urls: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawService {
    spec: Option<RawServiceSpec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawServiceSpec {
    #[serde(rename = "type")]
    type_: Option<String>,
    selector: Option<BTreeMap<String, String>>,
    ports: Option<Vec<RawServicePort>>,
    load_balancer_source_ranges: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawServicePort {
    name: Option<String>,
    protocol: Option<String>,
    port: Option<i32>,
    target_port: Option<serde_json::Value>,
    node_port: Option<i32>,
}

#[derive(Deserialize)]
struct RawReview {
    spec: Option<RawReviewSpec>,
    status: Option<RawReviewStatus>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawReviewSpec {
    resource_attributes: Option<RawResourceAttributes>,
    non_resource_attributes: Option<RawNonResourceAttributes>,
    namespace: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawResourceAttributes {
    namespace: Option<String>,
    verb: Option<String>,
    group: Option<String>,
    resource: Option<String>,
    subresource: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawNonResourceAttributes {
    path: Option<String>,
    verb: Option<String>,
}

#[derive(Deserialize)]
struct RawReviewStatus {
    allowed: Option<bool>,
}
