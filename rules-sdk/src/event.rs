//! Questions rules ask of an event, answered one way for every rule.

use crate::{
    AccessReview, AuditEvent, Container, DecodedObject, ObjectView, Role, RoleBinding, Service,
    SourceIp, Workload,
};

/// The anonymous user and the group every unauthenticated request carries.
pub const ANONYMOUS_USER: &str = "system:anonymous";
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";

/// Resources whose objects run containers (a pod or a pod template).
pub const WORKLOAD_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
];

/// Kubernetes health endpoints; calls to them never count as suspicious API use.
const HEALTH_PATHS: &[&str] = &["/healthz", "/livez", "/readyz"];

/// GuardDuty's `imagePrefix`: the part of the image name before the last slash
/// (`""` for `centos`, `"quay.io/org"` for `quay.io/org/app:1.0`).
pub fn image_prefix(image: &str) -> &str {
    image.rsplit_once('/').map_or("", |(prefix, _)| prefix)
}

impl AuditEvent {
    pub fn username(&self) -> &str {
        &self.user.username
    }

    /// The authenticated user is `system:anonymous` or in `system:unauthenticated`.
    pub fn is_anonymous(&self) -> bool {
        self.user.username == ANONYMOUS_USER
            || self.user.groups.iter().any(|g| g == UNAUTHENTICATED_GROUP)
    }

    /// The user is, or is in, `name` (a username or a group).
    pub fn user_is(&self, name: &str) -> bool {
        self.user.username == name || self.user.groups.iter().any(|g| g == name)
    }

    /// The call was allowed and succeeded: a 2xx response, or 101 for an upgraded
    /// (exec, attach, port-forward) connection, and no `forbid` decision.
    pub fn succeeded(&self) -> bool {
        let ok_code = matches!(self.response_code, Some(200..=299) | Some(101));
        ok_code && self.authorization_decision.as_deref() != Some("forbid")
    }

    /// The call was refused or failed: a 4xx or 5xx response, or a `forbid` decision.
    /// (Unlike `!succeeded()`, an event with no recorded outcome is not refused.)
    pub fn refused(&self) -> bool {
        matches!(self.response_code, Some(400..))
            || self.authorization_decision.as_deref() == Some("forbid")
    }

    pub fn resource(&self) -> Option<&str> {
        self.object_ref.as_ref().map(|o| o.resource.as_str())
    }

    pub fn subresource(&self) -> Option<&str> {
        self.object_ref.as_ref()?.subresource.as_deref()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object_ref.as_ref()?.namespace.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.object_ref.as_ref()?.name.as_deref()
    }

    /// The name of the object the call addressed: `objectRef.name`, or for a create (whose
    /// objectRef has no name) the name inside the decoded object.
    pub fn object_name(&self) -> Option<&str> {
        self.name().or_else(|| match self.view()? {
            ObjectView::Workload(w) => w.name.as_deref(),
            ObjectView::RoleBinding(b) => b.name.as_deref(),
            ObjectView::Role(r) => r.name.as_deref(),
            ObjectView::Service(s) => s.name.as_deref(),
            ObjectView::AccessReview(_) => None,
        })
    }

    /// The request URI without its query string.
    pub fn path(&self) -> &str {
        self.request_uri.split('?').next().unwrap_or("")
    }

    /// `/healthz`, `/livez`, `/readyz` or a check below them.
    pub fn is_health_probe(&self) -> bool {
        let path = self.path();
        HEALTH_PATHS.iter().any(|h| {
            path.strip_prefix(h)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// The caller's address: the first public IP in `sourceIPs` (the apiserver appends
    /// the connection's address after any forwarded ones, so the first public entry is
    /// the closest to the real client), or the first entry when none is public.
    pub fn caller_ip(&self) -> Option<&SourceIp> {
        self.source_ips
            .iter()
            .find(|ip| ip.is_public)
            .or_else(|| self.source_ips.first())
    }

    fn view(&self) -> Option<&ObjectView> {
        self.object.as_ref().map(|DecodedObject { view, .. }| view)
    }

    /// The pod or pod template the call wrote.
    pub fn workload(&self) -> Option<&Workload> {
        match self.view()? {
            ObjectView::Workload(w) => Some(w),
            _ => None,
        }
    }

    pub fn role_binding(&self) -> Option<&RoleBinding> {
        match self.view()? {
            ObjectView::RoleBinding(b) => Some(b),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<&Role> {
        match self.view()? {
            ObjectView::Role(r) => Some(r),
            _ => None,
        }
    }

    pub fn service(&self) -> Option<&Service> {
        match self.view()? {
            ObjectView::Service(s) => Some(s),
            _ => None,
        }
    }

    pub fn access_review(&self) -> Option<&AccessReview> {
        match self.view()? {
            ObjectView::AccessReview(r) => Some(r),
            _ => None,
        }
    }

    /// The exec or attach command as one shell-like line.
    pub fn exec_command(&self) -> Option<String> {
        let exec = self.exec.as_ref()?;
        (!exec.command.is_empty()).then(|| exec.command.join(" "))
    }
}

impl Workload {
    /// `Deployment frontend in namespace web`, for descriptions (`unknown` for what the
    /// object leaves out; the namespace falls back to the event's).
    pub fn label(&self, event: &AuditEvent) -> String {
        format!(
            "{} {} in namespace {}",
            self.kind,
            self.name.as_deref().unwrap_or("unknown"),
            self.namespace
                .as_deref()
                .or(event.namespace())
                .unwrap_or("unknown")
        )
    }

    /// The volume named `name`, if it mounts a host path.
    pub fn host_path(&self, volume: &str) -> Option<&str> {
        self.volumes
            .iter()
            .find(|v| v.name == volume)
            .and_then(|v| v.host_path.as_deref())
    }

    /// `container:path at mountPath` for each sensitive host path a container mounts
    /// (only those mounted writable, if `writable_only`).
    pub fn sensitive_mounts(&self, writable_only: bool) -> Vec<String> {
        let mut mounts = Vec::new();
        for container in &self.containers {
            for mount in &container.volume_mounts {
                if writable_only && mount.read_only {
                    continue;
                }
                if let Some(path) = self.host_path(&mount.name)
                    && crate::paths::is_sensitive_host_path(path)
                {
                    mounts.push(format!("{}:{path} at {}", container.name, mount.mount_path));
                }
            }
        }
        mounts
    }

    pub fn privileged_containers(&self) -> impl Iterator<Item = &Container> {
        self.containers
            .iter()
            .filter(|c| c.security_context.privileged == Some(true))
    }
}
