"""Writes the fixtures of the service, RBAC and privileged-container rules.
Run from the workspace root: python3 scripts/policy_fixtures.py"""
import sys

sys.path.insert(0, "scripts")
from fixture_events import event, write, pod, container

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def service(name, namespace, type_="LoadBalancer", selector=None, annotations=None, ranges=None, labels=None):
    meta = {"name": name, "namespace": namespace, "uid": f"uid-{name}"}
    if annotations:
        meta["annotations"] = annotations
    if labels:
        meta["labels"] = labels
    spec = {"type": type_, "selector": selector or {"app": name}, "ports": [{"port": 443, "targetPort": 8443, "protocol": "TCP"}]}
    if ranges:
        spec["loadBalancerSourceRanges"] = ranges
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def create_service(obj, code=201, tag="svc"):
    ns = obj["metadata"]["namespace"]
    return event("create", f"/api/v1/namespaces/{ns}/services", resource="services", namespace=ns, code=code,
                 request=obj, response=obj if code < 300 else {"kind": "Status", "code": code},
                 decision="allow" if code < 400 else "forbid", tag=tag)


def patch_service(name, namespace, patch, tag="svc"):
    return event("patch", f"/api/v1/namespaces/{namespace}/services/{name}", resource="services", namespace=namespace,
                 name=name, level="Request", request=patch, tag=tag)


LB = {"spec": {"type": "LoadBalancer"}}
D = "rules/policy-exposed-dashboard/fixtures"
write(f"{D}/positive.jsonl", [
    create_service(service("kubernetes-dashboard", "kubernetes-dashboard", selector={"k8s-app": "kubernetes-dashboard"})),
    create_service(service("console", "ops", selector={"k8s-app": "kubernetes-dashboard"}, ranges=["0.0.0.0/0"])),
    create_service(service("web-ui", "tools", type_="ClusterIP", selector={"app.kubernetes.io/name": "kubernetes-dashboard-web"})),
    patch_service("web-ui", "tools", LB),
])
write(f"{D}/negative.jsonl", [
    create_service(service("kubernetes-dashboard", "kubernetes-dashboard", annotations={"service.beta.kubernetes.io/aws-load-balancer-internal": "true"})),
    create_service(service("kubernetes-dashboard", "kubernetes-dashboard", ranges=["10.0.0.0/8"])),
    create_service(service("shop-frontend", "shop", selector={"app": "shop"})),
    create_service(service("kubernetes-dashboard", "kubernetes-dashboard", type_="NodePort")),
    create_service(service("kubernetes-dashboard", "kubernetes-dashboard"), code=403),
    patch_service("api", "shop", LB),
])

K = "rules/policy-kubeflow-dashboard-exposed/fixtures"
write(f"{K}/positive.jsonl", [
    create_service(service("centraldashboard", "kubeflow", selector={"app": "centraldashboard"})),
    create_service(service("kf-portal", "kubeflow", selector={"app": "centraldashboard", "app.kubernetes.io/name": "centraldashboard"})),
])
write(f"{K}/negative.jsonl", [
    create_service(service("centraldashboard", "kubeflow", type_="ClusterIP", selector={"app": "centraldashboard"})),
    create_service(service("centraldashboard", "kubeflow", selector={"app": "centraldashboard"}, annotations={"service.beta.kubernetes.io/azure-load-balancer-internal": "true"})),
    create_service(service("istio-ingressgateway", "istio-system", selector={"istio": "ingressgateway"})),
])


def binding(kind, name, role_kind, role, subjects, ns=None):
    meta = {"name": name, "uid": f"uid-{name}"}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subjects}


def write_binding(verb, obj, code=None, request=None):
    code = code or (201 if verb == "create" else 200)
    cluster = obj["kind"] == "ClusterRoleBinding"
    ns = obj["metadata"].get("namespace")
    resource = "clusterrolebindings" if cluster else "rolebindings"
    base = f"{RBAC}/{resource}" if cluster else f"{RBAC}/namespaces/{ns}/{resource}"
    name = obj["metadata"]["name"]
    return event(verb, base if verb == "create" else f"{base}/{name}", resource=resource, namespace=ns,
                 name=None if verb == "create" else name, api_group="rbac.authorization.k8s.io", code=code,
                 request=request if request is not None else obj,
                 response=obj if code < 300 else {"kind": "Status", "code": code},
                 decision="allow" if code < 400 else "forbid", tag="defsa")


sa = lambda name, ns=None: {k: v for k, v in {"kind": "ServiceAccount", "name": name, "namespace": ns}.items() if v}
masters = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}
A = "rules/policy-admin-access-to-default-service-account/fixtures"
patched = binding("ClusterRoleBinding", "cluster-admin", "ClusterRole", "cluster-admin", [masters, sa("default", "default")])
write(f"{A}/positive.jsonl", [
    write_binding("patch", patched, request={"subjects": [masters, sa("default", "default")]}),
    write_binding("create", binding("RoleBinding", "dev-admins", "ClusterRole", "admin", [sa("default")], ns="dev")),
    write_binding("create", binding("ClusterRoleBinding", "prod-sa-admin", "ClusterRole", "cluster-admin",
                                    [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:prod"}])),
])
write(f"{A}/negative.jsonl", [
    write_binding("create", binding("ClusterRoleBinding", "default-view", "ClusterRole", "view", [sa("default", "default")])),
    write_binding("create", binding("ClusterRoleBinding", "deployer-admin", "ClusterRole", "cluster-admin", [sa("deployer", "ci")])),
    write_binding("create", binding("ClusterRoleBinding", "denied", "ClusterRole", "cluster-admin", [sa("default", "default")]), code=403),
    write_binding("create", binding("RoleBinding", "local-admin", "Role", "admin", [sa("default")], ns="dev")),
])


def create_workload(obj, code=201, resource="pods", path=None):
    ns = obj["metadata"]["namespace"]
    return event("create", path or f"/api/v1/namespaces/{ns}/{resource}", resource=resource, namespace=ns, code=code,
                 request=obj, response=obj if code < 300 else {"kind": "Status", "code": code},
                 decision="allow" if code < 400 else "forbid", tag="priv")


PRIV = {"privileged": True}
P = "rules/privilege-escalation-privileged-container/fixtures"
agent = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "node-agent", "namespace": "ops", "uid": "uid-agent"},
         "spec": {"template": {"spec": {"containers": [container("agent", "ghcr.io/acme/node-agent:3", securityContext=PRIV)]}}}}
write(f"{P}/positive.jsonl", [
    create_workload(pod("priv1", "default", [container("app", "centos", securityContext=PRIV)])),
    create_workload(pod("priv2", "default", [container("a", "centos", securityContext=PRIV), container("b", "busybox:1.36", securityContext=PRIV)])),
    create_workload(agent, resource="deployments", path="/apis/apps/v1/namespaces/ops/deployments"),
    create_workload(pod("priv3", "default", [container("app", "centos", securityContext=PRIV)])),
])
write(f"{P}/negative.jsonl", [
    create_workload(pod("web", "default", [container("web", "nginx")])),
    create_workload(pod("denied", "default", [container("x", "evil:latest", securityContext=PRIV)]), code=403),
    create_workload(pod("explicit", "default", [container("x", "alpine", securityContext={"privileged": False})])),
    create_workload(pod("escalate", "default", [container("x", "alpine", securityContext={"allowPrivilegeEscalation": True})])),
])
