//! The processes a node's sensor has reported, so every event carries its full lineage
//! even when the sensor sends only the process (Falco, Tracee) or only the parent
//! (Tetragon without `--enable-ancestors`).

use std::collections::{HashMap, VecDeque};

use crate::runtime::{Activity, Process, RuntimeEvent};

/// The longest lineage attached to an event (GuardDuty's are a handful deep).
pub const MAX_LINEAGE: usize = 16;

/// Processes by their cluster-unique id, the oldest forgotten first past the capacity.
pub struct ProcessTable {
    processes: HashMap<String, Process>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Default for ProcessTable {
    fn default() -> Self {
        ProcessTable::new(1 << 16)
    }
}

impl ProcessTable {
    pub fn new(capacity: usize) -> Self {
        ProcessTable {
            processes: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.processes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Process> {
        self.processes.get(id)
    }

    /// Remembers the event's process and the ancestors it names, then completes its
    /// lineage from the processes remembered before: parent first, as far as known.
    pub fn attach(&mut self, event: &mut RuntimeEvent) {
        self.learn(event);
        self.complete(event);
    }

    /// Remembers the event's process and the ancestors it names.
    pub fn learn(&mut self, event: &RuntimeEvent) {
        // An exec event describes the process best; other events only fill a gap.
        let authoritative = matches!(event.activity, Activity::Exec);
        self.remember(&event.process, authoritative);
        for ancestor in &event.lineage {
            self.remember(ancestor, false);
        }
    }

    /// Completes the event's lineage from the processes remembered: parent first, as far
    /// as known (copying them is what lineage costs, so the host does it only for events
    /// a rule will judge).
    pub fn complete(&self, event: &mut RuntimeEvent) {
        let mut next = match event.lineage.last() {
            Some(last) => last.parent_id.clone(),
            None => event.process.parent_id.clone(),
        };
        let mut seen: Vec<&str> = std::iter::once(event.process.id.as_str())
            .chain(event.lineage.iter().map(|p| p.id.as_str()))
            .collect();
        let mut found = Vec::new();
        while let Some(id) = next {
            if event.lineage.len() + found.len() >= MAX_LINEAGE || seen.contains(&id.as_str()) {
                break;
            }
            let Some(parent) = self.processes.get(&id) else {
                break;
            };
            next = parent.parent_id.clone();
            found.push(parent.clone());
            seen.push(&parent.id);
        }
        event.lineage.extend(found);
        if let Some(parent) = event.lineage.first().filter(|p| !p.id.is_empty())
            && event.process.parent_id.is_none()
        {
            event.process.parent_id = Some(parent.id.clone());
        }
    }

    fn remember(&mut self, process: &Process, authoritative: bool) {
        if process.id.is_empty() {
            return;
        }
        if let Some(known) = self.processes.get_mut(&process.id) {
            if authoritative {
                *known = process.clone();
            } else if known.parent_id.is_none() {
                known.parent_id.clone_from(&process.parent_id);
            }
            return;
        }
        while self.processes.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.processes.remove(&old);
                }
                None => break,
            }
        }
        self.order.push_back(process.id.clone());
        self.processes.insert(process.id.clone(), process.clone());
    }
}
