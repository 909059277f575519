//! Container runtime events: the WIT records, and the questions rules ask of them.

pub use crate::bindings::peregrine::rules::runtime::*;

impl Activity {
    /// The case of this activity, as subscriptions name it.
    pub fn kind(&self) -> ActivityKind {
        match self {
            Activity::Exec => ActivityKind::Exec,
            Activity::Exit(_) => ActivityKind::Exit,
            Activity::File(_) => ActivityKind::File,
            Activity::Mmap(_) => ActivityKind::Mmap,
            Activity::Socket(_) => ActivityKind::Socket,
            Activity::Dns(_) => ActivityKind::Dns,
            Activity::Mount(_) => ActivityKind::Mount,
            Activity::Ptrace(_) => ActivityKind::Ptrace,
            Activity::MemoryWrite(_) => ActivityKind::MemoryWrite,
            Activity::MemfdCreate(_) => ActivityKind::MemfdCreate,
            Activity::Userfaultfd => ActivityKind::Userfaultfd,
            Activity::Credentials(_) => ActivityKind::Credentials,
            Activity::KernelModule(_) => ActivityKind::KernelModule,
            Activity::NamespaceChange(_) => ActivityKind::NamespaceChange,
            Activity::LibraryLoad(_) => ActivityKind::LibraryLoad,
            Activity::Alert(_) => ActivityKind::Alert,
        }
    }
}

impl ActivityKind {
    /// Every kind, in the contract's order.
    pub const ALL: [ActivityKind; 16] = [
        ActivityKind::Exec,
        ActivityKind::Exit,
        ActivityKind::File,
        ActivityKind::Mmap,
        ActivityKind::Socket,
        ActivityKind::Dns,
        ActivityKind::Mount,
        ActivityKind::Ptrace,
        ActivityKind::MemoryWrite,
        ActivityKind::MemfdCreate,
        ActivityKind::Userfaultfd,
        ActivityKind::Credentials,
        ActivityKind::KernelModule,
        ActivityKind::NamespaceChange,
        ActivityKind::LibraryLoad,
        ActivityKind::Alert,
    ];

    /// The contract's name of the kind, e.g. `kernel-module`.
    pub fn name(self) -> &'static str {
        match self {
            ActivityKind::Exec => "exec",
            ActivityKind::Exit => "exit",
            ActivityKind::File => "file",
            ActivityKind::Mmap => "mmap",
            ActivityKind::Socket => "socket",
            ActivityKind::Dns => "dns",
            ActivityKind::Mount => "mount",
            ActivityKind::Ptrace => "ptrace",
            ActivityKind::MemoryWrite => "memory-write",
            ActivityKind::MemfdCreate => "memfd-create",
            ActivityKind::Userfaultfd => "userfaultfd",
            ActivityKind::Credentials => "credentials",
            ActivityKind::KernelModule => "kernel-module",
            ActivityKind::NamespaceChange => "namespace-change",
            ActivityKind::LibraryLoad => "library-load",
            ActivityKind::Alert => "alert",
        }
    }
}

impl Address {
    /// On a threat list and not trusted.
    pub fn is_listed(&self) -> bool {
        !self.trusted && !self.listed.is_empty()
    }
}

impl ThreatCategory {
    /// Every category, in the contract's order.
    pub const ALL: [ThreatCategory; 15] = [
        ThreatCategory::Malicious,
        ThreatCategory::TorExitNode,
        ThreatCategory::TorRelay,
        ThreatCategory::TorGuard,
        ThreatCategory::CryptoMining,
        ThreatCategory::CommandAndControl,
        ThreatCategory::BlackHole,
        ThreatCategory::DropPoint,
        ThreatCategory::Phishing,
        ThreatCategory::Dga,
        ThreatCategory::DriveBySource,
        ThreatCategory::Abused,
        ThreatCategory::CryptoReputation,
        ThreatCategory::Suspicious,
        ThreatCategory::Custom,
    ];

