//! Cilium Tetragon's JSON export (`tetra getevents -o json`, the export file): protojson of
//! `GetEventsResponse` with proto field names. 64-bit numbers may be strings, zero values
//! are left out, unknown keys are ignored.
//!
//! Kprobe, tracepoint and LSM arguments are positional: a hook is read by its function
//! name and its arguments' kinds, as Tetragon's own policy library and Peregrine's
//! TracingPolicies (`deploy/tetragon/`) define them; an argument's `label` wins where the
//! policy sets one. A hook Peregrine does not know is passed on as a sensor alert with its
//! arguments, never dropped.

use serde_json::Value;

use super::{
    Parsed, RuntimeError, Sensor, address, as_i64, as_u32, as_u64, container_id, event, micros,
    process, split_arguments, string,
};
use crate::runtime::*;

/// The keys of Tetragon's `GetEventsResponse` oneof that Peregrine reads.
pub const EVENT_KEYS: &[&str] = &[
    "process_exec",
    "process_exit",
    "process_kprobe",
    "process_tracepoint",
    "process_lsm",
    "process_loader",
    "process_uprobe",
    "process_usdt",
    "process_throttle",
    "rate_limit_info",
    // Isovalent Enterprise's network events, found in older captures.
    "process_connect",
    "process_close",
    "process_listen",
];

pub fn normalize(value: &Value, cluster: &str) -> Result<Parsed, RuntimeError> {
    let object = value
        .as_object()
        .ok_or_else(|| RuntimeError("a Tetragon event is a JSON object".into()))?;
    let (kind, body) = EVENT_KEYS
        .iter()
        .find_map(|k| object.get(*k).map(|v| (*k, v)))
        .ok_or_else(|| RuntimeError("no Tetragon event type key".into()))?;
    if !body.is_object() {
        return Err(RuntimeError(format!("`{kind}` is not an object")));
    }
    match kind {
        "rate_limit_info" => {
            let dropped = body
                .get("number_of_dropped_process_events")
                .and_then(as_u64)
                .unwrap_or(0);
            return Ok(Parsed::Dropped(dropped));
        }
        "process_throttle" => return Ok(Parsed::NotAnEvent("a Tetragon throttle notice")),
        _ => {}
    }
    let raw_process = body
        .get("process")
        .filter(|p| p.is_object())
        .ok_or_else(|| RuntimeError(format!("`{kind}` has no process")))?;
    let node = string(value, "node_name").unwrap_or("unknown");
    let cluster = string(value, "cluster_name").unwrap_or(cluster);
    let mut proc = read_process(raw_process);
    // Old captures leave the envelope's time out; an exec happens at its process's start.
    let time = string(value, "time")
        .and_then(micros)
        .or_else(|| string(body, "time").and_then(micros))
        .or(proc.start_time.filter(|_| kind == "process_exec"))
        .ok_or_else(|| RuntimeError("the event has no valid `time`".into()))?;

    let activity = activity(kind, body, &mut proc)?;
    let mut e = event(cluster, node, Sensor::Tetragon, time, proc, activity);
    if let Some(parent) = body.get("parent").filter(|p| p.is_object()) {
        e.lineage.push(read_process(parent));
    }
    if let Some(ancestors) = body.get("ancestors").and_then(Value::as_array) {
        // Tetragon lists the parent's ancestors nearest first.
        e.lineage
            .extend(ancestors.iter().filter(|a| a.is_object()).map(read_process));
    }
    if let Some(pod) = raw_process.get("pod").filter(|p| p.is_object()) {
        attach_pod(&mut e, pod);
    }
    e.policy = string(body, "policy_name").map(str::to_string);
    e.tags = body
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(Parsed::Event(Box::new(e)))
}

