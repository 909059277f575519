//! Aqua Tracee's JSON events, in both shapes in circulation:
//!
//! * `trace.Event` of the released versions (≤ v0.24): camelCase context keys
//!   (`timestamp` in ns, `hostProcessId`, `processEntityId`, …) and `args[{name,type,value}]`;
//!   2022-era lines carry flat `containerImage`/`podName`/… keys instead of the nested
//!   `container`/`kubernetes` objects.
//! * `v1beta1.Event` of Tracee `main` (`api/v1beta1/event.proto`): `timestamp` (RFC 3339,
//!   `{seconds,nanos}` or ns), `name`, `workload{process,container,k8s}`, `data[{name,<kind>}]`
//!   and `threat` for detector events. Its custom marshaler writes proto names
//!   (`unique_id`, `host_pid`); stock protojson writes camelCase (`uniqueId`) and may wrap
//!   numbers as `{"value": n}`. All three are read.
//!
//! Process ids: Tracee gives each process an entity id (a 32-bit hash of the leader's
//! start time and pid), the same in the process's own events (`processEntityId`,
//! `unique_id`) and in its children's (`parentEntityId`, `ancestors[0].unique_id`). The
//! cluster-unique id is [`entity_process_id`]: SHA-256 of `tracee-entity:<hostName>:<entity>`,
//! 32 hex digits like [`derived_process_id`]. Lines without an entity id fall back to
//! `derived_process_id(hostName, hostProcessId, threadStartTime)` and then have no parent id
//! (the parent's start time is unknown, so no id would ever match the parent's own).
//!
//! Tracee's `hostName` is the UTS name of the task: the node's host name (at most 15
//! characters, the kernel context truncates it) for host processes, but the container's
//! host name (the pod name) inside a container. `node` is therefore filled only for events
//! outside a container; ids still hash `hostName`, as that is all the event carries.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{
    Parsed, RuntimeError, Sensor, address, as_i64, as_u32, as_u64, basename, container_id,
    derived_process_id, event, micros, process,
};
use crate::runtime::{
    Activity, Address, Container, CredentialsActivity, DnsActivity, ExitActivity, FileActivity,
    FileOperation, KernelModuleActivity, LibraryActivity, MemfdActivity, MemoryWriteActivity,
    MemoryWriteMethod, MountActivity, NamespaceActivity, Pod, Process, PtraceActivity, SensorAlert,
    SocketActivity, SocketFamily, SocketOperation,
};

const NO_ACTIVITY: &str = "a Tracee event Peregrine has no activity for";

/// A Tracee event: `trace.Event` (`eventName` with its context keys) or `v1beta1` (`name`
/// with `workload`, or with the `id`/`timestamp` pair and `data`/`policies`/`threat`).
pub fn is_tracee(object: &Map<String, Value>) -> bool {
    let legacy = object.contains_key("eventName")
        && ["processId", "hostProcessId", "eventId", "processName"]
            .iter()
            .any(|k| object.contains_key(*k));
    let v1beta1 = object.contains_key("name")
        && (object.contains_key("workload")
            || (object.contains_key("timestamp")
                && object.contains_key("id")
                && ["data", "policies", "threat"]
                    .iter()
                    .any(|k| object.contains_key(*k))));
    legacy || v1beta1
}

/// One Tracee event to a [`super::RuntimeEvent`], or `NotAnEvent` for an event name the
/// contract has no activity for.
pub fn normalize(value: &Value, cluster: &str) -> Result<Parsed, RuntimeError> {
    let object = value
        .as_object()
        .ok_or_else(|| RuntimeError("a Tracee event is a JSON object".into()))?;
    let input = if object.contains_key("eventName") {
        legacy(object)?
    } else if object.contains_key("name") {
        v1beta1(object)?
    } else {
        return Err(RuntimeError(
            "not a Tracee event: neither `eventName` nor `name`".into(),
        ));
    };
    let Some(activity) = activity(&input) else {
        return Ok(Parsed::NotAnEvent(NO_ACTIVITY));
    };
    let Input {
        time,
        node,
        mut process,
        lineage,
        container,
        pod,
        policies,
        args,
        name,
        ..
    } = input;
    if matches!(activity, Activity::Exec) {
        exec_details(&mut process, &args, name);
    }
    process.fileless = is_fileless(&process.executable_path);
    let mut out = event(cluster, &node, Sensor::Tracee, time, process, activity);
    out.lineage = lineage;
    out.container = container;
    out.pod = pod;
    out.policy = (!policies.is_empty()).then(|| policies.join(","));
    Ok(Parsed::Event(Box::new(out)))
}

/// What both shapes have in common, read before the activity.
struct Input<'a> {
    name: &'a str,
    time: i64,
    node: String,
    process: Process,
    lineage: Vec<Process>,
    container: Option<Container>,
    pod: Option<Pod>,
    policies: Vec<String>,
    /// Arguments by name, the v1beta1 typed values unwrapped to the bare value.
    args: Vec<(&'a str, &'a Value)>,
    signature: Option<SensorAlert>,
}

// ---------------------------------------------------------------- trace.Event

fn legacy(object: &Map<String, Value>) -> Result<Input<'_>, RuntimeError> {
    let name = object
        .get("eventName")
        .and_then(Value::as_str)
        .ok_or_else(|| RuntimeError("Tracee `eventName` is not a string".into()))?;
    let time = timestamp(object.get("timestamp"))?;
    let args = legacy_args(object.get("args"))?;

    let host = text(object.get("hostName")).unwrap_or("");
    let host_pid = object.get("hostProcessId").and_then(number_u32);
    let thread_start = object.get("threadStartTime").and_then(number_i64);
    let leader = match (
        object.get("hostThreadId").and_then(number_u32),
        host_pid,
        object.get("threadId").and_then(number_u32),
        object.get("processId").and_then(number_u32),
    ) {
        (Some(tid), Some(pid), _, _) => tid == pid,
        (None, _, Some(tid), Some(pid)) => tid == pid,
        _ => true,
    };

    let comm = text(object.get("processName"));
    let exe = object.get("executable").and_then(|e| text(e.get("path")));
    let mut p = process(exe.or(comm).unwrap_or(""));
    if exe.is_none()
        && let Some(comm) = comm
    {
        p.name = comm.to_string();
    }
    p.pid = host_pid;
    p.namespace_pid = object.get("processId").and_then(number_u32);
    p.uid = object.get("userId").and_then(number_u32);
    // `threadStartTime` is the thread's start: the process's only for the leader thread,
    // and before 2023 it counted from boot, not from the epoch.
    p.start_time = thread_start.filter(|_| leader).and_then(epoch_ns_to_micros);
    let entity = object
        .get("processEntityId")
        .and_then(number_u32)
        .filter(|e| *e != 0);
    let parent_entity = object
        .get("parentEntityId")
        .and_then(number_u32)
        .filter(|e| *e != 0);
    p.id = match (entity, host_pid) {
        (Some(entity), _) => entity_process_id(host, entity),
        (None, Some(pid)) => derived_process_id(host, pid, thread_start.unwrap_or(0)),
        (None, None) => String::new(),
    };
    p.parent_id = parent_entity.map(|entity| entity_process_id(host, entity));

    let nested = object.get("container");
    let container_full = nested
        .and_then(|c| text(c.get("id")))
        .or_else(|| text(object.get("containerId")));
    let container = container_full.map(|full| {
        let (id, runtime) = container_id(full);
        Container {
            id,
            runtime,
            name: nested
                .and_then(|c| text(c.get("name")))
                .or_else(|| text(object.get("containerName")))
                .map(str::to_string),
            image: nested
                .and_then(|c| text(c.get("image")))
                .or_else(|| text(object.get("containerImage")))
                .map(str::to_string),
            image_id: nested
                .and_then(|c| text(c.get("imageDigest")))
                .or_else(|| text(object.get("containerImageDigest")))
                .map(str::to_string),
            privileged: None,
        }
    });

    let k8s = object.get("kubernetes");
    let k8s_field = |nested_key: &str| {
        k8s.and_then(|k| text(k.get(nested_key)))
            .or_else(|| text(object.get(nested_key)))
    };
    let pod = k8s_field("podName").map(|name| Pod {
        namespace: k8s_field("podNamespace").unwrap_or("").to_string(),
        name: name.to_string(),
        uid: k8s_field("podUID").map(str::to_string),
        labels: Vec::new(),
    });

    let policies = strings(object.get("matchedPolicies"));
    let signature = legacy_signature(object, name, &args);
    let node = if container.is_none() { host } else { "" };
    Ok(Input {
        name,
        time,
        node: node.to_string(),
        process: p,
        lineage: Vec::new(),
        container,
        pod,
        policies,
        args,
        signature,
    })
}

fn legacy_args(args: Option<&Value>) -> Result<Vec<(&str, &Value)>, RuntimeError> {
    match args {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .filter_map(|item| {
                let name = item.get("name")?.as_str()?;
                Some((name, item.get("value").unwrap_or(&Value::Null)))
            })
            .collect()),
        Some(_) => Err(RuntimeError("Tracee `args` is not an array".into())),
    }
}

/// A signature finding: `metadata.Properties` (released signatures print the signature's
/// name as `eventName`), or an event named as one of Tracee's signatures.
fn legacy_signature(
    object: &Map<String, Value>,
    name: &str,
    args: &[(&str, &Value)],
) -> Option<SensorAlert> {
    let metadata = object.get("metadata").filter(|m| m.is_object());
    let properties = metadata
        .and_then(|m| m.get("Properties"))
        .and_then(Value::as_object);
    if properties.is_none() && !is_signature_name(name) {
        return None;
    }
    let property = |key: &str| properties.and_then(|p| text(p.get(key)));
    let id = property("signatureID");
    let title = property("signatureName").unwrap_or(name);
    let rule = match id {
        Some(id) if id != title => format!("{id} {title}"),
        _ => title.to_string(),
    };
    let priority = properties
        .and_then(|p| p.get("Severity"))
        .and_then(severity);
    let output = metadata
        .and_then(|m| text(m.get("Description")))
        .map(str::to_string);
    let tags = strings(metadata.and_then(|m| m.get("Tags")));
    let mut fields: Vec<(String, String)> = properties
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), display(v)))
        .collect();
    fields.extend(args.iter().map(|(k, v)| (format!("args.{k}"), display(v))));
    Some(SensorAlert {
        rule,
        priority,
        output,
        tags,
        fields,
    })
}