    /// The contract's name of the category, e.g. `command-and-control`; also the name
    /// threat intelligence details give it.
    pub fn name(self) -> &'static str {
        match self {
            ThreatCategory::Malicious => "malicious",
            ThreatCategory::TorExitNode => "tor-exit-node",
            ThreatCategory::TorRelay => "tor-relay",
            ThreatCategory::TorGuard => "tor-guard",
            ThreatCategory::CryptoMining => "crypto-mining",
            ThreatCategory::CommandAndControl => "command-and-control",
            ThreatCategory::BlackHole => "black-hole",
            ThreatCategory::DropPoint => "drop-point",
            ThreatCategory::Phishing => "phishing",
            ThreatCategory::Dga => "dga",
            ThreatCategory::DriveBySource => "drive-by-source",
            ThreatCategory::Abused => "abused",
            ThreatCategory::CryptoReputation => "crypto-reputation",
            ThreatCategory::Suspicious => "suspicious",
            ThreatCategory::Custom => "custom",
        }
    }

    /// The category of a contract name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Package managers: what they and their maintainer scripts do (write binaries, add
/// users, enable services, set bits) is an install.
pub const PACKAGE_MANAGERS: &[&str] = &[
    "dpkg",
    "apt",
    "apt-get",
    "aptitude",
    "unattended-upgrade",
    "rpm",
    "yum",
    "dnf",
    "microdnf",
    "zypper",
    "apk",
    "pacman",
];

impl RuntimeEvent {
    /// Whether the process, or one of its ancestors, runs an executable of one of the
    /// lists (by base name).
    pub fn runs_under(&self, lists: &[&[&str]]) -> bool {
        std::iter::once(&self.process)
            .chain(self.lineage.iter())
            .any(|p| {
                let name = p
                    .executable_path
                    .rsplit('/')
                    .next()
                    .unwrap_or(&p.executable_path);
                lists.iter().any(|l| l.contains(&name))
            })
    }

    /// The remote address of a socket activity.
    pub fn remote(&self) -> Option<&Address> {
        match &self.activity {
            Activity::Socket(s) => s.remote.as_ref(),
            _ => None,
        }
    }

    /// The paths the activity names: an exec's executable, a file operation's path and
    /// target, a mapped or loaded library, a memory write's file, a mount's source and
    /// target, a unix socket's path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        let (first, second): (Option<&str>, Option<&str>) = match &self.activity {
            Activity::Exec => (Some(&self.process.executable_path), None),
            Activity::File(f) => (Some(&f.path), f.target_path.as_deref()),
            Activity::Mmap(m) => (Some(&m.path), None),
            Activity::LibraryLoad(l) => (Some(&l.path), None),
            Activity::MemoryWrite(w) => (w.path.as_deref(), None),
            Activity::Mount(m) => (m.source.as_deref(), Some(&m.target)),
            Activity::Socket(s) => (s.unix_path.as_deref(), None),
            _ => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// The threat lists this event's indicators are on: a socket's remote address, a DNS
    /// name, the executable's hash (trusted addresses are on none).
    pub fn listings(&self) -> Vec<&Listing> {
        let mut found: Vec<&Listing> = self.process.sha256_listed.iter().collect();
        match &self.activity {
            Activity::Socket(s) => {
                if let Some(remote) = s.remote.as_ref().filter(|a| a.is_listed()) {
                    found.extend(&remote.listed);
                }
            }
            Activity::Dns(d) => found.extend(&d.listed),
            _ => {}
        }
        found
    }

    /// Who did it, to start a finding's description: `Process <name> (<path>) in pod
    /// <ns>/<name> of cluster <cluster>` (or `on node <node>`).
    pub fn actor(&self) -> String {
        format!(
            "Process {} ({}) {} of cluster {}",
            self.process.name,
            self.process.executable_path,
            self.place(),
            self.cluster
        )
    }

    /// Where the process runs, for a finding's description: `in pod <ns>/<name>` or
    /// `on node <node>`.
    pub fn place(&self) -> String {
        match &self.pod {
            Some(pod) => format!("in pod {}/{}", pod.namespace, pod.name),
            None => format!("on node {}", self.node),
        }
    }

    /// The process runs in a container (not on the node itself).
    pub fn in_container(&self) -> bool {
        self.container.is_some()
    }

    /// The pod's namespace, when the process runs in a pod.
    pub fn namespace(&self) -> Option<&str> {
        self.pod.as_ref().map(|p| p.namespace.as_str())
    }
}
