#!/usr/bin/env python3
"""Writes the fixtures of the runtime threat-list rules (rules-sdk/src/listed.rs): for each
type, sensor events whose indicator is on a list of its category (positive) and their
neighbours (negative): the same activity unlisted, on another category's list, trusted,
or in the other direction. The indicators are those of tests/fixtures/intel and
peregrine_rules_sdk::testing::FIXTURE_RUNTIME_LISTS.

Connections are Tetragon `tcp_connect` / `inet_csk_accept` kprobes (Peregrine's
`peregrine-network` policy); DNS queries are Tracee `net_packet_dns_request` events.

Run from the repository root: python3 scripts/runtime_list_fixtures.py
"""
from runtime_events import POD, write

TRUSTED = "198.51.100.200"
UNLISTED_IP = "93.184.216.34"

# slug: (indicator kind, [positive indicators], [negative indicators])
CONNECTIONS = {
    "crypto-currency-runtime-bitcoin-tool-b": ["198.51.100.77"],
    "trojan-runtime-blackhole-traffic": ["198.51.100.66"],
    "trojan-runtime-drop-point": ["198.51.100.55"],
    "unauthorized-access-runtime-tor-client": ["192.0.2.250"],
}
# Every other category's address: each type's negatives include the others'.
OTHER_IPS = ["198.51.100.77", "198.51.100.66", "198.51.100.55", "192.0.2.250", "192.0.2.240"]

DNS = {
    "crypto-currency-runtime-bitcoin-tool-b-dns": "xmr.pool.example.net",
    "trojan-runtime-blackhole-traffic-dns": "sinkhole.example.org",
    "trojan-runtime-drop-point-dns": "drop.example.com",
    "trojan-runtime-dga-domain-request-c-dns": "qxkzjvbtrwplm.example.biz",
    "trojan-runtime-drive-by-source-traffic-dns": "driveby.example.net",
    "trojan-runtime-phishing-domain-request-dns": "login-verify.example.info",
    "impact-runtime-abused-domain-request-reputation": "abused.example.top",
    "impact-runtime-bitcoin-domain-request-reputation": "coins.example.biz",
    "impact-runtime-malicious-domain-request-reputation": "malware.example.cc",
    "impact-runtime-suspicious-domain-request-reputation": "fresh.example.xyz",
}
OTHER_DOMAINS = list(DNS.values()) + ["guarddutyc2activityb.com"]



def tetragon(n, remote, accept=False, port=443):
    process = {"exec_id": f"Z2tlLW5vZGUtMTox{n:04d}", "pid": 4000 + n, "uid": 0, "cwd": "/app",
               "binary": "/usr/bin/curl" if not accept else "/usr/bin/tor",
               "arguments": f"-s https://{remote}/" if not accept else "-f /etc/tor/torrc",
               "flags": "execve clone", "start_time": "2026-11-30T09:59:00.000Z",
               "parent_exec_id": "Z2tlLW5vZGUtMTpzaGVsbA==", "pod": POD}
    sock = {"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP",
            "saddr": "10.4.0.7", "daddr": remote, "sport": 40000 + n, "dport": port}
    if accept:
        sock.update({"sport": 9001, "dport": 40000 + n})
        body = {"process": process, "function_name": "inet_csk_accept", "return": {"sock_arg": sock},
                "action": "KPROBE_ACTION_POST", "policy_name": "peregrine-network"}
    else:
        body = {"process": process, "function_name": "tcp_connect", "args": [{"sock_arg": sock}],
                "action": "KPROBE_ACTION_POST", "policy_name": "peregrine-network"}
    return {"process_kprobe": body, "node_name": "gke-node-1",
            "time": f"2026-11-30T10:00:{n % 60:02d}.000000000Z"}


def tracee(n, name):
    return {"timestamp": 1764496800000000000 + n * 1000, "threadStartTime": 1764496000000000000,
            "processId": 57, "hostProcessId": 48213, "parentProcessId": 1, "hostParentProcessId": 48000,
            "userId": 0, "processName": "curl", "executable": {"path": "/usr/bin/curl"}, "hostName": "api-5c9d7-xk2lp",
            "containerId": "3f1c2a9be7d4", "container": {"id": "3f1c2a9be7d4", "name": "api", "image": "registry.example.com/shop/api:1.4"},
            "kubernetes": {"podName": "api-5c9d7-xk2lp", "podNamespace": "shop", "podUID": "pod-uid-1"},
            "eventId": "2007", "eventName": "net_packet_dns_request", "processEntityId": 99887766,
            "args": [{"name": "metadata", "type": "trace.PktMeta", "value": {"src_ip": "10.4.0.7", "dst_ip": "10.96.0.10", "src_port": 40000 + n, "dst_port": 53, "protocol": 17}},
                     {"name": "dns_questions", "type": "[]trace.DnsQueryData", "value": [{"query": name, "query_type": "A", "query_class": "IN"}]}]}


def main():
    for slug, ips in CONNECTIONS.items():
        positive = [tetragon(i, ip) for i, ip in enumerate(ips)]
        others = [ip for ip in OTHER_IPS if ip not in ips]
        if slug.endswith("tor-client"):
            # The relay that is no guard is where relays, not clients, connect.
            others = [ip for ip in others if ip != "192.0.2.250"]
        negative = [tetragon(10 + i, ip) for i, ip in enumerate(others + [UNLISTED_IP, TRUSTED])]
        # The other direction: a connection accepted from the address is no outgoing one.
        negative.append(tetragon(30, ips[0], accept=True))
        write(slug, positive, negative)

    # Tor relay behaviour: accepting a relay's connection, or connecting to a relay that
    # is no guard. Connecting to a guard is what clients do.
    write(
        "unauthorized-access-runtime-tor-relay",
        [tetragon(0, "192.0.2.240", accept=True, port=9001), tetragon(1, "192.0.2.250", accept=True, port=9001),
         tetragon(2, "192.0.2.240", port=9001)],
        [tetragon(10, "192.0.2.250", port=9001), tetragon(11, UNLISTED_IP, accept=True, port=9001),
         tetragon(12, "198.51.100.77", port=9001), tetragon(13, TRUSTED, accept=True, port=9001)],
    )

    for slug, domain in DNS.items():
        parent = domain.split(".", 1)[1]
        positive = [tracee(0, domain), tracee(1, "eu-west." + domain.upper() + ".")]
        negative = [tracee(10 + i, d) for i, d in enumerate(d for d in OTHER_DOMAINS if d != domain)]
        negative += [tracee(40, "www.example.org"), tracee(41, parent), tracee(42, "x" + domain)]
        write(slug, positive, negative)


if __name__ == "__main__":
    main()
