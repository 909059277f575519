//! `peregrine rules`: write, test and check rule modules.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::exit::{OrExit, Status};
use super::{default_cache_dir, parse_rule_setting};
use crate::authoring;
use crate::engine::EngineConfig;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Print a module's descriptor, subscription and imports, and whether the host would
    /// load it (exit status 1 if not).
    Inspect {
        /// A rule module (`.wasm` component).
        module: PathBuf,
    },
    /// Run a built module through the host over fixture files (events in, findings out)
    /// and show the differences (exit status 1 if any fixture fails).
    Test {
        /// A rule module (`.wasm` component).
        module: PathBuf,
        /// Fixture files (JSON; see docs/writing-rules.md).
        #[arg(required = true)]
        fixtures: Vec<PathBuf>,
        /// A setting the rule reads (`NAME=VALUE`, repeatable), as for `scan`.
        #[arg(long = "rule-setting", value_parser = parse_rule_setting)]
        rule_settings: Vec<(String, String)>,
    },
    /// Create a new rule project with a fixture and a test.
    New {
        /// The language of the rule.
        #[arg(long, value_enum, default_value = "rust")]
        lang: crate::authoring::scaffold::Language,
        /// Where to create it (default: a directory named after the rule).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The Rust rules SDK (`rules-sdk` of a Peregrine checkout) to depend on.
        #[arg(long, env = "PEREGRINE_SDK")]
        sdk: Option<PathBuf>,
        /// The rule's name, e.g. `token-created-by-human` (lower case, digits and '-').
        name: String,
    },
}

impl RulesCommand {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        // Compiled modules are cached as for `scan` and `serve`: a second run starts at once.
        let config = EngineConfig {
            cache_dir: default_cache_dir(),
            ..EngineConfig::default()
        };
        match self {
            RulesCommand::Inspect { module } => {
                let inspected = authoring::inspect(&module, &config).or_exit(Status::Incomplete)?;
                print!("{}", inspected.text);
                Ok(if inspected.loadable {
                    ExitCode::SUCCESS
                } else {
                    Status::Incomplete.code()
                })
            }
            RulesCommand::Test {
                module,
                fixtures,
                rule_settings,
            } => {
                let config = EngineConfig {
                    settings: std::sync::Arc::new(rule_settings.into_iter().collect()),
                    ..config
                };
                let results =
                    authoring::test(&module, &fixtures, &config).or_exit(Status::CannotStart)?;
                results.iter().for_each(|r| println!("{}", r.report));
                let failed = results.iter().filter(|r| !r.passed).count();
                println!(
                    "{} fixtures: {} passed, {failed} failed",
                    results.len(),
                    results.len() - failed
                );
                Ok(if failed == 0 {
                    ExitCode::SUCCESS
                } else {
                    Status::Incomplete.code()
                })
            }
            RulesCommand::New {
                lang,
                dir,
                sdk,
                name,
            } => {
                let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
                let next = authoring::scaffold::create(lang, &name, &dir, sdk.as_deref())
                    .or_exit(Status::CannotStart)?;
                println!("created {}\n{next}", dir.display());
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
