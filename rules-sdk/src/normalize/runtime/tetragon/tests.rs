use super::*;
use crate::normalize::Normalizer;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/corpus/runtime/tetragon"
);

/// Every JSON object of a file (the docs' captures are pretty-printed, several a file).
fn objects(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn corpus_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn one(file: &str) -> RuntimeEvent {
    let value = &objects(&std::path::Path::new(CORPUS).join(file))[0];
    match super::super::normalize(&Normalizer::new("test"), value, None).unwrap() {
        Parsed::Event(e) => *e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_tetragon_capture_of_the_corpus_is_an_event() {
    let mut files = Vec::new();
    corpus_files(std::path::Path::new(CORPUS), &mut files);
    let mut read = 0;
    for file in &files {
        for value in objects(file) {
            match super::super::normalize(&Normalizer::new("test"), &value, None) {
                Ok(Parsed::Event(e)) => {
                    assert_eq!(e.sensor, "tetragon");
                    assert!(
                        !e.process.id.is_empty(),
                        "{}: no process id",
                        file.display()
                    );
                    assert!(!e.event_id.is_empty());
                    read += 1;
                }
                other => panic!("{}: {other:?}", file.display()),
            }
        }
    }
    // 3 in testdata, 18 in the docs' examples, 40 in the book (MANIFEST.md).
    assert_eq!(read, 61);
}

#[test]
fn an_exec_in_a_pod_is_normalized_whole() {
    let text = std::fs::read_to_string(format!("{CORPUS}/testdata/events.json")).unwrap();
    let value: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let Parsed::Event(e) = normalize(&value, "prod").unwrap() else {
        panic!()
    };
    let shim = "/usr/bin/containerd-shim-runc-v2";
    let mut parent = process(shim);
    parent.id =
        "Z2tlLW1pY2hpLTIyMDM4LWRlZmF1bHQtcG9vbC00MzczMGZhYi1sOHpyOjEzNjYwNDgwNjUxNTk1OjY4NTk4"
            .into();
    parent.parent_id = Some(
        "Z2tlLW1pY2hpLTIyMDM4LWRlZmF1bHQtcG9vbC00MzczMGZhYi1sOHpyOjEzNjYwNDY4NzIyNTI4OjY4NTg3"
            .into(),
    );
    parent.arguments = split_arguments(
        "-namespace k8s.io -id c97e298d5d4485f4710d3837b7d689aba6078e0c008af713053ac361cd8b0018 -address /run/containerd/containerd.sock",
    );
    parent.command_line = format!(
        "{shim} -namespace k8s.io -id c97e298d5d4485f4710d3837b7d689aba6078e0c008af713053ac361cd8b0018 -address /run/containerd/containerd.sock"
    );
    parent.cwd = Some("/run/containerd/io.containerd.runtime.v2.task/k8s.io/c97e298d5d4485f4710d3837b7d689aba6078e0c008af713053ac361cd8b0018".into());
    parent.pid = Some(68598);
    parent.euid = Some(0);
    parent.start_time = micros("2022-10-18T03:16:12.931574263Z");

    let mut expected_process = process("/usr/bin/netserver");
    expected_process.id =
        "Z2tlLW1pY2hpLTIyMDM4LWRlZmF1bHQtcG9vbC00MzczMGZhYi1sOHpyOjEzNjY1ODIyNjI0ODU2OjY4Nzkw"
            .into();
    expected_process.parent_id = Some(parent.id.clone());
    expected_process.arguments = vec!["-D".into()];
    expected_process.command_line = "/usr/bin/netserver -D".into();
    expected_process.cwd = Some("/".into());
    expected_process.pid = Some(68790);
    expected_process.namespace_pid = Some(1);
    expected_process.euid = Some(0);
    expected_process.start_time = Some(1_666_062_978_273_546);

    let expected = RuntimeEvent {
        cluster: "prod".into(),
        node: "my-node".into(),
        sensor: "tetragon".into(),
        event_id: String::new(),
        // This old capture has no envelope time: an exec happens at its process's start.
        time: 1_666_062_978_273_546,
        process: expected_process,
        lineage: vec![parent],
        container: Some(Container {
            id: "19a02291e106ce6227b684197be232ea57c4e1a5ab2604a12608c325d701c7f4".into(),
            runtime: Some("containerd".into()),
            name: Some("spaceship".into()),
            image: Some("docker.io/tgraf/netperf:latest".into()),
            image_id: Some("docker.io/tgraf/netperf@sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6".into()),
            privileged: None,
        }),
        pod: Some(Pod {
            namespace: "default".into(),
            name: "tiefighter".into(),
            uid: None,
            labels: vec![
                ("app.kubernetes.io/name".into(), "tiefighter".into()),
                ("class".into(), "tiefighter".into()),
                ("org".into(), "empire".into()),
            ],
        }),
        workload: None,
        activity: Activity::Exec,
        policy: None,
        tags: Vec::new(),
        raw: None,
    };
    assert_eq!(*e, expected);
}

#[test]
fn kernel_module_hooks_name_the_module_and_its_taint() {
    let e = one("docs-examples/use-cases__host-system-changes__linux-kernel-modules__2.json");
    let Activity::KernelModule(m) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(m.name.as_deref(), Some("kernel_module_hello"));
    assert_eq!(
        m.tainted,
        vec!["TAINT_OUT_OF_TREE_MODULE", "TAINT_UNSIGNED_MODULE"]
    );

    let e = one("docs-examples/use-cases__host-system-changes__linux-kernel-modules__1.json");
    let Activity::KernelModule(m) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(
        m.path.as_deref(),
        Some("/home/tixxdz/tetragon/contrib/tester-progs/kernel_module_hello.ko")
    );
    // Unloading is not loading.
    let e = one("docs-examples/use-cases__host-system-changes__linux-kernel-modules__7.json");
    assert!(matches!(e.activity, Activity::Alert(_)), "{:?}", e.activity);
}

#[test]
fn file_credential_namespace_and_socket_hooks_are_read() {
    let e = one("docs-examples/use-cases__filename-access__1.json");
    let Activity::File(f) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(
        (f.operation, f.path.as_str()),
        (FileOperation::Write, "/etc/passwd")
    );
    assert_eq!(e.policy.as_deref(), Some("file-monitoring"));

    let e = one("docs-examples/use-cases__linux-process-credentials__syscalls-monitoring__2.json");
    let Activity::Credentials(c) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(
        (c.operation.as_str(), c.uid, c.euid),
        ("setuid", Some(0), Some(0))
    );

    let e = one("docs-examples/use-cases__process-lifecycle__namespace-access__1.json");
    let Activity::NamespaceChange(n) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(n.operation, "setns");
    assert_eq!(n.namespaces, vec!["ipc"]);

    let e = one(
        "security-observability-book/03_chapter/03_security_observability_events/02_persistance/merlin-agent-go-connect.json",
    );
    let Activity::Socket(s) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(s.operation, SocketOperation::Connect);
    let remote = s.remote.as_ref().unwrap();
    assert_eq!(
        (remote.address.as_str(), remote.is_public),
        ("34.116.205.187", true)
    );
    assert_eq!(s.remote_port, Some(443));
    assert_eq!(s.protocol.as_deref(), Some("tcp"));
}

#[test]
fn labelled_arguments_win_over_positions() {
    let value = serde_json::json!({
        "process_kprobe": {
            "process": {"exec_id": "a", "binary": "/bin/evil"},
            "function_name": "__x64_sys_ptrace",
            "args": [{"int_arg": 1234, "label": "pid"}, {"int_arg": 16, "label": "request"}],
        },
        "node_name": "n1",
        "time": "2026-01-01T00:00:00Z"
    });
    let Parsed::Event(e) = normalize(&value, "c").unwrap() else {
        panic!()
    };
    let Activity::Ptrace(p) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!((p.request, p.target_pid), (16, Some(1234)));
    assert_eq!(p.request_name.as_deref(), Some("PTRACE_ATTACH"));
}

#[test]
fn writes_to_another_process_memory_are_memory_writes() {
    let value = serde_json::json!({
        "process_kprobe": {
            "process": {"exec_id": "a", "binary": "/tmp/inject"},
            "function_name": "security_file_permission",
            "args": [{"file_arg": {"path": "/proc/4242/mem"}}, {"int_arg": 2}],
        },
        "time": "2026-01-01T00:00:00Z"
    });
    let Parsed::Event(e) = normalize(&value, "c").unwrap() else {
        panic!()
    };
    assert_eq!(
        e.activity,
        Activity::MemoryWrite(MemoryWriteActivity {
            method: MemoryWriteMethod::ProcMem,
            target_pid: Some(4242),
            path: Some("/proc/4242/mem".into()),
        })
    );
}

#[test]
fn sensor_drops_are_reported_and_unknown_hooks_passed_on() {
    let drops = serde_json::json!({"rate_limit_info": {"number_of_dropped_process_events": "1234"}, "time": "2026-01-01T00:00:00Z"});
    assert!(matches!(normalize(&drops, "c"), Ok(Parsed::Dropped(1234))));

    let unknown = serde_json::json!({
        "process_kprobe": {
            "process": {"exec_id": "a", "binary": "/bin/x"},
            "function_name": "some_new_hook",
            "policy_name": "custom",
            "args": [{"string_arg": "v", "label": "what"}, {"int_arg": 7}],
        },
        "time": "2026-01-01T00:00:00Z"
    });
    let Parsed::Event(e) = normalize(&unknown, "c").unwrap() else {
        panic!()
    };
    let Activity::Alert(a) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(a.rule, "custom/some_new_hook");
    assert!(a.fields.contains(&("what".into(), "v".into())));
    assert!(
        a.fields.contains(&("arg1".into(), "0".into()))
            || a.fields.contains(&("arg1".into(), "7".into()))
    );
}

#[test]
fn hostile_shapes_are_errors_not_panics() {
    for text in [
        r#"{"process_exec": 5}"#,
        r#"{"process_exec": {}}"#,
        r#"{"process_exec": {"process": []}}"#,
        r#"{"process_exec": {"process": {"exec_id": 7}}, "time": "yesterday"}"#,
        r#"{"process_kprobe": {"process": {"pid": "99999999999999999999"}, "function_name": "sys_mount", "args": {"a": 1}}, "time": "2026-01-01T00:00:00Z"}"#,
        r#"{"process_kprobe": {"process": {}, "function_name": "__x64_sys_ptrace", "args": [{"int_arg": "x"}]}, "time": "2026-01-01T00:00:00Z"}"#,
        r#"{"process_kprobe": {"process": {}, "function_name": "tcp_connect", "args": [{"sock_arg": {"dport": 70000, "daddr": 5}}]}, "time": "2026-01-01T00:00:00Z"}"#,
        r#"{"process_exit": {"process": {"binary": "/x"}, "status": 99999999999}, "time": "2026-01-01T00:00:00Z"}"#,
    ] {
        let value: Value = serde_json::from_str(text).unwrap();
        let _ = normalize(&value, "c");
    }
    let value: Value = serde_json::from_str(r#"{"process_exec": {"process": {}}}"#).unwrap();
    assert!(normalize(&value, "c").unwrap_err().0.contains("time"));
}

#[test]
fn set_ids_are_read_by_label_and_accepts_from_the_return_value() {
    let kprobe = |function: &str, args: Value, ret: Value| {
        serde_json::json!({
            "process_kprobe": {"process": {"exec_id": "a", "binary": "/bin/x"},
                               "function_name": function, "args": args, "return": ret},
            "time": "2026-01-01T00:00:00Z"
        })
    };
    let value = kprobe(
        "__x64_sys_setresuid",
        serde_json::json!([{"int_arg": 1000, "label": "ruid"}, {"int_arg": 0, "label": "euid"}, {"int_arg": 1000, "label": "suid"}]),
        Value::Null,
    );
    let Parsed::Event(e) = normalize(&value, "c").unwrap() else {
        panic!()
    };
    let Activity::Credentials(c) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!((c.uid, c.euid), (Some(1000), Some(0)));

    let value = kprobe(
        "inet_csk_accept",
        serde_json::json!([{"sock_arg": {"family": "AF_INET", "saddr": "0.0.0.0", "sport": 9001}, "label": "listener"}]),
        serde_json::json!({"sock_arg": {"family": "AF_INET", "protocol": "IPPROTO_TCP", "saddr": "10.0.0.5", "sport": 9001, "daddr": "198.51.100.7", "dport": 40000}, "label": "sock"}),
    );
    let Parsed::Event(e) = normalize(&value, "c").unwrap() else {
        panic!()
    };
    let Activity::Socket(s) = &e.activity else {
        panic!("{:?}", e.activity)
    };
    assert_eq!(s.operation, SocketOperation::Accept);
    assert_eq!(
        s.remote.as_ref().map(|a| a.address.as_str()),
        Some("198.51.100.7")
    );
    assert_eq!(s.local_port, Some(9001));
}
