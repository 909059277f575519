//! Discovery:Kubernetes/TorIPCaller: an API call of the Discovery tactic (docs/tactics.md)
//! by a suspicious caller. The logic is shared by all twenty tactic × caller rules:
//! `peregrine_rules_sdk::caller`, which also tests the fixtures (written by
//! `scripts/tactic_caller_fixtures.py`).

peregrine_rules_sdk::export_tactic_caller_rule!(Discovery, TorIpCaller);
