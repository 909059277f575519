"""Builds audit events shaped exactly as kube-apiserver writes them (audit.k8s.io/v1,
log backend), for rule fixtures. Run a fixture's generator to rewrite its JSON lines."""
import json
import itertools

_ids = itertools.count(1)


def audit_id(tag):
    n = next(_ids)
    return f"{tag:0>8.8}-{n:04x}-4{n:03x}-8{n:03x}-{n:012x}"


def event(verb, uri, *, resource=None, namespace=None, name=None, subresource=None,
          api_group=None, api_version="v1", user="kubernetes-admin",
          groups=("system:masters", "system:authenticated"), ips=("198.51.100.23",),
          agent="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", code=200,
          decision="allow", stage="ResponseComplete", level="RequestResponse",
          request=None, response=None, ts="2024-03-11T09:14:07.118374Z", tag="e"):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
         "auditID": audit_id(tag), "stage": stage, "requestURI": uri, "verb": verb,
         "user": {"username": user, "groups": list(groups)}, "sourceIPs": list(ips),
         "userAgent": agent}
    if resource:
        ref = {"resource": resource, "apiVersion": api_version}
        for k, v in (("namespace", namespace), ("name", name), ("subresource", subresource), ("apiGroup", api_group)):
            if v:
                ref[k] = v
        e["objectRef"] = ref
    if request is not None:
        e["requestObject"] = request
    if stage != "RequestReceived":
        e["responseStatus"] = {"metadata": {}, "code": code}
        if response is not None:
            e["responseObject"] = response
    e["requestReceivedTimestamp"] = ts
    e["stageTimestamp"] = ts
    if stage != "RequestReceived":
        reason = 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"'
        e["annotations"] = {"authorization.k8s.io/decision": decision,
                            "authorization.k8s.io/reason": reason if decision == "allow" else ""}
    return e


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


def pod(name, namespace, containers, volumes=(), **spec):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
            "spec": {"containers": list(containers), "volumes": list(volumes), **spec}}


def container(name, image, mounts=(), **extra):
    c = {"name": name, "image": image, "volumeMounts": list(mounts)}
    c.update(extra)
    return c


def host_volume(name, path):
    return {"name": name, "hostPath": {"path": path, "type": ""}}


def mount(name, path, read_only=False):
    m = {"name": name, "mountPath": path}
    if read_only:
        m["readOnly"] = True
    return m
