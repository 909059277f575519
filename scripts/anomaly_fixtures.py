"""Writes the fixtures of the eight AnomalousBehavior rules: four days of two people's
habits (past the default learning period of 48 hours), then the operation each fixture is
about. Positive: the same person's credential used from an attacker's network and tool.
Negative: the people's usual work, one from a new network (travel), one after a kubectl
upgrade, and a refused attack. Run from the workspace root: python3 scripts/anomaly_fixtures.py"""
import datetime
import sys

sys.path.insert(0, "scripts")
from fixture_events import event, write

KUBECTL = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"
PEOPLE = [("alice@example.com", "198.51.100.21"), ("bob@example.com", "198.51.100.22")]
ATTACKER = ("45.83.64.12", "python-requests/2.31.0")
START = datetime.datetime(2024, 6, 3, tzinfo=datetime.timezone.utc)
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def at(hour):
    return (START + datetime.timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def fixture(slug, routine, attack, tag):
    """`routine(user, ip, agent, hour)` and `attack(...)` return one event each."""
    habits = [routine(*PEOPLE[h % 2], KUBECTL, h) for h in range(96)]
    stolen = attack(PEOPLE[0][0], ATTACKER[0], ATTACKER[1], 100)
    write(f"rules/{slug}/fixtures/positive.jsonl", habits + [stolen])
    refused = attack(PEOPLE[0][0], ATTACKER[0], ATTACKER[1], 101)
    refused["responseStatus"]["code"] = 403
    refused["annotations"]["authorization.k8s.io/decision"] = "forbid"
    write(f"rules/{slug}/fixtures/negative.jsonl", habits + [
        routine(PEOPLE[0][0], "192.0.2.77", KUBECTL, 100),
        routine(PEOPLE[1][0], PEOPLE[1][1], "kubectl/v1.31.0 (linux/amd64) kubernetes/9a1b2c3", 100),
        refused,
    ])


def ev(verb, uri, user, ip, agent, hour, tag, **kw):
    return event(verb, uri, user=user, groups=("developers", "system:authenticated"), ips=(ip,),
                 agent=agent, ts=at(hour), tag=tag, **kw)


# SecretsAccessed: people read their app's secret; the intruder lists kube-system's.
fixture("credential-access-anomalous-secrets-accessed",
        lambda u, ip, a, h: ev("get", "/api/v1/namespaces/web/secrets/app-config", u, ip, a, h, "secrets",
                               resource="secrets", namespace="web", name="app-config", level="Metadata"),
        lambda u, ip, a, h: ev("list", "/api/v1/namespaces/kube-system/secrets", u, ip, a, h, "secrets",
                               resource="secrets", namespace="kube-system", level="Metadata"),
        "secrets")


def exec_call(namespace, pod, query):
    return lambda u, ip, a, h: ev("create", f"/api/v1/namespaces/{namespace}/pods/{pod}/exec?{query}", u, ip, a, h,
                                  "exec", resource="pods", namespace=namespace, name=pod, subresource="exec",
                                  code=101, level="Metadata")


fixture("execution-anomalous-exec-in-pod",
        exec_call("web", "api-7d9f", "command=sh&container=app&stdin=true&tty=true"),
        exec_call("payments", "db-0", "command=sh&command=-c&command=env&container=db"),
        "exec")


def workload(kind, resource, namespace, name, containers, volumes=(), verb="patch"):
    template = {"spec": {"containers": containers, "volumes": list(volumes)}}
    spec = template["spec"] if kind == "Pod" else {"template": template}
    obj = {"apiVersion": "v1" if kind == "Pod" else "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    group = "" if kind == "Pod" else "apps"
    base = "/api/v1" if kind == "Pod" else "/apis/apps/v1"
    uri = f"{base}/namespaces/{namespace}/{resource}" + ("" if verb == "create" else f"/{name}")

    def make(u, ip, a, h):
        return ev(verb, uri, u, ip, a, h, "workload", resource=resource, namespace=namespace,
                  name=None if verb == "create" else name, api_group=group or None,
                  code=201 if verb == "create" else 200, request=obj, response=obj)
    return make


NODE_AGENT = workload("DaemonSet", "daemonsets", "monitoring", "node-agent",
                      [{"name": "agent", "image": "registry.example.com/node-agent:3.1",
                        "securityContext": {"privileged": True},
                        "volumeMounts": [{"name": "proc", "mountPath": "/host/proc", "readOnly": True}]}],
                      [{"name": "proc", "hostPath": {"path": "/proc"}}])
fixture("privilege-escalation-anomalous-workload-privileged-container", NODE_AGENT,
        workload("Pod", "pods", "default", "debug",
                 [{"name": "sh", "image": "alpine:3.19", "securityContext": {"privileged": True}}], verb="create"),
        "priv")
fixture("persistence-anomalous-workload-sensitive-mount", NODE_AGENT,
        workload("Deployment", "deployments", "default", "backup",
                 [{"name": "copy", "image": "busybox:1.36", "volumeMounts": [{"name": "root", "mountPath": "/host"}]}],
                 [{"name": "root", "hostPath": {"path": "/"}}], verb="create"),
        "mount")
fixture("execution-anomalous-workload-deployed",
        workload("Deployment", "deployments", "web", "frontend",
                 [{"name": "app", "image": "registry.example.com/web/frontend:2.4.1"}]),
        workload("Deployment", "deployments", "web", "tools",
                 [{"name": "app", "image": "kalilinux/kali-rolling:latest"}], verb="create"),
        "deploy")


def rbac(kind, resource, body, namespace=None):
    path = f"{RBAC}/namespaces/{namespace}/{resource}" if namespace else f"{RBAC}/{resource}"
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": body.pop("name"), **({"namespace": namespace} if namespace else {})}, **body}
    return lambda u, ip, a, h: ev("create", path, u, ip, a, h, "rbac", resource=resource, namespace=namespace,
                                  api_group="rbac.authorization.k8s.io", code=201, request=obj, response=obj)


fixture("privilege-escalation-anomalous-role-created",
        rbac("ClusterRole", "clusterroles", {"name": "widgets-operator",
             "rules": [{"apiGroups": ["example.com"], "resources": ["*"], "verbs": ["*"]}]}),
        rbac("ClusterRole", "clusterroles", {"name": "svc-b1f7",
             "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        "role")
fixture("privilege-escalation-anomalous-role-binding-created",
        rbac("RoleBinding", "rolebindings", {"name": "platform-edit",
             "subjects": [{"kind": "Group", "name": "platform", "apiGroup": "rbac.authorization.k8s.io"}],
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}},
             namespace="kube-system"),
        rbac("ClusterRoleBinding", "clusterrolebindings", {"name": "svc-8b06",
             "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}),
        "binding")


def review(kind, resource, spec, status):
    obj = {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec, "status": status}
    return lambda u, ip, a, h: ev("create", f"/apis/authorization.k8s.io/v1/{resource}", u, ip, a, h, "review",
                                  resource=resource, api_group="authorization.k8s.io", code=201,
                                  request={k: v for k, v in obj.items() if k != "status"}, response=obj)


fixture("discovery-anomalous-permission-checked",
        review("SelfSubjectAccessReview", "selfsubjectaccessreviews",
               {"resourceAttributes": {"namespace": "web", "verb": "create", "resource": "deployments"}},
               {"allowed": True}),
        review("SelfSubjectRulesReview", "selfsubjectrulesreviews", {"namespace": "kube-system"},
               {"incomplete": False}),
        "review")