// ---------------------------------------------------------------- v1beta1

fn v1beta1(object: &Map<String, Value>) -> Result<Input<'_>, RuntimeError> {
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| RuntimeError("Tracee `name` is not a string".into()))?;
    let time = timestamp(object.get("timestamp"))?;
    let args = v1beta1_data(object.get("data"))?;
    let workload = object.get("workload").filter(|w| w.is_object());
    // The v1beta1 event names no host; tolerate one if a later version adds it.
    let host = ["hostName", "host_name", "hostname"]
        .iter()
        .find_map(|k| text(object.get(*k)))
        .unwrap_or("");

    let proc_value = workload
        .and_then(|w| w.get("process"))
        .filter(|p| p.is_object());
    let mut p = match proc_value {
        Some(v) => v1beta1_process(v, host),
        None => process(""),
    };
    let mut lineage = Vec::new();
    if let Some(Value::Array(ancestors)) = proc_value.and_then(|v| field(v, &["ancestors"])) {
        for ancestor in ancestors.iter().filter(|a| a.is_object()) {
            let ancestor = v1beta1_process(ancestor, host);
            if !ancestor.id.is_empty() {
                lineage.push(ancestor);
            }
        }
        // Parent first: each ancestor's parent is the next one.
        let ids: Vec<String> = lineage.iter().map(|a| a.id.clone()).collect();
        for (i, ancestor) in lineage.iter_mut().enumerate() {
            ancestor.parent_id = ids.get(i + 1).cloned();
        }
        p.parent_id = ids.first().cloned();
    }

    let container_value = workload
        .and_then(|w| w.get("container"))
        .filter(|c| c.is_object());
    let container = container_value.and_then(|c| {
        let (id, runtime) = container_id(text(c.get("id"))?);
        let image = c.get("image");
        Some(Container {
            id,
            runtime,
            name: text(c.get("name")).map(str::to_string),
            image: image.and_then(|i| text(i.get("name"))).map(str::to_string),
            image_id: image
                .and_then(|i| field(i, &["repo_digests", "repoDigests"]))
                .and_then(|d| d.as_array())
                .and_then(|d| d.iter().find_map(Value::as_str))
                .filter(|d| !d.is_empty())
                .or_else(|| image.and_then(|i| text(i.get("id"))))
                .map(str::to_string),
            privileged: None,
        })
    });

    let k8s = workload.and_then(|w| w.get("k8s"));
    let pod_value = k8s
        .and_then(|k| k.get("pod"))
        .or_else(|| workload.and_then(|w| w.get("pod")));
    let pod = pod_value.and_then(|pod| {
        let name = text(pod.get("name"))?;
        let mut labels: Vec<(String, String)> = pod
            .get("labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), display(v)))
            .collect();
        labels.sort();
        Some(Pod {
            namespace: k8s
                .and_then(|k| k.get("namespace"))
                .and_then(|n| text(n.get("name")))
                .unwrap_or("")
                .to_string(),
            name: name.to_string(),
            uid: text(pod.get("uid")).map(str::to_string),
            labels,
        })
    });

    let policies = strings(object.get("policies").and_then(|p| p.get("matched")));
    let signature = v1beta1_signature(object, name, &args);
    let node = if container.is_none() { host } else { "" };
    Ok(Input {
        name,
        time,
        node: node.to_string(),
        process: p,
        lineage,
        container,
        pod,
        policies,
        args,
        signature,
    })
}

/// A v1beta1 `Process`: the event's, or one of its ancestors.
fn v1beta1_process(v: &Value, host: &str) -> Process {
    let thread = field(v, &["thread"]);
    let comm = thread.and_then(|t| text(t.get("name")));
    let exe = field(v, &["executable"]).and_then(|e| text(e.get("path")));
    let mut p = process(exe.or(comm).unwrap_or(""));
    if exe.is_none()
        && let Some(comm) = comm
    {
        p.name = comm.to_string();
    }
    p.pid = field(v, &["host_pid", "hostPid"]).and_then(number_u32);
    p.namespace_pid = field(v, &["pid"]).and_then(number_u32);
    p.uid = field(v, &["real_user", "realUser"])
        .and_then(|u| field(u, &["id"]))
        .and_then(number_u32);
    let leader = match (
        thread
            .and_then(|t| field(t, &["host_tid", "hostTid"]))
            .and_then(number_u32),
        p.pid,
    ) {
        (Some(tid), Some(pid)) => tid == pid,
        _ => true,
    };
    let start = thread
        .and_then(|t| field(t, &["start_time", "startTime"]))
        .and_then(|s| timestamp(Some(s)).ok());
    p.start_time = start.filter(|_| leader).filter(|t| *t > EPOCH_FLOOR_MICROS);
    let entity = field(v, &["unique_id", "uniqueId"])
        .and_then(number_u32)
        .filter(|e| *e != 0);
    p.id = match (entity, p.pid) {
        (Some(entity), _) => entity_process_id(host, entity),
        (None, Some(pid)) => derived_process_id(host, pid, start.unwrap_or(0)),
        (None, None) => String::new(),
    };
    p
}

/// `data[]` to (name, bare value): the typed oneof key (`str`, `u_int64`, `str_array`…)
/// written inline or under `value`, and the message wrappers
/// (`{"value":[…]}`, `{"questions":[…]}`, `{"responses":[…]}`) taken off.
fn v1beta1_data(data: Option<&Value>) -> Result<Vec<(&str, &Value)>, RuntimeError> {
    let items = match data {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(RuntimeError("Tracee `data` is not an array".into())),
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let item = item.as_object()?;
            let name = item.get("name")?.as_str()?;
            let (mut kind, mut value) = item.iter().find(|(k, _)| k.as_str() != "name")?;
            if kind == "value"
                && let Some(inner) = value.as_object()
                && inner.len() == 1
                && let Some((k, v)) = inner.iter().next()
            {
                (kind, value) = (k, v);
            }
            let wrapper = match kind.as_str() {
                "dns_questions" | "dnsQuestions" => Some("questions"),
                "dns_responses" | "dnsResponses" => Some("responses"),
                k if k.ends_with("array") || k.ends_with("Array") || k == "timespec" => {
                    Some("value")
                }
                _ => None,
            };
            if let Some(wrapper) = wrapper
                && value.is_object()
            {
                value = value.get(wrapper).unwrap_or(&Value::Null);
            }
            Some((name, value))
        })
        .collect())
}

fn v1beta1_signature(
    object: &Map<String, Value>,
    name: &str,
    args: &[(&str, &Value)],
) -> Option<SensorAlert> {
    let threat = object.get("threat").filter(|t| t.is_object());
    if threat.is_none() && !is_signature_name(name) {
        return None;
    }
    let properties = threat
        .and_then(|t| t.get("properties"))
        .and_then(Value::as_object);
    let property = |key: &str| properties.and_then(|p| text(p.get(key)));
    // Tracee puts the TRC number in `id` or in `signatureID`, whichever it has.
    let id = [property("id"), property("signatureID")]
        .into_iter()
        .flatten()
        .find(|id| id.starts_with("TRC-"))
        .or_else(|| property("signatureID"));
    let title = threat
        .and_then(|t| text(t.get("name")))
        .or_else(|| property("signatureName"))
        .unwrap_or(name);
    let rule = match id {
        Some(id) if id != title => format!("{id} {title}"),
        _ => title.to_string(),
    };
    let mut fields: Vec<(String, String)> = properties
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), display(v)))
        .collect();
    let mitre = threat.and_then(|t| t.get("mitre"));
    for (key, path) in [
        ("mitre.tactic", ["tactic", "name"]),
        ("mitre.technique.id", ["technique", "id"]),
        ("mitre.technique", ["technique", "name"]),
    ] {
        if let Some(value) = mitre
            .and_then(|m| m.get(path[0]))
            .and_then(|t| text(t.get(path[1])))
        {
            fields.push((key.to_string(), value.to_string()));
        }
    }
    fields.extend(args.iter().map(|(k, v)| (format!("args.{k}"), display(v))));
    Some(SensorAlert {
        rule,
        priority: threat.and_then(|t| t.get("severity")).and_then(severity),
        output: threat
            .and_then(|t| text(t.get("description")))
            .map(str::to_string),
        tags: Vec::new(),
        fields,
    })
}

// ---------------------------------------------------------------- activities

fn arg<'a>(args: &[(&str, &'a Value)], name: &str) -> Option<&'a Value> {
    args.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .filter(|v| !v.is_null())
}

fn arg_text<'a>(args: &[(&str, &'a Value)], name: &str) -> Option<&'a str> {
    arg(args, name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn arg_text_any<'a>(args: &[(&str, &'a Value)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| arg_text(args, n))
}

