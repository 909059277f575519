//! Falco's `json_output` alerts.
//!
//! Falco sends alerts only: one object when a rule matches, with the fields its output
//! template and Peregrine's `append_output` name in `output_fields` (runtime-sensors.md
//! §2.1). Fields Falco cannot resolve are `null` or `"<NA>"`; both read as absent. An
//! alert whose fields describe a syscall the contract has an activity for (a connect, an
//! exec, a write-open, a ptrace…) becomes that activity, with the Falco rule kept in
//! `policy`; every other alert passes on as [`Activity::Alert`] with all its fields.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::process_table::MAX_LINEAGE;
use super::{
    Parsed, RuntimeError, Sensor, address, as_i64, as_u32, as_u64, container_id,
    derived_process_id, event, micros, process, split_arguments,
};
use crate::runtime::{
    Activity, Address, Container, FileActivity, FileOperation, KernelModuleActivity, MemfdActivity,
    MountActivity, Pod, Process, PtraceActivity, SensorAlert, SocketActivity, SocketFamily,
    SocketOperation,
};

/// What Falco prints for a field it could not resolve.
const NOT_AVAILABLE: &str = "<NA>";

/// The only Falco source whose alerts are about processes on a node.
const SYSCALL_SOURCE: &str = "syscall";

/// Open flags that let the process change the file.
const WRITE_FLAGS: &[&str] = &[
    "O_WRONLY",
    "O_RDWR",
    "O_CREAT",
    "O_TRUNC",
    "O_APPEND",
    "O_TMPFILE",
];

/// Linux ptrace request numbers (`<linux/ptrace.h>`, x86 for the register requests), by
/// the names Falco prints.
const PTRACE_REQUESTS: &[(&str, i64)] = &[
    ("PTRACE_TRACEME", 0),
    ("PTRACE_PEEKTEXT", 1),
    ("PTRACE_PEEKDATA", 2),
    ("PTRACE_PEEKUSR", 3),
    ("PTRACE_PEEKUSER", 3),
    ("PTRACE_POKETEXT", 4),
    ("PTRACE_POKEDATA", 5),
    ("PTRACE_POKEUSR", 6),
    ("PTRACE_POKEUSER", 6),
    ("PTRACE_CONT", 7),
    ("PTRACE_KILL", 8),
    ("PTRACE_SINGLESTEP", 9),
    ("PTRACE_GETREGS", 12),
    ("PTRACE_SETREGS", 13),
    ("PTRACE_GETFPREGS", 14),
    ("PTRACE_SETFPREGS", 15),
    ("PTRACE_ATTACH", 16),
    ("PTRACE_DETACH", 17),
    ("PTRACE_GETFPXREGS", 18),
    ("PTRACE_SETFPXREGS", 19),
    ("PTRACE_OLDSETOPTIONS", 21),
    ("PTRACE_GET_THREAD_AREA", 25),
    ("PTRACE_SET_THREAD_AREA", 26),
    ("PTRACE_ARCH_PRCTL", 30),
    ("PTRACE_SYSEMU", 31),
    ("PTRACE_SYSEMU_SINGLESTEP", 32),
    ("PTRACE_SINGLEBLOCK", 33),
    ("PTRACE_SYSCALL", 24),
    ("PTRACE_SETOPTIONS", 0x4200),
    ("PTRACE_GETEVENTMSG", 0x4201),
    ("PTRACE_GETSIGINFO", 0x4202),
    ("PTRACE_SETSIGINFO", 0x4203),
    ("PTRACE_GETREGSET", 0x4204),
    ("PTRACE_SETREGSET", 0x4205),
    ("PTRACE_SEIZE", 0x4206),
    ("PTRACE_INTERRUPT", 0x4207),
    ("PTRACE_LISTEN", 0x4208),
    ("PTRACE_PEEKSIGINFO", 0x4209),
    ("PTRACE_GETSIGMASK", 0x420a),
    ("PTRACE_SETSIGMASK", 0x420b),
    ("PTRACE_SECCOMP_GET_FILTER", 0x420c),
    ("PTRACE_SECCOMP_GET_METADATA", 0x420d),
    ("PTRACE_GET_SYSCALL_INFO", 0x420e),
];

/// Normalizes one Falco alert (`json_output: true`) of source `syscall`.
pub fn normalize(value: &Value, cluster: &str) -> Result<Parsed, RuntimeError> {
    let object = value
        .as_object()
        .ok_or_else(|| error("a Falco alert is a JSON object"))?;
    let rule = match object.get("rule") {
        Some(Value::String(rule)) if !rule.is_empty() => rule.clone(),
        Some(Value::String(_)) => return Err(error("Falco alert with an empty `rule`")),
        Some(_) => return Err(error("Falco alert whose `rule` is not a string")),
        None => return Err(error("Falco alert without `rule`")),
    };
    match object.get("source") {
        None | Some(Value::Null) => {}
        Some(Value::String(source)) if source == SYSCALL_SOURCE => {}
        Some(Value::String(source)) => {
            return Err(error(format!(
                "Falco alert of source `{source}` is not a runtime event: only `syscall` \
                 alerts are (k8s_audit alerts belong to the audit-log stream)"
            )));
        }
        Some(_) => return Err(error("Falco alert whose `source` is not a string")),
    }
    let empty = Map::new();
    let fields = match object.get("output_fields") {
        None | Some(Value::Null) => Fields(&empty),
        Some(Value::Object(map)) => Fields(map),
        Some(_) => return Err(error("Falco alert whose `output_fields` is not an object")),
    };
    let time = match object.get("time") {
        Some(Value::String(text)) => micros(text)
            .or_else(|| fields.i64("evt.time").map(|ns| ns / 1000))
            .ok_or_else(|| {
                error(format!(
                    "Falco alert whose `time` ({text:?}) is not RFC 3339 and that has no `evt.time`"
                ))
            })?,
        Some(_) => return Err(error("Falco alert whose `time` is not a string")),
        None => return Err(error("Falco alert without `time`")),
    };
    let node = super::string(value, "hostname")
        .map(str::to_string)
        .or_else(|| fields.text("evt.hostname"))
        .unwrap_or_else(|| "unknown".to_string());
    let tags: Vec<String> = match object.get("tags") {
        Some(Value::Array(tags)) => tags
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };

    let mut main = main_process(&fields, &node);
    let lineage = lineage(&fields, &node);
    if main.parent_id.is_none() {
        main.parent_id = lineage
            .first()
            .map(|parent| parent.id.clone())
            .filter(|id| !id.is_empty());
    }
    let activity = activity(&fields).unwrap_or_else(|| {
        Activity::Alert(SensorAlert {
            rule: rule.clone(),
            priority: super::string(value, "priority").map(str::to_string),
            output: super::string(value, "output").map(str::to_string),
            tags: tags.clone(),
            fields: fields.all(),
        })
    });

    let mut normalized = event(cluster, &node, Sensor::Falco, time, main, activity);
    normalized.lineage = lineage;
    normalized.container = container(&fields);
    normalized.pod = pod(&fields);
    normalized.policy = Some(rule);
    normalized.tags = tags;
    Ok(Parsed::Event(Box::new(normalized)))
}

