//! The normalizer (shared with native rule tests) builds the SDK's copy of the WIT types;
//! the component call needs wasmtime's copy. The two are the same records, so conversion
//! moves each field across.

use peregrine_rules_sdk as sdk;

use super::bindings::{audit as wit, detection, runtime as rt};
use sdk::runtime as srt;

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
        runtime: d.runtime.map(|s| sdk::RuntimeSubscription {
            activities: s.activities.into_iter().map(activity_kind).collect(),
            sensors: s.sensors,
            listed: s.listed,
            containers_only: s.containers_only,
            matching: s.matching.into_iter().map(event_match).collect(),
        }),
        wants_raw: d.wants_raw,
    }
}

fn event_match(m: detection::EventMatch) -> sdk::EventMatch {
    use detection::EventMatch as M;
    match m {
        M::Activity(kind) => sdk::EventMatch::Activity(activity_kind(kind)),
        M::Executable(name) => sdk::EventMatch::Executable(name),
        M::CommandLine(part) => sdk::EventMatch::CommandLine(part),
        M::Path(pattern) => sdk::EventMatch::Path(pattern),
        M::Cwd(pattern) => sdk::EventMatch::Cwd(pattern),
        M::Fileless => sdk::EventMatch::Fileless,
        M::PrivilegesRaised => sdk::EventMatch::PrivilegesRaised,
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
        runtime_context: f.runtime_context,
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

fn activity_kind(k: rt::ActivityKind) -> srt::ActivityKind {
    use rt::ActivityKind as W;
    use srt::ActivityKind as S;
    match k {
        W::Exec => S::Exec,
        W::Exit => S::Exit,
        W::File => S::File,
        W::Mmap => S::Mmap,
        W::Socket => S::Socket,
        W::Dns => S::Dns,
        W::Mount => S::Mount,
        W::Ptrace => S::Ptrace,
        W::MemoryWrite => S::MemoryWrite,
        W::MemfdCreate => S::MemfdCreate,
        W::Userfaultfd => S::Userfaultfd,
        W::Credentials => S::Credentials,
        W::KernelModule => S::KernelModule,
        W::NamespaceChange => S::NamespaceChange,
        W::LibraryLoad => S::LibraryLoad,
        W::Alert => S::Alert,
    }
}

fn listings(l: Vec<srt::Listing>) -> Vec<rt::Listing> {
    use rt::ThreatCategory as W;
    use srt::ThreatCategory as S;
    l.into_iter()
        .map(|l| rt::Listing {
            category: match l.category {
                S::Malicious => W::Malicious,
                S::TorExitNode => W::TorExitNode,
                S::TorRelay => W::TorRelay,
                S::TorGuard => W::TorGuard,
                S::CryptoMining => W::CryptoMining,
                S::CommandAndControl => W::CommandAndControl,
                S::BlackHole => W::BlackHole,
                S::DropPoint => W::DropPoint,
                S::Phishing => W::Phishing,
                S::Dga => W::Dga,
                S::DriveBySource => W::DriveBySource,
                S::Abused => W::Abused,
                S::CryptoReputation => W::CryptoReputation,
                S::Suspicious => W::Suspicious,
                S::Custom => W::Custom,
            },
            name: l.name,
        })
        .collect()
}

fn address(a: srt::Address) -> rt::Address {
    rt::Address {
        address: a.address,
        is_public: a.is_public,
        trusted: a.trusted,
        listed: listings(a.listed),
    }
}

fn process(p: srt::Process) -> rt::Process {
    rt::Process {
        id: p.id,
        parent_id: p.parent_id,
        name: p.name,
        executable_path: p.executable_path,
        arguments: p.arguments,
        command_line: p.command_line,
        cwd: p.cwd,
        pid: p.pid,
        namespace_pid: p.namespace_pid,
        uid: p.uid,
        euid: p.euid,
        gid: p.gid,
        egid: p.egid,
        user_name: p.user_name,
        start_time: p.start_time,
        sha256: p.sha256,
        sha256_listed: listings(p.sha256_listed),
        in_init_tree: p.in_init_tree,
        setuid_binary: p.setuid_binary,
        privileges_changed: p.privileges_changed,
        fileless: p.fileless,
        capabilities: p.capabilities,
        environment: p.environment,
    }
}

fn activity(a: srt::Activity) -> rt::Activity {
    use rt::Activity as W;
    use srt::Activity as S;
    match a {
        S::Exec => W::Exec,
        S::Exit(x) => W::Exit(rt::ExitActivity {
            status: x.status,
            signal: x.signal,
        }),
        S::File(f) => W::File(rt::FileActivity {
            operation: match f.operation {
                srt::FileOperation::Open => rt::FileOperation::Open,
                srt::FileOperation::Read => rt::FileOperation::Read,
                srt::FileOperation::Write => rt::FileOperation::Write,
                srt::FileOperation::Truncate => rt::FileOperation::Truncate,
                srt::FileOperation::Rename => rt::FileOperation::Rename,
                srt::FileOperation::Unlink => rt::FileOperation::Unlink,
                srt::FileOperation::Link => rt::FileOperation::Link,
                srt::FileOperation::Symlink => rt::FileOperation::Symlink,
                srt::FileOperation::Chmod => rt::FileOperation::Chmod,
                srt::FileOperation::Chown => rt::FileOperation::Chown,
            },
            path: f.path,
            target_path: f.target_path,
            flags: f.flags,
            mode: f.mode,
        }),
        S::Mmap(m) => W::Mmap(rt::MmapActivity {
            path: m.path,
            protection: m.protection,
        }),
        S::Socket(s) => W::Socket(rt::SocketActivity {
            operation: match s.operation {
                srt::SocketOperation::Connect => rt::SocketOperation::Connect,
                srt::SocketOperation::Accept => rt::SocketOperation::Accept,
                srt::SocketOperation::Listen => rt::SocketOperation::Listen,
                srt::SocketOperation::Bind => rt::SocketOperation::Bind,
                srt::SocketOperation::Send => rt::SocketOperation::Send,
                srt::SocketOperation::Close => rt::SocketOperation::Close,
            },
            family: match s.family {
                srt::SocketFamily::Inet => rt::SocketFamily::Inet,
                srt::SocketFamily::Inet6 => rt::SocketFamily::Inet6,
                srt::SocketFamily::Unix => rt::SocketFamily::Unix,
                srt::SocketFamily::Other => rt::SocketFamily::Other,
            },
            protocol: s.protocol,
            local: s.local.map(address),
            local_port: s.local_port,
            remote: s.remote.map(address),
            remote_port: s.remote_port,
            unix_path: s.unix_path,
        }),
        S::Dns(d) => W::Dns(rt::DnsActivity {
            query_name: d.query_name,
            query_type: d.query_type,
            response: d.response,
            answers: d.answers,
            listed: listings(d.listed),
        }),
        S::Mount(m) => W::Mount(rt::MountActivity {
            source: m.source,
            target: m.target,
            file_system_type: m.file_system_type,
            flags: m.flags,
        }),
        S::Ptrace(p) => W::Ptrace(rt::PtraceActivity {
            request: p.request,
            request_name: p.request_name,
            target_pid: p.target_pid,
        }),
        S::MemoryWrite(m) => W::MemoryWrite(rt::MemoryWriteActivity {
            method: match m.method {
                srt::MemoryWriteMethod::ProcessVmWritev => rt::MemoryWriteMethod::ProcessVmWritev,
                srt::MemoryWriteMethod::ProcMem => rt::MemoryWriteMethod::ProcMem,
            },
            target_pid: m.target_pid,
            path: m.path,
        }),
        S::MemfdCreate(m) => W::MemfdCreate(rt::MemfdActivity {
            name: m.name,
            flags: m.flags,
        }),
        S::Userfaultfd => W::Userfaultfd,
        S::Credentials(c) => W::Credentials(rt::CredentialsActivity {
            operation: c.operation,
            uid: c.uid,
            euid: c.euid,
            gid: c.gid,
            egid: c.egid,
            capabilities: c.capabilities,
        }),
        S::KernelModule(k) => W::KernelModule(rt::KernelModuleActivity {
            name: k.name,
            path: k.path,
            sha256: k.sha256,
            signed: k.signed,
            tainted: k.tainted,
        }),
        S::NamespaceChange(n) => W::NamespaceChange(rt::NamespaceActivity {
            operation: n.operation,
            namespaces: n.namespaces,
            target_pid: n.target_pid,
        }),
        S::LibraryLoad(l) => W::LibraryLoad(rt::LibraryActivity { path: l.path }),
        S::Alert(a) => W::Alert(rt::SensorAlert {
            rule: a.rule,
            priority: a.priority,
            output: a.output,
            tags: a.tags,
            fields: a.fields,
        }),
    }
}

/// Moves an SDK runtime event into the record the component call lowers.
pub fn runtime_event(e: srt::RuntimeEvent) -> rt::RuntimeEvent {
    rt::RuntimeEvent {
        cluster: e.cluster,
        node: e.node,
        sensor: e.sensor,
        event_id: e.event_id,
        time: e.time,
        process: process(e.process),
        lineage: e.lineage.into_iter().map(process).collect(),
        container: e.container.map(|c| rt::Container {
            id: c.id,
            runtime: c.runtime,
            name: c.name,
            image: c.image,
            image_id: c.image_id,
            privileged: c.privileged,
        }),
        pod: e.pod.map(|p| rt::Pod {
            namespace: p.namespace,
            name: p.name,
            uid: p.uid,
            labels: p.labels,
        }),
        workload: e.workload.map(|w| rt::WorkloadRef {
            kind: w.kind,
            name: w.name,
        }),
        activity: activity(e.activity),
        policy: e.policy,
        tags: e.tags,
        raw: e.raw,
    }
}
