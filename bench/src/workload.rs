//! A seeded generator of audit events with the mix a busy cluster's API server sees:
//! mostly reads and watches by kubelets, controllers and the scheduler, leader-election
//! lease updates, some workload writes by a CI deployer (with pod templates, now and then
//! privileged or with a host mount), RBAC changes, execs, humans with kubectl, anonymous
//! probes from the internet, and calls from addresses on the sample threat lists.

use serde_json::{Value, json};

pub use peregrine::simulate::Rng;

const NODES: [&str; 6] = [
    "ip-10-0-1-17.ec2.internal",
    "ip-10-0-1-92.ec2.internal",
    "ip-10-0-2-45.ec2.internal",
    "ip-10-0-2-61.ec2.internal",
    "ip-10-0-3-88.ec2.internal",
    "ip-10-0-3-14.ec2.internal",
];
const NAMESPACES: [&str; 5] = ["default", "payments", "web", "monitoring", "kube-system"];
const CONTROLLERS: [(&str, &str); 6] = [
    (
        "system:serviceaccount:kube-system:replicaset-controller",
        "replicasets",
    ),
    (
        "system:serviceaccount:kube-system:deployment-controller",
        "deployments",
    ),
    (
        "system:serviceaccount:kube-system:endpointslice-controller",
        "endpointslices",
    ),
    (
        "system:serviceaccount:kube-system:daemon-set-controller",
        "daemonsets",
    ),
    ("system:kube-scheduler", "pods"),
    ("system:kube-controller-manager", "leases"),
];
const HUMANS: [&str; 4] = [
    "dana@example.com",
    "lee@example.com",
    "sam@example.com",
    "kubernetes-admin",
];
const IMAGES: [&str; 5] = [
    "registry.example.com/payments/api:1.42.0",
    "registry.example.com/web/frontend:3.1.7",
    "nginx:1.25.4",
    "redis:7.2.4",
    "registry.example.com/monitoring/exporter:0.9.1",
];
/// On the sample threat lists (samples/intel): malicious, Tor exit, a custom list.
const LISTED_IPS: [&str; 3] = ["45.155.205.233", "185.220.101.47", "203.0.113.66"];
const KUBECTL: &str = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819";

