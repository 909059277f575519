//! The twenty `<Tactic>:Kubernetes/<Caller>` finding types: an API call of a tactic (see
//! [`crate::tactic`]) made by a suspicious caller. Each is one module; all share this code,
//! so a module is one line: `export_tactic_caller_rule!(Discovery, TorIpCaller);`.
//!
//! Callers:
//! - `MaliciousIPCaller`: the caller IP is on the built-in malicious list;
//! - `MaliciousIPCaller.Custom`: the caller IP is on a user threat list (the finding names it);
//! - `TorIPCaller`: the caller IP is a Tor exit node;
//! - `SuccessfulAnonymousAccess`: `system:anonymous` made the call and it succeeded.
//!
//! The caller IP is the first public address in `sourceIPs` (see
//! [`AuditEvent::caller_ip`]); a trusted address never matches. The malicious-IP callers
//! skip anonymous requests, which are the anonymous family's. IP findings count any
//! response; the status code is in the finding.

use crate::tactic::{Tactic, anonymous_tactic, api_commonly_used_in, classify};
use crate::{AuditEvent, AuditSubscription, Descriptor, Finding, HIGH, MEDIUM, ThreatListKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    MaliciousIpCaller,
    MaliciousIpCallerCustom,
    TorIpCaller,
    SuccessfulAnonymousAccess,
}

impl Caller {
    pub fn name(self) -> &'static str {
        match self {
            Caller::MaliciousIpCaller => "MaliciousIPCaller",
            Caller::MaliciousIpCallerCustom => "MaliciousIPCaller.Custom",
            Caller::TorIpCaller => "TorIPCaller",
            Caller::SuccessfulAnonymousAccess => "SuccessfulAnonymousAccess",
        }
    }

    fn list_kind(self) -> Option<ThreatListKind> {
        match self {
            Caller::MaliciousIpCaller => Some(ThreatListKind::Malicious),
            Caller::MaliciousIpCallerCustom => Some(ThreatListKind::Custom),
            Caller::TorIpCaller => Some(ThreatListKind::TorExitNode),
            Caller::SuccessfulAnonymousAccess => None,
        }
    }
}

/// GuardDuty's default severities: High but for Discovery (Medium) and IP-caller
/// Persistence (Medium).
pub fn severity(tactic: Tactic, caller: Caller) -> f64 {
    match (tactic, caller) {
        (Tactic::Discovery, _) => MEDIUM,
        (Tactic::Persistence, Caller::SuccessfulAnonymousAccess) => HIGH,
        (Tactic::Persistence, _) => MEDIUM,
        _ => HIGH,
    }
}

fn purpose(tactic: Tactic) -> &'static str {
    match tactic {
        Tactic::CredentialAccess => "access credentials or secrets in a Kubernetes cluster",
        Tactic::DefenseEvasion => "evade defensive measures in a Kubernetes cluster",
        Tactic::Discovery => "discover resources in a Kubernetes cluster",
        Tactic::Impact => "tamper with resources in a Kubernetes cluster",
        Tactic::Persistence => "obtain persistent access to a Kubernetes cluster",
    }
}

fn source(caller: Caller) -> &'static str {
    match caller {
        Caller::MaliciousIpCaller => "invoked from a known malicious IP address",
        Caller::MaliciousIpCallerCustom => "invoked from an IP address on a custom threat list",
        Caller::TorIpCaller => "invoked from a Tor exit node IP address",
        Caller::SuccessfulAnonymousAccess => "invoked by the anonymous user",
    }
}

pub fn finding_type(tactic: Tactic, caller: Caller) -> String {
    format!("{}:Kubernetes/{}", tactic.name(), caller.name())
}

