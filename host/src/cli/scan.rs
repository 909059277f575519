//! `peregrine scan`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::exit::{OrExit, Status};
use super::{EngineArgs, Format};
use crate::scan::{self, Notice, ScanOptions};
use crate::store;

#[derive(clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Threat-intelligence directory (malicious.txt, tor-exit-nodes.txt, trusted.txt, custom/).
    #[arg(long, env = "PEREGRINE_INTEL")]
    intel: Option<PathBuf>,
    /// Cluster name for events that do not carry one.
    #[arg(long, env = "PEREGRINE_CLUSTER", default_value = "default")]
    cluster: String,
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Also store the findings: `postgres://user@host/db` or `sqlite:path?mode=rwc`.
    #[arg(long, env = "PEREGRINE_DATABASE_URL")]
    database_url: Option<String>,
    /// Audit log files (JSON lines, EventList or CloudWatch exports) and runtime sensor
    /// exports (Tetragon, Falco, Tracee JSON), mixed as they come, optionally gzipped; `-`
    /// reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl ScanArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let ScanArgs {
            engine,
            intel,
            cluster,
            format,
            database_url,
            files,
        } = self;
        let mut options = ScanOptions::new(engine.rules.clone());
        options.intel_dir = intel;
        options.cluster = cluster;
        options.workers = engine.workers();
        options.engine = engine.engine_config();
        run_scan(&options, &files, format, database_url.as_deref())
    }
}

fn store_findings(
    url: &str,
    findings: &[crate::findings::GuardDutyFinding],
) -> Result<(), store::StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let store = store::Store::connect(url).await?;
        for finding in findings {
            store.upsert(finding).await?;
        }
        store.close().await;
        Ok(())
    })
}

fn run_scan(
    options: &ScanOptions,
    files: &[PathBuf],
    format: Format,
    database_url: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut notify = |notice: Notice<'_>| match notice {
        Notice::Malformed { location, reason } => {
            eprintln!("peregrine: {location}: skipped: {reason}")
        }
        Notice::SensorDropped { location, count } => {
            eprintln!("peregrine: {location}: the sensor says it dropped {count} events")
        }
        Notice::RuleNotLoaded(e) => eprintln!("peregrine: rule not loaded: {e}"),
        Notice::IntelWarning(w) => eprintln!("peregrine: threat list entry skipped: {w}"),
        Notice::FileFailed(e) => eprintln!("peregrine: cannot read {e}"),
    };
    let report = scan::run(options, files, &mut notify).or_exit(Status::CannotStart)?;
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Jsonl => report.findings.iter().try_for_each(|f| {
            serde_json::to_writer(&mut out, f).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        }),
        Format::Table => out.write_all(scan::render_table(&report.findings).as_bytes()),
    };
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("cannot write findings");
        }
        _ => {}
    }
    eprintln!("peregrine: {}", scan::summary(&report));
    if let Some(url) = database_url {
        store_findings(url, &report.findings)
            .context("findings not stored")
            .or_exit(Status::Store)?;
        eprintln!(
            "peregrine: stored {} findings in {}",
            report.findings.len(),
            store::redact(url)
        );
    }
    Ok(if report.files_failed > 0 {
        Status::Incomplete.code()
    } else {
        ExitCode::SUCCESS
    })
}
