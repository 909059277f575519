//! The tactic table: which MITRE ATT&CK tactic a Kubernetes API call serves.
//!
//! GuardDuty names its IP-reputation and anonymous-access findings after the tactic of the
//! API call (`Discovery:Kubernetes/TorIPCaller`, …) but does not publish the mapping. This
//! table is Peregrine's, documented with its reasoning in `docs/tactics.md`. Entries are
//! tried in order and the first match wins; an entry with no tactic stops the search (for
//! calls that belong to no GuardDuty family, such as `pods/exec`). Health probes never
//! count.

use crate::AuditEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tactic {
    CredentialAccess,
    DefenseEvasion,
    Discovery,
    Impact,
    Persistence,
}

impl Tactic {
    /// The name used in finding types, e.g. `CredentialAccess`.
    pub fn name(self) -> &'static str {
        match self {
            Tactic::CredentialAccess => "CredentialAccess",
            Tactic::DefenseEvasion => "DefenseEvasion",
            Tactic::Discovery => "Discovery",
            Tactic::Impact => "Impact",
            Tactic::Persistence => "Persistence",
        }
    }
}

/// What an entry matches besides the verb.
pub enum Target {
    /// Resource requests. A pattern is `resource` (no subresource), `resource/sub`,
    /// `resource/*` (any subresource), `*` (any resource, no subresource) or `*/*`.
    Resources {
        patterns: &'static [&'static str],
        /// Empty: any namespace.
        namespaces: &'static [&'static str],
        /// Empty: any object name.
        names: &'static [&'static str],
    },
    /// Non-resource requests (`/api`, `/version`, …) whose path starts with a prefix.
    Paths(&'static [&'static str]),
}

pub struct Entry {
    pub tactic: Option<Tactic>,
    pub verbs: &'static [&'static str],
    pub target: Target,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch"];
const REMOVE: &[&str] = &["delete", "deletecollection"];
const CHANGE_OR_REMOVE: &[&str] = &["update", "patch", "delete", "deletecollection"];
const ANY_NAMESPACE: &[&str] = &[];
const ANY_NAME: &[&str] = &[];

const fn resources(patterns: &'static [&'static str]) -> Target {
    Target::Resources {
        patterns,
        namespaces: ANY_NAMESPACE,
        names: ANY_NAME,
    }
}

/// Namespaces where security tooling runs; tampering with them hides an attack.
pub const SECURITY_NAMESPACES: &[&str] = &["amazon-guardduty", "falco", "peregrine"];

use Tactic::*;

/// The table itself, in evaluation order.
pub const TABLE: &[Entry] = &[
    // Interactive access to containers is Execution, which has no GuardDuty family.
    Entry {
        tactic: None,
        verbs: &[],
        target: resources(&["pods/exec", "pods/attach", "pods/portforward"]),
    },
    // 1. Credential access: reading secrets, minting tokens and certificates (T1552.007, T1528).
    Entry {
        tactic: Some(CredentialAccess),
        verbs: READ,
        target: resources(&["secrets"]),
    },
    Entry {
        tactic: Some(CredentialAccess),
        verbs: &["create"],
        target: resources(&["serviceaccounts/token", "certificatesigningrequests"]),
    },
    Entry {
        tactic: Some(CredentialAccess),
        verbs: &["update", "patch"],
        target: resources(&["certificatesigningrequests/approval"]),
    },
    // 2. Persistence: RBAC grants, scheduled and node-wide workloads, admission webhooks,
    //    the EKS IAM mapping (T1098.006, T1053.007, TMFK "Malicious admission controller").
    Entry {
        tactic: Some(Persistence),
        verbs: &["create", "update", "patch", "escalate", "bind"],
        target: resources(&[
            "clusterrolebindings",
            "rolebindings",
            "clusterroles",
            "roles",
        ]),
    },
    Entry {
        tactic: Some(Persistence),
        verbs: WRITE,
        target: resources(&["cronjobs", "daemonsets", "mutatingwebhookconfigurations"]),
    },
    Entry {
        tactic: Some(Persistence),
        verbs: WRITE,
        target: Target::Resources {
            patterns: &["configmaps"],
            namespaces: &["kube-system"],
            names: &["aws-auth"],
        },
    },
    // 3. Defense evasion: erasing events, weakening admission control and network policy,
    //    tampering with security tooling (T1070, T1562.001).
    Entry {
        tactic: Some(DefenseEvasion),
        verbs: CHANGE_OR_REMOVE,
        target: resources(&["events"]),
    },
    Entry {
        tactic: Some(DefenseEvasion),
        verbs: CHANGE_OR_REMOVE,
        target: resources(&[
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "podsecuritypolicies",
        ]),
    },
    Entry {
        tactic: Some(DefenseEvasion),
        verbs: REMOVE,
        target: resources(&["mutatingwebhookconfigurations", "networkpolicies"]),
    },
    Entry {
        tactic: Some(DefenseEvasion),
        verbs: CHANGE_OR_REMOVE,
        target: Target::Resources {
            patterns: crate::WORKLOAD_RESOURCES,
            namespaces: SECURITY_NAMESPACES,
            names: ANY_NAME,
        },
    },
    // 4. Impact: destroying or changing what runs and what it depends on
    //    (T1485, T1496, T1499).
    Entry {
        tactic: Some(Impact),
        verbs: REMOVE,
        target: resources(&["*", "*/*"]),
    },
    Entry {
        tactic: Some(Impact),
        verbs: WRITE,
        target: resources(&[
            "pods",
            "deployments",
            "replicasets",
            "statefulsets",
            "jobs",
            "replicationcontrollers",
            "*/scale",
            "services",
            "ingresses",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "namespaces",
            "nodes",
            "persistentvolumes",
            "persistentvolumeclaims",
        ]),
    },
    // 5. Discovery: reading anything else, checking permissions, API discovery (T1613).
    Entry {
        tactic: Some(Discovery),
        verbs: &["create"],
        target: resources(&[
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
            "subjectaccessreviews",
            "localsubjectaccessreviews",
        ]),
    },
    Entry {
        tactic: Some(Discovery),
        verbs: READ,
        target: resources(&["*", "*/*"]),
    },
    Entry {
        tactic: Some(Discovery),
        verbs: READ,
        target: Target::Paths(&["/"]),
    },
];

