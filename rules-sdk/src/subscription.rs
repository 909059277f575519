//! What a subscription matches. The host dispatches with this same function, so native
//! tests see exactly the events a loaded module would.

use crate::{AuditEvent, AuditSubscription, EventMatch, RuntimeEvent, RuntimeSubscription};

fn listed(values: &[String], value: Option<&str>) -> bool {
    values.is_empty() || value.is_some_and(|v| values.iter().any(|want| want == v))
}

pub fn matches(subscription: &AuditSubscription, event: &AuditEvent) -> bool {
    let s = subscription;
    listed(&s.verbs, Some(&event.verb))
        && listed(&s.resources, event.resource())
        && listed(&s.subresources, event.subresource())
        && listed(&s.namespaces, event.namespace())
        && (s.users.is_empty() || s.users.iter().any(|u| event.user_is(u)))
        && (!s.source_ip_listed
            || event
                .source_ips
                .iter()
                .any(|ip| !ip.trusted && !ip.threat_lists.is_empty()))
}

/// Whether a runtime subscription matches a runtime event.
pub fn matches_runtime(subscription: &RuntimeSubscription, event: &RuntimeEvent) -> bool {
    let s = subscription;
    (s.activities.is_empty() || s.activities.contains(&event.activity.kind()))
        && (s.sensors.is_empty() || s.sensors.contains(&event.sensor))
        && (!s.listed || !event.listings().is_empty())
        && (!s.containers_only || event.in_container())
        && (s.matching.is_empty() || s.matching.iter().any(|m| meets(m, event)))
}

fn meets(condition: &EventMatch, event: &RuntimeEvent) -> bool {
    let process = &event.process;
    match condition {
        EventMatch::Activity(kind) => event.activity.kind() == *kind,
        EventMatch::Executable(name) => base_name(&process.executable_path).eq_ignore_ascii_case(name),
        EventMatch::CommandLine(part) => process.command_line.contains(part.as_str()),
        EventMatch::Path(pattern) => event.paths().any(|path| path_matches(pattern, path)),
        EventMatch::Cwd(pattern) => process.cwd.as_deref().is_some_and(|cwd| path_matches(pattern, cwd)),
        EventMatch::Fileless => process.fileless,
        EventMatch::PrivilegesRaised => process.setuid_binary || !process.privileges_changed.is_empty(),
    }
}

/// A condition in words, for `rules inspect`.
pub fn describe(condition: &EventMatch) -> String {
    match condition {
        EventMatch::Activity(kind) => format!("any {} event", kind.name()),
        EventMatch::Executable(name) => format!("executable {name}"),
        EventMatch::CommandLine(part) => format!("command line containing {part:?}"),
        EventMatch::Path(pattern) => format!("path {pattern}"),
        EventMatch::Cwd(pattern) => format!("working directory {pattern}"),
        EventMatch::Fileless => "a process running from memory".to_string(),
        EventMatch::PrivilegesRaised => "an exec that raised privileges".to_string(),
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A path pattern of [`EventMatch::Path`]: `dir/` matches what is under the folder,
/// `*suffix` what ends in the suffix, anything else only itself.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        path.ends_with(suffix)
    } else if pattern.ends_with('/') {
        path.starts_with(pattern)
    } else {
        path == pattern
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::ActivityKind;
    use crate::testing::runtime_event;

    fn exec(binary: &str, arguments: &str, cwd: &str) -> RuntimeEvent {
        runtime_event(&format!(
            r#"{{"process_exec":{{"process":{{"exec_id":"e1","pid":7,"uid":1000,"cwd":"{cwd}","binary":"{binary}","arguments":"{arguments}","flags":"execve","start_time":"2026-12-01T10:00:00Z"}}}},"node_name":"n1","time":"2026-12-01T10:00:00Z"}}"#
        ))
    }

    fn write(path: &str) -> RuntimeEvent {
        runtime_event(&format!(
            r#"{{"process_kprobe":{{"process":{{"exec_id":"e2","pid":8,"binary":"/bin/cp","arguments":"a b","start_time":"2026-12-01T10:00:00Z"}},"function_name":"security_file_permission","args":[{{"file_arg":{{"path":"{path}"}}}},{{"int_arg":2}}],"action":"KPROBE_ACTION_POST"}},"node_name":"n1","time":"2026-12-01T10:00:01Z"}}"#
        ))
    }

    #[test]
    fn matching_narrows_to_events_meeting_any_condition() {
        let execs = RuntimeSubscription::any().activities(&[ActivityKind::Exec]);
        let tools = execs.clone().executables(&["nmap"]).command_lines(&["stratum+tcp://"]);
        assert!(matches_runtime(&execs, &exec("/usr/bin/ls", "-l", "/")));
        assert!(matches_runtime(&tools, &exec("/usr/bin/NMAP", "-sS 10.0.0.0/24", "/")));
        assert!(matches_runtime(&tools, &exec("/tmp/x", "-o stratum+tcp://pool:3333", "/")));
        assert!(!matches_runtime(&tools, &exec("/usr/bin/ls", "-l", "/")));
        assert!(!matches_runtime(&tools, &exec("/usr/bin/nmapper", "", "/")));
        // The activity still narrows: a write by nmap is no exec.
        assert!(!matches_runtime(&tools.clone().activities(&[ActivityKind::File]), &exec("/usr/bin/nmap", "", "/")));

        let cwd = execs.clone().cwds(&["/proc/self/fd/"]);
        assert!(matches_runtime(&cwd, &exec("/bin/sh", "", "/proc/self/fd/7")));
        assert!(!matches_runtime(&cwd, &exec("/bin/sh", "", "/proc/1/cwd")));

        let every_exec = RuntimeSubscription::any().executables(&["nmap"]).every(ActivityKind::File);
        assert!(matches_runtime(&every_exec, &write("/srv/anything")));
        assert!(!matches_runtime(&every_exec, &exec("/bin/ls", "", "/")));
    }

    #[test]
    fn path_patterns_are_exact_folders_or_suffixes() {
        let files = RuntimeSubscription::any()
            .activities(&[ActivityKind::File])
            .paths(&["/etc/passwd", "/etc/cron.d/", "*release_agent"]);
        for (path, wanted) in [
            ("/etc/passwd", true),
            ("/etc/passwd-", false),
            ("/etc/cron.d/job", true),
            ("/etc/cron.daily/job", false),
            ("/sys/fs/cgroup/x/release_agent", true),
            ("/tmp/release_agent.bak", false),
        ] {
            assert_eq!(matches_runtime(&files, &write(path)), wanted, "{path}");
        }
        assert!(path_matches("/etc/cron.d/", "/etc/cron.d/"));
        assert!(!path_matches("/etc/cron.d/", "/etc/cron.d"));
    }
}
