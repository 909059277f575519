//! `peregrine simulate`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::parse_attack_rate;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The same seed gives the same traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated days.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    days: u32,
    /// Attacks per simulated day, on average.
    #[arg(long, default_value_t = 4.0, value_parser = parse_attack_rate)]
    attacks_per_day: f64,
    /// Days at the start without attacks.
    #[arg(long, default_value_t = 3)]
    quiet_days: u32,
    /// Where to write the events (JSON lines).
    #[arg(long)]
    out: PathBuf,
    /// Where to write the labels of the attack events (JSON lines).
    #[arg(long)]
    labels: PathBuf,
}

impl SimulateArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let SimulateArgs {
            seed,
            days,
            attacks_per_day,
            quiet_days,
            out,
            labels,
        } = self;
        simulate(
            &crate::simulate::SimulationConfig {
                seed,
                days,
                attacks_per_day,
                quiet_days,
            },
            &out,
            &labels,
        )
    }
}

fn simulate(
    config: &crate::simulate::SimulationConfig,
    out: &std::path::Path,
    labels: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let open = |path: &std::path::Path| {
        std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .with_context(|| format!("cannot write {}", path.display()))
    };
    let mut events = open(out)?;
    let mut labeled = open(labels)?;
    let summary = crate::simulate::run(config, &mut events, &mut labeled)
        .and_then(|s| events.flush().and(labeled.flush()).map(|_| s))
        .context("cannot write the simulated traffic")?;
    eprintln!(
        "peregrine: {} events over {} days, {} of them attacks (labels in {})",
        summary.events,
        config.days,
        summary.attack_events,
        labels.display()
    );
    Ok(ExitCode::SUCCESS)
}