fn pattern_matches(pattern: &str, resource: &str, subresource: Option<&str>) -> bool {
    let (want_resource, want_sub) = match pattern.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (pattern, None),
    };
    let resource_ok = want_resource == "*" || want_resource == resource;
    let sub_ok = match (want_sub, subresource) {
        (None, None) => true,
        (Some("*"), Some(_)) => true,
        (Some(want), Some(have)) => want == have,
        _ => false,
    };
    resource_ok && sub_ok
}

fn entry_matches(entry: &Entry, event: &AuditEvent) -> bool {
    if !entry.verbs.is_empty() && !entry.verbs.contains(&event.verb.as_str()) {
        return false;
    }
    match (&entry.target, &event.object_ref) {
        (
            Target::Resources {
                patterns,
                namespaces,
                names,
            },
            Some(object),
        ) => {
            patterns
                .iter()
                .any(|p| pattern_matches(p, &object.resource, object.subresource.as_deref()))
                && (namespaces.is_empty()
                    || object
                        .namespace
                        .as_deref()
                        .is_some_and(|n| namespaces.contains(&n)))
                && (names.is_empty() || object.name.as_deref().is_some_and(|n| names.contains(&n)))
        }
        (Target::Paths(prefixes), None) => prefixes.iter().any(|p| event.path().starts_with(p)),
        _ => false,
    }
}

/// The tactic of an API call, or `None` when it serves none of the five (or is a
/// health probe).
pub fn classify(event: &AuditEvent) -> Option<Tactic> {
    if event.is_health_probe() {
        return None;
    }
    TABLE
        .iter()
        .find(|entry| entry_matches(entry, event))
        .and_then(|entry| entry.tactic)
}

/// Paths that anonymous callers may read without a finding: health probes and the
/// version endpoint (kube-apiserver grants both to `system:unauthenticated` by default).
const ANONYMOUS_ALLOWED_PATHS: &[&str] = &["/version"];

/// The tactic of a successful anonymous call, the trigger of the
/// `<Tactic>:Kubernetes/SuccessfulAnonymousAccess` findings.
pub fn anonymous_tactic(event: &AuditEvent) -> Option<Tactic> {
    if !event.is_anonymous() || !event.succeeded() {
        return None;
    }
    let path = event.path();
    if event.object_ref.is_none() && ANONYMOUS_ALLOWED_PATHS.iter().any(|p| path == *p) {
        return None;
    }
    classify(event)
}