/// The activity for the event's name, or none when the contract has no case for it.
fn activity(input: &Input<'_>) -> Option<Activity> {
    if let Some(alert) = &input.signature {
        return Some(Activity::Alert(alert.clone()));
    }
    let a = &input.args[..];
    let file = |operation, path: Option<&str>, target: Option<&str>| {
        Some(Activity::File(FileActivity {
            operation,
            path: path.unwrap_or("").to_string(),
            target_path: target.map(str::to_string),
            flags: Vec::new(),
            mode: None,
        }))
    };
    match input.name {
        "sched_process_exec" | "execve" | "execveat" => Some(Activity::Exec),
        "sched_process_exit" => Some(Activity::Exit(ExitActivity {
            status: arg(a, "exit_code")
                .and_then(number_i64)
                .and_then(|n| i32::try_from(n).ok()),
            signal: arg(a, "signal_code").and_then(signal_name),
        })),
        "security_file_open" | "open" | "openat" => {
            let flags = arg(a, "flags").map(open_flags).unwrap_or_default();
            let writes = flags.iter().any(|f| f == "O_WRONLY" || f == "O_RDWR");
            Some(Activity::File(FileActivity {
                operation: if writes {
                    FileOperation::Write
                } else {
                    FileOperation::Open
                },
                path: arg_text_any(a, &["pathname", "syscall_pathname"])
                    .unwrap_or("")
                    .to_string(),
                target_path: None,
                flags,
                mode: arg(a, "mode").and_then(number_u32).filter(|m| *m != 0),
            }))
        }
        "magic_write" | "vfs_write" | "vfs_writev" | "__kernel_write" => {
            file(FileOperation::Write, arg_text(a, "pathname"), None)
        }
        "file_modification" => file(
            FileOperation::Write,
            arg_text_any(a, &["file_path", "pathname"]),
            None,
        ),
        "do_truncate" => file(FileOperation::Truncate, arg_text(a, "pathname"), None),
        "security_inode_rename" => file(
            FileOperation::Rename,
            arg_text(a, "old_path"),
            arg_text(a, "new_path"),
        ),
        "rename" | "renameat" | "renameat2" => file(
            FileOperation::Rename,
            arg_text(a, "oldpath"),
            arg_text(a, "newpath"),
        ),
        "security_inode_unlink" | "unlink" | "unlinkat" => {
            file(FileOperation::Unlink, arg_text(a, "pathname"), None)
        }
        "security_inode_symlink" | "symlink" | "symlinkat" => file(
            FileOperation::Symlink,
            arg_text(a, "linkpath"),
            arg_text(a, "target"),
        ),
        "link" | "linkat" => file(
            FileOperation::Link,
            arg_text(a, "newpath"),
            arg_text(a, "oldpath"),
        ),
        "chmod_common" | "chmod" | "fchmodat" => Some(Activity::File(FileActivity {
            operation: FileOperation::Chmod,
            path: arg_text(a, "pathname").unwrap_or("").to_string(),
            target_path: None,
            flags: Vec::new(),
            mode: arg(a, "mode").and_then(number_u32),
        })),
        "chown" | "lchown" | "fchownat" => {
            file(FileOperation::Chown, arg_text(a, "pathname"), None)
        }
        "security_socket_connect" => {
            socket(SocketOperation::Connect, None, arg(a, "remote_addr"), a)
        }
        "connect" => socket(SocketOperation::Connect, None, arg(a, "addr"), a),
        "security_socket_accept" => socket(SocketOperation::Accept, arg(a, "local_addr"), None, a),
        "socket_accept" => socket(
            SocketOperation::Accept,
            arg(a, "local_addr"),
            arg(a, "remote_addr"),
            a,
        ),
        "accept" | "accept4" => socket(SocketOperation::Accept, None, arg(a, "addr"), a),
        "security_socket_listen" => socket(SocketOperation::Listen, arg(a, "local_addr"), None, a),
        "security_socket_bind" => socket(SocketOperation::Bind, arg(a, "local_addr"), None, a),
        "bind" => socket(SocketOperation::Bind, arg(a, "addr"), None, a),
        "net_tcp_connect" => arg_text(a, "dst").map(|dst| {
            Activity::Socket(SocketActivity {
                operation: SocketOperation::Connect,
                family: ip_family(dst),
                protocol: Some("tcp".into()),
                local: None,
                local_port: None,
                remote: Some(address(dst)),
                remote_port: arg(a, "dst_port").and_then(port),
                unix_path: None,
            })
        }),
        "net_packet_dns_request" | "net_packet_dns_response" | "net_packet_dns" => {
            dns(input.name, a)
        }
        name if name.starts_with("net_packet_") => packet(name, a),
        "ptrace" => arg(a, "request").and_then(|request| {
            let (number, name) = ptrace_request(request)?;
            Some(Activity::Ptrace(PtraceActivity {
                request: number,
                request_name: name,
                target_pid: arg(a, "pid").and_then(number_u32),
            }))
        }),
        "process_vm_writev" => Some(Activity::MemoryWrite(MemoryWriteActivity {
            method: MemoryWriteMethod::ProcessVmWritev,
            target_pid: arg(a, "pid").and_then(number_u32),
            path: None,
        })),
        "memfd_create" => Some(Activity::MemfdCreate(MemfdActivity {
            name: arg_text(a, "name").unwrap_or("").to_string(),
            flags: arg(a, "flags")
                .map(|f| flag_names(f, MEMFD_FLAGS))
                .unwrap_or_default(),
        })),
        "userfaultfd" => Some(Activity::Userfaultfd),
        "init_module" | "finit_module" | "do_init_module" | "module_load" => {
            Some(kernel_module(arg_text(a, "name"), arg_text(a, "pathname")))
        }
        "security_kernel_read_file" | "security_kernel_post_read_file" => {
            let module = arg(a, "type")
                .is_some_and(|t| t.as_str() == Some("kernel-module") || number_i64(t) == Some(2));
            module.then(|| kernel_module(None, arg_text(a, "pathname")))
        }
        "security_sb_mount" => Some(Activity::Mount(MountActivity {
            source: arg_text(a, "dev_name").map(str::to_string),
            target: arg_text(a, "path").unwrap_or("").to_string(),
            file_system_type: arg_text(a, "type").map(str::to_string),
            flags: arg(a, "flags")
                .map(|f| flag_names(f, MOUNT_FLAGS))
                .unwrap_or_default(),
        })),
        "mount" => Some(Activity::Mount(MountActivity {
            source: arg_text(a, "source").map(str::to_string),
            target: arg_text(a, "target").unwrap_or("").to_string(),
            file_system_type: arg_text(a, "filesystemtype").map(str::to_string),
            flags: arg(a, "mountflags")
                .map(|f| flag_names(f, MOUNT_FLAGS))
                .unwrap_or_default(),
        })),
        "shared_object_loaded" => arg_text(a, "pathname").map(|path| {
            Activity::LibraryLoad(LibraryActivity {
                path: path.to_string(),
            })
        }),
        "setns" | "unshare" => {
            let flags = arg(
                a,
                if input.name == "setns" {
                    "nstype"
                } else {
                    "flags"
                },
            );
            Some(Activity::NamespaceChange(NamespaceActivity {
                operation: input.name.to_string(),
                namespaces: flags.map(namespaces).unwrap_or_default(),
                target_pid: None,
            }))
        }
        "commit_creds" => Some(commit_creds(a)),
        "setuid" | "setreuid" | "setresuid" | "setgid" | "setregid" | "setresgid" | "setfsuid"
        | "setfsgid" | "capset" => {
            let id = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| arg(a, n).and_then(number_i64))
                    .and_then(|n| u32::try_from(n).ok())
            };
            Some(Activity::Credentials(CredentialsActivity {
                operation: input.name.to_string(),
                uid: id(&["uid", "ruid"]),
                euid: id(&["euid"]),
                gid: id(&["gid", "rgid"]),
                egid: id(&["egid"]),
                capabilities: Vec::new(),
            }))
        }
        _ => None,
    }
}

/// Fills the process from an exec's arguments: the new image, argv, environment, hash.
fn exec_details(p: &mut Process, args: &[(&str, &Value)], name: &str) {
    if let Some(path) = arg_text_any(args, &["pathname", "cmdpath"]) {
        p.executable_path = path.to_string();
        p.name = basename(path).to_string();
    }
    let argv = arg(args, "argv")
        .map(|v| strings(Some(v)))
        .unwrap_or_default();
    if !argv.is_empty() {
        p.command_line = argv.join(" ");
        p.arguments = argv[1..].to_vec();
    } else {
        p.command_line = p.executable_path.clone();
    }
    if let Some(hash) = arg_text(args, "sha256") {
        p.sha256 = Some(hash.trim_start_matches("sha256:").to_ascii_lowercase());
    }
    if let Some(pwd) = arg_text(args, "pwd") {
        p.cwd = Some(pwd.to_string());
    }
    let env = arg(
        args,
        if name == "sched_process_exec" {
            "env"
        } else {
            "envp"
        },
    )
    .or_else(|| arg(args, "env"));
    p.environment = strings(env)
        .into_iter()
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect();
    // S_ISUID | S_ISGID in the executable's mode.
    p.setuid_binary = arg(args, "inode_mode")
        .and_then(number_u32)
        .is_some_and(|mode| mode & 0o6000 != 0);
}

fn is_fileless(path: &str) -> bool {
    path.starts_with("memfd:") || path.starts_with("/memfd:") || path.ends_with(" (deleted)")
}

fn kernel_module(name: Option<&str>, path: Option<&str>) -> Activity {
    Activity::KernelModule(KernelModuleActivity {
        name: name.map(str::to_string),
        path: path.map(str::to_string),
        sha256: None,
        signed: None,
        tainted: Vec::new(),
    })
}

/// A socket activity from Tracee's sockaddr maps: `{sa_family, sin_addr, sin_port}`,
/// `{sa_family, sin6_addr, sin6_port}` or `{sa_family, sun_path}`.
fn socket(
    operation: SocketOperation,
    local: Option<&Value>,
    remote: Option<&Value>,
    args: &[(&str, &Value)],
) -> Option<Activity> {
    let local = local.map(sockaddr);
    let remote = remote.map(sockaddr);
    let family = [&local, &remote]
        .iter()
        .find_map(|s| s.as_ref().map(|s| s.family))
        .unwrap_or(SocketFamily::Other);
    let protocol = match family {
        SocketFamily::Inet | SocketFamily::Inet6 => arg(args, "type").and_then(socket_type),
        _ => None,
    };
    let unix_path = [&remote, &local]
        .iter()
        .find_map(|s| s.as_ref().and_then(|s| s.unix_path.clone()));
    let (local, local_port) = local.map(|s| (s.address, s.port)).unwrap_or((None, None));
    let (remote, remote_port) = remote.map(|s| (s.address, s.port)).unwrap_or((None, None));
    Some(Activity::Socket(SocketActivity {
        operation,
        family,
        protocol,
        local,
        local_port,
        remote,
        remote_port,
        unix_path,
    }))
}

