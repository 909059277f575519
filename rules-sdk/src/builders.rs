//! Constructors for the WIT records a rule builds.

use crate::runtime::ActivityKind;
use crate::{AuditSubscription, Descriptor, EventMatch, Finding, RuntimeSubscription, ThreatIntel};

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

impl Descriptor {
    /// A descriptor that takes no events until [`Descriptor::subscribe`] says which.
    pub fn new(finding_type: &str, severity: f64, title: &str, description: &str) -> Self {
        Descriptor {
            finding_type: finding_type.to_string(),
            severity,
            title: title.to_string(),
            description: description.to_string(),
            audit: None,
            runtime: None,
            wants_raw: false,
        }
    }

    pub fn subscribe(mut self, subscription: AuditSubscription) -> Self {
        self.audit = Some(subscription);
        self
    }

    /// Take runtime events too (or only runtime events, without [`Descriptor::subscribe`]).
    pub fn subscribe_runtime(mut self, subscription: RuntimeSubscription) -> Self {
        self.runtime = Some(subscription);
        self
    }

    /// Ask the host for the original event JSON in `AuditEvent::raw`.
    pub fn with_raw(mut self) -> Self {
        self.wants_raw = true;
        self
    }
}

impl AuditSubscription {
    /// Every audit event.
    pub fn any() -> Self {
        AuditSubscription {
            verbs: Vec::new(),
            resources: Vec::new(),
            subresources: Vec::new(),
            namespaces: Vec::new(),
            users: Vec::new(),
            source_ip_listed: false,
        }
    }

    /// Creates, updates and patches of pods and every pod-template kind.
    pub fn workload_writes() -> Self {
        Self::any()
            .verbs(&["create", "update", "patch"])
            .resources(crate::WORKLOAD_RESOURCES)
    }

    pub fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = strings(verbs);
        self
    }

    pub fn resources(mut self, resources: &[&str]) -> Self {
        self.resources = strings(resources);
        self
    }

    pub fn subresources(mut self, subresources: &[&str]) -> Self {
        self.subresources = strings(subresources);
        self
    }

    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = strings(namespaces);
        self
    }

    /// Usernames or group names.
    pub fn users(mut self, users: &[&str]) -> Self {
        self.users = strings(users);
        self
    }

    /// Only events with a source IP on a threat list.
    pub fn source_ip_listed(mut self) -> Self {
        self.source_ip_listed = true;
        self
    }
}

impl RuntimeSubscription {
    /// Every runtime event.
    pub fn any() -> Self {
        RuntimeSubscription {
            activities: Vec::new(),
            sensors: Vec::new(),
            listed: false,
            containers_only: false,
            matching: Vec::new(),
        }
    }

    /// Adds conditions, each once.
    fn meet(mut self, conditions: impl IntoIterator<Item = EventMatch>) -> Self {
        for condition in conditions {
            if !self.matching.contains(&condition) {
                self.matching.push(condition);
            }
        }
        self
    }

    /// Also events of processes running one of these executables (base names, any ASCII
    /// case). Once any `matching` condition is given, only events that meet one are sent.
    pub fn executables(self, names: &[&str]) -> Self {
        self.meet(names.iter().map(|n| EventMatch::Executable(n.to_string())))
    }

    /// Also events of processes whose command line contains one of these strings.
    pub fn command_lines(self, parts: &[&str]) -> Self {
        self.meet(parts.iter().map(|p| EventMatch::CommandLine(p.to_string())))
    }

    /// Also events with a path matching one of these patterns (`/etc/passwd`, `/etc/cron.d/`
    /// for what is under it, `*/release_agent` for what ends so).
    pub fn paths(self, patterns: &[&str]) -> Self {
        self.meet(patterns.iter().map(|p| EventMatch::Path(p.to_string())))
    }

    /// Also events of processes whose working directory matches one of these patterns.
    pub fn cwds(self, patterns: &[&str]) -> Self {
        self.meet(patterns.iter().map(|p| EventMatch::Cwd(p.to_string())))
    }

    /// Also every event of this activity.
    pub fn every(self, activity: ActivityKind) -> Self {
        self.meet([EventMatch::Activity(activity)])
    }

    /// Also events of processes running from memory.
    pub fn fileless(self) -> Self {
        self.meet([EventMatch::Fileless])
    }

    /// Also execs that raised privileges.
    pub fn privileges_raised(self) -> Self {
        self.meet([EventMatch::PrivilegesRaised])
    }

    /// Events of these activities only.
    pub fn activities(mut self, activities: &[ActivityKind]) -> Self {
        self.activities = activities.to_vec();
        self
    }

    /// Events of these sensors only (`tetragon`, `falco`, `tracee`).
    pub fn sensors(mut self, sensors: &[&str]) -> Self {
        self.sensors = strings(sensors);
        self
    }

    /// Only events with an address, domain or file hash on a threat list.
    pub fn listed(mut self) -> Self {
        self.listed = true;
        self
    }

    /// Only processes in containers, not on the node itself.
    pub fn containers_only(mut self) -> Self {
        self.containers_only = true;
        self
    }
}

impl Finding {
    /// A finding with the descriptor's severity and title.
    pub fn new(description: impl Into<String>) -> Self {
        Finding {
            event_index: 0,
            severity: None,
            title: None,
            description: description.into(),
            parameters: None,
            threat_intel: Vec::new(),
            additional_info: Vec::new(),
            anomaly: Vec::new(),
            aggregation_key: None,
            runtime_context: Vec::new(),
        }
    }

    pub fn with_severity(mut self, severity: f64) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    pub fn with_parameters(mut self, parameters: impl Into<String>) -> Self {
        self.parameters = Some(parameters.into());
        self
    }

    pub fn with_threat_intel(mut self, list_name: &str, threat_names: &[&str]) -> Self {
        self.threat_intel.push(ThreatIntel {
            threat_list_name: list_name.to_string(),
            threat_names: strings(threat_names),
        });
        self
    }

    pub fn with_info(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.additional_info.push((key.into(), value.into()));
        self
    }

    /// A `service.runtimeDetails.context` field, e.g. `("moduleName", "rootkit")`.
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.runtime_context.push((key.into(), value.into()));
        self
    }

    pub fn with_aggregation_key(mut self, key: impl Into<String>) -> Self {
        self.aggregation_key = Some(key.into());
        self
    }
}
