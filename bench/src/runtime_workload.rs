//! A seeded generator of Tetragon export lines with the mix a busy node's sensor reports
//! under Peregrine's TracingPolicies: process execs and exits in pods (each exec the child
//! of an earlier process of its pod, so lineage comes from the process table), outbound
//! TCP connections (now and then to an address on the sample threat lists), writes under
//! /etc, executable mappings, and rarely a kernel module load.

use serde_json::{Value, json};

use crate::workload::Rng;

const PODS: [(&str, &str, &str, &str); 5] = [
    (
        "payments",
        "api-7c9d5b8f6d-x2k4q",
        "api",
        "registry.example.com/payments/api:1.42.0",
    ),
    (
        "web",
        "frontend-5f8c7d9b4-9pl2m",
        "frontend",
        "registry.example.com/web/frontend:3.1.7",
    ),
    ("web", "nginx-6b7f8c9d5-abcde", "nginx", "nginx:1.25.4"),
    ("default", "redis-0", "redis", "redis:7.2.4"),
    (
        "monitoring",
        "exporter-8d9f7c6b5-qwert",
        "exporter",
        "registry.example.com/monitoring/exporter:0.9.1",
    ),
];
const BINARIES: [(&str, &str); 6] = [
    ("/bin/sh", "-c /app/healthcheck"),
    ("/usr/bin/curl", "-s http://localhost:8080/ready"),
    ("/app/server", "--port 8080"),
    ("/usr/local/bin/python3", "/app/job.py --once"),
    ("/bin/cat", "/etc/hostname"),
    ("/usr/bin/find", "/tmp -mtime +1 -delete"),
];
const REMOTES: [&str; 4] = ["10.100.0.1", "10.0.2.45", "52.94.236.248", "140.82.112.3"];
/// On the sample threat lists (samples/intel).
const LISTED: [&str; 2] = ["45.155.205.233", "203.0.113.66"];

pub struct RuntimeWorkload {
    rng: Rng,
    n: u64,
    /// The processes started so far, per pod (exec ids), to pick parents from.
    live: Vec<Vec<String>>,
}

impl RuntimeWorkload {
    pub fn new(seed: u64) -> Self {
        RuntimeWorkload {
            rng: Rng::new(seed),
            n: 0,
            live: vec![Vec::new(); PODS.len()],
        }
    }

    fn time(&self) -> String {
        // A thousand events a second from 2026-11-30T00:00:00Z on.
        let us = self.n * 1000;
        let (s, frac) = (us / 1_000_000, us % 1_000_000);
        format!(
            "2026-11-30T{:02}:{:02}:{:02}.{frac:06}000Z",
            s / 3600 % 24,
            s / 60 % 60,
            s % 60
        )
    }

    fn process(&mut self, pod: usize, id: &str, parent: &str, binary: &str, args: &str) -> Value {
        let (namespace, name, container, image) = PODS[pod];
        json!({
            "exec_id": id, "pid": 1000 + self.n % 60_000, "uid": 0, "cwd": "/app",
            "binary": binary, "arguments": args, "flags": "execve clone",
            "start_time": self.time(), "auid": 4294967295u64,
            "pod": {"namespace": namespace, "name": name,
                    "container": {"id": format!("containerd://{:064x}", pod + 1), "name": container,
                                  "image": {"id": format!("{image}@sha256:{:064x}", pod + 7), "name": image},
                                  "start_time": "2026-11-29T23:00:00Z", "pid": 1 + self.n % 500},
                    "pod_labels": {"app": container}, "workload": container, "workload_kind": "Deployment"},
            "docker": format!("{:031x}", pod + 1),
            "parent_exec_id": parent, "tid": 1000 + self.n % 60_000,
        })
    }

    /// A process of `pod` seen before (or its init), for events about running processes.
    fn running(&mut self, pod: usize) -> (String, String) {
        let live = &self.live[pod];
        if live.is_empty() {
            return (format!("init-{pod}"), format!("shim-{pod}"));
        }
        let i = self.rng.below(live.len() as u64) as usize;
        let parent = if i == 0 {
            format!("init-{pod}")
        } else {
            live[i - 1].clone()
        };
        (live[i].clone(), parent)
    }

