//! Execution:Runtime/SuspiciousShellCreated: a network-facing process (a web server, an
//! application runtime, a database) started an interactive shell: what a remote code
//! execution looks like. A service running `sh -c <command>` is how programs call tools,
//! and `sshd` starting shells is its job: neither is reported. The parent comes from the
//! lineage. Fed by every sensor's exec events.

use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct SuspiciousShellCreated;

const SHELLS: [&str; 7] = ["sh", "bash", "dash", "zsh", "ash", "ksh", "busybox"];

/// Processes that answer the network.
const SERVICES: [&str; 27] = [
    "nginx",
    "httpd",
    "apache2",
    "lighttpd",
    "caddy",
    "haproxy",
    "envoy",
    "traefik",
    "java",
    "node",
    "python",
    "python3",
    "ruby",
    "php",
    "php-fpm",
    "perl",
    "gunicorn",
    "uwsgi",
    "uvicorn",
    "puma",
    "unicorn",
    "dotnet",
    "redis-server",
    "mysqld",
    "postgres",
    "mongod",
    "memcached",
];

/// A shell reading commands from its user: `-i`, or no script and no `-c`.
fn interactive(process: &peregrine_rules_sdk::runtime::Process) -> bool {
    let args = &process.arguments;
    args.iter().any(|a| a == "-i" || a == "-li" || a == "-il")
        || (!args.iter().any(|a| a == "-c" || a.starts_with("-c"))
            && args.iter().all(|a| a.starts_with('-')))
}

impl Rule for SuspiciousShellCreated {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Execution:Runtime/SuspiciousShellCreated",
            LOW,
            "A network-facing process started an interactive shell.",
            "A web server, application runtime or database started an interactive shell.",
        )
        .subscribe_runtime(
            RuntimeSubscription::any()
                .activities(&[ActivityKind::Exec])
                .executables(&SHELLS),
        )
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec)
            || !SHELLS.contains(&event.process.name.as_str())
        {
            return None;
        }
        let parent = event.lineage.first()?;
        if !SERVICES.contains(&parent.name.as_str()) || !interactive(&event.process) {
            return None;
        }
        Some(
            Finding::new(format!(
                "{} ({}) {} of cluster {} started the interactive shell {}.",
                parent.name,
                parent.executable_path,
                event.place(),
                event.cluster,
                event.process.command_line
            ))
            .with_aggregation_key(parent.executable_path.clone())
            .with_info("parentExecutablePath", parent.executable_path.clone()),
        )
    }
}

export_rule!(SuspiciousShellCreated);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::SuspiciousShellCreated>();
    }
}
