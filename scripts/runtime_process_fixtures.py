#!/usr/bin/env python3
"""Writes the fixtures of the process, memory and kernel runtime rules: for each type, the
events the sensors emit for the attack (positive) and for its benign neighbours
(negative), in Tetragon's export format (Peregrine's TracingPolicies, deploy/tetragon/)
and Tracee's `trace.Event` JSON. The hashes are those of tests/fixtures/intel.

Run from the repository root: python3 scripts/runtime_process_fixtures.py
"""
from runtime_events import POD, write

LISTED = "5f2b51ca2fdc5baa31ec02e002f69aec912bc2e41b1f8d45af1f7cba4ef8b6ad"
CUSTOM_LISTED = "0d4f1c2b3a5968778695a4b3c2d1e0f90817263544536271809a8b7c6d5e4f30"
UNLISTED = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"



def tetragon_process(n, binary, arguments="", parent="Z2tlLW5vZGUtMTpzaGVsbA==", pid=None, cwd="/app", pod=True):
    process = {"exec_id": f"Z2tlLW5vZGUtMTpw{n:04d}", "pid": pid or 5000 + n, "uid": 0, "cwd": cwd,
               "binary": binary, "arguments": arguments, "flags": "execve clone",
               "start_time": "2026-11-30T09:59:00.000Z", "parent_exec_id": parent}
    if pod:
        process["pod"] = POD
    return process


def kprobe(n, binary, function, args, policy="peregrine-process-memory", pid=None, pod=True, setup=False):
    # A scene-setting event (peregrine_rules_sdk::testing::SETUP_MARK) raises nothing itself.
    process = tetragon_process(n, binary, "--setup" if setup else "", pid=pid, pod=pod)
    return {"process_kprobe": {"process": process, "function_name": function,
                               "args": args, "action": "KPROBE_ACTION_POST", "policy_name": policy},
            "node_name": "gke-node-1", "time": f"2026-11-30T10:01:{n % 60:02d}.000000000Z"}


def exec_event(n, binary, arguments="", parent="Z2tlLW5vZGUtMTpzaGVsbA==", links=None, cwd="/app", pod=True):
    process = tetragon_process(n, binary, arguments, parent, cwd=cwd, pod=pod)
    if links is not None:
        process["binary_properties"] = {"file": {"inode": {"number": 4242 + n, "links": links}}}
    return {"process_exec": {"process": process}, "node_name": "gke-node-1",
            "time": f"2026-11-30T10:02:{n % 60:02d}.000000000Z"}


def tracee(n, event, args, path="/usr/bin/python3", entity=77001, parent_entity=77000):
    return {"timestamp": 1764496920000000000 + n * 1000, "threadStartTime": 1764496000000000000,
            "processId": 40 + n, "hostProcessId": 52000 + n, "parentProcessId": 1, "hostParentProcessId": 51999,
            "userId": 0, "processName": path.rsplit("/", 1)[-1], "executable": {"path": path}, "hostName": "api-5c9d7-xk2lp",
            "containerId": "3f1c2a9be7d4", "container": {"id": "3f1c2a9be7d4", "name": "api", "image": "registry.example.com/shop/api:1.4"},
            "kubernetes": {"podName": "api-5c9d7-xk2lp", "podNamespace": "shop", "podUID": "pod-uid-1"},
            "eventName": event, "processEntityId": entity + n, "parentEntityId": parent_entity,
            "args": args}


def tracee_exec(n, path, sha256, argv=None):
    args = [{"name": "cmdpath", "type": "const char*", "value": path},
            {"name": "pathname", "type": "const char*", "value": path},
            {"name": "argv", "type": "const char**", "value": argv or [path]},
            {"name": "sha256", "type": "const char*", "value": sha256}]
    return tracee(n, "sched_process_exec", args, path=path)


def intarg(value, label):
    return {"int_arg": value, "label": label}


