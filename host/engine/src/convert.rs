//! The normalizer (shared with native rule tests) builds the SDK's copy of the WIT types;
//! the component call needs wasmtime's copy. The two are the same records, so conversion
//! moves each field across.

use peregrine_rules_sdk as sdk;

use super::bindings::{audit as wit, detection};

fn user(u: sdk::UserInfo) -> wit::UserInfo {
    wit::UserInfo {
        username: u.username,
        uid: u.uid,
        groups: u.groups,
        extra: u.extra,
    }
}

fn object_ref(o: sdk::ObjectRef) -> wit::ObjectRef {
    wit::ObjectRef {
        resource: o.resource,
        subresource: o.subresource,
        namespace: o.namespace,
        name: o.name,
        uid: o.uid,
        api_group: o.api_group,
        api_version: o.api_version,
    }
}

fn list_kind(k: sdk::ThreatListKind) -> wit::ThreatListKind {
    match k {
        sdk::ThreatListKind::Malicious => wit::ThreatListKind::Malicious,
        sdk::ThreatListKind::TorExitNode => wit::ThreatListKind::TorExitNode,
        sdk::ThreatListKind::Custom => wit::ThreatListKind::Custom,
    }
}

fn source_ip(ip: sdk::SourceIp) -> wit::SourceIp {
    wit::SourceIp {
        address: ip.address,
        is_public: ip.is_public,
        trusted: ip.trusted,
        threat_lists: ip
            .threat_lists
            .into_iter()
            .map(|h| wit::ThreatListHit {
                kind: list_kind(h.kind),
                name: h.name,
            })
            .collect(),
    }
}

fn container(c: sdk::Container) -> wit::Container {
    let sc = c.security_context;
    wit::Container {
        kind: match c.kind {
            sdk::ContainerKind::Init => wit::ContainerKind::Init,
            sdk::ContainerKind::Regular => wit::ContainerKind::Regular,
            sdk::ContainerKind::Ephemeral => wit::ContainerKind::Ephemeral,
        },
        name: c.name,
        image: c.image,
        command: c.command,
        args: c.args,
        security_context: wit::SecurityContext {
            privileged: sc.privileged,
            allow_privilege_escalation: sc.allow_privilege_escalation,
            run_as_user: sc.run_as_user,
            run_as_non_root: sc.run_as_non_root,
            capabilities_add: sc.capabilities_add,
        },
        volume_mounts: c
            .volume_mounts
            .into_iter()
            .map(|m| wit::VolumeMount {
                name: m.name,
                mount_path: m.mount_path,
                read_only: m.read_only,
                sub_path: m.sub_path,
            })
            .collect(),
    }
}

fn workload(w: sdk::Workload) -> wit::Workload {
    wit::Workload {
        kind: w.kind,
        name: w.name,
        namespace: w.namespace,
        uid: w.uid,
        labels: w.labels,
        service_account_name: w.service_account_name,
        host_network: w.host_network,
        host_pid: w.host_pid,
        host_ipc: w.host_ipc,
        containers: w.containers.into_iter().map(container).collect(),
        volumes: w
            .volumes
            .into_iter()
            .map(|v| wit::Volume {
                name: v.name,
                host_path: v.host_path,
            })
            .collect(),
    }
}