struct SockAddr {
    family: SocketFamily,
    address: Option<Address>,
    port: Option<u16>,
    unix_path: Option<String>,
}

fn sockaddr(v: &Value) -> SockAddr {
    let family_value = v.get("sa_family");
    let family_name = family_value.and_then(Value::as_str).unwrap_or("");
    let family_number = family_value.and_then(number_i64);
    let ip4 = text(v.get("sin_addr"));
    let ip6 = text(v.get("sin6_addr"));
    let sun = v.get("sun_path").and_then(Value::as_str);
    let family = match (family_name, family_number) {
        ("AF_INET", _) | (_, Some(2)) => SocketFamily::Inet,
        ("AF_INET6", _) | (_, Some(10)) => SocketFamily::Inet6,
        ("AF_UNIX" | "AF_LOCAL", _) | (_, Some(1)) => SocketFamily::Unix,
        _ if ip6.is_some() => SocketFamily::Inet6,
        _ if ip4.is_some() => SocketFamily::Inet,
        _ if sun.is_some() => SocketFamily::Unix,
        _ => SocketFamily::Other,
    };
    match family {
        SocketFamily::Unix => SockAddr {
            family,
            address: None,
            port: None,
            // An abstract name starts with a NUL byte; the contract writes it as `@`.
            unix_path: sun
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix('\0') {
                    Some(rest) => format!("@{rest}"),
                    None => s.to_string(),
                }),
        },
        _ => {
            let (ip, port) = if family == SocketFamily::Inet6 {
                (
                    ip6.or(ip4),
                    v.get("sin6_port").or_else(|| v.get("sin_port")),
                )
            } else {
                (
                    ip4.or(ip6),
                    v.get("sin_port").or_else(|| v.get("sin6_port")),
                )
            };
            SockAddr {
                family,
                address: ip.map(address),
                port: port.and_then(self::port),
                unix_path: None,
            }
        }
    }
}

fn socket_type(v: &Value) -> Option<String> {
    if let Some(name) = v.as_str() {
        // Parsed: `SOCK_STREAM|SOCK_CLOEXEC`.
        return match name.split('|').next().unwrap_or("") {
            "SOCK_STREAM" => Some("tcp".into()),
            "SOCK_DGRAM" => Some("udp".into()),
            "SOCK_RAW" => Some("raw".into()),
            _ => None,
        };
    }
    match number_i64(v)? & 0xf {
        1 => Some("tcp".into()),
        2 => Some("udp".into()),
        3 => Some("raw".into()),
        _ => None,
    }
}

fn ip_family(ip: &str) -> SocketFamily {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => SocketFamily::Inet,
        Ok(std::net::IpAddr::V6(_)) => SocketFamily::Inet6,
        Err(_) if ip.contains(':') => SocketFamily::Inet6,
        Err(_) => SocketFamily::Other,
    }
}

/// A captured packet (`net_packet_tcp`, `…_http_request`, …) as a send from `src` to `dst`
/// (swapped when v1beta1 marks the packet ingress).
fn packet(name: &str, args: &[(&str, &Value)]) -> Option<Activity> {
    let meta = arg(args, "metadata").or_else(|| arg(args, "packet_metadata"));
    let meta_field = |key: &str| meta.and_then(|m| m.get(key));
    let proto_field = |keys: &[&str]| {
        args.iter()
            .filter(|(n, _)| n.starts_with("proto_"))
            .find_map(|(_, v)| keys.iter().find_map(|k| v.get(*k)))
    };
    let src = arg_text(args, "src")
        .or_else(|| meta_field("src_ip").and_then(Value::as_str))
        .or_else(|| proto_field(&["srcIP", "src_ip"]).and_then(Value::as_str))
        .filter(|s| !s.is_empty());
    let dst = arg_text(args, "dst")
        .or_else(|| meta_field("dst_ip").and_then(Value::as_str))
        .or_else(|| proto_field(&["dstIP", "dst_ip"]).and_then(Value::as_str))
        .filter(|s| !s.is_empty());
    let src_port = arg(args, "src_port")
        .or_else(|| meta_field("src_port"))
        .or_else(|| proto_field(&["srcPort", "src_port"]))
        .and_then(port);
    let dst_port = arg(args, "dst_port")
        .or_else(|| meta_field("dst_port"))
        .or_else(|| proto_field(&["dstPort", "dst_port"]))
        .and_then(port);
    let kind = name.trim_start_matches("net_packet_");
    let protocol = match kind {
        "tcp" | "udp" | "icmp" | "icmpv6" => Some(kind.to_string()),
        k if k.starts_with("http") => Some("http".to_string()),
        "ipv4" | "ipv6" => proto_field(&["protocol", "nextHeader", "next_header"])
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_ascii_lowercase),
        _ => meta_field("protocol")
            .and_then(number_i64)
            .and_then(|p| match p {
                6 => Some("tcp".to_string()),
                17 => Some("udp".to_string()),
                1 => Some("icmp".to_string()),
                58 => Some("icmpv6".to_string()),
                _ => None,
            }),
    };
    if src.is_none() && dst.is_none() {
        return None;
    }
    let family = match (src.or(dst).map(ip_family), kind) {
        (_, "ipv6" | "icmpv6") => SocketFamily::Inet6,
        (Some(f), _) => f,
        (None, _) => SocketFamily::Other,
    };
    let ingress = meta_field("direction").is_some_and(|d| {
        d.as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("ingress"))
            || number_i64(d) == Some(1)
    });
    let (local, local_port, remote, remote_port) = if ingress {
        (dst, dst_port, src, src_port)
    } else {
        (src, src_port, dst, dst_port)
    };
    Some(Activity::Socket(SocketActivity {
        operation: SocketOperation::Send,
        family,
        protocol,
        local: local.map(address),
        local_port,
        remote: remote.map(address),
        remote_port,
        unix_path: None,
    }))
}

/// A DNS question's name and type (`{query, query_type}` or `{name, type}`).
fn question(q: &Value) -> Option<(&str, Option<&str>)> {
    let name = ["query", "name"].iter().find_map(|k| text(q.get(*k)))?;
    let kind = ["query_type", "type"].iter().find_map(|k| text(q.get(*k)));
    Some((name, kind))
}

/// A DNS packet: `dns_questions` (request), `dns_response` (response with answers) or the
/// whole message `proto_dns` (`QR` tells which).
fn dns(name: &str, args: &[(&str, &Value)]) -> Option<Activity> {
    let mut query: Option<(&str, Option<&str>)> = None;
    let mut answers = Vec::new();
    let mut response = name == "net_packet_dns_response";
    if let Some(Value::Array(questions)) = arg(args, "dns_questions") {
        query = questions.iter().find_map(question);
    }
    if let Some(Value::Array(responses)) =
        arg(args, "dns_response").or_else(|| arg(args, "dns_responses"))
    {
        response = true;
        for r in responses {
            if query.is_none() {
                query = ["query_data", "dns_query_data", "dnsQueryData"]
                    .iter()
                    .find_map(|k| r.get(*k))
                    .and_then(question);
            }
            if let Some(Value::Array(list)) = r.get("dns_answer").or_else(|| r.get("dnsAnswer")) {
                answers.extend(
                    list.iter()
                        .filter_map(|a| text(a.get("answer")).map(str::to_string)),
                );
            }
        }
    }
    if let Some(message) = arg(args, "proto_dns").or_else(|| arg(args, "dns")) {
        if let Some(qr) = ["QR", "qr"].iter().find_map(|k| message.get(*k)) {
            response = number_i64(qr) == Some(1) || qr.as_bool() == Some(true);
        }
        if query.is_none()
            && let Some(Value::Array(questions)) = message.get("questions")
        {
            query = questions.iter().find_map(question);
        }
        if let Some(Value::Array(list)) = message.get("answers") {
            for a in list {
                let direct = [
                    "IP", "ip", "CNAME", "cname", "PTR", "ptr", "NS", "ns", "TXT", "txt",
                ]
                .iter()
                .find_map(|k| text(a.get(*k)));
                let found = direct
                    .map(str::to_string)
                    .or_else(|| {
                        a.get("MX")
                            .or_else(|| a.get("mx"))
                            .and_then(|m| text(m.get("name")))
                            .map(str::to_string)
                    })
                    .or_else(|| {
                        let txts = strings(a.get("TXTs").or_else(|| a.get("txts")));
                        (!txts.is_empty()).then(|| txts.join(""))
                    });
                answers.extend(found);
            }
        }
    }
    let (query_name, query_type) = query?;
    Some(Activity::Dns(DnsActivity {
        query_name: query_name.trim_end_matches('.').to_string(),
        query_type: query_type.map(str::to_string),
        response,
        answers,
        listed: Vec::new(),
    }))
}

fn commit_creds(args: &[(&str, &Value)]) -> Activity {
    let old = arg(args, "old_cred");
    let new = arg(args, "new_cred");
    let id = |cred: Option<&Value>, keys: &[&str]| {
        cred.and_then(|c| keys.iter().find_map(|k| c.get(*k)))
            .and_then(number_u32)
    };
    // Only the ids the commit changes (all of them when the old set is unknown).
    let changed = |keys: &[&str]| {
        let after = id(new, keys)?;
        match id(old, keys) {
            Some(before) if before == after => None,
            _ => Some(after),
        }
    };
    let caps = |cred: Option<&Value>| {
        cred.and_then(|c| {
            ["CapEffective", "cap_effective", "capEffective"]
                .iter()
                .find_map(|k| c.get(*k))
        })
        .map(capabilities)
        .unwrap_or_default()
    };
    let new_caps = caps(new);
    Activity::Credentials(CredentialsActivity {
        operation: "commit_creds".into(),
        uid: changed(&["Uid", "uid"]),
        euid: changed(&["Euid", "euid"]),
        gid: changed(&["Gid", "gid"]),
        egid: changed(&["Egid", "egid"]),
        capabilities: if old.is_some() && caps(old) == new_caps {
            Vec::new()
        } else {
            new_caps
        },
    })
}