def main():
    write("privilege-escalation-runtime-userfaultfd-usage",
          [kprobe(0, "/tmp/exploit", "__x64_sys_userfaultfd", [intarg(526336, "flags")]),
           tracee(1, "userfaultfd", [{"name": "flags", "type": "int", "value": 0}], path="/tmp/uffd")],
          [kprobe(10, "/usr/bin/python3", "__x64_sys_memfd_create", [{"string_arg": "buffer", "label": "name"}, intarg(1, "flags")]),
           kprobe(11, "/usr/bin/gdb", "__x64_sys_ptrace", [intarg(16, "request"), intarg(5011, "pid")])])

    # process_vm_writev into another process, from Tetragon and Tracee; a failed call counts.
    write("defense-evasion-runtime-process-injection-virtual-memory-write",
          [kprobe(0, "/tmp/inject", "__x64_sys_process_vm_writev", [intarg(1, "pid")]),
           tracee(1, "process_vm_writev", [{"name": "pid", "type": "pid_t", "value": 7}], path="/tmp/inject")],
          [kprobe(10, "/tmp/selftest", "__x64_sys_process_vm_writev", [intarg(5010, "pid")], pid=5010),
           kprobe(11, "/usr/bin/gdb", "security_file_permission",
                  [{"file_arg": {"path": "/proc/7/mem"}, "label": "file"}, intarg(4, "mask")], policy="peregrine-files")])

    write("defense-evasion-runtime-process-injection-proc",
          [kprobe(0, "/tmp/inject", "security_file_permission",
                  [{"file_arg": {"path": "/proc/31/mem"}, "label": "file"}, intarg(2, "mask")], policy="peregrine-files"),
           kprobe(1, "/usr/bin/dd", "security_file_permission",
                  [{"file_arg": {"path": "/proc/1/task/1/mem"}, "label": "file"}, intarg(2, "mask")], policy="peregrine-files")],
          # Reading another's memory (a debugger's view), writing its own (by name, and by
          # its pid inside the container: 7).
          [kprobe(10, "/usr/bin/gdb", "security_file_permission",
                  [{"file_arg": {"path": "/proc/7/mem"}, "label": "file"}, intarg(4, "mask")], policy="peregrine-files"),
           kprobe(11, "/usr/bin/java", "security_file_permission",
                  [{"file_arg": {"path": "/proc/self/mem"}, "label": "file"}, intarg(2, "mask")], policy="peregrine-files"),
           kprobe(12, "/usr/bin/java", "security_file_permission",
                  [{"file_arg": {"path": "/proc/7/mem"}, "label": "file"}, intarg(2, "mask")], policy="peregrine-files")])

    write("defense-evasion-runtime-process-injection-ptrace",
          [kprobe(0, "/tmp/inject", "__x64_sys_ptrace", [intarg(4, "request"), intarg(7, "pid")]),
           kprobe(1, "/tmp/inject", "__x64_sys_ptrace", [intarg(13, "request"), intarg(7, "pid")]),
           tracee(2, "ptrace", [{"name": "request", "type": "long", "value": 5}, {"name": "pid", "type": "pid_t", "value": 7}], path="/tmp/inject")],
          # strace and debuggers attach; PTRACE_TRACEME is the anti-debugging type's.
          [kprobe(10, "/usr/bin/strace", "__x64_sys_ptrace", [intarg(16902, "request"), intarg(7, "pid")]),
           kprobe(11, "/usr/bin/gdb", "__x64_sys_ptrace", [intarg(16, "request"), intarg(7, "pid")]),
           kprobe(12, "/tmp/packed", "__x64_sys_ptrace", [intarg(0, "request"), intarg(0, "pid")])])

    # PTRACE_TRACEME from a program on its own, and as children of debuggers.
    shell = exec_event(20, "/bin/sh", "-c /tmp/packed", parent="Z2tlLW5vZGUtMTppbml0")
    gdb = exec_event(21, "/usr/bin/gdb", "/app/server", parent="Z2tlLW5vZGUtMTppbml0")
    strace = exec_event(22, "/usr/bin/strace", "-f /app/server", parent="Z2tlLW5vZGUtMTppbml0")
    traceme = lambda n, binary, parent: {"process_kprobe": {
        "process": tetragon_process(n, binary, parent=parent),
        "function_name": "__x64_sys_ptrace", "args": [intarg(0, "request"), intarg(0, "pid")],
        "action": "KPROBE_ACTION_POST", "policy_name": "peregrine-process-memory"},
        "node_name": "gke-node-1", "time": f"2026-11-30T10:03:{n:02d}.000000000Z"}
    trc102 = lambda n, path: dict(tracee(n, "Anti-Debugging detected", [], path=path), eventId="6018",
        metadata={"Version": "1", "Description": "A process used anti-debugging techniques to block a debugger.",
                  "Properties": {"Category": "defense-evasion", "Severity": 1, "Technique": "Debugger Evasion",
                                 "external_id": "T1622", "signatureID": "TRC-102", "signatureName": "Anti-Debugging detected"}})
    write("defense-evasion-runtime-ptrace-anti-debugging",
          [shell, traceme(0, "/tmp/packed", shell["process_exec"]["process"]["exec_id"]),
           trc102(1, "/tmp/.cache/upd")],
          [gdb, traceme(10, "/app/server", gdb["process_exec"]["process"]["exec_id"]),
           strace, traceme(11, "/app/server", strace["process_exec"]["process"]["exec_id"]),
           kprobe(12, "/tmp/inject", "__x64_sys_ptrace", [intarg(4, "request"), intarg(7, "pid")]),
           trc102(13, "/usr/bin/strace")])

    write("defense-evasion-runtime-fileless-execution",
          [exec_event(0, "/memfd:payload (deleted)", "", links=0),
           exec_event(1, "/tmp/.x/kworker", "-d", links=0),
           tracee_exec(2, "memfd:stage2", UNLISTED)],
          # runc's own memfd re-exec, an ordinary binary, a deleted-and-replaced library path.
          [exec_event(10, "/memfd:runc_cloned:/proc/self/exe (deleted)", "init", links=0),
           exec_event(11, "/usr/bin/curl", "-s https://example.org/", links=1),
           tracee_exec(12, "/usr/local/bin/app", UNLISTED)])

    write("execution-runtime-malicious-file-executed",
          [tracee_exec(0, "/tmp/xmrig", LISTED, ["/tmp/xmrig", "-o", "pool:3333"]),
           tracee_exec(1, "/usr/local/bin/kworkerd", LISTED.upper())],
          [tracee_exec(10, "/usr/bin/curl", UNLISTED),
           tracee_exec(11, "/tmp/tool", CUSTOM_LISTED),
           exec_event(12, "/tmp/xmrig", "-o pool:3333")])

    write("execution-runtime-malicious-file-executed-custom",
          [tracee_exec(0, "/tmp/tool", CUSTOM_LISTED, ["/tmp/tool", "--scan"])],
          [tracee_exec(10, "/usr/bin/curl", UNLISTED),
           tracee_exec(11, "/tmp/xmrig", LISTED)])

    unix = lambda n, binary, path, pod=True: kprobe(n, binary, "security_socket_connect",
        [{"sock_arg": {"family": "AF_UNIX", "type": "SOCK_STREAM"}, "label": "sock"},
         {"sockaddrun_arg": {"family": "AF_UNIX", "path": path}, "label": "address"}],
        policy="peregrine-runtime-sockets", pod=pod)
    write("privilege-escalation-runtime-docker-socket-accessed",
          [unix(0, "/usr/bin/nc", "/var/run/docker.sock"), unix(1, "/usr/bin/curl", "/host/run/containerd/containerd.sock")],
          # The node's own clients, other unix sockets, a TCP connection.
          [unix(10, "/usr/bin/docker", "/var/run/docker.sock", pod=False), unix(11, "/app/server", "/var/run/app.sock"),
           unix(12, "/usr/bin/python3", "/tmp/docker.sock.bak")])

    wfile = lambda n, binary, path, mask=2, pod=True: kprobe(n, binary, "security_file_permission",
        [{"file_arg": {"path": path}, "label": "file"}, intarg(mask, "mask")], policy="peregrine-files", pod=pod)
    truncate = lambda n, binary, path: kprobe(n, binary, "security_path_truncate",
        [{"path_arg": {"path": path}, "label": "file"}], policy="peregrine-files")
    write("privilege-escalation-runtime-cgroups-release-agent-modified",
          [wfile(0, "/bin/sh", "/tmp/cgrp/release_agent"), wfile(1, "/bin/echo", "/sys/fs/cgroup/rdma/release_agent")],
          # Reading it, writing a look-alike name, and the node writing its own.
          [wfile(10, "/usr/bin/cat", "/tmp/cgrp/release_agent", mask=4), wfile(11, "/bin/sh", "/tmp/release_agent.txt"),
           wfile(12, "/usr/lib/systemd/systemd", "/sys/fs/cgroup/rdma/release_agent", pod=False)])

    write("privilege-escalation-runtime-runc-container-escape",
          [wfile(0, "/bin/sh", "/bin/runc"), wfile(1, "/tmp/exploit", "/proc/9123/exe"),
           exec_event(2, "/bin/bash", "", cwd="/proc/self/fd/8")],
          # Reading runc, writing its own exe, an ordinary cwd, runc upgraded on the node.
          [wfile(10, "/usr/bin/sha256sum", "/usr/bin/runc", mask=4), wfile(11, "/tmp/self", "/proc/self/exe"),
           exec_event(12, "/bin/bash", "", cwd="/proc"), wfile(13, "/usr/bin/dpkg", "/usr/sbin/runc", pod=False)])

    mount = lambda n, binary, source, target, fstype, flags=0, pod=True: kprobe(n, binary, "__x64_sys_mount",
        [{"string_arg": source, "label": "source"}, {"string_arg": target, "label": "target"},
         {"string_arg": fstype, "label": "fstype"}, {"uint_arg": flags, "label": "flags"}],
        policy="peregrine-credentials-namespaces", pod=pod)
    write("privilege-escalation-runtime-container-mounts-host-directory",
          [mount(0, "/bin/mount", "/etc/", "/tmp/", "", 4096), mount(1, "/bin/mount", "/dev/sda1", "/mnt", "ext4")],
          # Pseudo file systems a container may mount, and the node mounting a disk.
          [mount(10, "/bin/mount", "proc", "/proc", "proc"), mount(11, "/usr/bin/buildah", "overlay", "/var/lib/containers/x", "overlay"),
           mount(12, "/bin/mount", "tmpfs", "/scratch", "tmpfs"), mount(13, "/usr/bin/mount", "/dev/nvme1n1", "/data", "xfs", pod=False)])

    def path_op(n, binary, function, paths, parent="Z2tlLW5vZGUtMTpzaGVsbA==", pod=True):
        labels = ["file", "target"]
        args = [{"path_arg": {"path": p}, "label": labels[i]} for i, p in enumerate(paths)]
        event = kprobe(n, binary, function, args, policy="peregrine-files", pod=pod)
        event["process_kprobe"]["process"]["parent_exec_id"] = parent
        return event
    symlink = lambda n, binary, link, target: kprobe(n, binary, "security_path_symlink",
        [{"string_arg": target, "label": "target"}, {"path_arg": {"path": link}, "label": "file"}], policy="peregrine-files")
    dpkg = exec_event(40, "/usr/bin/dpkg", "-i tool.deb", parent="Z2tlLW5vZGUtMTppbml0")
    postinst = exec_event(41, "/usr/sbin/useradd", "-r svc", parent=dpkg["process_exec"]["process"]["exec_id"])
    # The maintainer script's useradd writing /etc/passwd: the process of the exec above.
    adduser = wfile(42, "/usr/sbin/useradd", "/etc/passwd")
    adduser["process_kprobe"]["process"]["exec_id"] = postinst["process_exec"]["process"]["exec_id"]
    adduser["process_kprobe"]["process"]["parent_exec_id"] = dpkg["process_exec"]["process"]["exec_id"]

    write("persistence-runtime-sensitive-file-modified",
          [wfile(0, "/bin/sh", "/root/.ssh/authorized_keys"), wfile(1, "/usr/bin/tee", "/etc/cron.d/updater"),
           path_op(2, "/bin/mv", "security_path_rename", ["/tmp/svc.service", "/etc/systemd/system/svc.service"]),
           wfile(3, "/usr/bin/vi", "/home/ana/.bashrc")],
          # A package install adding its user, reading the files, another tactic's file.
          [dpkg, postinst, adduser, wfile(43, "/usr/bin/cat", "/etc/passwd", mask=4),
           wfile(44, "/bin/sh", "/etc/sudoers"), wfile(45, "/bin/sh", "/etc/passwd-backup")])

    write("privilege-escalation-runtime-sensitive-file-modified",
          [wfile(0, "/bin/sh", "/etc/sudoers.d/99-nopasswd"), wfile(1, "/bin/sh", "/etc/ld.so.preload"),
           path_op(2, "/bin/ln", "security_path_link", ["/etc/pam.d/su", "/tmp/su"])],
          [dpkg, wfile(50, "/usr/bin/dpkg", "/etc/pam.d/common-auth"), wfile(51, "/usr/bin/cat", "/etc/sudoers", mask=4),
           wfile(52, "/bin/sh", "/etc/crontab")])

    write("defense-evasion-runtime-sensitive-file-modified",
          [path_op(0, "/bin/rm", "security_path_unlink", ["/var/log/auth.log"]),
           symlink(1, "/bin/ln", "/root/.bash_history", "/dev/null"),
           path_op(2, "/usr/bin/truncate", "security_path_truncate", ["/var/log/syslog"]),
           wfile(3, "/bin/sh", "/etc/audit/rules.d/audit.rules")],
          # Appending to logs and history, rotating logs, another tactic's file.
          [wfile(10, "/app/server", "/var/log/app/server.log"), wfile(11, "/bin/bash", "/root/.bash_history"),
           path_op(12, "/usr/sbin/logrotate", "security_path_rename", ["/var/log/syslog", "/var/log/syslog.1"]),
           wfile(13, "/bin/sh", "/etc/sudoers")])

    chmod = lambda n, binary, path, mode=0o755, pod=True, setup=True: kprobe(n, binary, "security_path_chmod",
        [{"path_arg": {"path": path}, "label": "file"}, intarg(mode, "mode")], policy="peregrine-files", pod=pod, setup=setup)
    drop = lambda n, binary, path: kprobe(n, binary, "security_file_permission",
        [{"file_arg": {"path": path}, "label": "file"}, intarg(2, "mask")], policy="peregrine-files", setup=True)
    mmap = lambda n, binary, path: kprobe(n, binary, "security_mmap_file",
        [{"file_arg": {"path": path}, "label": "file"}, intarg(5, "prot"), intarg(2, "flags")], policy="peregrine-files")
    write("execution-runtime-new-binary-executed",
          # Dropped, made executable, run; and written into a bin directory, then run.
          [chmod(0, "/bin/chmod", "/tmp/.x/kworkerd"), exec_event(1, "/tmp/.x/kworkerd", "-d"),
           drop(2, "/usr/bin/curl", "/usr/local/bin/helper"), exec_event(3, "/usr/local/bin/helper", "")],
          # A package install, a build, a binary of the image, a chmod without execute bits.
          [dpkg, wfile(60, "/usr/bin/dpkg", "/usr/bin/tool"), exec_event(61, "/usr/bin/tool", ""),
           chmod(62, "/usr/bin/ld", "/app/target/server"), exec_event(63, "/app/target/server", ""),
           exec_event(64, "/usr/bin/python3", "app.py"),
           chmod(65, "/bin/chmod", "/tmp/notes.txt", mode=0o644), exec_event(66, "/tmp/notes.txt", "")])
    write("execution-runtime-new-library-loaded",
          [chmod(0, "/bin/chmod", "/tmp/hook.so"), mmap(1, "/usr/bin/id", "/tmp/hook.so"),
           drop(2, "/usr/bin/curl", "/home/app/.cache/libx.so"),
           {"process_loader": {"process": tetragon_process(3, "/app/server"), "path": "/home/app/.cache/libx.so",
                               "buildid": "aabbcc"}, "node_name": "gke-node-1", "time": "2026-11-30T10:05:03.000000000Z"}],
          [dpkg, wfile(70, "/usr/bin/dpkg", "/usr/lib/libtool.so"), mmap(71, "/usr/bin/tool", "/usr/lib/libtool.so"),
           mmap(72, "/usr/bin/python3", "/usr/lib/python3.11/lib-dynload/_ssl.so"),
           chmod(73, "/bin/chmod", "/tmp/hook2.so")])


if __name__ == "__main__":
    main()
