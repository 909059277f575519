"""Writes positive and negative fixtures for the twenty <Tactic>:Kubernetes/<Caller> rules.
Run from the workspace root: python3 scripts/tactic_caller_fixtures.py"""
import sys

sys.path.insert(0, "scripts")
from fixture_events import event, write

# Fixture addresses, marked by peregrine_rules_sdk::testing and listed in tests/fixtures/intel.
IPS = {"malicious-ip-caller": "45.155.205.233", "malicious-ip-caller-custom": "203.0.113.66",
       "tor-ip-caller": "185.220.101.47"}
TRUSTED = "198.51.100.200"
UNLISTED = "198.51.100.23"

CALLS = {
    "credential-access": [
        dict(verb="list", uri="/api/v1/secrets", resource="secrets"),
        dict(verb="get", uri="/api/v1/namespaces/kube-system/secrets/aws-credentials", resource="secrets", namespace="kube-system", name="aws-credentials"),
        dict(verb="create", uri="/api/v1/namespaces/default/serviceaccounts/default/token", resource="serviceaccounts", subresource="token", namespace="default", name="default", code=201),
    ],
    "defense-evasion": [
        dict(verb="deletecollection", uri="/api/v1/namespaces/default/events", resource="events", namespace="default"),
        dict(verb="delete", uri="/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gatekeeper-validating-webhook-configuration", resource="validatingwebhookconfigurations", name="gatekeeper-validating-webhook-configuration", api_group="admissionregistration.k8s.io"),
        dict(verb="delete", uri="/apis/apps/v1/namespaces/falco/daemonsets/falco", resource="daemonsets", namespace="falco", name="falco", api_group="apps"),
    ],
    "discovery": [
        dict(verb="list", uri="/api/v1/namespaces/default/pods", resource="pods", namespace="default"),
        dict(verb="get", uri="/apis"),
        dict(verb="create", uri="/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", resource="selfsubjectrulesreviews", api_group="authorization.k8s.io", code=201),
    ],
    "impact": [
        dict(verb="delete", uri="/apis/apps/v1/namespaces/shop/deployments/checkout", resource="deployments", namespace="shop", name="checkout", api_group="apps"),
        dict(verb="create", uri="/api/v1/namespaces/default/pods", resource="pods", namespace="default", code=201),
        dict(verb="patch", uri="/api/v1/nodes/ip-10-0-1-17.ec2.internal", resource="nodes", name="ip-10-0-1-17.ec2.internal"),
    ],
    "persistence": [
        dict(verb="create", uri="/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", resource="clusterrolebindings", api_group="rbac.authorization.k8s.io", code=201),
        dict(verb="create", uri="/apis/batch/v1/namespaces/default/cronjobs", resource="cronjobs", namespace="default", api_group="batch", code=201),
        dict(verb="patch", uri="/api/v1/namespaces/kube-system/configmaps/aws-auth", resource="configmaps", namespace="kube-system", name="aws-auth"),
    ],
}
TACTICS = list(CALLS)
ADMIN = dict(user="kubernetes-admin", groups=("system:masters", "system:authenticated"))
ANON = dict(user="system:anonymous", groups=("system:unauthenticated",), agent="curl/8.5.0")


def call(spec, tag, **overrides):
    spec = dict(spec)
    verb, uri = spec.pop("verb"), spec.pop("uri")
    spec.setdefault("level", "Metadata")
    spec.update(overrides)
    return event(verb, uri, tag=tag, **spec)


for tactic in TACTICS:
    other = CALLS[TACTICS[(TACTICS.index(tactic) + 1) % len(TACTICS)]][0]
    for caller in ["malicious-ip-caller", "malicious-ip-caller-custom", "tor-ip-caller", "successful-anonymous-access"]:
        tag = tactic[:4] + caller[:4]
        if caller == "successful-anonymous-access":
            positive = [call(c, tag, ips=("45.83.64.7",), **ANON) for c in CALLS[tactic]]
            negative = [
                call(CALLS[tactic][0], tag, ips=("45.83.64.7",), **ADMIN),
                call(CALLS[tactic][0], tag, ips=("45.83.64.7",), code=403, decision="forbid", **ANON),
                call(CALLS[tactic][1], tag, ips=("45.83.64.7",), stage="RequestReceived", **ANON),
                call(other, tag, ips=("45.83.64.7",), **ANON),
                event("get", "/healthz", tag=tag, ips=("45.83.64.7",), level="Metadata", **ANON),
                event("get", "/version", tag=tag, ips=("45.83.64.7",), level="Metadata", **ANON),
            ]
        else:
            ip = IPS[caller]
            positive = [call(c, tag, ips=(ip,), **ADMIN) for c in CALLS[tactic]]
            # Behind a proxy: private hops first, the caller is the first public address.
            positive[1]["sourceIPs"] = ["10.0.0.5", ip, "10.0.0.1"]
            negative = [
                call(CALLS[tactic][0], tag, ips=(UNLISTED,), **ADMIN),
                call(CALLS[tactic][0], tag, ips=(UNLISTED, ip), **ADMIN),
                call(CALLS[tactic][1], tag, ips=(TRUSTED,), **ADMIN),
                call(other, tag, ips=(ip,), **ADMIN),
                event("get", "/readyz", tag=tag, ips=(ip,), level="Metadata", **ADMIN),
            ]
            if caller == "tor-ip-caller":
                # Tor findings cover anonymous callers too.
                positive.append(call(CALLS[tactic][0], tag, ips=(ip,), **ANON))
            else:
                negative.append(call(CALLS[tactic][0], tag, ips=(ip,), **ANON))
        write(f"rules/{tactic}-{caller}/fixtures/positive.jsonl", positive)
        write(f"rules/{tactic}-{caller}/fixtures/negative.jsonl", negative)