fn read_process(p: &Value) -> Process {
    let binary = string(p, "binary").unwrap_or("");
    let mut out = process(binary);
    out.id = string(p, "exec_id").unwrap_or("").to_string();
    out.parent_id = string(p, "parent_exec_id").map(str::to_string);
    let arguments = string(p, "arguments").unwrap_or("");
    out.arguments = split_arguments(arguments);
    out.command_line = if arguments.is_empty() {
        binary.to_string()
    } else {
        format!("{binary} {arguments}")
    };
    out.cwd = string(p, "cwd").map(str::to_string);
    out.pid = p.get("pid").and_then(as_u32);
    // Tetragon's `uid` is the effective uid; the real one needs --enable-process-cred.
    out.euid = p.get("uid").and_then(as_u32);
    if let Some(creds) = p.get("process_credentials") {
        out.uid = creds.get("uid").and_then(as_u32).or(Some(0));
        out.euid = creds.get("euid").and_then(as_u32).or(Some(0));
        out.gid = creds.get("gid").and_then(as_u32).or(Some(0));
        out.egid = creds.get("egid").and_then(as_u32).or(Some(0));
    }
    out.user_name = p
        .get("user")
        .and_then(|u| string(u, "name"))
        .map(str::to_string);
    out.start_time = string(p, "start_time").and_then(micros);
    out.namespace_pid = p
        .get("pod")
        .and_then(|pod| pod.get("container"))
        .and_then(|c| c.get("pid"))
        .and_then(as_u32);
    out.in_init_tree = p.get("in_init_tree").and_then(Value::as_bool);
    if let Some(props) = p.get("binary_properties") {
        out.setuid_binary = props.get("setuid").is_some() || props.get("setgid").is_some();
        out.privileges_changed = strings(props.get("privileges_changed"));
        if let Some(file) = props.get("file") {
            let links = file
                .get("inode")
                .and_then(|i| i.get("links"))
                .and_then(as_u64)
                .unwrap_or(0);
            out.fileless = links == 0;
        }
    }
    if out.executable_path.starts_with("/proc/self/fd/")
        || out.executable_path.starts_with("/memfd:")
        || out.executable_path.ends_with(" (deleted)")
    {
        out.fileless = true;
    }
    out.capabilities = p
        .get("cap")
        .map(|c| strings(c.get("effective")))
        .unwrap_or_default();
    if let Some(vars) = p.get("environment_variables").and_then(Value::as_array) {
        out.environment = vars
            .iter()
            .filter_map(|v| {
                let key = v.get("key").or_else(|| v.get("Key"))?.as_str()?;
                let value = v
                    .get("value")
                    .or_else(|| v.get("Value"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Some((key.to_string(), value.to_string()))
            })
            .collect();
    }
    out
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn attach_pod(e: &mut RuntimeEvent, pod: &Value) {
    if let Some(c) = pod.get("container").filter(|c| c.is_object()) {
        let (id, runtime) = container_id(string(c, "id").unwrap_or(""));
        let image = c.get("image");
        e.container = Some(Container {
            id,
            runtime,
            name: string(c, "name").map(str::to_string),
            image: image.and_then(|i| string(i, "name")).map(str::to_string),
            image_id: image.and_then(|i| string(i, "id")).map(str::to_string),
            privileged: c
                .get("security_context")
                .and_then(|s| s.get("privileged"))
                .and_then(Value::as_bool),
        });
    }
    if let (Some(namespace), Some(name)) = (string(pod, "namespace"), string(pod, "name")) {
        let labels = pod
            .get("pod_labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        e.pod = Some(Pod {
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid: string(pod, "uid").map(str::to_string),
            labels,
        });
    }
    if let Some(name) = string(pod, "workload") {
        e.workload = Some(WorkloadRef {
            kind: string(pod, "workload_kind").unwrap_or("").to_string(),
            name: name.to_string(),
        });
    }
}

fn activity(kind: &str, body: &Value, proc: &mut Process) -> Result<Activity, RuntimeError> {
    Ok(match kind {
        "process_exec" => Activity::Exec,
        "process_exit" => Activity::Exit(ExitActivity {
            status: body.get("status").and_then(as_i64).map(|s| s as i32),
            signal: string(body, "signal").map(str::to_string),
        }),
        "process_loader" => match string(body, "path") {
            Some(path) => Activity::LibraryLoad(LibraryActivity {
                path: path.to_string(),
            }),
            None => alert(body, kind),
        },
        "process_connect" | "process_close" | "process_listen" => enterprise_socket(kind, body),
        "process_lsm" => {
            if let Some(hash) = string(body, "ima_hash") {
                proc.sha256 = Some(hash.strip_prefix("sha256:").unwrap_or(hash).to_lowercase());
            }
            hook(body, kind)
        }
        "process_kprobe" | "process_tracepoint" => hook(body, kind),
        _ => alert(body, kind),
    })
}

fn enterprise_socket(kind: &str, body: &Value) -> Activity {
    let (operation, local, local_port, remote, remote_port) = match kind {
        "process_listen" => (
            SocketOperation::Listen,
            string(body, "ip"),
            body.get("port").and_then(as_u32),
            None,
            None,
        ),
        _ => (
            if kind == "process_close" {
                SocketOperation::Close
            } else {
                SocketOperation::Connect
            },
            string(body, "source_ip"),
            body.get("source_port").and_then(as_u32),
            string(body, "destination_ip"),
            body.get("destination_port").and_then(as_u32),
        ),
    };
    let family = match local.or(remote) {
        Some(ip) if ip.contains(':') => SocketFamily::Inet6,
        _ => SocketFamily::Inet,
    };
    Activity::Socket(SocketActivity {
        operation,
        family,
        protocol: string(body, "protocol").map(str::to_lowercase),
        local: local.map(address),
        local_port: local_port.and_then(port),
        remote: remote.map(address),
        remote_port: remote_port.and_then(port),
        unix_path: None,
    })
}

fn port(p: u32) -> Option<u16> {
    u16::try_from(p).ok()
}

/// The arguments of a hook: positional, each `{"<kind>_arg": …, "label"?: …}`.
struct Args<'a>(&'a [Value]);

impl<'a> Args<'a> {
    /// The argument with this label, else the one at this position.
    fn get(&self, label: &str, position: usize) -> Option<&'a Value> {
        self.0
            .iter()
            .find(|a| a.get("label").and_then(Value::as_str) == Some(label))
            .or_else(|| {
                let at = self.0.get(position)?;
                // A labelled argument at this position is some other argument.
                at.get("label").is_none().then_some(at)
            })
    }

    /// The first argument of a kind (`file_arg`, `sock_arg`, …), labelled `label` if any is.
    fn of_kind(&self, kind: &str, label: &str) -> Option<&'a Value> {
        self.0
            .iter()
            .find(|a| {
                a.get("label").and_then(Value::as_str) == Some(label) && a.get(kind).is_some()
            })
            .or_else(|| self.0.iter().find(|a| a.get(kind).is_some()))
            .and_then(|a| a.get(kind))
    }

    fn int(&self, label: &str, position: usize) -> Option<i64> {
        let a = self.get(label, position)?;
        ["int_arg", "uint_arg", "long_arg", "size_arg"]
            .iter()
            .find_map(|k| a.get(*k).and_then(as_i64))
    }

    fn string(&self, label: &str, position: usize) -> Option<&'a str> {
        self.get(label, position)?.get("string_arg")?.as_str()
    }

    /// The path of the first file, path or binprm argument (labelled `label` if one is).
    fn path(&self, label: &str) -> Option<&'a str> {
        ["file_arg", "path_arg", "linux_binprm_arg"]
            .iter()
            .find_map(|k| self.of_kind(k, label))
            .and_then(|f| string(f, "path"))
    }

    /// The paths of every file or path argument, in order.
    fn paths(&self) -> Vec<&'a str> {
        self.0
            .iter()
            .filter_map(|a| a.get("file_arg").or_else(|| a.get("path_arg")))
            .filter_map(|f| string(f, "path"))
            .collect()
    }
}

