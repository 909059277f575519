//! The accuracy harness (`peregrine accuracy`): how well the anomaly rules find the
//! simulator's labeled attacks.
//!
//! For each seed, the simulator writes a cluster's traffic and the labels of its attack
//! events; a [`Detector`] (the host scans the traffic with the rule modules exactly as
//! `scan` does) reports every finding occurrence, matched to its event by audit ID. For each anomaly type: an attack event labeled with
//! the type and found with it is a true positive, a labeled one not found a false
//! negative, and any other event found with the type a false positive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{SimulationConfig, run as simulate};

/// The simulator seeds the anomaly rules were tuned on: a report on any of them is not a
/// held-out measurement, and says so.
pub const TUNING_SEEDS: [std::ops::RangeInclusive<u64>; 2] = [1..=13, 101..=105];

/// The anomaly finding types, in the order the report lists them.
pub const ANOMALY_TYPES: [&str; 8] = [
    "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed",
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated",
    "Execution:Kubernetes/AnomalousBehavior.ExecInPod",
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer",
    "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
    "Execution:Kubernetes/AnomalousBehavior.WorkloadDeployed",
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleCreated",
    "Discovery:Kubernetes/AnomalousBehavior.PermissionChecked",
];

/// One finding occurrence a detector raised over the simulated traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub finding_type: String,
    pub audit_id: String,
    /// The anomaly score the finding carries (NaN if none).
    pub score: f64,
}

/// What a detector found in one seed's traffic.
#[derive(Clone, Debug, Default)]
pub struct Detections {
    pub found: Vec<Detection>,
    /// The finding types of the rules that ran.
    pub finding_types: BTreeSet<String>,
}

/// Judges a file of simulated audit events.
pub trait Detector {
    type Error: std::error::Error + 'static;

    fn detect(&mut self, traffic: &Path) -> Result<Detections, Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum AccuracyError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Detector(E),
    #[error("cannot write the simulated traffic: {0}")]
    Io(#[from] std::io::Error),
    #[error("the rule modules do not include {0}")]
    MissingRule(String),
}

/// The counts of one finding type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeCounts {
    pub labeled: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    /// False positives on benign events (the others are attack events of another type).
    pub benign_false_positives: u64,
}

impl TypeCounts {
    pub fn precision(&self) -> Option<f64> {
        let flagged = self.true_positives + self.false_positives;
        (flagged > 0).then(|| self.true_positives as f64 / flagged as f64)
    }

    pub fn recall(&self) -> Option<f64> {
        (self.labeled > 0).then(|| self.true_positives as f64 / self.labeled as f64)
    }

    fn add(&mut self, other: &TypeCounts) {
        self.labeled += other.labeled;
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.benign_false_positives += other.benign_false_positives;
    }
}

/// The outcome of one seed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedResult {
    pub seed: u64,
    pub events: u64,
    pub attack_events: u64,
    pub by_type: BTreeMap<String, TypeCounts>,
    /// Per attack technique and stolen credential (as labeled).
    pub by_attack: BTreeMap<Attack, AttackCounts>,
    /// Every anomaly finding.
    pub scores: Vec<Score>,
}

/// An attack technique and the credential it used, as labeled.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attack {
    pub technique: String,
    pub credential: String,
}

/// An attack's labeled events, and how many of them were found with the type they should
/// raise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttackCounts {
    pub events: u64,
    pub found: u64,
}

/// One anomaly finding and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub finding_type: String,
    pub audit_id: String,
    /// The attack technique labeled on the event; empty for a benign event.
    pub technique: String,
    pub score: f64,
}

#[derive(Clone, Debug)]
pub struct AccuracyReport {
    pub simulation: SimulationConfig,
    pub seeds: Vec<SeedResult>,
}

impl AccuracyReport {
    pub fn total(&self, finding_type: &str) -> TypeCounts {
        let mut total = TypeCounts::default();
        for seed in &self.seeds {
            if let Some(c) = seed.by_type.get(finding_type) {
                total.add(c);
            }
        }
        total
    }

    pub fn benign_events(&self) -> u64 {
        self.seeds.iter().map(|s| s.events - s.attack_events).sum()
    }

    /// Whether every type reaches `bar` in both precision and recall.
    pub fn meets(&self, bar: f64) -> bool {
        ANOMALY_TYPES.iter().all(|t| {
            let c = self.total(t);
            c.precision().is_some_and(|p| p >= bar) && c.recall().is_some_and(|r| r >= bar)
        })
    }
}

/// Simulates every seed of `simulation` and judges its traffic with `detector`.
pub fn run<D: Detector>(
    simulation: &SimulationConfig,
    seeds: &[u64],
    detector: &mut D,
) -> Result<AccuracyReport, AccuracyError<D::Error>> {
    let mut results = Vec::new();
    for &seed in seeds {
        results.push(run_seed(simulation, seed, detector)?);
    }
    Ok(AccuracyReport {
        simulation: simulation.clone(),
        seeds: results,
    })
}