// ---------------------------------------------------------------- value helpers

/// Microseconds after which a start time counts from the epoch (2001), not from boot.
const EPOCH_FLOOR_MICROS: i64 = 1_000_000_000_000_000;

fn epoch_ns_to_micros(ns: i64) -> Option<i64> {
    Some(ns / 1000).filter(|t| *t > EPOCH_FLOOR_MICROS)
}

/// The event time in µs: ns as a number or numeric string, RFC 3339 text, or
/// `{seconds, nanos}`.
fn timestamp(v: Option<&Value>) -> Result<i64, RuntimeError> {
    let v = v.ok_or_else(|| RuntimeError("Tracee event without a `timestamp`".into()))?;
    let bad = || RuntimeError(format!("Tracee `timestamp` is not a time: {}", short(v)));
    match v {
        Value::Number(_) => number_i64(v).map(|ns| ns / 1000).ok_or_else(bad),
        Value::String(s) => match s.parse::<i64>() {
            Ok(ns) => Ok(ns / 1000),
            Err(_) => micros(s).ok_or_else(bad),
        },
        Value::Object(o) if o.contains_key("seconds") || o.contains_key("nanos") => {
            let part = |key: &str| match o.get(key) {
                None => Some(0),
                Some(v) => number_i64(v),
            };
            match (part("seconds"), part("nanos")) {
                (Some(s), Some(n)) => s_plus(s, n).ok_or_else(bad),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

fn s_plus(seconds: i64, nanos: i64) -> Option<i64> {
    seconds.checked_mul(1_000_000)?.checked_add(nanos / 1000)
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// A key among its spellings (proto name, camelCase), present and not null.
fn field<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| v.get(*k)).filter(|v| !v.is_null())
}

/// A protobuf wrapper (`{"value": n}`) taken off.
fn unwrap(v: &Value) -> &Value {
    match v.as_object() {
        Some(o) if o.len() == 1 => o.get("value").unwrap_or(v),
        _ => v,
    }
}

fn number_u32(v: &Value) -> Option<u32> {
    as_u32(unwrap(v))
}

fn number_i64(v: &Value) -> Option<i64> {
    let v = unwrap(v);
    as_i64(v).or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| f as i64)
    })
}

fn port(v: &Value) -> Option<u16> {
    as_u64(unwrap(v))
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The non-empty strings of an array (none for anything else).
fn strings(v: Option<&Value>) -> Vec<String> {
    match v.map(unwrap) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn severity(v: &Value) -> Option<String> {
    if let Some(name) = v.as_str() {
        return (!name.is_empty()).then(|| name.to_string());
    }
    // Tracee's severity scale (`v1beta1.Severity`).
    Some(
        match number_i64(v)? {
            0 => "INFO",
            1 => "LOW",
            2 => "MEDIUM",
            3 => "HIGH",
            4 => "CRITICAL",
            other => return Some(other.to_string()),
        }
        .to_string(),
    )
}

/// Tracee's signature and detector events, by event name.
fn is_signature_name(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "anti_debugging",
        "aslr_inspection",
        "cgroup_notify_on_release_modification",
        "cgroup_release_agent_modification",
        "core_pattern_modification",
        "default_loader_modification",
        "disk_mount",
        "docker_abuse",
        "dropped_executable",
        "dynamic_code_loading",
        "fileless_execution",
        "hidden_file_created",
        "illegitimate_shell",
        "kernel_module_loading",
        "kubernetes_api_connection",
        "kubernetes_certificate_theft_attempt",
        "ld_preload",
        "proc_fops_hooking",
        "proc_kcore_read",
        "proc_mem_access",
        "proc_mem_code_injection",
        "process_vm_write_code_injection",
        "ptrace_code_injection",
        "rcd_modification",
        "sched_debug_recon",
        "scheduled_task_modification",
        "stdio_over_socket",
        "sudoers_modification",
        "syscall_table_hooking",
        "system_request_key_config_modification",
        "hooked_syscall",
        "hidden_kernel_module",
        "ftrace_hook",
        "mem_prot_alert",
        "stack_pivot",
        "suspicious_syscall_source",
    ];
    NAMES.contains(&name)
}

/// Flags as names: a parsed `A|B` string, a list, or a number decoded with `table`.
fn flag_names(v: &Value, table: &[(u64, &str)]) -> Vec<String> {
    match unwrap(v) {
        Value::String(s) if s.parse::<u64>().is_err() => s
            .split('|')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        Value::Array(_) => strings(Some(v)),
        other => match as_u64(other) {
            Some(bits) => table
                .iter()
                .filter(|(bit, _)| bits & bit != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
            None => Vec::new(),
        },
    }
}

/// `open(2)` flags as names, the access mode first (x86-64 / generic values).
fn open_flags(v: &Value) -> Vec<String> {
    const FLAGS: &[(u64, &str)] = &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o20000, "O_ASYNC"),
        (0o40000, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"),
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o4000000, "O_SYNC"),
        (0o10000000, "O_PATH"),
        (0o20000000, "O_TMPFILE"),
    ];
    let v = unwrap(v);
    if v.as_str().is_some_and(|s| s.parse::<u64>().is_err()) || v.is_array() {
        return flag_names(v, FLAGS);
    }
    let Some(bits) = as_u64(v) else {
        return Vec::new();
    };
    let mode = match bits & 0o3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    };
    std::iter::once(mode.to_string())
        .chain(flag_names(v, FLAGS))
        .collect()
}

const MEMFD_FLAGS: &[(u64, &str)] = &[
    (0x1, "MFD_CLOEXEC"),
    (0x2, "MFD_ALLOW_SEALING"),
    (0x4, "MFD_HUGETLB"),
    (0x8, "MFD_NOEXEC_SEAL"),
    (0x10, "MFD_EXEC"),
];

const MOUNT_FLAGS: &[(u64, &str)] = &[
    (1, "MS_RDONLY"),
    (2, "MS_NOSUID"),
    (4, "MS_NODEV"),
    (8, "MS_NOEXEC"),
    (16, "MS_SYNCHRONOUS"),
    (32, "MS_REMOUNT"),
    (64, "MS_MANDLOCK"),
    (128, "MS_DIRSYNC"),
    (1 << 10, "MS_NOATIME"),
    (1 << 11, "MS_NODIRATIME"),
    (1 << 12, "MS_BIND"),
    (1 << 13, "MS_MOVE"),
    (1 << 14, "MS_REC"),
    (1 << 15, "MS_SILENT"),
    (1 << 16, "MS_POSIXACL"),
    (1 << 17, "MS_UNBINDABLE"),
    (1 << 18, "MS_PRIVATE"),
    (1 << 19, "MS_SLAVE"),
    (1 << 20, "MS_SHARED"),
    (1 << 21, "MS_RELATIME"),
    (1 << 22, "MS_KERNMOUNT"),
    (1 << 23, "MS_I_VERSION"),
    (1 << 24, "MS_STRICTATIME"),
    (1 << 25, "MS_LAZYTIME"),
];

/// `CLONE_NEW*` flags (number or parsed names) as namespace names (`mnt`, `net`, …).
fn namespaces(v: &Value) -> Vec<String> {
    const NAMESPACES: &[(u64, &str, &str)] = &[
        (0x0002_0000, "CLONE_NEWNS", "mnt"),
        (0x0200_0000, "CLONE_NEWCGROUP", "cgroup"),
        (0x0400_0000, "CLONE_NEWUTS", "uts"),
        (0x0800_0000, "CLONE_NEWIPC", "ipc"),
        (0x1000_0000, "CLONE_NEWUSER", "user"),
        (0x2000_0000, "CLONE_NEWPID", "pid"),
        (0x4000_0000, "CLONE_NEWNET", "net"),
        (0x80, "CLONE_NEWTIME", "time"),
    ];
    let table: Vec<(u64, &str)> = NAMESPACES
        .iter()
        .map(|(bit, flag, _)| (*bit, *flag))
        .collect();
    flag_names(v, &table)
        .into_iter()
        .filter_map(|flag| {
            NAMESPACES
                .iter()
                .find(|(_, name, _)| *name == flag)
                .map(|(_, _, short)| short.to_string())
        })
        .collect()
}

/// A capability bit set (number) or list of names as `CAP_*` names.
fn capabilities(v: &Value) -> Vec<String> {
    const CAPS: [&str; 41] = [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ];
    match unwrap(v) {
        Value::Array(_) => strings(Some(v))
            .into_iter()
            .map(|c| {
                // v1beta1 writes the enum names, one of them without its prefix.
                if c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                }
            })
            .collect(),
        other => match as_u64(other) {
            Some(bits) => CAPS
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1u64 << i) != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
            None => Vec::new(),
        },
    }
}