fn error(message: impl Into<String>) -> RuntimeError {
    RuntimeError(message.into())
}

/// `output_fields`, with `null`, `"<NA>"` and empty strings read as absent.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|value| present(value))
    }

    /// A string, or a number or boolean as text.
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn u32(&self, key: &str) -> Option<u32> {
        self.get(key).and_then(as_u32)
    }

    fn u16(&self, key: &str) -> Option<u16> {
        self.get(key)
            .and_then(as_u64)
            .and_then(|n| u16::try_from(n).ok())
    }

    fn i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(as_i64)
    }

    fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Value::Number(n) => n.as_u64().and_then(|n| match n {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The first of several keys that is present, as text.
    fn first_text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| self.text(key))
    }

    /// Every present field as (key, text), sorted by key.
    fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(_, value)| present(value))
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), text)
            })
            .collect();
        all.sort();
        all
    }

    /// `(suffix, value)` of every present key `prefix[suffix]`, e.g. `proc.aname[2]`.
    fn indexed(&self, prefix: &str) -> Vec<(&str, &Value)> {
        self.0
            .iter()
            .filter(|(_, value)| present(value))
            .filter_map(|(key, value)| {
                let index = key
                    .strip_prefix(prefix)?
                    .strip_prefix('[')?
                    .strip_suffix(']')?;
                Some((index, value))
            })
            .collect()
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty() && text != NOT_AVAILABLE,
        _ => true,
    }
}

/// The process the alert is about.
fn main_process(fields: &Fields, node: &str) -> Process {
    let command_line = fields.text("proc.cmdline");
    // Falco's cmdline is `proc.name` then the arguments.
    let first_word = command_line
        .as_deref()
        .and_then(|line| split_arguments(line).into_iter().next());
    let executable = fields
        .first_text(&["proc.exepath", "proc.exe", "proc.name"])
        .or(first_word.clone())
        .unwrap_or_default();
    let mut main = process(&executable);
    if let Some(name) = fields.text("proc.name").or(first_word) {
        main.name = name;
    }
    if let Some(line) = command_line {
        main.arguments = split_arguments(&line).into_iter().skip(1).collect();
        main.command_line = line;
    }
    main.cwd = fields.text("proc.cwd");
    main.pid = fields.u32("proc.pid");
    main.namespace_pid = fields.u32("proc.vpid");
    main.uid = fields.u32("user.uid");
    main.gid = fields.u32("group.gid");
    main.user_name = fields.text("user.name");
    let start = fields.i64("proc.pid.ts");
    main.start_time = start.map(|ns| ns / 1000);
    if let Some(pid) = main.pid {
        main.id = derived_process_id(node, pid, start.unwrap_or(0));
    }
    main.parent_id = fields
        .u32("proc.ppid")
        .map(|ppid| derived_process_id(node, ppid, fields.i64("proc.ppid.ts").unwrap_or(0)));
    main.fileless = fields.bool("proc.is_exe_from_memfd").unwrap_or(false);
    if let Some(caps) = fields.text("thread.cap_effective") {
        main.capabilities = words(&caps);
    }
    let mut environment: Vec<(String, String)> = fields
        .indexed("proc.env")
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_string(), scalar_text(value)?)))
        .collect();
    environment.sort();
    main.environment = environment;
    main
}

/// The ancestors Falco names (`proc.aname[N]`, `proc.apid[N]`, `proc.aexepath[N]`, and
/// `proc.p*` for the parent), parent first, each linked to the next by `parent_id`.
fn lineage(fields: &Fields, node: &str) -> Vec<Process> {
    #[derive(Default)]
    struct Ancestor {
        name: Option<String>,
        pid: Option<u32>,
        executable: Option<String>,
        command_line: Option<String>,
    }
    let mut levels: BTreeMap<usize, Ancestor> = BTreeMap::new();
    for (prefix, slot) in [("proc.aname", 0), ("proc.apid", 1), ("proc.aexepath", 2)] {
        for (index, value) in fields.indexed(prefix) {
            let Ok(level) = index.parse::<usize>() else {
                continue;
            };
            if level == 0 || level > MAX_LINEAGE {
                continue;
            }
            let ancestor = levels.entry(level).or_default();
            match slot {
                0 => ancestor.name = scalar_text(value),
                1 => ancestor.pid = as_u32(value),
                _ => ancestor.executable = scalar_text(value),
            }
        }
    }
    let parent_pid = fields.u32("proc.ppid");
    let parent = Ancestor {
        name: fields.text("proc.pname"),
        pid: parent_pid,
        executable: fields.first_text(&["proc.pexepath", "proc.pexe"]),
        command_line: fields.text("proc.pcmdline"),
    };
    let parent_known = parent.name.is_some()
        || parent.pid.is_some()
        || parent.executable.is_some()
        || parent.command_line.is_some();
    if parent_known {
        let first = levels.entry(1).or_default();
        first.name = first.name.take().or(parent.name);
        first.pid = first.pid.or(parent.pid);
        first.executable = first.executable.take().or(parent.executable);
        first.command_line = parent.command_line;
    }

    let mut lineage: Vec<Process> = Vec::new();
    // Parent first and without gaps: a level missing ends what Falco tells of the tree.
    for level in 1.. {
        let Some(ancestor) = levels.remove(&level) else {
            break;
        };
        let first_word = ancestor
            .command_line
            .as_deref()
            .and_then(|line| split_arguments(line).into_iter().next());
        let executable = ancestor
            .executable
            .or(ancestor.name.clone())
            .or(first_word.clone())
            .unwrap_or_default();
        let mut entry = process(&executable);
        if let Some(name) = ancestor.name.or(first_word) {
            entry.name = name;
        }
        if let Some(line) = ancestor.command_line {
            entry.arguments = split_arguments(&line).into_iter().skip(1).collect();
            entry.command_line = line;
        }
        entry.pid = ancestor.pid;
        // The parent's start is known when it is the `proc.ppid` Falco timed.
        let start = (level == 1 && ancestor.pid.is_some() && ancestor.pid == parent_pid)
            .then(|| fields.i64("proc.ppid.ts"))
            .flatten();
        entry.start_time = start.map(|ns| ns / 1000);
        if let Some(pid) = ancestor.pid {
            entry.id = derived_process_id(node, pid, start.unwrap_or(0));
        }
        lineage.push(entry);
    }
    for i in 1..lineage.len() {
        let id = lineage[i].id.clone();
        if !id.is_empty() {
            lineage[i - 1].parent_id = Some(id);
        }
    }
    lineage
}

