//! UnauthorizedAccess:Runtime/TorRelay: Tor relay behaviour: a connection accepted from a relay, or made to a relay that is no guard (tor-relay and tor-guard lists). The logic is shared by all the threat-list runtime rules:
//! `peregrine_rules_sdk::listed`, which also tests the fixtures (written by
//! `scripts/runtime_list_fixtures.py`). Fed by the sensors' connection events (Tetragon's `peregrine-network` policy, Tracee's socket events, Falco alerts with `fd.rip`).

peregrine_rules_sdk::export_listed_rule!(TorRelay);