pub struct Workload {
    rng: Rng,
    n: u64,
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        Workload {
            rng: Rng::new(seed),
            n: 0,
        }
    }

    fn time(&self) -> String {
        // Ten events a second from 2024-05-14T08:00:00Z on.
        let total_ms = self.n * 100;
        let (s, ms) = (total_ms / 1000, total_ms % 1000);
        let (d, s) = (s / 86_400, s % 86_400);
        format!(
            "2024-05-{:02}T{:02}:{:02}:{:02}.{ms:03}000Z",
            14 + d % 14,
            (8 + s / 3600) % 24,
            s / 60 % 60,
            s % 60
        )
    }

    /// The next event.
    pub fn event(&mut self) -> Value {
        self.n += 1;
        let roll = self.rng.below(1000);
        match roll {
            0..=399 => self.node_read(),
            400..=649 => self.controller_watch(),
            650..=799 => self.lease_update(),
            800..=879 => self.human_read(),
            880..=929 => self.workload_write(),
            930..=944 => self.rbac_change(),
            945..=964 => self.exec(),
            965..=984 => self.anonymous(),
            _ => self.listed_caller(),
        }
    }

    fn base(
        &mut self,
        verb: &str,
        uri: String,
        user: (&str, &[&str]),
        ip: &str,
        agent: &str,
        object_ref: Value,
        code: u16,
    ) -> Value {
        let ts = self.time();
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            self.rng.next() as u32,
            self.rng.below(0x10000),
            self.rng.below(0x1000),
            self.rng.below(0x1000),
            self.n
        );
        let mut e = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": id,
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": verb,
            "user": {"username": user.0, "groups": user.1},
            "sourceIPs": [ip],
            "userAgent": agent,
            "objectRef": object_ref,
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": ts,
            "stageTimestamp": ts,
            "annotations": {
                "authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" },
                "authorization.k8s.io/reason": if code == 403 { "" } else { "RBAC: allowed by ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\" to Group \"system:authenticated\"" },
            },
        });
        if object_ref.is_null() {
            e.as_object_mut().unwrap().remove("objectRef");
        }
        e
    }

    fn node_read(&mut self) -> Value {
        let node = *self.rng.pick(&NODES);
        let ip = format!("10.0.{}.{}", 1 + self.rng.below(3), 10 + self.rng.below(90));
        let (verb, uri, ref_) = match self.rng.below(3) {
            0 => (
                "get",
                format!("/api/v1/nodes/{node}?resourceVersion=0&timeout=10s"),
                json!({"resource": "nodes", "name": node, "apiVersion": "v1"}),
            ),
            1 => (
                "watch",
                format!(
                    "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3D{node}&resourceVersion=1234567&timeoutSeconds=412&watch=true"
                ),
                json!({"resource": "pods", "apiVersion": "v1"}),
            ),
            _ => {
                let ns = *self.rng.pick(&NAMESPACES);
                (
                    "get",
                    format!("/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt"),
                    json!({"resource": "configmaps", "namespace": ns, "name": "kube-root-ca.crt", "apiVersion": "v1"}),
                )
            }
        };
        let user = format!("system:node:{node}");
        self.base(
            verb,
            uri,
            (&user, &["system:nodes", "system:authenticated"]),
            &ip,
            "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625",
            ref_,
            200,
        )
    }

    fn controller_watch(&mut self) -> Value {
        let (user, resource) = *self.rng.pick(&CONTROLLERS);
        let verb = *self.rng.pick(&["list", "watch", "watch", "get"]);
        let group = match resource {
            "replicasets" | "deployments" | "daemonsets" => "apps",
            "endpointslices" => "discovery.k8s.io",
            "leases" => "coordination.k8s.io",
            _ => "",
        };
        let prefix = if group.is_empty() {
            "/api/v1".to_string()
        } else {
            format!("/apis/{group}/v1")
        };
        let uri = if verb == "watch" {
            format!(
                "{prefix}/{resource}?allowWatchBookmarks=true&resourceVersion=98765&timeout=7m3s&timeoutSeconds=423&watch=true"
            )
        } else {
            format!("{prefix}/{resource}?limit=500&resourceVersion=0")
        };
        let mut ref_ = json!({"resource": resource, "apiVersion": "v1"});
        if !group.is_empty() {
            ref_["apiGroup"] = json!(group);
        }
        self.base(
            verb,
            uri,
            (
                user,
                &[
                    "system:serviceaccounts",
                    "system:serviceaccounts:kube-system",
                    "system:authenticated",
                ],
            ),
            "10.0.0.10",
            "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/shared-informers",
            ref_,
            200,
        )
    }

    fn lease_update(&mut self) -> Value {
        let node = *self.rng.pick(&NODES);
        let ts = self.time();
        let mut e = self.base(
            "update",
            format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}?timeout=10s"),
            (&format!("system:node:{node}"), &["system:nodes", "system:authenticated"]),
            "10.0.1.17",
            "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625",
            json!({"resource": "leases", "namespace": "kube-node-lease", "name": node, "apiGroup": "coordination.k8s.io", "apiVersion": "v1"}),
            200,
        );
        e["level"] = json!("RequestResponse");
        e["requestObject"] = json!({
            "kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
            "metadata": {"name": node, "namespace": "kube-node-lease", "resourceVersion": "1234567",
                          "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "5c4a0e2e-0f2b-4d1c-9d71-1c8f3f0d9a11"}]},
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": ts},
        });
        e
    }

    fn human_read(&mut self) -> Value {
        let user = *self.rng.pick(&HUMANS);
        let ns = *self.rng.pick(&NAMESPACES);
        let resource = *self
            .rng
            .pick(&["pods", "deployments", "services", "events", "configmaps"]);
        let verb = *self.rng.pick(&["get", "list", "list"]);
        let group = if resource == "deployments" {
            "/apis/apps/v1"
        } else {
            "/api/v1"
        };
        let ip = format!("198.51.100.{}", 20 + self.rng.below(10));
        let code = if self.rng.below(20) == 0 { 403 } else { 200 };
        self.base(
            verb,
            format!("{group}/namespaces/{ns}/{resource}?limit=500"),
            (user, &["developers", "system:authenticated"]),
            &ip,
            KUBECTL,
            json!({"resource": resource, "namespace": ns, "apiVersion": "v1"}),
            code,
        )
    }

    fn workload_write(&mut self) -> Value {
        let ns = *self.rng.pick(&NAMESPACES[..4]);
        let name = format!(
            "{}-{}",
            *self.rng.pick(&["api", "worker", "frontend", "cache"]),
            self.rng.below(40)
        );
        let image = *self.rng.pick(&IMAGES);
        let privileged = self.rng.below(50) == 0;
        let host_mount = self.rng.below(50) == 0;
        let mut container = json!({
            "name": "app", "image": image,
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "us-east-1"}],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
        });
        let mut volumes =
            vec![json!({"name": "config", "configMap": {"name": format!("{name}-config")}})];
        if privileged {
            container["securityContext"] = json!({"privileged": true});
        }
        if host_mount {
            container["volumeMounts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "host", "mountPath": "/host"}));
            volumes.push(json!({"name": "host", "hostPath": {"path": "/", "type": ""}}));
        }
        let deployment = json!({
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "team": ns}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"serviceAccountName": "default", "containers": [container], "volumes": volumes}}},
        });
        let verb = *self.rng.pick(&["create", "patch", "update"]);
        let uri = if verb == "create" {
            format!(
                "/apis/apps/v1/namespaces/{ns}/deployments?fieldManager=kubectl-client-side-apply"
            )
        } else {
            format!(
                "/apis/apps/v1/namespaces/{ns}/deployments/{name}?fieldManager=kubectl-client-side-apply"
            )
        };
        let mut e = self.base(
            verb,
            uri,
            ("system:serviceaccount:ci:deployer", &["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]),
            "10.0.4.20",
            "argocd-application-controller/v2.10.4",
            json!({"resource": "deployments", "namespace": ns, "name": name, "apiGroup": "apps", "apiVersion": "v1"}),
            if verb == "create" { 201 } else { 200 },
        );
        e["level"] = json!("RequestResponse");
        e["requestObject"] = deployment.clone();
        e["responseObject"] = deployment;
        e
    }

    fn rbac_change(&mut self) -> Value {
        let ns = *self.rng.pick(&NAMESPACES[..4]);
        let role = *self.rng.pick(&["view", "edit", "edit", "admin"]);
        let name = format!("{role}-{}", self.rng.below(100));
        let subject = self.rng.pick(&[
            json!({"kind": "User", "name": "lee@example.com", "apiGroup": "rbac.authorization.k8s.io"}),
            json!({"kind": "Group", "name": "developers", "apiGroup": "rbac.authorization.k8s.io"}),
            json!({"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}),
        ]).clone();
        let binding = json!({
            "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns},
            "subjects": [subject],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        });
        let mut e = self.base(
            "create",
            format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings?fieldManager=kubectl-create"),
            ("kubernetes-admin", &["system:masters", "system:authenticated"]),
            "198.51.100.23",
            KUBECTL,
            json!({"resource": "rolebindings", "namespace": ns, "name": name, "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"}),
            201,
        );
        e["level"] = json!("RequestResponse");
        e["requestObject"] = binding.clone();
        e["responseObject"] = binding;
        e
    }

    fn exec(&mut self) -> Value {
        let ns = *self.rng.pick(&NAMESPACES);
        let pod = format!(
            "{}-7d4b9c6f5-{:05x}",
            *self.rng.pick(&["api", "worker", "coredns", "kube-proxy"]),
            self.rng.below(0xfffff)
        );
        let command = *self.rng.pick(&[
            "command=sh&command=-c&command=ls",
            "command=cat&command=%2Fetc%2Fresolv.conf",
            "command=bash",
        ]);
        let user = *self.rng.pick(&HUMANS);
        self.base(
            "create",
            format!("/api/v1/namespaces/{ns}/pods/{pod}/exec?{command}&container=app&stdin=true&stdout=true&tty=true"),
            (user, &["developers", "system:authenticated"]),
            "198.51.100.24",
            KUBECTL,
            json!({"resource": "pods", "namespace": ns, "name": pod, "subresource": "exec", "apiVersion": "v1"}),
            101,
        )
    }

    fn anonymous(&mut self) -> Value {
        let ip = format!(
            "{}.{}.{}.{}",
            20 + self.rng.below(180),
            self.rng.below(256),
            self.rng.below(256),
            1 + self.rng.below(250)
        );
        let (uri, ref_, code) = match self.rng.below(4) {
            0 => ("/version".to_string(), Value::Null, 200),
            1 => (
                "/api/v1/namespaces/default/pods".to_string(),
                json!({"resource": "pods", "namespace": "default", "apiVersion": "v1"}),
                403,
            ),
            2 => (
                "/api/v1/secrets".to_string(),
                json!({"resource": "secrets", "apiVersion": "v1"}),
                403,
            ),
            _ => (
                "/apis/apps/v1/deployments".to_string(),
                json!({"resource": "deployments", "apiGroup": "apps", "apiVersion": "v1"}),
                403,
            ),
        };
        let verb = if ref_.is_null() { "get" } else { "list" };
        self.base(
            verb,
            uri,
            ("system:anonymous", &["system:unauthenticated"]),
            &ip,
            "python-requests/2.31.0",
            ref_,
            code,
        )
    }

    fn listed_caller(&mut self) -> Value {
        let ip = *self.rng.pick(&LISTED_IPS);
        let ns = *self.rng.pick(&NAMESPACES);
        let resource = *self.rng.pick(&["secrets", "pods", "configmaps", "nodes"]);
        self.base(
            "list",
            format!("/api/v1/namespaces/{ns}/{resource}"),
            (
                "kubernetes-admin",
                &["system:masters", "system:authenticated"],
            ),
            ip,
            KUBECTL,
            json!({"resource": resource, "namespace": ns, "apiVersion": "v1"}),
            200,
        )
    }
}
