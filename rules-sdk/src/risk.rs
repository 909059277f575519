//! What makes a workload, role or binding risky, as data: the anomaly rules use these to
//! decide which unusual operations they report and how severely (docs/anomaly.md lists
//! them). The flagging itself is statistical ([`crate::anomaly`]); these lists never make
//! an ordinary operation a finding.

use crate::{AccessReview, Container, Role, RoleBinding};

/// Penetration-testing and attack tools, matched against the last part of an image's
/// repository (`kalilinux/kali-rolling:latest` → `kali-rolling`) or the whole repository.
pub const PENTEST_IMAGES: &[&str] = &[
    "kali-rolling",
    "kali-linux-docker",
    "kali-last-release",
    "kali",
    "parrot-security",
    "parrotsec/security",
    "metasploit-framework",
    "metasploit",
    "nmap",
    "masscan",
    "zmap",
    "sqlmap",
    "nikto",
    "hydra",
    "thc-hydra",
    "impacket",
    "responder",
    "bloodhound",
    "kube-hunter",
    "kubestriker",
    "peirates",
    "kubesploit",
    "kubeletctl",
    "cdk",
    "botb",
    "deepce",
    "amicontained",
    "linpeas",
    "mimikatz",
    "sliver",
    "empire",
    "gobuster",
    "ffuf",
    "hashcat",
    "wpscan",
    "xmrig",
];

/// Pieces of a container's command line that betray a reverse shell, a download piped
/// into a shell, or a miner (compared in lower case).
pub const SUSPICIOUS_COMMANDS: &[&str] = &[
    "/dev/tcp/",
    "/dev/udp/",
    "bash -i",
    "sh -i",
    "mkfifo",
    "nc -e",
    "nc -c",
    "ncat -e",
    "ncat ",
    "netcat ",
    "-e /bin/sh",
    "-e /bin/bash",
    "socat ",
    "import socket",
    "pty.spawn",
    "fsockopen",
    "-rsocket",
    "use socket",
    "xterm -display",
    "0<&196",
    "| sh",
    "| bash",
    "|sh",
    "|bash",
    "xmrig",
    "stratum+tcp://",
];

/// ClusterRoles that make a binding an admin binding (GuardDuty: High severity).
pub const ADMIN_ROLES: &[&str] = &["cluster-admin", "admin"];

/// Roles broad enough that binding them is worth judging.
pub const PERMISSIVE_ROLES: &[&str] = &["cluster-admin", "admin", "edit"];

/// Namespaces whose bindings always matter: the control plane's.
pub const SENSITIVE_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Groups so broad that binding them grants a role to everyone of a kind.
pub const BROAD_GROUPS: &[&str] = &[
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
    "system:anonymous",
];

/// Verbs that change or widen access.
pub const POWERFUL_VERBS: &[&str] = &[
    "*",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "escalate",
    "bind",
    "impersonate",
];

/// Resources whose access is itself a privilege.
pub const SENSITIVE_RESOURCES: &[&str] = &[
    "*",
    "secrets",
    "pods/exec",
    "pods/attach",
    "nodes/proxy",
    "serviceaccounts/token",
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "certificatesigningrequests/approval",
];

/// The repository of `image` names a known penetration-testing tool.
pub fn pentest_image(image: &str) -> Option<&'static str> {
    let repository = crate::anomaly::image_repository(image).to_ascii_lowercase();
    let name = repository.rsplit('/').next().unwrap_or("");
    PENTEST_IMAGES
        .iter()
        .find(|tool| {
            name == **tool
                || repository == **tool
                || repository
                    .strip_suffix(**tool)
                    .is_some_and(|rest| rest.ends_with('/'))
        })
        .copied()
}

/// The container's command line, when it holds a suspicious piece.
pub fn suspicious_command(container: &Container) -> Option<String> {
    let line = container
        .command
        .iter()
        .chain(&container.args)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = line.to_ascii_lowercase();
    SUSPICIOUS_COMMANDS
        .iter()
        .any(|piece| lower.contains(piece))
        .then_some(line)
}

