//! Folding repeated occurrences of the same finding (same id) into one, as GuardDuty
//! does: `service.count` goes up, `eventFirstSeen` and `createdAt` keep their first values,
//! `eventLastSeen` and `updatedAt` move forward, and the details are those of the latest
//! occurrence by event time.

use std::collections::HashMap;

use super::GuardDutyFinding;

#[derive(Default)]
pub struct Aggregator {
    findings: HashMap<String, GuardDutyFinding>,
}

/// Folds `next` (one new occurrence) into `current`.
pub fn fold(current: &mut GuardDutyFinding, next: GuardDutyFinding) {
    let count = current.service.count + next.service.count;
    let first_seen = current
        .service
        .event_first_seen
        .clone()
        .min(next.service.event_first_seen.clone());
    let created = current.created_at.clone().min(next.created_at.clone());
    if next.service.event_last_seen >= current.service.event_last_seen {
        *current = next;
    } else {
        current.updated_at = current.updated_at.clone().max(next.updated_at);
    }
    current.service.count = count;
    current.service.event_first_seen = first_seen;
    current.created_at = created;
}

impl Aggregator {
    pub fn add(&mut self, finding: GuardDutyFinding) {
        match self.findings.get_mut(&finding.id) {
            Some(current) => fold(current, finding),
            None => {
                self.findings.insert(finding.id.clone(), finding);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.findings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings, oldest activity first.
    pub fn into_sorted(self) -> Vec<GuardDutyFinding> {
        let mut findings: Vec<GuardDutyFinding> = self.findings.into_values().collect();
        findings.sort_by(|a, b| {
            (&a.service.event_first_seen, &a.finding_type, &a.id).cmp(&(
                &b.service.event_first_seen,
                &b.finding_type,
                &b.id,
            ))
        });
        findings
    }
}
