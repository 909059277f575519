//! `peregrine intel`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::Subcommand;

use super::exit::{OrExit, Status, fail};
use crate::intel::{IntelDir, feeds};

#[derive(Subcommand)]
pub enum IntelCommand {
    /// Download threat feeds into the intel directory (all or nothing, atomically).
    Update {
        /// The intel directory to update (created if missing).
        #[arg(long, env = "PEREGRINE_INTEL", default_value = "intel")]
        intel: PathBuf,
        /// Tor's bulk exit list, written to tor-exit-nodes.txt.
        #[arg(long, env = "PEREGRINE_TOR_URL", default_value = feeds::TOR_BULK_EXIT_LIST)]
        tor_url: String,
        /// Leave tor-exit-nodes.txt alone.
        #[arg(long)]
        no_tor: bool,
        /// A blocklist of known malicious addresses, written to malicious.txt.
        #[arg(long, env = "PEREGRINE_MALICIOUS_URL")]
        malicious_url: Option<String>,
        /// A threat list as [CATEGORY/]NAME=URL, written to CATEGORY/NAME.<txt|csv|json>
        /// (repeatable; CATEGORY is `custom` when not given, or one of command-and-control,
        /// crypto-mining, tor-guard, …; findings name the list NAME).
        #[arg(long = "feed", value_name = "[CATEGORY/]NAME=URL")]
        feeds: Vec<String>,
        /// Longest a download may take, in seconds.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
}

impl IntelCommand {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let IntelCommand::Update {
            intel,
            tor_url,
            no_tor,
            malicious_url,
            feeds,
            timeout_secs,
        } = self;
        update_intel(
            &intel,
            (!no_tor).then_some(tor_url),
            malicious_url,
            &feeds,
            Duration::from_secs(timeout_secs),
        )
    }
}

fn update_intel(
    dir: &std::path::Path,
    tor: Option<String>,
    malicious: Option<String>,
    custom: &[String],
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let mut list = Vec::new();
    list.extend(tor.map(|url| feeds::Feed::tor(&url)));
    list.extend(malicious.map(|url| feeds::Feed::malicious(&url)));
    for spec in custom {
        let Some((name, url)) = spec.split_once('=') else {
            return Err(fail(
                Status::Usage,
                anyhow!("--feed takes [CATEGORY/]NAME=URL, not {spec:?}"),
            ));
        };
        list.push(feeds::Feed::list(name, url).or_exit(Status::Usage)?);
    }
    if list.is_empty() {
        return Err(fail(Status::Usage, anyhow!("no feeds to update")));
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .or_exit(Status::Incomplete)?;
    let updated = feeds::update(&IntelDir::new(dir), &list, timeout)
        .context("intel update failed, no list changed")
        .or_exit(Status::Incomplete)?;
    for u in updated {
        let skipped = if u.warnings > 0 {
            format!(" ({} entries skipped)", u.warnings)
        } else {
            String::new()
        };
        println!("{}: {} entries{skipped}", u.file.display(), u.entries);
    }
    Ok(ExitCode::SUCCESS)
}