/// The container, unless the process runs on the node itself (`host`).
fn container(fields: &Fields) -> Option<Container> {
    let full = fields.first_text(&["container.full_id", "container.id"])?;
    let (id, prefix_runtime) = container_id(&full);
    if id.is_empty() || id == "host" {
        return None;
    }
    let repository = fields.text("container.image.repository");
    let image = match (&repository, fields.text("container.image.tag")) {
        (Some(repository), Some(tag)) => Some(format!("{repository}:{tag}")),
        _ => fields.text("container.image").or(repository.clone()),
    };
    let digest = match fields.get("container.image.digest") {
        Some(Value::Array(items)) => items.iter().filter(|v| present(v)).find_map(scalar_text),
        Some(value) => scalar_text(value),
        None => None,
    };
    let repository = repository.or_else(|| image.as_deref().map(|i| untagged(i).to_string()));
    let image_id = digest.map(|digest| match &repository {
        Some(repository) if !digest.contains('@') => format!("{repository}@{digest}"),
        _ => digest,
    });
    Some(Container {
        id,
        runtime: fields.text("container.type").or(prefix_runtime),
        name: fields.text("container.name"),
        image,
        image_id,
        privileged: fields.bool("container.privileged"),
    })
}

/// An image reference without its tag (`localhost:5000/app:1` → `localhost:5000/app`).
fn untagged(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_start..].rfind(':') {
        Some(colon) => &image[..name_start + colon],
        None => image,
    }
}

fn pod(fields: &Fields) -> Option<Pod> {
    let namespace = fields.text("k8s.ns.name")?;
    let name = fields.text("k8s.pod.name")?;
    let mut labels = match fields.get("k8s.pod.labels") {
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(_, value)| present(value))
            .filter_map(|(key, value)| Some((key.clone(), scalar_text(value)?)))
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(label)
            .collect(),
        Some(Value::String(text)) => {
            let text = text.trim();
            let text = text
                .strip_prefix('(')
                .and_then(|t| t.strip_suffix(')'))
                .unwrap_or(text);
            text.split(',').filter_map(label).collect()
        }
        _ => Vec::new(),
    };
    for (key, value) in fields.indexed("k8s.pod.label") {
        if let Some(value) = scalar_text(value)
            && !labels.iter().any(|(k, _)| k == key)
        {
            labels.push((key.to_string(), value));
        }
    }
    labels.sort();
    labels.dedup();
    Some(Pod {
        namespace,
        name,
        uid: fields.text("k8s.pod.uid"),
        labels,
    })
}

