//! Trojan:Runtime/DropPoint: a connection to an address on a drop-point list (hosts that receive stolen data). The logic is shared by all the threat-list runtime rules:
//! `peregrine_rules_sdk::listed`, which also tests the fixtures (written by
//! `scripts/runtime_list_fixtures.py`). Fed by the sensors' connection events (Tetragon's `peregrine-network` policy, Tracee's socket events, Falco alerts with `fd.rip`).

peregrine_rules_sdk::export_listed_rule!(DropPoint);