/// A ptrace request as (number, name): from the number, or from the parsed name.
fn ptrace_request(v: &Value) -> Option<(i64, Option<String>)> {
    const REQUESTS: &[(i64, &str)] = &[
        (0, "PTRACE_TRACEME"),
        (1, "PTRACE_PEEKTEXT"),
        (2, "PTRACE_PEEKDATA"),
        (3, "PTRACE_PEEKUSR"),
        (4, "PTRACE_POKETEXT"),
        (5, "PTRACE_POKEDATA"),
        (6, "PTRACE_POKEUSR"),
        (7, "PTRACE_CONT"),
        (8, "PTRACE_KILL"),
        (9, "PTRACE_SINGLESTEP"),
        (12, "PTRACE_GETREGS"),
        (13, "PTRACE_SETREGS"),
        (14, "PTRACE_GETFPREGS"),
        (15, "PTRACE_SETFPREGS"),
        (16, "PTRACE_ATTACH"),
        (17, "PTRACE_DETACH"),
        (18, "PTRACE_GETFPXREGS"),
        (19, "PTRACE_SETFPXREGS"),
        (24, "PTRACE_SYSCALL"),
        (0x4200, "PTRACE_SETOPTIONS"),
        (0x4201, "PTRACE_GETEVENTMSG"),
        (0x4202, "PTRACE_GETSIGINFO"),
        (0x4203, "PTRACE_SETSIGINFO"),
        (0x4204, "PTRACE_GETREGSET"),
        (0x4205, "PTRACE_SETREGSET"),
        (0x4206, "PTRACE_SEIZE"),
        (0x4207, "PTRACE_INTERRUPT"),
        (0x4208, "PTRACE_LISTEN"),
        (0x4209, "PTRACE_PEEKSIGINFO"),
    ];
    if let Some(number) = number_i64(v) {
        let name = REQUESTS
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, s)| s.to_string());
        return Some((number, name));
    }
    let name = v.as_str().filter(|s| !s.is_empty())?;
    let number = REQUESTS
        .iter()
        .find(|(_, s)| *s == name)
        .map(|(n, _)| *n)
        .unwrap_or(-1);
    Some((number, Some(name.to_string())))
}

fn signal_name(v: &Value) -> Option<String> {
    const SIGNALS: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    if let Some(name) = v.as_str().filter(|s| s.parse::<i64>().is_err()) {
        return (!name.is_empty()).then(|| name.to_string());
    }
    match number_i64(v)? {
        0 => None,
        n => Some(
            usize::try_from(n - 1)
                .ok()
                .and_then(|i| SIGNALS.get(i))
                .map_or_else(|| n.to_string(), |s| s.to_string()),
        ),
    }
}