/// `key:value` (Falco's list rendering of a label).
fn label(entry: &str) -> Option<(String, String)> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    Some(match entry.split_once(':') {
        Some((key, value)) => (key.trim().to_string(), value.trim().to_string()),
        None => (entry.to_string(), String::new()),
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    if !present(value) {
        return None;
    }
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The typed activity of the syscall the alert fired on, when its fields tell enough.
fn activity(fields: &Fields) -> Option<Activity> {
    let kind = fields.text("evt.type")?;
    match kind.as_str() {
        "execve" | "execveat" => Some(Activity::Exec),
        "connect" => socket(fields, SocketOperation::Connect),
        "accept" | "accept4" => socket(fields, SocketOperation::Accept),
        "listen" => socket(fields, SocketOperation::Listen),
        "bind" => socket(fields, SocketOperation::Bind),
        "sendto" | "sendmsg" | "sendmmsg"
            if fields.get("fd.rip").is_some() || fields.get("fd.rport").is_some() =>
        {
            socket(fields, SocketOperation::Send)
        }
        "open" | "openat" | "openat2" | "creat" => open(fields),
        "rename" | "renameat" | "renameat2" => file(
            fields,
            FileOperation::Rename,
            &["evt.arg.oldpath", "fs.path.source", "fd.name"],
            &["evt.arg.newpath", "fs.path.target"],
        ),
        "unlink" | "unlinkat" => file(
            fields,
            FileOperation::Unlink,
            &["evt.arg.name", "evt.arg.path", "fs.path.name", "fd.name"],
            &[],
        ),
        // The new link is the path; the file it names is the target.
        "link" | "linkat" => file(
            fields,
            FileOperation::Link,
            &["evt.arg.newpath", "fs.path.target", "fd.name"],
            &["evt.arg.oldpath", "fs.path.source"],
        ),
        "symlink" | "symlinkat" => file(
            fields,
            FileOperation::Symlink,
            &["evt.arg.linkpath", "fs.path.target", "fd.name"],
            &["evt.arg.target", "fs.path.source"],
        ),
        "chmod" | "fchmod" | "fchmodat" => file(
            fields,
            FileOperation::Chmod,
            &[
                "evt.arg.filename",
                "evt.arg.path",
                "evt.arg.name",
                "fd.name",
            ],
            &[],
        ),
        "chown" | "lchown" | "fchown" | "fchownat" => file(
            fields,
            FileOperation::Chown,
            &[
                "evt.arg.path",
                "evt.arg.pathname",
                "evt.arg.name",
                "fd.name",
            ],
            &[],
        ),
        "ptrace" => Some(ptrace(fields)),
        "mount" => Some(Activity::Mount(MountActivity {
            source: fields.text("evt.arg.dev"),
            target: fields.text("evt.arg.dir")?,
            file_system_type: fields.text("evt.arg.type"),
            flags: fields
                .text("evt.arg.flags")
                .map_or_else(Vec::new, |f| flags(&f)),
        })),
        "memfd_create" => Some(Activity::MemfdCreate(MemfdActivity {
            name: fields.text("evt.arg.name").unwrap_or_default(),
            flags: fields
                .text("evt.arg.flags")
                .map_or_else(Vec::new, |f| flags(&f)),
        })),
        "userfaultfd" => Some(Activity::Userfaultfd),
        "init_module" | "finit_module" => Some(Activity::KernelModule(KernelModuleActivity {
            name: None,
            path: (kind == "finit_module")
                .then(|| fields.text("fd.name"))
                .flatten(),
            sha256: None,
            signed: None,
            tainted: Vec::new(),
        })),
        _ => None,
    }
}

fn socket(fields: &Fields, operation: SocketOperation) -> Option<Activity> {
    let fd_name = fields.text("fd.name");
    let mut family = match fields.text("fd.type").as_deref() {
        Some("ipv4") => Some(SocketFamily::Inet),
        Some("ipv6") => Some(SocketFamily::Inet6),
        Some("unix") => Some(SocketFamily::Unix),
        Some(_) => Some(SocketFamily::Other),
        None => None,
    };
    let mut activity = SocketActivity {
        operation,
        family: SocketFamily::Other,
        protocol: fields.text("fd.l4proto"),
        local: fields.text("fd.lip").map(|ip| address(&ip)),
        local_port: fields.u16("fd.lport"),
        remote: fields.text("fd.rip").map(|ip| address(&ip)),
        remote_port: fields.u16("fd.rport"),
        unix_path: None,
    };
    if family == Some(SocketFamily::Unix) {
        activity.unix_path = fd_name.as_deref().and_then(unix_path);
    } else if let Some(name) = fd_name.as_deref() {
        // `client:port->server:port`, when Falco gave the tuple but not its parts.
        let (local, remote) = endpoints(name, operation);
        fill(&mut activity.local, &mut activity.local_port, local);
        fill(&mut activity.remote, &mut activity.remote_port, remote);
    }
    if family.is_none() {
        family = [&activity.remote, &activity.local]
            .into_iter()
            .flatten()
            .find_map(|a: &Address| a.address.parse::<IpAddr>().ok())
            .map(|ip| match ip {
                IpAddr::V4(_) => SocketFamily::Inet,
                IpAddr::V6(_) => SocketFamily::Inet6,
            });
    }
    activity.family = family.unwrap_or(SocketFamily::Other);
    Some(Activity::Socket(activity))
}

type Endpoint = (IpAddr, Option<u16>);

/// Completes an address and port Falco left out from the end `fd.name` shows, when the
/// two agree.
fn fill(address_slot: &mut Option<Address>, port: &mut Option<u16>, end: Option<Endpoint>) {
    let Some((ip, end_port)) = end else {
        return;
    };
    match address_slot {
        None => *address_slot = Some(address(&ip.to_string())),
        Some(known) if known.address.parse::<IpAddr>().ok() != Some(ip) => return,
        Some(_) => {}
    }
    if port.is_none() {
        *port = end_port;
    }
}

/// The local and remote ends of Falco's socket `fd.name` (`cip:cport->sip:sport`).
fn endpoints(name: &str, operation: SocketOperation) -> (Option<Endpoint>, Option<Endpoint>) {
    match name.split_once("->") {
        Some((client, server)) => {
            let (client, server) = (endpoint(client), endpoint(server));
            match operation {
                SocketOperation::Accept => (server, client),
                _ => (client, server),
            }
        }
        None => match operation {
            SocketOperation::Bind | SocketOperation::Listen => (endpoint(name), None),
            _ => (None, None),
        },
    }
}

/// `1.2.3.4:80`, `[::1]:80`, `::1:80` or a bare address.
fn endpoint(text: &str) -> Option<Endpoint> {
    let text = text.trim();
    if let Ok(ip) = text
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        return Some((ip, None));
    }
    let (host, port) = text.rsplit_once(':')?;
    let ip = host
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .ok()?;
    Some((ip, port.parse::<u16>().ok()))
}

/// The path of a unix socket's `fd.name` (`/run/x.sock`, or `ffff…->ffff… /run/x.sock`).
fn unix_path(name: &str) -> Option<String> {
    let path = if name.contains("->") {
        name.split_once(char::is_whitespace)?.1.trim()
    } else {
        name.trim()
    };
    (!path.is_empty()).then(|| path.to_string())
}

/// An open that may change the file; a read-only open stays an alert.
fn open(fields: &Fields) -> Option<Activity> {
    let names = fields
        .text("evt.arg.flags")
        .map_or_else(Vec::new, |f| flags(&f));
    let writes = names.iter().any(|f| WRITE_FLAGS.contains(&f.as_str()))
        || fields.bool("evt.is_open_write") == Some(true);
    if !writes {
        return None;
    }
    let path = fields.first_text(&["fd.name", "evt.arg.name", "evt.arg.path", "fs.path.name"])?;
    Some(Activity::File(FileActivity {
        operation: FileOperation::Open,
        path,
        target_path: None,
        flags: names,
        mode: fields.get("evt.arg.mode").and_then(mode),
    }))
}

fn file(
    fields: &Fields,
    operation: FileOperation,
    paths: &[&str],
    targets: &[&str],
) -> Option<Activity> {
    Some(Activity::File(FileActivity {
        operation,
        path: fields.first_text(paths)?,
        target_path: fields.first_text(targets),
        flags: Vec::new(),
        mode: match operation {
            FileOperation::Chmod => fields.get("evt.arg.mode").and_then(mode),
            _ => None,
        },
    }))
}

/// Flag names out of Falco's rendering: `O_WRONLY|O_CREAT` or `65(O_WRONLY|O_CREAT)`.
fn flags(text: &str) -> Vec<String> {
    let inner = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    inner
        .split('|')
        .map(str::trim)
        .filter(|f| !f.is_empty() && !f.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// A file mode: a number, or octal text (`0755`, `0755(S_IRWXU|…)`).
fn mode(value: &Value) -> Option<u32> {
    match value {
        Value::Number(_) => as_u32(value),
        Value::String(text) => {
            let digits = text.split('(').next().unwrap_or(text).trim();
            let digits = digits.strip_prefix("0o").unwrap_or(digits);
            u32::from_str_radix(digits, 8).ok()
        }
        _ => None,
    }
}

/// `evt.arg.request`: a name (`PTRACE_ATTACH`), a number, or both (`16(PTRACE_ATTACH)`).
fn ptrace(fields: &Fields) -> Activity {
    let text = fields.text("evt.arg.request");
    let (number, name) = match text.as_deref() {
        Some(text) => {
            let (head, inner) = match (text.find('('), text.rfind(')')) {
                (Some(open), Some(close)) if open < close => {
                    (&text[..open], Some(&text[open + 1..close]))
                }
                _ => (text, None),
            };
            let head = head.trim();
            match head.parse::<i64>() {
                Ok(number) => (Some(number), inner.map(str::trim).filter(|n| !n.is_empty())),
                Err(_) => (None, Some(head).filter(|n| !n.is_empty())),
            }
        }
        None => (None, None),
    };
    let known = name.and_then(|name| {
        PTRACE_REQUESTS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, number)| *number)
    });
    Activity::Ptrace(PtraceActivity {
        request: known.or(number).unwrap_or(-1),
        request_name: name.map(str::to_string).or_else(|| {
            number.and_then(|number| {
                PTRACE_REQUESTS
                    .iter()
                    .find(|(_, known)| *known == number)
                    .map(|(name, _)| name.to_string())
            })
        }),
        target_pid: fields.u32("evt.arg.pid"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::runtime::RuntimeEvent;

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpus/runtime/falco/falco-website-syscall-alerts.jsonl"
    );

    fn parse(value: &Value) -> RuntimeEvent {
        match normalize(value, "prod") {
            Ok(Parsed::Event(event)) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    fn corpus() -> Vec<Value> {
        std::fs::read_to_string(CORPUS)
            .expect("the Falco corpus")
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("corpus line is JSON"))
            .collect()
    }

    fn alert(event: &RuntimeEvent) -> &SensorAlert {
        match &event.activity {
            Activity::Alert(alert) => alert,
            other => panic!("expected an alert, got {other:?}"),
        }
    }

    fn field<'a>(alert: &'a SensorAlert, key: &str) -> Option<&'a str> {
        alert
            .fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn every_corpus_alert_is_an_event() {
        let text = std::fs::read_to_string(CORPUS).expect("the Falco corpus");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 9);
        let options = crate::normalize::Normalizer::new("prod");
        for (n, json) in lines.into_iter().enumerate() {
            let line: Value = serde_json::from_str(json).expect("corpus line is JSON");
            assert_eq!(super::super::detect(&line), Some(Sensor::Falco), "line {n}");
            let event = match super::super::normalize(&options, &line, Some(json)) {
                Ok(Parsed::Event(event)) => event,
                other => panic!("line {n}: {other:?}"),
            };
            assert_eq!(event.sensor, "falco");
            assert_eq!(event.cluster, "prod");
            assert!(!event.event_id.is_empty(), "line {n}");
            assert!(event.container.is_some(), "line {n}");
            assert!(event.pod.is_some(), "line {n}");
            let rule = line["rule"].as_str().unwrap();
            assert_eq!(event.policy.as_deref(), Some(rule), "line {n}");
            // No corpus alert names `evt.type`: all stay alerts.
            let alert = alert(&event);
            assert_eq!(alert.rule, rule);
            assert_eq!(alert.priority.as_deref(), line["priority"].as_str());
            assert_eq!(alert.output.as_deref(), line["output"].as_str());
            assert!(
                alert.fields.windows(2).all(|w| w[0].0 < w[1].0),
                "sorted, line {n}"
            );
            assert!(
                alert.fields.iter().all(|(_, v)| v != NOT_AVAILABLE),
                "line {n}"
            );
        }
    }

    #[test]
    fn corpus_terminal_shell_2023() {
        let event = parse(&corpus()[8]);
        assert_eq!(event.node, "falco-xczjd");
        assert_eq!(event.time, 1_685_022_245_478_445);
        assert_eq!(event.tags, vec!["container", "mitre_execution", "shell"]);
        assert_eq!(
            event.pod,
            Some(Pod {
                namespace: "default".into(),
                name: "kubecon".into(),
                uid: None,
                labels: vec![],
            })
        );
        assert_eq!(
            event.container,
            Some(Container {
                id: "ee97d9c4186f".into(),
                runtime: None,
                name: None,
                image: Some("docker.io/library/alpine".into()),
                image_id: None,
                privileged: None,
            })
        );
        assert_eq!(
            event.process.command_line,
            "sh -c clear; (bash || ash || sh)"
        );
        assert_eq!(event.process.name, "sh");
        assert_eq!(event.process.executable_path, "sh");
        assert_eq!(event.process.arguments[..2], ["-c", "clear;"]);
        assert_eq!(event.process.user_name.as_deref(), Some("root"));
        assert_eq!(event.process.pid, None);
        assert_eq!(event.process.id, "");
        assert_eq!(event.lineage.len(), 1);
        assert_eq!(event.lineage[0].name, "runc");
        assert_eq!(event.lineage[0].pid, None);
        let alert = alert(&event);
        assert_eq!(alert.priority.as_deref(), Some("Critical"));
        assert_eq!(alert.tags, event.tags);
        assert_eq!(field(alert, "proc.tty"), Some("34816"));
        assert_eq!(field(alert, "user.loginuid"), Some("-1"));
        assert_eq!(field(alert, "evt.time"), Some("1685022245478445995"));
    }

    #[test]
    fn corpus_contact_api_server_2021() {
        let event = parse(&corpus()[7]);
        // Old alerts carry no hostname.
        assert_eq!(event.node, "unknown");
        assert!(event.tags.is_empty());
        assert_eq!(event.time, 1_626_863_829_101_509);
        let pod = event.pod.as_ref().unwrap();
        assert_eq!(pod.namespace, "fission-function");
        assert_eq!(pod.name, "poolmgr-go-default-516098-5bdbf8c8f5-g8gvc");
        let container = event.container.as_ref().unwrap();
        assert_eq!(container.id, "281c99ea33c2");
        assert_eq!(container.image.as_deref(), Some("fission/fetcher:1.13.1"));
        assert_eq!(
            event.process.command_line,
            "fetcher -secret-dir /secrets -cfgmap-dir /configs -jaeger-collector-endpoint  /userfunc"
        );
        // No proc.name: the first word of Falco's cmdline is the name.
        assert_eq!(event.process.name, "fetcher");
        assert_eq!(
            event.process.arguments,
            [
                "-secret-dir",
                "/secrets",
                "-cfgmap-dir",
                "/configs",
                "-jaeger-collector-endpoint",
                "/userfunc"
            ]
        );
        assert!(event.lineage.is_empty());
        let alert = alert(&event);
        assert_eq!(alert.rule, "Contact K8S API Server From Container");
        assert_eq!(
            field(alert, "fd.name"),
            Some("192.168.43.223:39526->10.100.0.1:443")
        );
    }

    #[test]
    fn corpus_null_fields_are_absent() {
        let event = parse(&corpus()[0]);
        assert_eq!(event.pod.as_ref().unwrap().name, "alpine");
        let container = event.container.as_ref().unwrap();
        assert_eq!(container.id, "5892b41bcf46");
        // `container.image.repository` and `proc.pname` are null.
        assert_eq!(container.image, None);
        assert!(event.lineage.is_empty());
        assert_eq!(event.process.command_line, "sh");
        assert!(event.process.arguments.is_empty());
        let alert = alert(&event);
        assert_eq!(field(alert, "proc.pname"), None);
        assert_eq!(field(alert, "container.image.repository"), None);
        assert_eq!(field(alert, "k8s.pod.name"), Some("alpine"));
    }

    const CONTAINER: &str = "3f4c2b8a9d1e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
    const DIGEST: &str = "sha256:9c2a6d4e8b1f3a5c7e9d0b2f4a6c8e0d1b3f5a7c9e2d4b6f8a0c1e3d5b7f9a2c";

    /// A `Contact K8S API Server From Container` alert with Peregrine's `append_output`.
    fn golden_alert() -> Value {
        json!({
            "hostname": "ip-10-0-12-34.eu-west-1.compute.internal",
            "output": "10:15:42.123456789: Notice Unexpected connection to K8s API Server from container (connection=10.0.12.77:51234->10.100.0.1:443 lport=51234 rport=443 fd_type=ipv4 fd_proto=tcp evt_type=connect user=root user_uid=0 process=curl proc_exepath=/usr/bin/curl parent=sh command=curl -sk https://10.100.0.1:443/api/v1/secrets terminal=0 container_id=3f4c2b8a9d1e container_name=web image=ghcr.io/acme/web:1.4.2)",
            "priority": "Notice",
            "rule": "Contact K8S API Server From Container",
            "source": "syscall",
            "tags": ["T1565", "container", "k8s", "maturity_stable", "mitre_discovery", "network"],
            "time": "2024-03-05T10:15:42.123456789Z",
            "output_fields": {
                "container.full_id": CONTAINER,
                "container.id": "3f4c2b8a9d1e",
                "container.image.digest": DIGEST,
                "container.image.repository": "ghcr.io/acme/web",
                "container.image.tag": "1.4.2",
                "container.name": "web",
                "container.privileged": false,
                "container.type": "containerd",
                "evt.time": 1709633742123456789_i64,
                "evt.type": "connect",
                "fd.l4proto": "tcp",
                "fd.name": "10.0.12.77:51234->10.100.0.1:443",
                "fd.rip": "10.100.0.1",
                "fd.rport": 443,
                "fd.type": "ipv4",
                "k8s.ns.name": "shop",
                "k8s.pod.name": "web-7d9f8c6b5-x2xkq",
                "k8s.pod.uid": "8f0e5c1a-4b2d-4e6f-9a3c-7d1b2e4f6a8c",
                "proc.aname[1]": "sh",
                "proc.aname[2]": "containerd-shim",
                "proc.apid[1]": 48211,
                "proc.apid[2]": 47100,
                "proc.cmdline": "curl -sk https://10.100.0.1:443/api/v1/secrets",
                "proc.cwd": "/app/",
                "proc.exepath": "/usr/bin/curl",
                "proc.name": "curl",
                "proc.pid": 48302,
                "proc.pid.ts": 1709633741998877665_i64,
                "proc.ppid": 48211,
                "proc.vpid": 57,
                "user.loginuid": -1,
                "user.name": "root",
                "user.uid": 0
            }
        })
    }

    #[test]
    fn golden_append_output_connect() {
        let node = "ip-10-0-12-34.eu-west-1.compute.internal";
        let expected = RuntimeEvent {
            cluster: "prod".into(),
            node: node.into(),
            sensor: "falco".into(),
            event_id: String::new(),
            time: 1_709_633_742_123_456,
            process: Process {
                id: derived_process_id(node, 48302, 1_709_633_741_998_877_665),
                parent_id: Some(derived_process_id(node, 48211, 0)),
                name: "curl".into(),
                executable_path: "/usr/bin/curl".into(),
                arguments: vec!["-sk".into(), "https://10.100.0.1:443/api/v1/secrets".into()],
                command_line: "curl -sk https://10.100.0.1:443/api/v1/secrets".into(),
                cwd: Some("/app/".into()),
                pid: Some(48302),
                namespace_pid: Some(57),
                uid: Some(0),
                user_name: Some("root".into()),
                start_time: Some(1_709_633_741_998_877),
                ..process("")
            },
            lineage: vec![
                Process {
                    id: derived_process_id(node, 48211, 0),
                    parent_id: Some(derived_process_id(node, 47100, 0)),
                    pid: Some(48211),
                    ..process("sh")
                },
                Process {
                    id: derived_process_id(node, 47100, 0),
                    pid: Some(47100),
                    ..process("containerd-shim")
                },
            ],
            container: Some(Container {
                id: CONTAINER.into(),
                runtime: Some("containerd".into()),
                name: Some("web".into()),
                image: Some("ghcr.io/acme/web:1.4.2".into()),
                image_id: Some(format!("ghcr.io/acme/web@{DIGEST}")),
                privileged: Some(false),
            }),
            pod: Some(Pod {
                namespace: "shop".into(),
                name: "web-7d9f8c6b5-x2xkq".into(),
                uid: Some("8f0e5c1a-4b2d-4e6f-9a3c-7d1b2e4f6a8c".into()),
                labels: vec![],
            }),
            workload: None,
            activity: Activity::Socket(SocketActivity {
                operation: SocketOperation::Connect,
                family: SocketFamily::Inet,
                protocol: Some("tcp".into()),
                local: Some(address("10.0.12.77")),
                local_port: Some(51234),
                remote: Some(address("10.100.0.1")),
                remote_port: Some(443),
                unix_path: None,
            }),
            policy: Some("Contact K8S API Server From Container".into()),
            tags: [
                "T1565",
                "container",
                "k8s",
                "maturity_stable",
                "mitre_discovery",
                "network",
            ]
            .map(String::from)
            .to_vec(),
            raw: None,
        };
        assert_eq!(parse(&golden_alert()), expected);
    }

    #[test]
    fn parent_start_time_links_lineage() {
        let mut alert = golden_alert();
        let fields = alert["output_fields"].as_object_mut().unwrap();
        fields.insert("proc.ppid.ts".into(), json!(1_709_633_700_000_000_000_i64));
        fields.insert("proc.pcmdline".into(), json!("sh -c curl"));
        fields.insert(
            "proc.aexepath[2]".into(),
            json!("/usr/bin/containerd-shim-runc-v2"),
        );
        let event = parse(&alert);
        let parent_id = derived_process_id(&event.node, 48211, 1_709_633_700_000_000_000);
        assert_eq!(event.process.parent_id.as_deref(), Some(parent_id.as_str()));
        assert_eq!(event.lineage[0].id, parent_id);
        assert_eq!(event.lineage[0].start_time, Some(1_709_633_700_000_000));
        assert_eq!(event.lineage[0].command_line, "sh -c curl");
        assert_eq!(event.lineage[0].arguments, ["-c", "curl"]);
        assert_eq!(
            event.lineage[1].executable_path,
            "/usr/bin/containerd-shim-runc-v2"
        );
        assert_eq!(event.lineage[1].name, "containerd-shim");
    }

    #[test]
    fn host_processes_have_no_container() {
        let mut alert = golden_alert();
        let fields = alert["output_fields"].as_object_mut().unwrap();
        fields.insert("container.full_id".into(), json!("host"));
        fields.insert("container.id".into(), json!("host"));
        assert_eq!(parse(&alert).container, None);
    }

    #[test]
    fn digest_arrays_and_label_shapes() {
        for labels in [
            json!({"app": "web", "tier": "front"}),
            json!(["app:web", "tier:front"]),
            json!("app:web, tier:front"),
            json!("(app:web,tier:front)"),
        ] {
            let mut alert = golden_alert();
            let fields = alert["output_fields"].as_object_mut().unwrap();
            fields.insert("k8s.pod.labels".into(), labels.clone());
            fields.insert(
                "container.image.digest".into(),
                json!([DIGEST, "sha256:other"]),
            );
            let event = parse(&alert);
            assert_eq!(
                event.pod.unwrap().labels,
                [("app", "web"), ("tier", "front")].map(|(k, v)| (k.to_string(), v.to_string())),
                "{labels}"
            );
            assert_eq!(
                event.container.unwrap().image_id,
                Some(format!("ghcr.io/acme/web@{DIGEST}"))
            );
        }
    }

    fn with_fields(extra: Value) -> RuntimeEvent {
        let mut alert = json!({
            "rule": "r", "priority": "Warning", "output": "o",
            "time": "2024-03-05T10:15:42Z", "source": "syscall",
            "output_fields": {"proc.pid": 10, "proc.exepath": "/bin/x"}
        });
        let fields = alert["output_fields"].as_object_mut().unwrap();
        for (k, v) in extra.as_object().unwrap() {
            fields.insert(k.clone(), v.clone());
        }
        parse(&alert)
    }

    #[test]
    fn typed_activities() {
        assert_eq!(
            with_fields(json!({"evt.type": "execve"})).activity,
            Activity::Exec
        );
        assert_eq!(
            with_fields(
                json!({"evt.type": "openat", "fd.name": "/etc/ld.so.preload",
                "evt.arg.flags": "O_TRUNC|O_CREAT|O_WRONLY", "evt.arg.mode": "0644"})
            )
            .activity,
            Activity::File(FileActivity {
                operation: FileOperation::Open,
                path: "/etc/ld.so.preload".into(),
                target_path: None,
                flags: vec!["O_TRUNC".into(), "O_CREAT".into(), "O_WRONLY".into()],
                mode: Some(0o644),
            })
        );
        // A read-only open stays the Falco alert.
        assert!(matches!(
            with_fields(json!({"evt.type": "openat", "fd.name": "/etc/shadow",
                "evt.arg.flags": "O_RDONLY"}))
            .activity,
            Activity::Alert(_)
        ));
        assert_eq!(
            with_fields(json!({"evt.type": "renameat2", "evt.arg.oldpath": "/tmp/a",
                "evt.arg.newpath": "/usr/bin/a"}))
            .activity,
            Activity::File(FileActivity {
                operation: FileOperation::Rename,
                path: "/tmp/a".into(),
                target_path: Some("/usr/bin/a".into()),
                flags: vec![],
                mode: None,
            })
        );
        assert_eq!(
            with_fields(
                json!({"evt.type": "symlinkat", "evt.arg.target": "/etc/shadow",
                "evt.arg.linkpath": "/tmp/s"})
            )
            .activity,
            Activity::File(FileActivity {
                operation: FileOperation::Symlink,
                path: "/tmp/s".into(),
                target_path: Some("/etc/shadow".into()),
                flags: vec![],
                mode: None,
            })
        );
        assert_eq!(
            with_fields(
                json!({"evt.type": "ptrace", "evt.arg.request": "PTRACE_ATTACH",
                "evt.arg.pid": 4242})
            )
            .activity,
            Activity::Ptrace(PtraceActivity {
                request: 16,
                request_name: Some("PTRACE_ATTACH".into()),
                target_pid: Some(4242),
            })
        );
        assert_eq!(
            with_fields(json!({"evt.type": "mount", "evt.arg.dev": "/dev/sda1",
                "evt.arg.dir": "/mnt", "evt.arg.type": "ext4"}))
            .activity,
            Activity::Mount(MountActivity {
                source: Some("/dev/sda1".into()),
                target: "/mnt".into(),
                file_system_type: Some("ext4".into()),
                flags: vec![],
            })
        );
        assert_eq!(
            with_fields(json!({"evt.type": "userfaultfd"})).activity,
            Activity::Userfaultfd
        );
        assert!(matches!(
            with_fields(json!({"evt.type": "memfd_create", "evt.arg.name": "x"})).activity,
            Activity::MemfdCreate(MemfdActivity { name, .. }) if name == "x"
        ));
        assert!(matches!(
            with_fields(json!({"evt.type": "finit_module", "fd.name": "/tmp/r.ko"})).activity,
            Activity::KernelModule(KernelModuleActivity { path: Some(p), .. }) if p == "/tmp/r.ko"
        ));
        assert_eq!(
            with_fields(json!({"evt.type": "connect", "fd.type": "unix",
                "fd.name": "ffff9a1b2c3d4e00->ffff9a1b2c3d4f00 /run/containerd/containerd.sock"}))
            .activity,
            Activity::Socket(SocketActivity {
                operation: SocketOperation::Connect,
                family: SocketFamily::Unix,
                protocol: None,
                local: None,
                local_port: None,
                remote: None,
                remote_port: None,
                unix_path: Some("/run/containerd/containerd.sock".into()),
            })
        );
        // An unknown syscall stays the alert, with its fields.
        let event = with_fields(json!({"evt.type": "prctl"}));
        let alert = alert(&event);
        assert_eq!(alert.rule, "r");
        assert_eq!(
            alert.fields,
            [
                ("evt.type", "prctl"),
                ("proc.exepath", "/bin/x"),
                ("proc.pid", "10")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(event.policy.as_deref(), Some("r"));
    }

    #[test]
    fn rejects_what_is_not_a_syscall_alert() {
        let audit = json!({"rule": "Attach/Exec Pod", "priority": "Notice", "output": "o",
            "source": "k8s_audit", "time": "2024-03-05T10:15:42Z", "output_fields": {}});
        let Err(RuntimeError(message)) = normalize(&audit, "prod") else {
            panic!("k8s_audit accepted");
        };
        assert!(message.contains("k8s_audit"), "{message}");
        let base = golden_alert();
        for (key, bad) in [
            ("rule", json!(42)),
            ("rule", Value::Null),
            ("time", json!(1709633742)),
            ("output_fields", json!([1, 2])),
            ("source", json!(["syscall"])),
        ] {
            let mut alert = base.clone();
            alert[key] = bad.clone();
            assert!(normalize(&alert, "prod").is_err(), "{key} = {bad}");
        }
        let mut alert = base.clone();
        alert.as_object_mut().unwrap().remove("time");
        assert!(normalize(&alert, "prod").is_err());
        // Unreadable `time`: `evt.time` (ns) stands in, and without it the alert is refused.
        let mut alert = base.clone();
        alert["time"] = json!("yesterday");
        assert_eq!(parse(&alert).time, 1_709_633_742_123_456);
        alert["output_fields"]
            .as_object_mut()
            .unwrap()
            .remove("evt.time");
        assert!(normalize(&alert, "prod").is_err());
        for value in [json!(null), json!([]), json!("x"), json!(1), json!({})] {
            assert!(normalize(&value, "prod").is_err(), "{value}");
        }
    }

    #[test]
    fn hostile_field_values_never_panic() {
        let hostile = [
            Value::Null,
            json!("<NA>"),
            json!(""),
            json!("abc"),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e308),
            json!(true),
            json!([]),
            json!(["<NA>", null, 1]),
            json!({"a": {"b": []}}),
            json!("(((:,,:"),
            json!("16(PTRACE_ATTACH"),
            json!("[::1:->]:"),
        ];
        let base = golden_alert();
        let keys: Vec<String> = base["output_fields"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .chain(
                [
                    "proc.ppid.ts",
                    "k8s.pod.labels",
                    "evt.arg.request",
                    "evt.arg.flags",
                    "evt.arg.mode",
                    "proc.aname[0]",
                    "proc.apid[99999999999]",
                    "proc.aname[x]",
                    "proc.env[LD_PRELOAD]",
                    "thread.cap_effective",
                    "container.image",
                ]
                .map(String::from),
            )
            .collect();
        for evt_type in [
            "connect",
            "accept",
            "bind",
            "sendto",
            "openat",
            "ptrace",
            "mount",
            "chmod",
            "memfd_create",
            "finit_module",
            "execve",
        ] {
            for key in &keys {
                for bad in &hostile {
                    let mut alert = base.clone();
                    alert["output_fields"]["evt.type"] = json!(evt_type);
                    alert["output_fields"][key.as_str()] = bad.clone();
                    let _ = normalize(&alert, "prod");
                }
            }
        }
        // A pid that is not a number, and numbers out of range, leave the field empty.
        let mut alert = base.clone();
        alert["output_fields"]["proc.pid"] = json!("abc");
        alert["output_fields"]["proc.vpid"] = json!(u64::MAX);
        alert["output_fields"]["fd.rport"] = json!(70000);
        alert["output_fields"]["proc.pid.ts"] = json!(u64::MAX);
        let event = parse(&alert);
        assert_eq!(event.process.pid, None);
        assert_eq!(event.process.id, "");
        assert_eq!(event.process.namespace_pid, None);
        assert_eq!(event.process.start_time, None);
        let Activity::Socket(socket) = &event.activity else {
            panic!("not a socket: {:?}", event.activity);
        };
        assert_eq!(
            socket.remote_port,
            Some(443),
            "falls back to fd.name's port"
        );
        // Top-level fields of the wrong type are ignored, not fatal.
        let mut alert = base.clone();
        alert["tags"] = json!("container");
        alert["hostname"] = json!(7);
        alert["priority"] = json!({});
        let event = parse(&alert);
        assert!(event.tags.is_empty());
        assert_eq!(event.node, "unknown");
    }
}
