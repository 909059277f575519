"""Reports `kubectl cp` out of a production namespace: copying files from a pod runs
`tar cf - <path>` in it through exec, a way to take data out of the cluster.

Built with componentize-py against the same `rule` world as every Peregrine rule
(`wit/rules.wit`); see README.md.
"""

import wit_world
from wit_world.imports import log
from wit_world.imports.detection import AuditSubscription, Descriptor, Finding

FINDING_TYPE = "Exfiltration:Kubernetes/KubectlCpFromProduction"

# Namespaces that count as production: exact names, and prefixes.
PRODUCTION = {"production", "prod", "payments"}
PRODUCTION_PREFIXES = ("prod-", "production-")


def is_production(namespace):
    return namespace in PRODUCTION or namespace.startswith(PRODUCTION_PREFIXES)


def copied_paths(command):
    """The paths `kubectl cp POD:PATH LOCAL` asks tar to pack, or None."""
    if len(command) < 3 or command[0] != "tar":
        return None
    flags = command[1].lstrip("-")
    if "c" not in flags or "f" not in flags or command[2] != "-":
        return None
    return [c for c in command[3:] if not c.startswith("-")]


class WitWorld(wit_world.WitWorld):
    def describe(self):
        return Descriptor(
            finding_type=FINDING_TYPE,
            severity=5.0,
            title="Files were copied out of a production pod with kubectl cp.",
            description="A user ran kubectl cp from a pod in a production namespace, "
            "packing files with tar through exec to copy them out of the cluster.",
            audit=AuditSubscription(
                verbs=["create", "get"],
                resources=["pods"],
                subresources=["exec"],
                namespaces=[],
                users=[],
                source_ip_listed=False,
            ),
            runtime=None,
            wants_raw=False,
        )

    def evaluate_audit(self, events):
        findings = []
        for index, event in enumerate(events):
            ref = event.object_ref
            if ref is None or ref.namespace is None or not is_production(ref.namespace):
                continue
            if event.exec is None or (event.response_code or 0) >= 400:
                continue
            paths = copied_paths(event.exec.command)
            if paths is None:
                continue
            pod = f"{ref.namespace}/{ref.name or '-'}"
            log.log(log.Level.INFO, f"kubectl cp from {pod} by {event.user.username}")
            findings.append(
                Finding(
                    event_index=index,
                    severity=None,
                    title=None,
                    description=f"{event.user.username} copied {', '.join(paths) or 'files'} "
                    f"out of pod {pod} with kubectl cp.",
                    parameters=" ".join(event.exec.command),
                    threat_intel=[],
                    additional_info=[("pod", pod), ("paths", ",".join(paths))],
                    anomaly=[],
                    aggregation_key=None,
                    runtime_context=[],
                )
            )
        return findings

    def evaluate_runtime(self, events):
        # The rule subscribes to no runtime events.
        return []