fn run_seed<D: Detector>(
    simulation: &SimulationConfig,
    seed: u64,
    detector: &mut D,
) -> Result<SeedResult, AccuracyError<D::Error>> {
    let dir = tempfile::tempdir()?;
    let traffic = dir.path().join("traffic.jsonl");
    let config = SimulationConfig {
        seed,
        ..simulation.clone()
    };
    let mut labels = Vec::new();
    let summary = {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&traffic)?);
        let summary = simulate(&config, &mut out, &mut labels)?;
        std::io::Write::flush(&mut out)?;
        summary
    };
    // Labels: audit ID → the type it should raise, and the technique.
    let labels: Vec<serde_json::Value> = String::from_utf8_lossy(&labels)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let label = |l: &serde_json::Value, key: &str| l[key].as_str().unwrap_or("").to_string();
    let expected: BTreeMap<String, String> = labels
        .iter()
        .map(|l| (label(l, "auditId"), label(l, "findingType")))
        .collect();
    // Audit ID → the technique and the stolen credential.
    let attacks: BTreeMap<String, Attack> = labels
        .iter()
        .map(|l| {
            let attack = Attack {
                technique: label(l, "attack"),
                credential: label(l, "credential"),
            };
            (label(l, "auditId"), attack)
        })
        .collect();

    let detections = detector.detect(&traffic).map_err(AccuracyError::Detector)?;
    if let Some(missing) = ANOMALY_TYPES
        .iter()
        .find(|t| !detections.finding_types.contains(**t))
    {
        return Err(AccuracyError::MissingRule(missing.to_string()));
    }
    // (type, audit ID) → score; an occurrence found twice counts once.
    let found: BTreeMap<(&str, &str), f64> = detections
        .found
        .iter()
        .map(|d| ((d.finding_type.as_str(), d.audit_id.as_str()), d.score))
        .collect();
    let mut by_type = BTreeMap::new();
    for t in ANOMALY_TYPES {
        let mut c = TypeCounts {
            labeled: expected.values().filter(|v| *v == t).count() as u64,
            ..TypeCounts::default()
        };
        for (_, id) in found.keys().filter(|(ft, _)| *ft == t) {
            match expected.get(*id) {
                Some(label) if label == t => c.true_positives += 1,
                Some(_) => c.false_positives += 1,
                None => {
                    c.false_positives += 1;
                    c.benign_false_positives += 1;
                }
            }
        }
        by_type.insert(t.to_string(), c);
    }
    let mut by_attack: BTreeMap<Attack, AttackCounts> = BTreeMap::new();
    for (id, attack) in &attacks {
        let counts = by_attack.entry(attack.clone()).or_default();
        counts.events += 1;
        if found.contains_key(&(expected[id].as_str(), id.as_str())) {
            counts.found += 1;
        }
    }
    let scores = found
        .iter()
        .filter(|((t, _), _)| ANOMALY_TYPES.contains(t))
        .map(|((t, id), score)| Score {
            finding_type: t.to_string(),
            audit_id: id.to_string(),
            technique: attacks
                .get(*id)
                .map(|a| a.technique.clone())
                .unwrap_or_default(),
            score: *score,
        })
        .collect();
    Ok(SeedResult {
        seed,
        events: summary.events,
        attack_events: summary.attack_events,
        by_type,
        by_attack,
        scores,
    })
}

/// Every anomaly finding's score, as tab-separated lines: seed, type, audit ID, attack
/// technique (empty for benign events), score. With `--rule-setting
/// anomaly.threshold=0` it holds the score of every judged operation, for choosing a
/// threshold.
pub fn render_scores(report: &AccuracyReport) -> String {
    let mut out = String::from("seed\ttype\tauditId\tattack\tscore\n");
    for s in &report.seeds {
        for score in &s.scores {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{:.2}\n",
                s.seed, score.finding_type, score.audit_id, score.technique, score.score
            ));
        }
    }
    out
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{v:.3}"))
}