/// The cluster-unique id of the process Tracee names by an entity id on a host.
pub fn entity_process_id(host: &str, entity: u32) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("tracee-entity:{host}:{entity}").as_bytes());
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::runtime::RuntimeEvent;

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/runtime/tracee/docs-v0.19.0"
    );

    /// Every corpus line, with its file name.
    fn corpus() -> Vec<(String, Value)> {
        let mut files: Vec<_> = std::fs::read_dir(CORPUS)
            .expect("corpus folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        let mut lines = Vec::new();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            for line in std::fs::read_to_string(&file).unwrap().lines() {
                if !line.trim().is_empty() {
                    lines.push((name.clone(), serde_json::from_str(line).expect("json")));
                }
            }
        }
        lines
    }

    fn normalized(value: &Value) -> RuntimeEvent {
        match normalize(value, "prod") {
            Ok(Parsed::Event(event)) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn every_corpus_line_is_read() {
        let lines = corpus();
        assert_eq!(lines.len(), 87);
        let mut events = 0;
        let mut dns = 0;
        for (file, value) in &lines {
            let object = value.as_object().unwrap();
            assert!(is_tracee(object), "{file}: not detected as Tracee");
            assert_eq!(super::super::detect(value), Some(Sensor::Tracee), "{file}");
            match normalize(value, "prod") {
                Ok(Parsed::Event(event)) => {
                    events += 1;
                    assert_eq!(event.sensor, "tracee");
                    assert_eq!(event.cluster, "prod");
                    assert!(
                        event.time > 1_600_000_000_000_000,
                        "{file}: time {}",
                        event.time
                    );
                    assert!(!event.process.id.is_empty(), "{file}: no process id");
                    assert!(event.event_id.is_empty() && event.raw.is_none());
                    let name = value["eventName"].as_str().unwrap();
                    if name.starts_with("net_packet_dns") {
                        dns += 1;
                        assert!(matches!(event.activity, Activity::Dns(_)), "{file}: {name}");
                    } else if name.starts_with("net_packet_") {
                        assert!(
                            matches!(
                                event.activity,
                                Activity::Socket(SocketActivity {
                                    operation: SocketOperation::Send,
                                    ..
                                })
                            ),
                            "{file}: {name}"
                        );
                    }
                }
                Ok(Parsed::NotAnEvent(_)) => {}
                other => panic!("{file}: {other:?}"),
            }
        }
        assert_eq!(dns, 17);
        // read, vfs_read, clone, close are the only events without an activity.
        assert_eq!(events, 87 - 2 - 2 - 1 - 1);
    }

    #[test]
    fn dns_request_response_and_message() {
        let lines = corpus();
        let find = |file: &str, index: usize| {
            lines
                .iter()
                .filter(|(f, _)| f.ends_with(file))
                .nth(index)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let request = normalized(&find("net_packet_dns_request.jsonl", 0));
        assert_eq!(
            request.activity,
            Activity::Dns(DnsActivity {
                query_name: "www.zip.net".into(),
                query_type: Some("AAAA".into()),
                response: false,
                answers: vec![],
                listed: vec![],
            })
        );
        assert_eq!(request.process.name, "systemd-resolve");
        assert_eq!(request.process.pid, Some(472));

        let response = normalized(&find("net_packet_dns_response.jsonl", 0));
        assert_eq!(
            response.activity,
            Activity::Dns(DnsActivity {
                query_name: "www.zip.net".into(),
                query_type: Some("A".into()),
                response: true,
                answers: vec!["amazonas.uol.com.br".into(), "200.147.100.53".into()],
                listed: vec![],
            })
        );

        // `net_packet_dns`: the whole message; the 8th line is a response (QR=1).
        let messages: Vec<_> = lines
            .iter()
            .filter(|(f, _)| f.ends_with("__net_packet_dns.jsonl"))
            .map(|(_, v)| normalized(v))
            .collect();
        let Activity::Dns(query) = &messages[0].activity else {
            panic!("{:?}", messages[0].activity)
        };
        assert_eq!(query.query_name, "www.uol.com.br");
        assert!(!query.response);
        let answered = messages
            .iter()
            .find_map(|m| match &m.activity {
                Activity::Dns(d) if d.response && d.answers.len() == 5 => Some(d.clone()),
                _ => None,
            })
            .expect("the www.uol.com.br response");
        assert_eq!(answered.query_name, "www.uol.com.br");
        assert_eq!(
            answered.answers,
            [
                "dftex7xfha8fh.cloudfront.net",
                "108.139.182.81",
                "108.139.182.15",
                "108.139.182.88",
                "108.139.182.16"
            ]
        );
    }

    #[test]
    fn anti_debugging_signature_is_an_alert() {
        let (_, value) = corpus()
            .into_iter()
            .find(|(_, v)| v["eventName"] == "Anti-Debugging detected")
            .unwrap();
        let event = normalized(&value);
        let Activity::Alert(alert) = &event.activity else {
            panic!("{:?}", event.activity)
        };
        assert_eq!(alert.rule, "TRC-102 Anti-Debugging detected");
        assert_eq!(alert.priority.as_deref(), Some("LOW"));
        assert!(
            alert
                .output
                .as_deref()
                .unwrap()
                .starts_with("A process used anti-debugging")
        );
        assert!(alert.tags.is_empty());
        assert!(
            alert
                .fields
                .contains(&("external_id".into(), "T1622".into()))
        );
        assert!(
            alert
                .fields
                .contains(&("Category".into(), "defense-evasion".into()))
        );
        assert_eq!(event.process.name, "strace");
        assert_eq!(event.process.uid, Some(1000));
        assert_eq!(event.node, "ubuntu-jammy");
        // Epoch-based thread start of the leader thread: the process start.
        assert_eq!(event.process.start_time, Some(1_680_119_087_787_109));
    }

    #[test]
    fn golden_sched_process_exec() {
        let (_, value) = corpus()
            .into_iter()
            .find(|(_, v)| v["eventName"] == "sched_process_exec")
            .unwrap();
        let mut expected = process("/usr/bin/exa");
        expected.id = derived_process_id("fujitsu", 2578324, 620317257297855);
        expected.arguments = vec!["--color=auto".into()];
        expected.command_line = "exa --color=auto".into();
        expected.pid = Some(2578324);
        expected.namespace_pid = Some(2578324);
        expected.uid = Some(1000);
        // `threadStartTime` 620317257297855 counts from boot (2022 Tracee): no start time.
        expected.start_time = None;
        let expected = RuntimeEvent {
            cluster: "prod".into(),
            node: "fujitsu".into(),
            sensor: "tracee".into(),
            event_id: String::new(),
            time: 1_657_295_236_470_126,
            process: expected,
            lineage: vec![],
            container: None,
            pod: None,
            workload: None,
            activity: Activity::Exec,
            policy: None,
            tags: vec![],
            raw: None,
        };
        assert_eq!(normalized(&value), expected);
    }

    #[test]
    fn execve_carries_policy_and_environment() {
        let (_, value) = corpus()
            .into_iter()
            .find(|(f, v)| f.starts_with("tutorials") && v["eventName"] == "execve")
            .unwrap();
        let event = normalized(&value);
        assert_eq!(event.policy.as_deref(), Some("execve_event"));
        assert_eq!(event.process.executable_path, "/opt/cni/bin/bridge");
        assert_eq!(event.process.name, "bridge");
        assert_eq!(event.process.pid, Some(3242201));
        assert_eq!(event.process.namespace_pid, Some(35694));
        assert_eq!(event.process.uid, Some(0));

        let (_, ls) = corpus()
            .into_iter()
            .find(|(_, v)| v["eventName"] == "execve" && v["args"][0]["value"] == "/bin/ls")
            .unwrap();
        let ls = normalized(&ls);
        assert_eq!(ls.process.command_line, "ls");
        assert!(ls.process.arguments.is_empty());
        assert!(
            ls.process
                .environment
                .contains(&("SHELL".into(), "/bin/bash".into()))
        );
    }

    #[test]
    fn file_open_flags_and_container() {
        let lines = corpus();
        let write = lines
            .iter()
            .find(|(f, v)| f.contains("forensics") && v["eventName"] == "security_file_open")
            .map(|(_, v)| normalized(v))
            .unwrap();
        let Activity::File(file) = &write.activity else {
            panic!()
        };
        assert_eq!(file.operation, FileOperation::Write);
        assert_eq!(file.path, "/tmp/testing.txt");
        assert_eq!(
            file.flags,
            ["O_WRONLY", "O_CREAT", "O_TRUNC", "O_LARGEFILE"]
        );

        let numeric = lines
            .iter()
            .find(|(f, v)| f.contains("output-formats") && v["eventName"] == "openat")
            .map(|(_, v)| normalized(v))
            .unwrap();
        let Activity::File(file) = &numeric.activity else {
            panic!()
        };
        assert_eq!(file.operation, FileOperation::Open);
        assert_eq!(file.flags, ["O_RDONLY", "O_CLOEXEC"]);

        let http = lines
            .iter()
            .find(|(_, v)| v["containerId"].as_str().is_some_and(|c| !c.is_empty()))
            .map(|(_, v)| normalized(v))
            .unwrap();
        let container = http.container.as_ref().unwrap();
        assert_eq!(
            container.id,
            "95e88e281c4b47994e0d17ac74b83761fbc3ea570c3f1d4b98b6501ecc00dd84"
        );
        // Inside a container `hostName` is the container's, not the node's.
        assert_eq!(http.node, "");
        let Activity::Socket(socket) = &http.activity else {
            panic!()
        };
        assert_eq!(socket.protocol.as_deref(), Some("http"));
        assert_eq!(socket.family, SocketFamily::Inet);
        assert_eq!(socket.local.as_ref().unwrap().address, "172.17.0.2");
        assert_eq!(socket.local_port, Some(8080));
        assert_eq!(socket.remote.as_ref().unwrap().address, "192.168.100.11");
    }

    #[test]
    fn parent_and_child_share_the_entity_id() {
        let parent = json!({"timestamp": 1700000000000000000u64, "eventName": "sched_process_exec",
            "processId": 10, "hostProcessId": 10, "hostThreadId": 10, "hostName": "node-a",
            "processEntityId": 111, "parentEntityId": 1, "processName": "sh",
            "args": [{"name": "pathname", "type": "const char*", "value": "/bin/sh"}]});
        let child = json!({"timestamp": 1700000000000001000u64, "eventName": "security_socket_connect",
            "processId": 11, "hostProcessId": 11, "hostName": "node-a",
            "processEntityId": 222, "parentEntityId": 111, "processName": "nc",
            "executable": {"path": "/usr/bin/nc"},
            "args": [{"name": "sockfd", "value": 3}, {"name": "type", "value": "SOCK_STREAM"},
                {"name": "remote_addr", "type": "SockAddr",
                 "value": {"sa_family": "AF_INET", "sin_addr": "203.0.113.9", "sin_port": "4444"}}]});
        let parent = normalized(&parent);
        let child = normalized(&child);
        assert_eq!(parent.process.id, entity_process_id("node-a", 111));
        assert_eq!(child.process.parent_id.as_ref(), Some(&parent.process.id));
        assert_ne!(entity_process_id("node-b", 111), parent.process.id);
        assert_eq!(
            child.activity,
            Activity::Socket(SocketActivity {
                operation: SocketOperation::Connect,
                family: SocketFamily::Inet,
                protocol: Some("tcp".into()),
                local: None,
                local_port: None,
                remote: Some(address("203.0.113.9")),
                remote_port: Some(4444),
                unix_path: None,
            })
        );
        assert_eq!(child.process.name, "nc");
    }

    #[test]
    fn syscall_and_hook_events() {
        let base = |name: &str, args: Value| {
            json!({"timestamp": 1700000000000000000u64, "eventName": name, "processId": 5,
                "hostProcessId": 5, "hostName": "n", "processEntityId": 9, "processName": "x",
                "args": args})
        };
        let activity = |name: &str, args: Value| normalized(&base(name, args)).activity;
        assert_eq!(
            activity(
                "ptrace",
                json!([{"name": "request", "value": "PTRACE_POKETEXT"}, {"name": "pid", "value": 42}])
            ),
            Activity::Ptrace(PtraceActivity {
                request: 4,
                request_name: Some("PTRACE_POKETEXT".into()),
                target_pid: Some(42)
            })
        );
        assert_eq!(
            activity("ptrace", json!([{"name": "request", "value": 0}])),
            Activity::Ptrace(PtraceActivity {
                request: 0,
                request_name: Some("PTRACE_TRACEME".into()),
                target_pid: None
            })
        );
        assert_eq!(
            activity(
                "memfd_create",
                json!([{"name": "name", "value": "x"}, {"name": "flags", "value": 3}])
            ),
            Activity::MemfdCreate(MemfdActivity {
                name: "x".into(),
                flags: vec!["MFD_CLOEXEC".into(), "MFD_ALLOW_SEALING".into()]
            })
        );
        assert_eq!(
            activity(
                "security_sb_mount",
                json!([{"name": "dev_name", "value": "/dev/sda1"},
                {"name": "path", "value": "/mnt"}, {"name": "type", "value": "ext4"},
                {"name": "flags", "value": 4096}])
            ),
            Activity::Mount(MountActivity {
                source: Some("/dev/sda1".into()),
                target: "/mnt".into(),
                file_system_type: Some("ext4".into()),
                flags: vec!["MS_BIND".into()]
            })
        );
        assert_eq!(
            activity(
                "setns",
                json!([{"name": "fd", "value": 3}, {"name": "nstype", "value": 0x4000_0000}])
            ),
            Activity::NamespaceChange(NamespaceActivity {
                operation: "setns".into(),
                namespaces: vec!["net".into()],
                target_pid: None
            })
        );
        assert_eq!(
            activity(
                "commit_creds",
                json!([
                {"name": "old_cred", "value": {"Uid": 1000, "Euid": 1000, "Gid": 1000, "Egid": 1000, "CapEffective": 0}},
                {"name": "new_cred", "value": {"Uid": 1000, "Euid": 0, "Gid": 1000, "Egid": 1000, "CapEffective": 2097152}}])
            ),
            Activity::Credentials(CredentialsActivity {
                operation: "commit_creds".into(),
                uid: None,
                euid: Some(0),
                gid: None,
                egid: None,
                capabilities: vec!["CAP_SYS_ADMIN".into()]
            })
        );
        assert_eq!(
            activity(
                "security_inode_rename",
                json!([{"name": "old_path", "value": "/a"}, {"name": "new_path", "value": "/b"}])
            ),
            Activity::File(FileActivity {
                operation: FileOperation::Rename,
                path: "/a".into(),
                target_path: Some("/b".into()),
                flags: vec![],
                mode: None
            })
        );
        assert_eq!(
            activity(
                "security_kernel_read_file",
                json!([{"name": "pathname", "value": "/tmp/r.ko"}, {"name": "type", "value": "kernel-module"}])
            ),
            kernel_module(None, Some("/tmp/r.ko"))
        );
        assert!(matches!(
            normalize(
                &base(
                    "security_kernel_read_file",
                    json!([{"name": "type", "value": 1}])
                ),
                "c"
            ),
            Ok(Parsed::NotAnEvent(_))
        ));
        assert_eq!(
            activity(
                "security_socket_connect",
                json!([{"name": "remote_addr",
                "value": {"sa_family": "AF_UNIX", "sun_path": "/var/run/docker.sock"}}])
            ),
            Activity::Socket(SocketActivity {
                operation: SocketOperation::Connect,
                family: SocketFamily::Unix,
                protocol: None,
                local: None,
                local_port: None,
                remote: None,
                remote_port: None,
                unix_path: Some("/var/run/docker.sock".into())
            })
        );
        assert_eq!(
            activity(
                "sched_process_exit",
                json!([{"name": "exit_code", "value": 0}, {"name": "signal_code", "value": 9}])
            ),
            Activity::Exit(ExitActivity {
                status: Some(0),
                signal: Some("SIGKILL".into())
            })
        );
        assert_eq!(
            activity(
                "shared_object_loaded",
                json!([{"name": "pathname", "value": "/tmp/evil.so"}])
            ),
            Activity::LibraryLoad(LibraryActivity {
                path: "/tmp/evil.so".into()
            })
        );
        assert!(matches!(
            normalize(&base("sched_switch", json!([])), "c"),
            Ok(Parsed::NotAnEvent(NO_ACTIVITY))
        ));
    }

    /// A `sched_process_exec` as Tracee `main` prints it (`v1beta1.Event`, custom marshaler).
    const V1BETA1_EXEC: &str = r#"{"timestamp":"2025-11-20T10:15:30.123456789Z","id":1015,"name":"sched_process_exec",
        "policies":{"matched":["peregrine","default"]},
        "workload":{"process":{"executable":{"path":"/usr/bin/curl"},"unique_id":2718281828,"host_pid":48213,"pid":57,
            "real_user":{"id":0},
            "thread":{"start_time":"2025-11-20T10:15:30.120000Z","name":"curl","unique_id":2718281828,"host_tid":48213,"tid":57,"syscall":"execve"},
            "ancestors":[{"executable":{"path":"/bin/sh"},"unique_id":31415926,"host_pid":48200,"pid":1,
                "thread":{"start_time":"2025-11-20T10:00:00Z","name":"sh","host_tid":48200,"tid":1}},
                {"unique_id":27182,"host_pid":48100,"pid":0,"thread":{"name":"containerd-shim"}}]},
          "container":{"id":"5f2a9c0d7e1b","name":"web","image":{"id":"sha256:9a1b","repo_digests":["docker.io/library/nginx@sha256:9a1b"],"name":"docker.io/library/nginx:1.25"},"started":true},
          "k8s":{"pod":{"name":"web-5d9f","uid":"0b5c6f4e-1111-2222-3333-444455556666","labels":{"app":"web","tier":"front"}},"namespace":{"name":"shop"}}},
        "data":[{"name":"cmdpath","str":"/usr/bin/curl"},{"name":"pathname","str":"/usr/bin/curl"},
            {"name":"argv","str_array":{"value":["curl","-s","http://169.254.169.254/latest/meta-data/"]}},
            {"name":"inode_mode","u_int32":33261},{"name":"ctime","u_int64":"1732454400000000000"},
            {"name":"sha256","str":"3B9F0C1F7E5A"},{"name":"pwd","str":"/app"}]}"#;

    #[test]
    fn v1beta1_exec() {
        let value: Value = serde_json::from_str(V1BETA1_EXEC).unwrap();
        assert_eq!(super::super::detect(&value), Some(Sensor::Tracee));
        let event = normalized(&value);
        assert_eq!(event.time, 1_763_633_730_123_456);
        assert_eq!(event.node, "");
        assert_eq!(event.policy.as_deref(), Some("peregrine,default"));
        assert_eq!(event.activity, Activity::Exec);
        let p = &event.process;
        assert_eq!(p.id, entity_process_id("", 2718281828));
        assert_eq!(p.parent_id, Some(entity_process_id("", 31415926)));
        assert_eq!(p.executable_path, "/usr/bin/curl");
        assert_eq!(p.name, "curl");
        assert_eq!(
            p.arguments,
            ["-s", "http://169.254.169.254/latest/meta-data/"]
        );
        assert_eq!(
            p.command_line,
            "curl -s http://169.254.169.254/latest/meta-data/"
        );
        assert_eq!(
            (p.pid, p.namespace_pid, p.uid),
            (Some(48213), Some(57), Some(0))
        );
        assert_eq!(p.start_time, Some(1_763_633_730_120_000));
        assert_eq!(p.sha256.as_deref(), Some("3b9f0c1f7e5a"));
        assert_eq!(p.cwd.as_deref(), Some("/app"));
        assert_eq!(event.lineage.len(), 2);
        assert_eq!(event.lineage[0].executable_path, "/bin/sh");
        assert_eq!(event.lineage[0].pid, Some(48200));
        assert_eq!(
            event.lineage[0].parent_id,
            Some(event.lineage[1].id.clone())
        );
        assert_eq!(event.lineage[1].name, "containerd-shim");
        assert_eq!(
            event.container,
            Some(Container {
                id: "5f2a9c0d7e1b".into(),
                runtime: None,
                name: Some("web".into()),
                image: Some("docker.io/library/nginx:1.25".into()),
                image_id: Some("docker.io/library/nginx@sha256:9a1b".into()),
                privileged: None,
            })
        );
        assert_eq!(
            event.pod,
            Some(Pod {
                namespace: "shop".into(),
                name: "web-5d9f".into(),
                uid: Some("0b5c6f4e-1111-2222-3333-444455556666".into()),
                labels: vec![
                    ("app".into(), "web".into()),
                    ("tier".into(), "front".into())
                ],
            })
        );
    }

    #[test]
    fn v1beta1_camel_case_dns_and_threat() {
        // Stock protojson: camelCase, wrapped numbers, `{seconds,nanos}`, value under `value`.
        let dns = json!({"timestamp": {"seconds": "1732454400", "nanos": 5000},
            "id": "net_packet_dns_response", "name": "net_packet_dns_response",
            "workload": {"process": {"uniqueId": {"value": 77}, "hostPid": {"value": 900},
                "pid": {"value": 900}, "realUser": {"id": {"value": 101}},
                "thread": {"name": "coredns", "hostTid": 900}}},
            "data": [{"name": "metadata", "value": {"packetMetadata": {"src_ip": "10.96.0.10",
                        "dst_ip": "10.0.0.5", "src_port": 53, "dst_port": 40000, "protocol": 17}}},
                     {"name": "dns_response", "value": {"dnsResponses": {"responses": [
                        {"dns_query_data": {"query": "metadata.internal.", "query_type": "A"},
                         "dns_answer": [{"type": "A", "ttl": 5, "answer": "169.254.169.254"}]}]}}}]});
        let event = normalized(&dns);
        assert_eq!(event.time, 1_732_454_400_000_005);
        assert_eq!(event.process.id, entity_process_id("", 77));
        assert_eq!(event.process.name, "coredns");
        assert_eq!(event.process.uid, Some(101));
        assert_eq!(
            event.activity,
            Activity::Dns(DnsActivity {
                query_name: "metadata.internal".into(),
                query_type: Some("A".into()),
                response: true,
                answers: vec!["169.254.169.254".into()],
                listed: vec![],
            })
        );

        let threat = json!({"timestamp": "2025-11-20T10:15:31Z", "id": 6018, "name": "anti_debugging",
            "workload": {"process": {"unique_id": 5, "host_pid": 7, "executable": {"path": "/tmp/x"}}},
            "threat": {"description": "A process used anti-debugging techniques", "severity": 3,
                "name": "Anti-Debugging detected",
                "mitre": {"tactic": {"name": "Defense Evasion"}, "technique": {"id": "T1622", "name": "Debugger Evasion"}},
                "properties": {"signatureID": "TRC-102", "Category": "defense-evasion"}},
            "data": [{"name": "ptrace_request", "str": "PTRACE_TRACEME"}]});
        let event = normalized(&threat);
        let Activity::Alert(alert) = event.activity else {
            panic!()
        };
        assert_eq!(alert.rule, "TRC-102 Anti-Debugging detected");
        assert_eq!(alert.priority.as_deref(), Some("HIGH"));
        assert!(
            alert
                .fields
                .contains(&("mitre.technique.id".into(), "T1622".into()))
        );
        assert!(
            alert
                .fields
                .contains(&("args.ptrace_request".into(), "PTRACE_TRACEME".into()))
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let good: Value = serde_json::from_str(V1BETA1_EXEC).unwrap();
        let (_, legacy) = corpus()
            .into_iter()
            .find(|(_, v)| v["eventName"] == "sched_process_exec")
            .unwrap();
        let odd = [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!({"eventName": 5, "processId": 1}),
            json!({"eventName": "execve", "processId": "x", "timestamp": 1}),
            json!({"eventName": "execve", "processId": 1}),
            json!({"eventName": "execve", "processId": 1, "timestamp": 1, "args": {"a": 1}}),
            json!({"eventName": "execve", "processId": 1, "timestamp": 1, "args": [1, null, {"name": 3}, {"name": "argv", "value": {"x": 1}}]}),
            json!({"eventName": "execve", "processId": 1e300, "hostProcessId": -1, "timestamp": 18446744073709551615u64}),
            json!({"eventName": "execve", "processId": 1, "timestamp": "soon"}),
            json!({"eventName": "execve", "processId": 1, "timestamp": {"seconds": "9223372036854775807", "nanos": 1}}),
            json!({"eventName": "ptrace", "processId": 1, "timestamp": 1, "args": [{"name": "request", "value": [1]}]}),
            json!({"eventName": "ptrace", "processId": 1, "timestamp": 1, "args": [{"name": "request", "value": "PTRACE_BOGUS"}]}),
            json!({"eventName": "net_packet_dns", "processId": 1, "timestamp": 1, "args": [{"name": "proto_dns", "value": {"QR": "y", "questions": {"a": 1}, "answers": [1, {"IP": 5}]}}]}),
            json!({"eventName": "net_packet_tcp", "processId": 1, "timestamp": 1, "args": [{"name": "src", "value": 99}, {"name": "src_port", "value": 70000}]}),
            json!({"eventName": "security_socket_connect", "processId": 1, "timestamp": 1, "args": [{"name": "remote_addr", "value": "nope"}]}),
            json!({"eventName": "sched_process_exit", "processId": 1, "timestamp": 1, "args": [{"name": "signal_code", "value": -5}, {"name": "exit_code", "value": 99999999999u64}]}),
            json!({"eventName": "x", "processId": 1, "timestamp": 1, "metadata": {"Properties": [1], "Tags": "t"}}),
            json!({"eventName": "x", "processId": 1, "timestamp": 1, "metadata": {"Properties": {"Severity": {"deep": [[[]]]}}}, "container": 7, "kubernetes": []}),
            json!({"name": "x", "workload": 3}),
            json!({"name": "x", "workload": {"process": {"ancestors": [1, "a", {"unique_id": "q"}]}}, "timestamp": 1, "data": [{"name": "n"}, {"value": {}}, 5]}),
            json!({"name": "x", "workload": {}, "timestamp": 1, "data": {"a": 1}}),
            json!({"name": "x", "workload": {}, "timestamp": 1, "threat": {"properties": "p", "mitre": 1, "severity": -9}}),
            json!({"name": ["x"], "workload": {}}),
        ];
        for value in odd.iter().chain([&good, &legacy]) {
            let _ = normalize(value, "c");
            let options = crate::normalize::Normalizer {
                cluster: "c".into(),
                keep_raw: true,
            };
            let _ = super::super::normalize(&options, value, None);
        }
        // Not Tracee at all, or the wrong type where a Tracee event must have its value.
        assert!(normalize(&json!({"foo": 1}), "c").is_err());
        assert!(normalize(&odd[4], "c").is_err());
        assert!(normalize(&odd[6], "c").is_err());
        assert!(normalize(&odd[7], "c").is_err());
        assert!(normalize(&odd[10], "c").is_err());
        // Odd numbers are left out, not fatal.
        assert!(matches!(normalize(&odd[5], "c"), Ok(Parsed::Event(_))));

        // Every value replaced by an odd one, one key at a time, in both shapes.
        let replacements = [
            json!(null),
            json!(-1),
            json!("x"),
            json!([{}]),
            json!({"value": {}}),
            json!(1e308),
        ];
        for base in [&good, &legacy] {
            let object = base.as_object().unwrap();
            for key in object.keys() {
                for replacement in &replacements {
                    let mut changed = object.clone();
                    changed.insert(key.clone(), replacement.clone());
                    let _ = normalize(&Value::Object(changed), "c");
                }
            }
        }
    }
}
