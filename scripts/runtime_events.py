"""What the runtime fixture generators share: the pod their container events run in, and
writing a rule's positive and negative fixtures."""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
POD = {"namespace": "shop", "name": "api-5c9d7-xk2lp", "uid": "9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
       "container": {"id": "containerd://2f1e0d9c8b7a69584736251403f2e1d0", "name": "api",
                     "image": {"id": "registry.example.com/shop/api@sha256:abcd", "name": "registry.example.com/shop/api:1.4"},
                     "pid": 7},
       "workload": "api", "workload_kind": "Deployment"}


def write(slug, positive, negative):
    """Writes rules/<slug>/fixtures/{positive,negative}.jsonl."""
    folder = ROOT / "rules" / slug / "fixtures"
    folder.mkdir(parents=True, exist_ok=True)
    for name, events in (("positive", positive), ("negative", negative)):
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        (folder / f"{name}.jsonl").write_text(text)