/// The report as Markdown, as `docs/accuracy.md` holds it.
/// `settings` are the rule settings the rules ran with.
pub fn render_markdown(
    report: &AccuracyReport,
    command: &str,
    settings: &BTreeMap<String, String>,
) -> String {
    let sim = &report.simulation;
    let seeds: Vec<String> = report.seeds.iter().map(|s| s.seed.to_string()).collect();
    let events: u64 = report.seeds.iter().map(|s| s.events).sum();
    let attacks: u64 = report.seeds.iter().map(|s| s.attack_events).sum();
    let benign = report.benign_events();
    let mut out = String::new();
    out.push_str("# Accuracy of the anomaly rules\n\n");
    out.push_str(&format!(
        "Made by `{command}`; run it again to reproduce every figure (the simulator and the \
         scan are deterministic).\n\n"
    ));
    let tuned: Vec<String> = report
        .seeds
        .iter()
        .filter(|s| TUNING_SEEDS.iter().any(|r| r.contains(&s.seed)))
        .map(|s| s.seed.to_string())
        .collect();
    let tuning: Vec<String> = TUNING_SEEDS
        .iter()
        .map(|r| format!("{}–{}", r.start(), r.end()))
        .collect();
    let tuning = tuning.join(" and ");
    let provenance = if tuned.is_empty() {
        format!(
            "The rules were tuned on other seeds ({tuning}); these were not looked at while \
             tuning."
        )
    } else {
        format!(
            "Not a held-out measurement: the rules were tuned on seeds {tuning}, among them {}.",
            tuned.join(", ")
        )
    };
    let settings = if settings.is_empty() {
        "with their default settings, as shipped".to_string()
    } else {
        let named: Vec<String> = settings.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        format!("with the settings {}", named.join(", "))
    };
    out.push_str(&format!(
        "{} simulator seeds {} ({} days each, {} quiet days first, {} attacks a day on \
         average): {events} events, of which {attacks} are labeled attack events and {benign} \
         benign. {provenance} The rules run {settings}.\n\n",
        if tuned.is_empty() { "Held-out" } else { "On" },
        seeds.join(", "),
        sim.days,
        sim.quiet_days,
        sim.attacks_per_day
    ));
    out.push_str(
        "| finding type | attack events | found | missed | false positives | precision | recall | false positives per 1,000,000 benign events |\n",
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for t in ANOMALY_TYPES {
        let c = report.total(t);
        out.push_str(&format!(
            "| `{t}` | {} | {} | {} | {} | {} | {} | {:.1} |\n",
            c.labeled,
            c.true_positives,
            c.labeled - c.true_positives,
            c.false_positives,
            ratio(c.precision()),
            ratio(c.recall()),
            c.benign_false_positives as f64 * 1e6 / benign.max(1) as f64
        ));
    }
    let mut by_attack: BTreeMap<&Attack, AttackCounts> = BTreeMap::new();
    for s in &report.seeds {
        for (attack, counts) in &s.by_attack {
            let c = by_attack.entry(attack).or_default();
            c.events += counts.events;
            c.found += counts.found;
        }
    }
    out.push_str(
        "\nBy attack and stolen credential (`person` and `ci-token`: used from an attacker's \
         network with an attacker's tool; `pod-token`: a compromised application's \
         service-account token, used from inside its pod):\n\n\
         | attack | credential | attack events | found | recall |\n| --- | --- | ---: | ---: | ---: |\n",
    );
    for (attack, c) in by_attack {
        let recall = (c.events > 0).then(|| c.found as f64 / c.events as f64);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            attack.technique,
            attack.credential,
            c.events,
            c.found,
            ratio(recall)
        ));
    }
    out.push_str("\nPer seed (found / attack events, false positives):\n\n| seed | events |");
    for t in ANOMALY_TYPES {
        let short = t.rsplit("AnomalousBehavior.").next().unwrap_or(t);
        out.push_str(&format!(" {short} |"));
    }
    out.push_str("\n| ---: | ---: |");
    out.push_str(&" ---: |".repeat(ANOMALY_TYPES.len()));
    out.push('\n');
    for s in &report.seeds {
        out.push_str(&format!("| {} | {} |", s.seed, s.events));
        for t in ANOMALY_TYPES {
            let c = s.by_type.get(t).cloned().unwrap_or_default();
            out.push_str(&format!(
                " {}/{}, {} |",
                c.true_positives, c.labeled, c.false_positives
            ));
        }
        out.push('\n');
    }
    out.push_str(
        "\nA false positive is an event found with the type that is not labeled with it: a \
         benign event, or an attack event of another technique (counted in precision, but not \
         in the rate per benign events). How the rules score operations is in \
         [anomaly.md](anomaly.md).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(seeds: &[u64]) -> AccuracyReport {
        AccuracyReport {
            simulation: SimulationConfig::default(),
            seeds: seeds
                .iter()
                .map(|&seed| SeedResult {
                    seed,
                    events: 100,
                    by_attack: BTreeMap::from([(
                        Attack {
                            technique: "exec-into-pod".to_string(),
                            credential: "pod-token".to_string(),
                        },
                        AttackCounts {
                            events: 2,
                            found: 1,
                        },
                    )]),
                    ..SeedResult::default()
                })
                .collect(),
        }
    }

    #[test]
    fn the_report_says_whether_its_seeds_were_held_out_and_which_settings_ran() {
        let shipped = BTreeMap::new();
        let text = render_markdown(&report(&[201, 202]), "cmd", &shipped);
        assert!(text.contains("Held-out simulator seeds 201, 202"), "{text}");
        assert!(text.contains("default settings, as shipped"), "{text}");
        assert!(
            text.contains("| exec-into-pod | pod-token | 4 | 2 | 0.500 |"),
            "{text}"
        );
        let tuned = BTreeMap::from([("anomaly.threshold".to_string(), "9".to_string())]);
        let text = render_markdown(&report(&[5, 201, 103]), "cmd", &tuned);
        assert!(!text.contains("Held-out"), "{text}");
        assert!(text.contains("Not a held-out measurement"), "{text}");
        assert!(text.contains("among them 5, 103."), "{text}");
        assert!(
            text.contains("with the settings `anomaly.threshold=9`"),
            "{text}"
        );
    }
}
