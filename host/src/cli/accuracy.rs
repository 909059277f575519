//! `peregrine accuracy`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{EngineArgs, parse_attack_rate};
use crate::scan::{Notice, ScanOptions};

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
    pub fn execute(self) -> ExitCode {
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
        let options = crate::accuracy::AccuracyOptions {
            scan,
            seeds,
            simulation: crate::simulate::SimulationConfig {
                days,
                quiet_days,
                attacks_per_day,
                ..Default::default()
            },
        };
        accuracy(&options, out.as_deref(), scores.as_deref(), require)
    }
}

fn accuracy(
    options: &crate::accuracy::AccuracyOptions,
    out: Option<&std::path::Path>,
    scores: Option<&std::path::Path>,
    require: Option<f64>,
) -> ExitCode {
    let mut notify = |notice: Notice<'_>| {
        if let Notice::RuleNotLoaded(failure) = notice {
            eprintln!("peregrine: {failure}");
        }
    };
    let report = match crate::accuracy::run(options, &mut notify) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return ExitCode::from(2);
        }
    };
    let seeds: Vec<String> = options.seeds.iter().map(u64::to_string).collect();
    let sim = &options.simulation;
    let settings = &options.scan.engine.settings;
    let mut command = format!(
        "peregrine accuracy --seeds {} --days {} --quiet-days {} --attacks-per-day {}",
        seeds.join(","),
        sim.days,
        sim.quiet_days,
        sim.attacks_per_day
    );
    for (name, value) in settings.iter() {
        command.push_str(&format!(" --rule-setting {name}={value}"));
    }
    let text = crate::accuracy::render_markdown(&report, &command, settings);
    print!("{text}");
    let writes = [
        (out, text),
        (scores, crate::accuracy::render_scores(&report)),
    ];
    for (path, contents) in writes {
        if let Some(path) = path
            && let Err(e) = std::fs::write(path, contents)
        {
            eprintln!("peregrine: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    match require {
        Some(bar) if !report.meets(bar) => {
            eprintln!("peregrine: some anomaly type is below {bar} in precision or recall");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}
