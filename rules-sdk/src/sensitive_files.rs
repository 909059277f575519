//! The three `<Tactic>:Runtime/SensitiveFileModified` types: a process modified a file
//! whose change serves the tactic (persistence: SSH keys, accounts, cron, services, shell
//! start-up files; privilege escalation: sudoers, PAM, the loader's preload list; defense
//! evasion: logs, audit configuration, shell history). Each type is one module; all share
//! this code, so a module is one line: `export_sensitive_file_rule!(Persistence);`.
//!
//! A modification is a write (open for writing), truncation, rename (from or onto the
//! path), hard or symbolic link (at the path, or to it) or unlink. Logs and histories are
//! written all the time: for them only what destroys content counts (truncation, an open
//! that truncates, unlink, rename, a link in their place). Package managers, and what runs
//! under them (maintainer scripts adding users, enabling services), are left out, as are
//! the log daemons and `logrotate` for logs.

use crate::runtime::{Activity, FileActivity, FileOperation};
use crate::{ActivityKind, Descriptor, Finding, MEDIUM, RuntimeEvent, RuntimeSubscription};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SensitiveFileTactic {
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
}

/// A path pattern: an exact path, a directory (ending in `/`: anything under it), or `~/…`
/// for the same under `/root/` and every `/home/<user>/`.
type Pattern = &'static str;

const PERSISTENCE: &[Pattern] = &[
    "~/.ssh/authorized_keys",
    "~/.ssh/authorized_keys2",
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/",
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/crontab",
    "/etc/cron.d/",
    "/etc/cron.hourly/",
    "/etc/cron.daily/",
    "/etc/cron.weekly/",
    "/etc/cron.monthly/",
    "/var/spool/cron/",
    "/etc/anacrontab",
    "/etc/systemd/system/",
    "/lib/systemd/system/",
    "/usr/lib/systemd/system/",
    "~/.config/systemd/user/",
    "/etc/init.d/",
    "/etc/rc.local",
    "/etc/profile",
    "/etc/profile.d/",
    "/etc/bash.bashrc",
    "/etc/environment",
    "~/.bashrc",
    "~/.bash_profile",
    "~/.profile",
    "~/.zshrc",
];

const PRIVILEGE_ESCALATION: &[Pattern] = &[
    "/etc/sudoers",
    "/etc/sudoers.d/",
    "/etc/pam.d/",
    "/etc/pam.conf",
    "/etc/security/",
    "/lib/security/",
    "/lib64/security/",
    "/usr/lib/security/",
    "/lib/x86_64-linux-gnu/security/",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d/",
    "/etc/polkit-1/",
    "/etc/doas.conf",
];

/// With whether the path is written all the time, so that only destroying its content
/// counts (logs, histories).
const DEFENSE_EVASION: &[(Pattern, bool)] = &[
    ("/var/log/", true),
    ("/etc/audit/", false),
    ("/etc/rsyslog.conf", false),
    ("/etc/rsyslog.d/", false),
    ("/etc/syslog-ng/", false),
    ("/etc/systemd/journald.conf", false),
    ("/etc/selinux/config", false),
    ("~/.bash_history", true),
    ("~/.zsh_history", true),
    ("~/.ash_history", true),
    ("~/.sh_history", true),
    ("~/.python_history", true),
    ("~/.mysql_history", true),
];

/// Processes whose job is rotating and writing logs.
const LOG_KEEPERS: &[&str] = &[
    "logrotate",
    "rsyslogd",
    "syslog-ng",
    "systemd-journald",
    "journalctl",
    "auditd",
];

fn matches(pattern: Pattern, path: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("~/") {
        let under_home = path.strip_prefix("/root/").or_else(|| {
            path.strip_prefix("/home/")
                .and_then(|p| p.split_once('/'))
                .map(|(_, r)| r)
        });
        return under_home.is_some_and(|r| matches_relative(rest, r));
    }
    matches_relative(pattern, path)
}

fn matches_relative(pattern: &str, path: &str) -> bool {
    if pattern.ends_with('/') {
        path.starts_with(pattern) && path.len() > pattern.len()
    } else {
        path == pattern
    }
}

impl SensitiveFileTactic {
    /// The tactic's paths, each with whether only destroying its content counts.
    fn patterns(self) -> impl Iterator<Item = (Pattern, bool)> {
        let every_change = |list: &'static [Pattern]| list.iter().map(|&p| (p, false));
        let (plain, append_only) = match self {
            SensitiveFileTactic::Persistence => (PERSISTENCE, &[][..]),
            SensitiveFileTactic::PrivilegeEscalation => (PRIVILEGE_ESCALATION, &[][..]),
            SensitiveFileTactic::DefenseEvasion => (&[][..], DEFENSE_EVASION),
        };
        every_change(plain).chain(append_only.iter().copied())
    }

    /// The subscription's path patterns for the tactic's paths: `~/x` becomes `*/x`, and
    /// a folder under a home every home.
    fn subscription_paths(self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for (pattern, _) in self.patterns() {
            match pattern.strip_prefix('~') {
                Some(rest) if rest.ends_with('/') => {
                    paths.extend(["/root/".to_string(), "/home/".to_string()])
                }
                Some(rest) => paths.push(format!("*{rest}")),
                None => paths.push(pattern.to_string()),
            }
        }
        paths
    }

