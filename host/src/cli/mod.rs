//! The `peregrine` command line.

//!
//! One file per command, as wasmtime and Spin lay theirs out: each holds its arguments
//! and an `execute`; the flags `scan`, `serve` and `accuracy` share are [`EngineArgs`].

mod accuracy;
mod exit;
mod intel;
mod rules;
mod scan;
mod serve;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::engine::EngineConfig;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "peregrine",
    version,
    about = "Kubernetes threat detection with sandboxed WebAssembly rules"
)]
struct Cli {
    /// Log filter (tracing syntax), e.g. `info` or `peregrine=debug`.
    #[arg(long, env = "PEREGRINE_LOG", default_value = "warn", global = true)]
    log: String,
    /// Log lines as text, or as JSON objects for a log pipeline.
    #[arg(
        long,
        env = "PEREGRINE_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// GuardDuty wire-format findings, one JSON object per line.
    Jsonl,
    /// A readable table.
    Table,
}

/// The rules and how they run, for `scan` and `serve`.
#[derive(clap::Args)]
pub(crate) struct EngineArgs {
    /// Directory of rule modules (`.wasm` components).
    #[arg(long, env = "PEREGRINE_RULES", default_value = "dist/rules")]
    pub(crate) rules: PathBuf,
    /// Worker threads that run rules (default: one per core but one, which reads).
    #[arg(long, env = "PEREGRINE_WORKERS")]
    workers: Option<usize>,
    /// Longest one call into a rule may run, in milliseconds.
    #[arg(long, env = "PEREGRINE_RULE_TIMEOUT_MS", default_value_t = 250)]
    rule_timeout_ms: u64,
    /// Memory cap of one rule instance, in MiB.
    #[arg(long, env = "PEREGRINE_RULE_MEMORY_MIB", default_value_t = 128)]
    rule_memory_mib: usize,
    /// Cache of compiled modules (default: $XDG_CACHE_HOME/peregrine or ~/.cache/peregrine).
    #[arg(long, env = "PEREGRINE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every module afresh instead of using the cache.
    #[arg(long)]
    no_cache: bool,
    /// A setting rules read (`NAME=VALUE`, repeatable), e.g.
    /// `anomaly.learning-hours=72`; each rule documents the names it reads.
    #[arg(long = "rule-setting", env = "PEREGRINE_RULE_SETTINGS", value_delimiter = ',', value_parser = parse_rule_setting)]
    rule_settings: Vec<(String, String)>,
}

pub(crate) fn parse_attack_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a number of attacks a day (0 or more)"
        )),
    }
}

pub(crate) fn parse_rule_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

impl EngineArgs {
    pub(crate) fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            timeout: Duration::from_millis(self.rule_timeout_ms),
            memory_limit: self.rule_memory_mib << 20,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(default_cache_dir)
            },
            settings: std::sync::Arc::new(self.rule_settings.iter().cloned().collect()),
            ..EngineConfig::default()
        }
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(crate::pipeline::default_workers)
            .max(1)
    }
}

// Parsed once per run: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Write, test and check rule modules.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Judge audit events as they arrive (webhook, followed files) and serve the REST API.
    Serve(serve::ServeArgs),
    /// Write simulated audit traffic of a cluster over days, with labeled attacks in it.
    Simulate(simulate::SimulateArgs),
    /// Measure the anomaly rules on simulated traffic with labeled attacks: precision,
    /// recall and false positives per type, as Markdown (docs/accuracy.md).
    Accuracy(accuracy::AccuracyArgs),
    /// Threat intelligence lists.
    Intel {
        #[command(subcommand)]
        command: intel::IntelCommand,
    },
    /// Evaluate every rule module over audit log files and print the findings.
    Scan(scan::ScanArgs),
}

pub use exit::Status;

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` are not errors.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return Status::Usage.code();
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        );
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    exit::finish(match cli.command {
        Command::Serve(args) => args.execute(),
        Command::Rules { command } => command.execute(),
        Command::Simulate(args) => args.execute(),
        Command::Accuracy(args) => args.execute(),
        Command::Intel { command } => command.execute(),
        Command::Scan(args) => args.execute(),
    })
}

/// `$XDG_CACHE_HOME/peregrine`, else `~/.cache/peregrine`.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("peregrine"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(args: &str) -> Result<(), String> {
        let args = std::iter::once("peregrine").chain(args.split_whitespace());
        Cli::try_parse_from(args)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn simulations_need_a_day_and_a_rate_of_zero_or_more() {
        let base = "simulate --out o --labels l";
        assert_eq!(parses(base), Ok(()));
        assert_eq!(
            parses(&format!("{base} --attacks-per-day 0 --days 1")),
            Ok(())
        );
        assert!(parses(&format!("{base} --days 0")).is_err());
        for rate in ["-3", "nan", "inf", "many"] {
            let error = parses(&format!("{base} --attacks-per-day={rate}")).unwrap_err();
            assert!(error.contains("attacks a day"), "{rate}: {error}");
        }
        assert!(parses("accuracy --days 0").is_err());
        assert!(parses("accuracy --attacks-per-day=-1").is_err());
    }
}
