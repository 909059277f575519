//! `peregrine accuracy`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;

use super::exit::{OrExit, Status};
use super::{EngineArgs, parse_attack_rate};
use crate::pipeline::{Commit, CommitError, Rejected, Sink};
use crate::scan::{self, Notice, ScanError, ScanOptions};
use crate::simulate::SimulationConfig;
use crate::simulate::accuracy::{self, Detection, Detections, Detector};

#[derive(clap::Args)]
pub struct AccuracyArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Simulator seeds to measure on (held out from tuning).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "201,202,203,204,205,206,207,208,209,210"
    )]
    seeds: Vec<u64>,
    /// Simulated days per seed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    days: u32,
    /// Days at the start without attacks.
    #[arg(long, default_value_t = 3)]
    quiet_days: u32,
    /// Attacks per simulated day, on average.
    #[arg(long, default_value_t = 6.0, value_parser = parse_attack_rate)]
    attacks_per_day: f64,
    /// Also write the report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit with status 1 unless every type reaches this precision and recall.
    #[arg(long)]
    require: Option<f64>,
    /// Also write every anomaly finding's score (tab-separated) to this file.
    #[arg(long)]
    scores: Option<PathBuf>,
}

impl AccuracyArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let AccuracyArgs {
            engine,
            seeds,
            days,
            quiet_days,
            attacks_per_day,
            out,
            require,
            scores,
        } = self;
        let mut scan = ScanOptions::new(engine.rules.clone());
        scan.engine = engine.engine_config();
        // One worker, so that every run gives the same figures.
        scan.workers = 1;
        let simulation = SimulationConfig {
            days,
            quiet_days,
            attacks_per_day,
            ..Default::default()
        };
        let mut detector = ScanDetector { options: scan };
        let report =
            accuracy::run(&simulation, &seeds, &mut detector).or_exit(Status::CannotStart)?;
        let seed_list: Vec<String> = seeds.iter().map(u64::to_string).collect();
        let settings = &detector.options.engine.settings;
        let mut command = format!(
            "peregrine accuracy --seeds {} --days {days} --quiet-days {quiet_days} --attacks-per-day {attacks_per_day}",
            seed_list.join(","),
        );
        for (name, value) in settings.iter() {
            command.push_str(&format!(" --rule-setting {name}={value}"));
        }
        let text = accuracy::render_markdown(&report, &command, settings);
        print!("{text}");
        let writes = [
            (out.as_deref(), text),
            (scores.as_deref(), accuracy::render_scores(&report)),
        ];
        for (path, contents) in writes {
            if let Some(path) = path {
                std::fs::write(path, contents)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        match require {
            Some(bar) if !report.meets(bar) => Err(anyhow::anyhow!(
                "some anomaly type is below {bar} in precision or recall"
            )),
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}

/// The harness's detector: the traffic scanned as `scan` does, every finding occurrence
/// kept with its audit ID and anomaly score.
struct ScanDetector {
    options: ScanOptions,
}

impl Detector for ScanDetector {
    type Error = ScanError;

    fn detect(&mut self, traffic: &Path) -> Result<Detections, ScanError> {
        let mut notify = |notice: Notice<'_>| {
            if let Notice::RuleNotLoaded(failure) = notice {
                eprintln!("peregrine: {failure}");
            }
        };
        let occurrences = Occurrences::default();
        let report = scan::run_into(
            &self.options,
            &[traffic.to_path_buf()],
            &mut notify,
            Box::new(occurrences.clone()),
        )?;
        let found = std::mem::take(&mut *occurrences.0.lock().unwrap());
        Ok(Detections {
            found,
            finding_types: report
                .rules
                .iter()
                .map(|r| r.finding_type().to_string())
                .collect(),
        })
    }
}

/// Keeps the audit ID (and anomaly score) of every occurrence of a finding.
#[derive(Clone, Default)]
struct Occurrences(Arc<Mutex<Vec<Detection>>>);

impl Sink for Occurrences {
    fn commit(&mut self, commit: &Commit, _: bool) -> Result<Rejected, CommitError> {
        let mut found = self.0.lock().unwrap();
        for f in &commit.findings {
            let info = &f.service.additional_info;
            if let Some(id) = info.get("auditId").and_then(|v| v.as_str()) {
                let score = info
                    .get("anomalyScore")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN);
                found.push(Detection {
                    finding_type: f.finding_type.clone(),
                    audit_id: id.to_string(),
                    score,
                });
            }
        }
        Ok(Rejected::default())
    }
}
