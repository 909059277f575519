//! PrivilegeEscalation:Runtime/DockerSocketAccessed: a process in a container connected to
//! the node's container runtime socket (Docker's, and containerd's, CRI-O's and
//! cri-dockerd's, which give the same control): whoever talks to it can start a privileged
//! container on the node. Processes on the node itself (kubelet, the runtime's own CLI)
//! are left out.
//!
//! Fed by Tetragon's `security_socket_connect` hook (`peregrine-runtime-sockets`), Tracee's
//! `security_socket_connect` and Falco alerts that carry the unix socket path.

use peregrine_rules_sdk::runtime::{Activity, SocketFamily, SocketOperation};
use peregrine_rules_sdk::*;

pub struct DockerSocketAccessed;

/// The runtime sockets, by file name (they are mounted into containers under any path).
const SOCKETS: [&str; 4] = [
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
];

impl Rule for DockerSocketAccessed {
    fn descriptor() -> Descriptor {
        // Any path ending in a socket's name (relative ones too).
        let patterns = SOCKETS.map(|name| format!("*{name}"));
        Descriptor::new(
            "PrivilegeEscalation:Runtime/DockerSocketAccessed",
            MEDIUM,
            "A process inside a container is communicating with the Docker socket.",
            "A process in a container connected to the node's container runtime socket \
             (Docker, containerd, CRI-O).",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Socket])
                .containers_only()
                .paths(&patterns.each_ref().map(String::as_str)),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        let Activity::Socket(socket) = &event.activity else {
            return None;
        };
        if socket.family != SocketFamily::Unix
            || !matches!(
                socket.operation,
                SocketOperation::Connect | SocketOperation::Send
            )
            || !event.in_container()
        {
            return None;
        }
        let path = socket.unix_path.as_deref()?;
        let name = path.rsplit('/').next().unwrap_or(path);
        if !SOCKETS.contains(&name) {
            return None;
        }
        Some(
            Finding::new(format!(
                "{} connected to the container runtime socket {path}.",
                event.actor()
            ))
            .with_aggregation_key(path.to_string())
            .with_context("socketPath", path),
        )
    }
}

export_rule!(DockerSocketAccessed);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::DockerSocketAccessed>();
    }
}