/// What makes a role's rules excessive: wildcards, secrets, and the verbs and resources
/// that grant more access. Empty for an ordinary role.
pub fn excessive_permissions(role: &Role) -> Vec<String> {
    let mut reasons = Vec::new();
    for rule in &role.rules {
        let any_verb = rule.verbs.iter().any(|v| v == "*");
        for resource in &rule.resources {
            let sensitive = SENSITIVE_RESOURCES.contains(&resource.as_str());
            let powerful: Vec<&str> = rule
                .verbs
                .iter()
                .map(String::as_str)
                .filter(|v| POWERFUL_VERBS.contains(v))
                .collect();
            let reads_secrets = resource == "secrets"
                && rule
                    .verbs
                    .iter()
                    .any(|v| matches!(v.as_str(), "get" | "list" | "watch"));
            if resource == "*" || any_verb || (sensitive && !powerful.is_empty()) || reads_secrets {
                reasons.push(format!("{} on {resource}", rule.verbs.join(",")));
            }
        }
        for verb in &rule.verbs {
            if matches!(verb.as_str(), "escalate" | "bind" | "impersonate") {
                reasons.push(format!("{verb} on {}", rule.resources.join(",")));
            }
        }
        if rule.non_resource_urls.iter().any(|u| u == "*") {
            reasons.push(format!("{} on non-resource URLs *", rule.verbs.join(",")));
        }
    }
    reasons.dedup();
    reasons
}

/// Why a binding is worth judging: an admin or permissive role, a broad group, or a
/// sensitive namespace. `None` for an ordinary binding.
pub fn risky_binding(binding: &RoleBinding) -> Option<String> {
    let role = &binding.role_ref.name;
    if PERMISSIVE_ROLES.contains(&role.as_str()) {
        return Some(format!("binds {} {role}", binding.role_ref.kind));
    }
    if let Some(group) = binding
        .subjects
        .iter()
        .find(|s| s.kind == "Group" && BROAD_GROUPS.contains(&s.name.as_str()))
    {
        return Some(format!("binds the group {}", group.name));
    }
    binding
        .namespace
        .as_deref()
        .filter(|ns| SENSITIVE_NAMESPACES.contains(ns))
        .map(|ns| format!("in namespace {ns}"))
}

/// The verb and resource (`pods/exec`, or a non-resource path) an access review asks
/// about; `*` for what it leaves out.
fn reviewed(review: &AccessReview) -> (&str, String) {
    let verb = review.verb.as_deref().unwrap_or("*");
    let resource = match (
        &review.resource,
        &review.subresource,
        &review.non_resource_path,
    ) {
        (Some(r), Some(s), _) => format!("{r}/{s}"),
        (Some(r), None, _) => r.clone(),
        (None, _, Some(path)) => path.clone(),
        (None, _, None) => "*".into(),
    };
    (verb, resource)
}

/// The permission an access review asks about, e.g. `create deployments` or `rules` for a
/// SelfSubjectRulesReview (which lists all of them).
pub fn permission_checked(review: &AccessReview) -> String {
    if review.kind == "SelfSubjectRulesReview" {
        return "rules".into();
    }
    let (verb, resource) = reviewed(review);
    format!("{verb} {resource}")
}

/// Whether the review asks about a powerful permission: all of them (a rules review), a
/// verb that changes access, or a sensitive resource.
pub fn powerful_permission(review: &AccessReview) -> bool {
    if review.kind == "SelfSubjectRulesReview" {
        return true;
    }
    let (verb, resource) = reviewed(review);
    POWERFUL_VERBS.contains(&verb) || SENSITIVE_RESOURCES.contains(&resource.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pentest_images_match_by_repository_name_not_by_substring() {
        assert_eq!(
            pentest_image("kalilinux/kali-rolling:latest"),
            Some("kali-rolling")
        );
        assert_eq!(
            pentest_image("docker.io/instrumentisto/nmap:7.94"),
            Some("nmap")
        );
        assert_eq!(pentest_image("registry.example.com/web/frontend:1.2"), None);
        assert_eq!(pentest_image("registry.example.com/nmap-exporter:1"), None);
    }
}