/// The syscall a hook's function names (`__x64_sys_setuid` → `setuid`), if it is one.
fn syscall(function: &str) -> Option<&str> {
    let rest = [
        "__x64_sys_",
        "__arm64_sys_",
        "__ia32_sys_",
        "__se_sys_",
        "__do_sys_",
        "__sys_",
        "sys_",
        "ksys_",
    ]
    .iter()
    .find_map(|prefix| function.strip_prefix(prefix))?;
    Some(rest)
}

/// A path made absolute: Tetragon's `__x64_sys_write` file args lose their leading `/`.
fn absolute(path: &str) -> String {
    if path.starts_with('/') || path.is_empty() {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn hook(body: &Value, kind: &str) -> Activity {
    let function = string(body, "function_name")
        .or_else(|| string(body, "event"))
        .unwrap_or("");
    let name = syscall(function)
        .or_else(|| function.strip_prefix("sys_enter_"))
        .unwrap_or(function);
    // The socket `inet_csk_accept` accepted is its return value, not its argument.
    if name == "inet_csk_accept"
        && let Some(sock) = body.get("return").and_then(|r| r.get("sock_arg"))
    {
        return socket_from_sock(sock, SocketOperation::Accept);
    }
    let args = Args(
        body.get("args")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
    );
    read_hook(name, &args).unwrap_or_else(|| alert(body, kind))
}

fn file(operation: FileOperation, path: &str) -> Activity {
    Activity::File(FileActivity {
        operation,
        path: absolute(path),
        target_path: None,
        flags: Vec::new(),
        mode: None,
    })
}

/// What a known hook did, from its arguments.
fn read_hook(name: &str, args: &Args<'_>) -> Option<Activity> {
    Some(match name {
        "security_file_permission" | "security_file_open" | "fd_install" | "filp_close" => {
            let path = args.path("file")?;
            let mask = args.int("mask", 1).unwrap_or(0);
            let writes = mask & 2 != 0;
            if writes && let Some(pid) = proc_mem_target(path) {
                return Some(Activity::MemoryWrite(MemoryWriteActivity {
                    method: MemoryWriteMethod::ProcMem,
                    target_pid: pid,
                    path: Some(path.to_string()),
                }));
            }
            let mut flags = Vec::new();
            if mask & 4 != 0 {
                flags.push("MAY_READ".to_string());
            }
            if mask & 2 != 0 {
                flags.push("MAY_WRITE".to_string());
            }
            Activity::File(FileActivity {
                operation: if writes {
                    FileOperation::Write
                } else if name == "security_file_permission" {
                    FileOperation::Read
                } else {
                    FileOperation::Open
                },
                path: absolute(path),
                target_path: None,
                flags,
                mode: None,
            })
        }
        "write" | "pwrite64" | "writev" | "vfs_write" => {
            let path = args.path("file")?;
            if let Some(pid) = proc_mem_target(path) {
                return Some(Activity::MemoryWrite(MemoryWriteActivity {
                    method: MemoryWriteMethod::ProcMem,
                    target_pid: pid,
                    path: Some(absolute(path)),
                }));
            }
            file(FileOperation::Write, path)
        }
        "read" | "pread64" | "vfs_read" => file(FileOperation::Read, args.path("file")?),
        "openat" | "open" | "openat2" => {
            let (path, flags) = match name {
                "open" => (args.string("path", 0)?, args.int("flags", 1).unwrap_or(0)),
                _ => (args.string("path", 1)?, args.int("flags", 2).unwrap_or(0)),
            };
            if let Some(pid) = proc_mem_target(path).filter(|_| flags & 3 != 0) {
                return Some(Activity::MemoryWrite(MemoryWriteActivity {
                    method: MemoryWriteMethod::ProcMem,
                    target_pid: pid,
                    path: Some(path.to_string()),
                }));
            }
            Activity::File(FileActivity {
                operation: if flags & 3 != 0 {
                    FileOperation::Write
                } else {
                    FileOperation::Open
                },
                path: path.to_string(),
                target_path: None,
                flags: open_flags(flags),
                mode: None,
            })
        }
        "security_path_truncate" | "security_file_truncate" | "truncate" | "ftruncate" => file(
            FileOperation::Truncate,
            args.path("file").or_else(|| args.string("path", 0))?,
        ),
        "security_mmap_file" => {
            let path = args.path("file")?;
            let prot = args.int("prot", 1).unwrap_or(0);
            let names = [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")];
            Activity::Mmap(MmapActivity {
                path: absolute(path),
                protection: names
                    .iter()
                    .filter(|(bit, _)| prot & bit != 0)
                    .map(|(_, n)| n.to_string())
                    .collect(),
            })
        }
        "security_path_rename" | "security_inode_rename" | "rename" | "renameat" | "renameat2" => {
            let (from, to) = two_paths(name, args, (0, 1), (1, 3))?;
            let mut a = file(FileOperation::Rename, &from);
            if let Activity::File(f) = &mut a {
                f.target_path = to;
            }
            a
        }
        "security_path_unlink" | "security_inode_unlink" | "unlink" => file(
            FileOperation::Unlink,
            args.path("file").or_else(|| args.string("path", 0))?,
        ),
        "unlinkat" => file(FileOperation::Unlink, args.string("path", 1)?),
        "security_path_link" | "link" | "linkat" => {
            let (target, link) = two_paths(name, args, (0, 1), (1, 3))?;
            let mut a = file(FileOperation::Link, link.as_deref().unwrap_or(&target));
            if let Activity::File(f) = &mut a {
                f.target_path = Some(target);
            }
            a
        }
        "security_path_symlink" | "symlink" | "symlinkat" => {
            // symlinkat(target, newdirfd, linkpath): the link is the file written.
            let target = args.string("target", 0)?;
            let link = args
                .string("linkpath", if name == "symlinkat" { 2 } else { 1 })
                .or_else(|| args.path("file"))
                .unwrap_or("");
            let mut a = file(FileOperation::Symlink, link);
            if let Activity::File(f) = &mut a {
                f.target_path = Some(target.to_string());
            }
            a
        }
        "security_path_chmod" | "chmod" | "fchmodat" | "fchmod" => {
            let (path, mode) = match name {
                "fchmodat" => (args.string("path", 1), args.int("mode", 2)),
                "chmod" => (args.string("path", 0), args.int("mode", 1)),
                _ => (args.path("file"), args.int("mode", 1)),
            };
            let mut a = file(FileOperation::Chmod, path?);
            if let Activity::File(f) = &mut a {
                f.mode = mode.and_then(|m| u32::try_from(m).ok());
            }
            a
        }
        "tcp_connect"
        | "tcp_v4_connect"
        | "tcp_v6_connect"
        | "tcp_close"
        | "tcp_sendmsg"
        | "udp_sendmsg"
        | "inet_csk_listen_start"
        | "inet_csk_accept"
        | "tcp_set_state"
        | "__cgroup_bpf_run_filter_skb" => {
            let sock = args.of_kind("sock_arg", "sock")?;
            let operation = match name {
                "tcp_close" => SocketOperation::Close,
                "tcp_sendmsg" | "udp_sendmsg" | "__cgroup_bpf_run_filter_skb" => {
                    SocketOperation::Send
                }
                "inet_csk_listen_start" => SocketOperation::Listen,
                "inet_csk_accept" => SocketOperation::Accept,
                _ => SocketOperation::Connect,
            };
            socket_from_sock(sock, operation)
        }
        "security_socket_connect" | "security_socket_bind" | "connect" | "bind" => {
            let operation = if name.ends_with("bind") {
                SocketOperation::Bind
            } else {
                SocketOperation::Connect
            };
            if let Some(un) = args.of_kind("sockaddrun_arg", "address") {
                return Some(Activity::Socket(SocketActivity {
                    operation,
                    family: SocketFamily::Unix,
                    protocol: None,
                    local: None,
                    local_port: None,
                    remote: None,
                    remote_port: None,
                    unix_path: string(un, "path").map(str::to_string),
                }));
            }
            let sa = args.of_kind("sockaddr_arg", "address")?;
            let family = family(string(sa, "family").unwrap_or(""));
            let protocol = args.of_kind("sock_arg", "sock").and_then(protocol);
            Activity::Socket(SocketActivity {
                operation,
                family,
                protocol,
                local: None,
                local_port: None,
                remote: string(sa, "addr").map(address),
                remote_port: sa.get("port").and_then(as_u32).and_then(port),
                unix_path: None,
            })
        }
        "mount" | "security_sb_mount" => Activity::Mount(MountActivity {
            source: args.string("source", 0).map(str::to_string),
            target: args
                .string("target", 1)
                .map(str::to_string)
                .or_else(|| args.path("target").map(str::to_string))?,
            file_system_type: args.string("fstype", 2).map(str::to_string),
            flags: args.int("flags", 3).map(mount_flags).unwrap_or_default(),
        }),
        "ptrace" => {
            let request = args.int("request", 0)?;
            Activity::Ptrace(PtraceActivity {
                request,
                request_name: ptrace_request(request).map(str::to_string),
                target_pid: args.int("pid", 1).and_then(|p| u32::try_from(p).ok()),
            })
        }
        "process_vm_writev" => Activity::MemoryWrite(MemoryWriteActivity {
            method: MemoryWriteMethod::ProcessVmWritev,
            target_pid: args.int("pid", 0).and_then(|p| u32::try_from(p).ok()),
            path: None,
        }),
        "memfd_create" => Activity::MemfdCreate(MemfdActivity {
            name: args.string("name", 0).unwrap_or("").to_string(),
            flags: args.int("flags", 1).map(memfd_flags).unwrap_or_default(),
        }),
        "userfaultfd" => Activity::Userfaultfd,
        "setuid" | "setgid" | "setreuid" | "setregid" | "setresuid" | "setresgid" | "setfsuid"
        | "setfsgid" => {
            let id = |label: &str, p| args.int(label, p).and_then(|v| u32::try_from(v).ok());
            let (uid, euid, gid, egid) = match name {
                "setuid" | "setfsuid" => (id("uid", 0), id("uid", 0), None, None),
                "setgid" | "setfsgid" => (None, None, id("gid", 0), id("gid", 0)),
                "setreuid" | "setresuid" => (id("ruid", 0), id("euid", 1), None, None),
                _ => (None, None, id("rgid", 0), id("egid", 1)),
            };
            Activity::Credentials(CredentialsActivity {
                operation: name.to_string(),
                uid,
                euid,
                gid,
                egid,
                capabilities: Vec::new(),
            })
        }
        "commit_creds" | "security_capset" | "capset" => {
            let creds = args.of_kind("process_credentials_arg", "creds");
            let id = |k: &str| creds.map(|c| c.get(k).and_then(as_u32).unwrap_or(0));
            Activity::Credentials(CredentialsActivity {
                operation: name.to_string(),
                uid: id("uid"),
                euid: id("euid"),
                gid: id("gid"),
                egid: id("egid"),
                capabilities: creds
                    .and_then(|c| c.get("caps"))
                    .map(|c| strings(c.get("effective")))
                    .unwrap_or_default(),
            })
        }
        "security_kernel_module_request" => Activity::KernelModule(KernelModuleActivity {
            name: args.string("name", 0).map(str::to_string),
            path: None,
            sha256: None,
            signed: None,
            tainted: Vec::new(),
        }),
        "do_init_module"
        | "find_module_sections"
        | "load_module"
        | "init_module"
        | "finit_module" => {
            let module = args.of_kind("module_arg", "module");
            Activity::KernelModule(KernelModuleActivity {
                name: module.and_then(|m| string(m, "name")).map(str::to_string),
                path: args.path("file").map(absolute),
                sha256: None,
                signed: module
                    .and_then(|m| m.get("signature_ok"))
                    .and_then(Value::as_bool),
                tainted: strings(module.and_then(|m| m.get("tainted"))),
            })
        }
        // kernel_read_file_id 2 is READING_MODULE; other reads (firmware, kexec) are not
        // module loads.
        "security_kernel_read_file" if args.int("id", 1) == Some(2) => {
            Activity::KernelModule(KernelModuleActivity {
                name: None,
                path: args.path("file").map(absolute),
                sha256: None,
                signed: None,
                tainted: Vec::new(),
            })
        }
        "setns" => Activity::NamespaceChange(NamespaceActivity {
            operation: "setns".into(),
            namespaces: args.int("nstype", 1).map(namespaces).unwrap_or_default(),
            target_pid: None,
        }),
        "unshare" => Activity::NamespaceChange(NamespaceActivity {
            operation: "unshare".into(),
            namespaces: args.int("flags", 0).map(namespaces).unwrap_or_default(),
            target_pid: None,
        }),
        _ => return None,
    })
}

/// The two paths of a rename or link: from path arguments, else from a syscall's strings.
fn two_paths(
    name: &str,
    args: &Args<'_>,
    plain: (usize, usize),
    at: (usize, usize),
) -> Option<(String, Option<String>)> {
    let paths = args.paths();
    if let Some(first) = paths.first() {
        return Some((absolute(first), paths.get(1).map(|p| absolute(p))));
    }
    let (a, b) = if name.ends_with("at") || name.ends_with("at2") {
        at
    } else {
        plain
    };
    let from = args.string("oldpath", a)?;
    Some((
        from.to_string(),
        args.string("newpath", b).map(str::to_string),
    ))
}

/// The pid of `/proc/<pid>/mem` (or `/proc/<pid>/task/<tid>/mem`); `self` is none.
fn proc_mem_target(path: &str) -> Option<Option<u32>> {
    let rest = path
        .strip_prefix("/proc/")
        .or_else(|| path.strip_prefix("proc/"))?;
    if !rest.ends_with("/mem") {
        return None;
    }
    let pid = rest.split('/').next()?;
    Some(pid.parse().ok())
}

fn socket_from_sock(sock: &Value, operation: SocketOperation) -> Activity {
    Activity::Socket(SocketActivity {
        operation,
        family: family(string(sock, "family").unwrap_or("")),
        protocol: protocol(sock),
        local: string(sock, "saddr").map(address),
        local_port: sock.get("sport").and_then(as_u32).and_then(port),
        remote: string(sock, "daddr").map(address),
        remote_port: sock.get("dport").and_then(as_u32).and_then(port),
        unix_path: None,
    })
}

fn family(name: &str) -> SocketFamily {
    match name {
        "AF_INET" => SocketFamily::Inet,
        "AF_INET6" => SocketFamily::Inet6,
        "AF_UNIX" | "AF_LOCAL" => SocketFamily::Unix,
        _ => SocketFamily::Other,
    }
}

fn protocol(sock: &Value) -> Option<String> {
    let p = string(sock, "protocol")?;
    Some(p.strip_prefix("IPPROTO_").unwrap_or(p).to_lowercase())
}

fn open_flags(flags: i64) -> Vec<String> {
    let mut names = vec![match flags & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    }];
    for (bit, name) in [
        (0o100, "O_CREAT"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o20000000, "O_TMPFILE"),
    ] {
        if flags & bit != 0 {
            names.push(name);
        }
    }
    names.into_iter().map(str::to_string).collect()
}

fn mount_flags(flags: i64) -> Vec<String> {
    [
        (1, "MS_RDONLY"),
        (2, "MS_NOSUID"),
        (4, "MS_NODEV"),
        (8, "MS_NOEXEC"),
        (4096, "MS_BIND"),
        (8192, "MS_MOVE"),
        (16384, "MS_REC"),
        (32, "MS_REMOUNT"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, n)| n.to_string())
    .collect()
}

fn memfd_flags(flags: i64) -> Vec<String> {
    [
        (1, "MFD_CLOEXEC"),
        (2, "MFD_ALLOW_SEALING"),
        (4, "MFD_HUGETLB"),
        (8, "MFD_NOEXEC_SEAL"),
        (16, "MFD_EXEC"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, n)| n.to_string())
    .collect()
}

fn namespaces(flags: i64) -> Vec<String> {
    [
        (0x0002_0000, "mnt"),
        (0x0200_0000, "cgroup"),
        (0x0400_0000, "uts"),
        (0x0800_0000, "ipc"),
        (0x1000_0000, "user"),
        (0x2000_0000, "pid"),
        (0x4000_0000, "net"),
        (0x0000_0080, "time"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, n)| n.to_string())
    .collect()
}

fn ptrace_request(request: i64) -> Option<&'static str> {
    Some(match request {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSER",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSER",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        0x4206 => "PTRACE_SEIZE",
        _ => return None,
    })
}

/// A hook Peregrine has no activity for, passed on with its arguments.
fn alert(body: &Value, kind: &str) -> Activity {
    let function = string(body, "function_name")
        .or_else(|| string(body, "symbol"))
        .or_else(|| string(body, "event"))
        .unwrap_or(kind);
    let mut fields = vec![("event".to_string(), kind.to_string())];
    if let Some(args) = body.get("args").and_then(Value::as_array) {
        for (i, arg) in args.iter().enumerate() {
            let key = arg
                .get("label")
                .and_then(Value::as_str)
                .map_or_else(|| format!("arg{i}"), str::to_string);
            let value = arg
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.ends_with("_arg")))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            fields.push((key, value));
        }
    }
    Activity::Alert(SensorAlert {
        rule: match string(body, "policy_name") {
            Some(policy) => format!("{policy}/{function}"),
            None => function.to_string(),
        },
        priority: None,
        output: string(body, "message").map(str::to_string),
        tags: strings(body.get("tags")),
        fields,
    })
}

#[cfg(test)]
mod tests;