    fn envelope(&self, kind: &str, body: Value) -> Value {
        json!({ kind: body, "node_name": format!("ip-10-0-{}-17.ec2.internal", self.n % 3 + 1), "time": self.time() })
    }

    /// The next line.
    pub fn event(&mut self) -> Value {
        self.n += 1;
        let pod = self.rng.below(PODS.len() as u64) as usize;
        let roll = self.rng.below(1000);
        match roll {
            0..=349 => {
                let (parent, grandparent) = self.running(pod);
                let (binary, args) = BINARIES[self.rng.below(BINARIES.len() as u64) as usize];
                let id = format!("ZXhlYy{}", self.n);
                let mut parent_process =
                    self.process(pod, &parent, &grandparent, "/bin/sh", "-c /app/entrypoint");
                parent_process["flags"] = json!("execve rootcwd clone");
                let process = self.process(pod, &id, &parent, binary, args);
                let live = &mut self.live[pod];
                live.push(id);
                if live.len() > 64 {
                    live.remove(0);
                }
                self.envelope(
                    "process_exec",
                    json!({"process": process, "parent": parent_process}),
                )
            }
            350..=499 => {
                let (id, parent) = self.running(pod);
                let process = self.process(pod, &id, &parent, "/bin/sh", "-c /app/healthcheck");
                self.envelope(
                    "process_exit",
                    json!({"process": process, "signal": "", "status": 0, "time": self.time()}),
                )
            }
            500..=849 => {
                let (id, parent) = self.running(pod);
                let process = self.process(pod, &id, &parent, "/usr/bin/curl", "-s http://service");
                let daddr = if self.rng.below(500) == 0 {
                    LISTED[self.rng.below(LISTED.len() as u64) as usize]
                } else {
                    REMOTES[self.rng.below(REMOTES.len() as u64) as usize]
                };
                self.envelope("process_kprobe", json!({
                    "process": process, "function_name": "tcp_connect", "policy_name": "peregrine-network",
                    "args": [{"sock_arg": {"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP",
                              "saddr": "10.4.0.7", "daddr": daddr, "sport": 40000 + self.n % 20000, "dport": 443,
                              "cookie": format!("{}", 18446618573485113344u64 - self.n), "state": "TCP_SYN_SENT"}, "label": "sock"}],
                    "action": "KPROBE_ACTION_POST"}))
            }
            850..=949 => {
                let (id, parent) = self.running(pod);
                let process =
                    self.process(pod, &id, &parent, "/usr/local/bin/python3", "/app/job.py");
                self.envelope("process_kprobe", json!({
                    "process": process, "function_name": "security_file_permission", "policy_name": "peregrine-files",
                    "args": [{"file_arg": {"path": "/etc/app/config.yaml", "permission": "-rw-r--r--"}, "label": "file"},
                             {"int_arg": 2, "label": "mask"}],
                    "return": {"int_arg": 0}, "action": "KPROBE_ACTION_POST"}))
            }
            950..=998 => {
                let (id, parent) = self.running(pod);
                let process =
                    self.process(pod, &id, &parent, "/usr/local/bin/python3", "/app/job.py");
                self.envelope("process_kprobe", json!({
                    "process": process, "function_name": "security_mmap_file", "policy_name": "peregrine-files",
                    "args": [{"file_arg": {"path": "/usr/lib/python3.11/lib-dynload/_ssl.so"}, "label": "file"},
                             {"uint_arg": 5, "label": "prot"}],
                    "action": "KPROBE_ACTION_POST"}))
            }
            _ => {
                let (id, parent) = self.running(pod);
                let process = self.process(pod, &id, &parent, "/usr/sbin/insmod", "rootkit.ko");
                self.envelope("process_kprobe", json!({
                    "process": process, "function_name": "do_init_module", "policy_name": "peregrine-kernel-modules",
                    "args": [{"module_arg": {"name": "rootkit", "tainted": ["TAINT_OUT_OF_TREE_MODULE"]}, "label": "module"}],
                    "action": "KPROBE_ACTION_POST"}))
            }
        }
    }
}