    pub fn finding_type(self) -> &'static str {
        match self {
            SensitiveFileTactic::Persistence => "Persistence:Runtime/SensitiveFileModified",
            SensitiveFileTactic::PrivilegeEscalation => {
                "PrivilegeEscalation:Runtime/SensitiveFileModified"
            }
            SensitiveFileTactic::DefenseEvasion => "DefenseEvasion:Runtime/SensitiveFileModified",
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            SensitiveFileTactic::Persistence => "establish persistence",
            SensitiveFileTactic::PrivilegeEscalation => "escalate privileges",
            SensitiveFileTactic::DefenseEvasion => "evade defenses",
        }
    }

    /// The sensitive path of this tactic the activity modifies, if any.
    fn modified<'a>(self, file: &'a FileActivity) -> Option<&'a str> {
        let destroys = match file.operation {
            FileOperation::Write => file.flags.iter().any(|f| f == "O_TRUNC"),
            FileOperation::Truncate
            | FileOperation::Unlink
            | FileOperation::Rename
            | FileOperation::Link
            | FileOperation::Symlink => true,
            _ => false,
        };
        let candidates: &[Option<&'a str>] = match file.operation {
            FileOperation::Write | FileOperation::Truncate | FileOperation::Unlink => {
                &[Some(file.path.as_str()), None]
            }
            // Renamed from or onto; a link made at the path, or to it.
            FileOperation::Rename | FileOperation::Link | FileOperation::Symlink => {
                &[Some(file.path.as_str()), file.target_path.as_deref()]
            }
            _ => return None,
        };
        candidates.iter().flatten().copied().find(|path| {
            self.patterns()
                .any(|(pattern, append_only)| matches(pattern, path) && (destroys || !append_only))
        })
    }
}

fn operation_name(operation: FileOperation) -> &'static str {
    match operation {
        FileOperation::Open => "Open",
        FileOperation::Read => "Read",
        FileOperation::Write => "Write",
        FileOperation::Truncate => "Truncate",
        FileOperation::Rename => "Rename",
        FileOperation::Unlink => "Unlink",
        FileOperation::Link => "Link",
        FileOperation::Symlink => "Symlink",
        FileOperation::Chmod => "Chmod",
        FileOperation::Chown => "Chown",
    }
}

pub fn descriptor(tactic: SensitiveFileTactic) -> Descriptor {
    Descriptor::new(
        tactic.finding_type(),
        MEDIUM,
        &format!(
            "A process modified a sensitive file in a way that could {}.",
            tactic.purpose()
        ),
        &format!(
            "A process wrote, truncated, renamed, linked or removed a file used to {} \
             (package managers and log keepers excepted).",
            tactic.purpose()
        ),
    )
    .subscribe_runtime(
        RuntimeSubscription::any()
            .activities(&[ActivityKind::File])
            .paths(&tactic.subscription_paths().iter().map(String::as_str).collect::<Vec<_>>()),
    )
}

fn is_benign_writer(tactic: SensitiveFileTactic, event: &RuntimeEvent) -> bool {
    event.runs_under(&[crate::runtime::PACKAGE_MANAGERS])
        || (tactic == SensitiveFileTactic::DefenseEvasion && event.runs_under(&[LOG_KEEPERS]))
}

pub fn evaluate(tactic: SensitiveFileTactic, event: &RuntimeEvent) -> Option<Finding> {
    let Activity::File(file) = &event.activity else {
        return None;
    };
    let path = tactic.modified(file)?;
    if is_benign_writer(tactic, event) {
        return None;
    }
    let operation = operation_name(file.operation);
    let mut finding = Finding::new(format!(
        "{} modified the sensitive file {path} ({operation}).",
        event.actor()
    ))
    .with_aggregation_key(path.to_string())
    .with_context("fileOperation", operation)
    .with_context("filePath", file.path.clone());
    if let Some(target) = &file.target_path {
        finding = finding.with_context("relatedFilePaths", target.clone());
    }
    Some(finding)
}

/// Exports a SensitiveFileModified rule: `export_sensitive_file_rule!(Persistence);`, with
/// tests of the crate's `fixtures/positive.jsonl` (every file event found) and
/// `fixtures/negative.jsonl` (none).
#[macro_export]
macro_rules! export_sensitive_file_rule {
    ($tactic:ident) => {
        $crate::export_family_rule!(
            SensitiveFileRule,
            $crate::sensitive_files::descriptor,
            $crate::sensitive_files::evaluate,
            $crate::sensitive_files::SensitiveFileTactic::$tactic
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_paths_directories_and_homes() {
        assert!(matches(
            "~/.ssh/authorized_keys",
            "/root/.ssh/authorized_keys"
        ));
        assert!(matches(
            "~/.ssh/authorized_keys",
            "/home/ana/.ssh/authorized_keys"
        ));
        assert!(!matches(
            "~/.ssh/authorized_keys",
            "/home/.ssh/authorized_keys"
        ));
        assert!(!matches(
            "~/.ssh/authorized_keys",
            "/tmp/root/.ssh/authorized_keys"
        ));
        assert!(matches("/etc/cron.d/", "/etc/cron.d/backdoor"));
        assert!(!matches("/etc/cron.d/", "/etc/cron.d/"));
        assert!(!matches("/etc/passwd", "/etc/passwd-"));
        // Every tactic's patterns are its own.
        for p in PERSISTENCE {
            assert!(!PRIVILEGE_ESCALATION.contains(p) && !DEFENSE_EVASION.iter().any(|(d, _)| d == p));
        }
    }
}