/// Finding wording shared by every tactic × caller type.
pub fn api_commonly_used_in(tactic: Tactic) -> String {
    format!("Kubernetes API commonly used in {} tactics", tactic.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::event;

    fn call(verb: &str, uri: &str, object_ref: &str) -> AuditEvent {
        let object_ref = if object_ref.is_empty() {
            String::new()
        } else {
            format!(r#","objectRef":{object_ref}"#)
        };
        event(&format!(
            r#"{{"auditID":"t","stage":"ResponseComplete","verb":"{verb}","requestURI":"{uri}","user":{{"username":"system:anonymous","groups":["system:unauthenticated"]}},"responseStatus":{{"code":200}}{object_ref}}}"#
        ))
    }

    #[test]
    fn the_table_classifies_typical_calls() {
        let cases = [
            (
                "list",
                "/api/v1/secrets",
                r#"{"resource":"secrets"}"#,
                Some(CredentialAccess),
            ),
            (
                "create",
                "/api/v1/namespaces/d/serviceaccounts/x/token",
                r#"{"resource":"serviceaccounts","subresource":"token","namespace":"d","name":"x"}"#,
                Some(CredentialAccess),
            ),
            (
                "create",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                r#"{"resource":"clusterrolebindings"}"#,
                Some(Persistence),
            ),
            (
                "patch",
                "/api/v1/namespaces/kube-system/configmaps/aws-auth",
                r#"{"resource":"configmaps","namespace":"kube-system","name":"aws-auth"}"#,
                Some(Persistence),
            ),
            (
                "patch",
                "/api/v1/namespaces/default/configmaps/app",
                r#"{"resource":"configmaps","namespace":"default","name":"app"}"#,
                Some(Impact),
            ),
            (
                "delete",
                "/api/v1/namespaces/default/events/e",
                r#"{"resource":"events","namespace":"default","name":"e"}"#,
                Some(DefenseEvasion),
            ),
            (
                "delete",
                "/apis/apps/v1/namespaces/falco/daemonsets/falco",
                r#"{"resource":"daemonsets","namespace":"falco","name":"falco"}"#,
                Some(DefenseEvasion),
            ),
            (
                "delete",
                "/api/v1/namespaces/default/pods/p",
                r#"{"resource":"pods","namespace":"default","name":"p"}"#,
                Some(Impact),
            ),
            (
                "create",
                "/api/v1/namespaces/default/serviceaccounts",
                r#"{"resource":"serviceaccounts","namespace":"default"}"#,
                Some(Impact),
            ),
            (
                "patch",
                "/apis/apps/v1/namespaces/d/deployments/x/scale",
                r#"{"resource":"deployments","subresource":"scale","namespace":"d","name":"x"}"#,
                Some(Impact),
            ),
            (
                "create",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                r#"{"resource":"selfsubjectaccessreviews"}"#,
                Some(Discovery),
            ),
            (
                "get",
                "/api/v1/namespaces/d/pods/p/log",
                r#"{"resource":"pods","subresource":"log","namespace":"d","name":"p"}"#,
                Some(Discovery),
            ),
            ("get", "/api", "", Some(Discovery)),
            ("get", "/version", "", Some(Discovery)),
            ("get", "/healthz/etcd", "", None),
            ("get", "/livez", "", None),
            (
                "create",
                "/api/v1/namespaces/d/pods/p/exec?command=sh",
                r#"{"resource":"pods","subresource":"exec","namespace":"d","name":"p"}"#,
                None,
            ),
            (
                "get",
                "/api/v1/namespaces/d/pods/p/exec?command=sh",
                r#"{"resource":"pods","subresource":"exec","namespace":"d","name":"p"}"#,
                None,
            ),
            (
                "create",
                "/api/v1/namespaces/d/pods/p/eviction",
                r#"{"resource":"pods","subresource":"eviction","namespace":"d","name":"p"}"#,
                None,
            ),
        ];
        for (verb, uri, object_ref, want) in cases {
            assert_eq!(classify(&call(verb, uri, object_ref)), want, "{verb} {uri}");
        }
    }

    #[test]
    fn anonymous_tactics_need_success_and_skip_version() {
        assert_eq!(anonymous_tactic(&call("get", "/version", "")), None);
        assert_eq!(anonymous_tactic(&call("get", "/apis", "")), Some(Discovery));
        let mut denied = call("get", "/apis", "");
        denied.response_code = Some(403);
        assert_eq!(anonymous_tactic(&denied), None);
        let mut forbidden = call("get", "/apis", "");
        forbidden.authorization_decision = Some("forbid".into());
        assert_eq!(anonymous_tactic(&forbidden), None);
        let mut authenticated = call("get", "/apis", "");
        authenticated.user.username = "alice".into();
        authenticated.user.groups = vec!["system:authenticated".into()];
        assert_eq!(anonymous_tactic(&authenticated), None);
    }
}