pub fn descriptor(tactic: Tactic, caller: Caller) -> Descriptor {
    let subscription = match caller {
        Caller::SuccessfulAnonymousAccess => AuditSubscription::any().users(&[
            crate::event::ANONYMOUS_USER,
            crate::event::UNAUTHENTICATED_GROUP,
        ]),
        _ => AuditSubscription::any().source_ip_listed(),
    };
    Descriptor::new(
        &finding_type(tactic, caller),
        severity(tactic, caller),
        &format!("{} {}.", api_commonly_used_in(tactic), source(caller)),
        &format!(
            "An API commonly used to {} was {}.",
            purpose(tactic),
            source(caller)
        ),
    )
    .subscribe(subscription)
}

/// The finding for `event`, if it is a `tactic` call by a `caller`.
pub fn evaluate(tactic: Tactic, caller: Caller, event: &AuditEvent) -> Option<Finding> {
    let cluster = &event.cluster;
    let api = api_commonly_used_in(tactic);
    let Some(kind) = caller.list_kind() else {
        return (anonymous_tactic(event)? == tactic).then(|| {
            Finding::new(format!(
                "{api} was invoked on cluster {cluster} by the anonymous user {}.",
                event.username()
            ))
        });
    };
    if event.is_anonymous() && kind != ThreatListKind::TorExitNode {
        return None;
    }
    let ip = event.caller_ip().filter(|ip| ip.is_public && !ip.trusted)?;
    let hit = ip.threat_lists.iter().find(|hit| hit.kind == kind)?;
    if classify(event)? != tactic {
        return None;
    }
    let address = &ip.address;
    let finding = match caller {
        Caller::MaliciousIpCallerCustom => Finding::new(format!(
            "{api} was invoked on cluster {cluster} from IP address {address} on the custom threat list {}.",
            hit.name
        ))
        .with_title(format!("{api} invoked from an IP address on a custom threat list {}.", hit.name))
        // Each list is its own issue.
        .with_aggregation_key(hit.name.clone()),
        Caller::TorIpCaller => {
            Finding::new(format!("{api} was invoked on cluster {cluster} from Tor exit node IP address {address}."))
        }
        _ => Finding::new(format!("{api} was invoked on cluster {cluster} from known malicious IP address {address}.")),
    };
    Some(
        finding
            .with_threat_intel(&hit.name, &[])
            .with_info("threatName", caller.name()),
    )
}

/// Exports the `<tactic>:Kubernetes/<caller>` rule from this crate, e.g.
/// `export_tactic_caller_rule!(Discovery, TorIpCaller);`, with tests of the crate's
/// `fixtures/positive.jsonl` and `fixtures/negative.jsonl`.
#[macro_export]
macro_rules! export_tactic_caller_rule {
    ($tactic:ident, $caller:ident) => {
        pub struct TacticCallerRule;

        impl $crate::Rule for TacticCallerRule {
            fn descriptor() -> $crate::Descriptor {
                $crate::caller::descriptor(
                    $crate::tactic::Tactic::$tactic,
                    $crate::caller::Caller::$caller,
                )
            }

            fn evaluate(event: &$crate::AuditEvent) -> Option<$crate::Finding> {
                $crate::caller::evaluate(
                    $crate::tactic::Tactic::$tactic,
                    $crate::caller::Caller::$caller,
                    event,
                )
            }
        }

        $crate::export_rule!(TacticCallerRule);

        /// Every positive fixture event raises a finding; no negative one does.
        #[cfg(test)]
        mod fixture_tests {
            use super::TacticCallerRule;
            use $crate::testing::{events_from_file, run_file};

            #[test]
            fn every_positive_fixture_is_found() {
                let findings = run_file::<TacticCallerRule>("fixtures/positive.jsonl");
                assert_eq!(
                    findings.len(),
                    events_from_file("fixtures/positive.jsonl").len(),
                    "{findings:#?}"
                );
            }

            #[test]
            fn negative_fixtures_are_not() {
                assert_eq!(
                    run_file::<TacticCallerRule>("fixtures/negative.jsonl"),
                    vec![]
                );
            }
        }
    };
}
