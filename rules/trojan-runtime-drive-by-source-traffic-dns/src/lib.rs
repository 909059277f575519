//! Trojan:Runtime/DriveBySourceTraffic!DNS: a DNS query for a domain on a drive-by-source list. The logic is shared by all the threat-list runtime rules:
//! `peregrine_rules_sdk::listed`, which also tests the fixtures (written by
//! `scripts/runtime_list_fixtures.py`). Fed by Tracee's DNS events (`net_packet_dns_request`/`_response`).

peregrine_rules_sdk::export_listed_rule!(DriveBySourceTraffic);
