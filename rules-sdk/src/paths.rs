//! Sensitive host paths: a container that can write to one of these can take over its
//! node. Sources: Falco's `sensitive_vol_mount` macro, CIS Docker Benchmark 5.5/5.6,
//! Sonar rule S6433, and the container-runtime and kubelet state directories. See
//! `docs/sensitive-paths.md`.

/// Directories whose every subpath is sensitive, and files sensitive themselves.
pub const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/lib",
    "/lib64",
    "/usr",
    "/bin",
    "/sbin",
    "/var/run",
    "/run",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/log",
    "/var/run/docker.sock",
    "/var/run/crio/crio.sock",
    "/run/containerd/containerd.sock",
];

/// Resolves `.`, `..`, repeated and trailing slashes, so `/etc/../etc//kubernetes/`
/// reads `/etc/kubernetes`.
pub fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The host root itself, or a path at or below a sensitive entry.
pub fn is_sensitive_host_path(path: &str) -> bool {
    let path = normalize_path(path);
    path == "/"
        || SENSITIVE_HOST_PATHS.iter().any(|entry| {
            path.strip_prefix(entry)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_components_after_normalizing() {
        assert!(is_sensitive_host_path("/"));
        assert!(is_sensitive_host_path("/etc"));
        assert!(is_sensitive_host_path("/etc/kubernetes/manifests/"));
        assert!(is_sensitive_host_path("//var/./run/../run/docker.sock"));
        assert!(is_sensitive_host_path("/tmp/../etc"));
        assert!(!is_sensitive_host_path("/etcetera"));
        assert!(!is_sensitive_host_path("/data"));
        assert!(!is_sensitive_host_path("/var/lib/app"));
        assert!(!is_sensitive_host_path("/tmp"));
    }
}