fn view(v: sdk::ObjectView) -> wit::ObjectView {
    match v {
        sdk::ObjectView::Workload(w) => wit::ObjectView::Workload(workload(w)),
        sdk::ObjectView::RoleBinding(b) => wit::ObjectView::RoleBinding(wit::RoleBinding {
            kind: b.kind,
            name: b.name,
            namespace: b.namespace,
            uid: b.uid,
            role_ref: wit::RoleRef {
                api_group: b.role_ref.api_group,
                kind: b.role_ref.kind,
                name: b.role_ref.name,
            },
            subjects: b
                .subjects
                .into_iter()
                .map(|s| wit::Subject {
                    kind: s.kind,
                    name: s.name,
                    namespace: s.namespace,
                    api_group: s.api_group,
                })
                .collect(),
        }),
        sdk::ObjectView::Role(r) => wit::ObjectView::Role(wit::Role {
            kind: r.kind,
            name: r.name,
            namespace: r.namespace,
            uid: r.uid,
            rules: r
                .rules
                .into_iter()
                .map(|p| wit::PolicyRule {
                    verbs: p.verbs,
                    api_groups: p.api_groups,
                    resources: p.resources,
                    resource_names: p.resource_names,
                    non_resource_urls: p.non_resource_urls,
                })
                .collect(),
        }),
        sdk::ObjectView::Service(s) => wit::ObjectView::Service(wit::Service {
            name: s.name,
            namespace: s.namespace,
            uid: s.uid,
            labels: s.labels,
            annotations: s.annotations,
            service_type: s.service_type,
            selector: s.selector,
            ports: s
                .ports
                .into_iter()
                .map(|p| wit::ServicePort {
                    name: p.name,
                    protocol: p.protocol,
                    port: p.port,
                    target_port: p.target_port,
                    node_port: p.node_port,
                })
                .collect(),
            load_balancer_source_ranges: s.load_balancer_source_ranges,
        }),
        sdk::ObjectView::AccessReview(r) => wit::ObjectView::AccessReview(wit::AccessReview {
            kind: r.kind,
            namespace: r.namespace,
            verb: r.verb,
            resource: r.resource,
            subresource: r.subresource,
            group: r.group,
            name: r.name,
            non_resource_path: r.non_resource_path,
            allowed: r.allowed,
        }),
    }
}

/// Moves an SDK event into the record the component call lowers.
pub fn audit_event(e: sdk::AuditEvent) -> wit::AuditEvent {
    wit::AuditEvent {
        cluster: e.cluster,
        audit_id: e.audit_id,
        stage: e.stage,
        level: e.level,
        verb: e.verb,
        request_uri: e.request_uri,
        user: user(e.user),
        impersonated_user: e.impersonated_user.map(user),
        source_ips: e.source_ips.into_iter().map(source_ip).collect(),
        user_agent: e.user_agent,
        object_ref: e.object_ref.map(object_ref),
        response_code: e.response_code,
        authorization_decision: e.authorization_decision,
        authorization_reason: e.authorization_reason,
        annotations: e.annotations,
        request_received_at: e.request_received_at,
        stage_at: e.stage_at,
        exec: e.exec.map(|x| wit::ExecRequest {
            command: x.command,
            container: x.container,
            stdin: x.stdin,
            tty: x.tty,
        }),
        object: e.object.map(|o| wit::DecodedObject {
            source: match o.source {
                sdk::ObjectSource::Response => wit::ObjectSource::Response,
                sdk::ObjectSource::Request => wit::ObjectSource::Request,
                sdk::ObjectSource::Patch => wit::ObjectSource::Patch,
            },
            view: view(o.view),
        }),
        raw: e.raw,
    }
}

/// A module's descriptor in the SDK's types, so dispatch uses the SDK's matcher.
pub fn descriptor(d: detection::Descriptor) -> sdk::Descriptor {
    sdk::Descriptor {
        finding_type: d.finding_type,
        severity: d.severity,
        title: d.title,
        description: d.description,
        audit: d.audit.map(|s| sdk::AuditSubscription {
            verbs: s.verbs,
            resources: s.resources,
            subresources: s.subresources,
            namespaces: s.namespaces,
            users: s.users,
            source_ip_listed: s.source_ip_listed,
        }),
        wants_raw: d.wants_raw,
    }
}

/// A module's finding in the SDK's types.
pub fn finding(f: detection::Finding) -> sdk::Finding {
    sdk::Finding {
        event_index: f.event_index,
        severity: f.severity,
        title: f.title,
        description: f.description,
        parameters: f.parameters,
        threat_intel: f
            .threat_intel
            .into_iter()
            .map(|t| sdk::ThreatIntel {
                threat_list_name: t.threat_list_name,
                threat_names: t.threat_names,
            })
            .collect(),
        additional_info: f.additional_info,
        anomaly: f
            .anomaly
            .into_iter()
            .map(|a| sdk::AnomalyFeature {
                scope: a.scope,
                feature: a.feature,
                unusual: anomaly_object(a.unusual),
                profile: a.profile.into_iter().map(anomaly_object).collect(),
            })
            .collect(),
        aggregation_key: f.aggregation_key,
    }
}

fn anomaly_object(o: detection::AnomalyObject) -> sdk::AnomalyObject {
    sdk::AnomalyObject {
        profile_type: o.profile_type,
        profile_subtype: o.profile_subtype,
        text: o.text,
        number: o.number,
    }
}
