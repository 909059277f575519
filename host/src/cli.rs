//! The `peregrine` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::api::{self, Tokens};
use crate::engine::EngineConfig;
use crate::feeds;
use crate::pipeline::PipelineConfig;
use crate::scan::{self, Notice, ScanOptions};
use crate::serve;
use crate::store;
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
enum Format {
    /// GuardDuty wire-format findings, one JSON object per line.
    Jsonl,
    /// A readable table.
    Table,
}

/// The rules and how they run, for `scan` and `serve`.
/// Secrets from files, as a mounted Kubernetes `Secret` gives them: one value per line;
/// blank lines and lines starting with `#` are skipped. They add to the flags' values.
#[derive(clap::Args)]
struct SecretFiles {
    /// A file of admin tokens.
    #[arg(long, env = "PEREGRINE_ADMIN_TOKENS_FILE", value_name = "FILE")]
    admin_tokens_file: Option<PathBuf>,
    /// A file of read-only tokens.
    #[arg(long, env = "PEREGRINE_READ_TOKENS_FILE", value_name = "FILE")]
    read_tokens_file: Option<PathBuf>,
    /// A file of cluster webhook tokens, CLUSTER=TOKEN per line.
    #[arg(long, env = "PEREGRINE_CLUSTER_TOKENS_FILE", value_name = "FILE")]
    cluster_tokens_file: Option<PathBuf>,
    /// A file whose first line is the database URL (which may hold a password); it
    /// replaces --database-url.
    #[arg(long, env = "PEREGRINE_DATABASE_URL_FILE", value_name = "FILE")]
    database_url_file: Option<PathBuf>,
}

/// The values of a secret file, with the flag that named it for errors.
fn secret_lines(file: Option<&PathBuf>, flag: &str) -> Result<Vec<String>, String> {
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {flag} {}: {e}", file.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}

#[derive(clap::Args)]
struct EngineArgs {
    /// Directory of rule modules (`.wasm` components).
    #[arg(long, env = "PEREGRINE_RULES", default_value = "dist/rules")]
    rules: PathBuf,
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

fn parse_attack_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a number of attacks a day (0 or more)"
        )),
    }
}

fn parse_rule_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

impl EngineArgs {
    fn engine_config(&self) -> EngineConfig {
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

    fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(crate::pipeline::default_workers)
            .max(1)
    }
}

#[derive(Subcommand)]
enum IntelCommand {
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
        /// A custom threat list as NAME=URL, written to custom/NAME.<txt|csv|json>
        /// (repeatable; findings name the list NAME).
        #[arg(long = "feed", value_name = "NAME=URL")]
        feeds: Vec<String>,
        /// Longest a download may take, in seconds.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
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
        lang: crate::scaffold::Language,
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

#[derive(Subcommand)]
enum Command {
    /// Write, test and check rule modules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Judge audit events as they arrive (webhook, followed files) and serve the REST API.
    Serve {
        #[command(flatten)]
        engine: EngineArgs,
        /// Address to listen on.
        #[arg(long, env = "PEREGRINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The findings store: `postgres://…` or `sqlite:…` (default: an embedded SQLite file).
        #[arg(long, env = "PEREGRINE_DATABASE_URL", default_value = store::DEFAULT_DATABASE_URL)]
        database_url: String,
        /// Threat-intelligence directory, reloaded when it changes and managed by /v1/threat-lists.
        #[arg(long, env = "PEREGRINE_INTEL", default_value = "intel")]
        intel: PathBuf,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long, env = "PEREGRINE_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of the certificate.
        #[arg(long, env = "PEREGRINE_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Bearer tokens with admin scope (comma-separated in the environment).
        #[arg(
            long = "admin-token",
            env = "PEREGRINE_ADMIN_TOKENS",
            value_delimiter = ',',
            hide_env_values = true
        )]
        admin_tokens: Vec<String>,
        /// Bearer tokens with read-only scope (comma-separated in the environment).
        #[arg(
            long = "read-token",
            env = "PEREGRINE_READ_TOKENS",
            value_delimiter = ',',
            hide_env_values = true
        )]
        read_tokens: Vec<String>,
        /// A cluster's webhook token, as CLUSTER=TOKEN: lets kube-apiserver post to
        /// /v1/audit/CLUSTER (repeatable; comma-separated in the environment).
        #[arg(
            long = "cluster-token",
            env = "PEREGRINE_CLUSTER_TOKENS",
            value_name = "CLUSTER=TOKEN",
            value_delimiter = ',',
            hide_env_values = true
        )]
        cluster_tokens: Vec<String>,
        /// An audit log file to follow as it grows, across rotation and restarts (repeatable).
        #[arg(long, env = "PEREGRINE_FOLLOW", value_delimiter = ',')]
        follow: Vec<PathBuf>,
        /// An audit log file to read once to its end, e.g. a sample (repeatable; its
        /// position is checkpointed like a followed file's, so a restart does not read it again).
        #[arg(long, env = "PEREGRINE_REPLAY", value_delimiter = ',')]
        replay: Vec<PathBuf>,
        /// Cluster name for file events that do not carry one.
        #[arg(long, env = "PEREGRINE_CLUSTER", default_value = "default")]
        cluster: String,
        /// Most events taken and not yet committed; beyond it the webhook answers 429.
        #[arg(long, env = "PEREGRINE_MAX_QUEUED_EVENTS", default_value_t = 50_000)]
        max_queued_events: usize,
        /// Longest a webhook request waits for its findings to be committed before the
        /// sender is told to retry, in seconds.
        #[arg(long, env = "PEREGRINE_ACK_TIMEOUT_SECS", default_value_t = 25)]
        ack_timeout_secs: u64,
        #[command(flatten)]
        secrets: SecretFiles,
        /// Longest a client may take to send a request's headers, or a webhook body once
        /// its token is checked, in seconds; slower clients are cut off.
        #[arg(long, env = "PEREGRINE_READ_TIMEOUT_SECS", default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(1..))]
        read_timeout_secs: u64,
    },
    /// Write simulated audit traffic of a cluster over days, with labeled attacks in it.
    Simulate {
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
    },
    /// Measure the anomaly rules on simulated traffic with labeled attacks: precision,
    /// recall and false positives per type, as Markdown (docs/accuracy.md).
    Accuracy {
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
    },
    /// Threat intelligence lists.
    Intel {
        #[command(subcommand)]
        command: IntelCommand,
    },
    /// Evaluate every rule module over audit log files and print the findings.
    Scan {
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
        /// Audit log files: JSON lines, EventList or CloudWatch exports, optionally
        /// gzipped; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        );
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match cli.command {
        Command::Serve {
            engine,
            listen,
            database_url,
            intel,
            tls_cert,
            tls_key,
            admin_tokens,
            read_tokens,
            cluster_tokens,
            follow,
            replay,
            cluster,
            max_queued_events,
            ack_timeout_secs,
            read_timeout_secs,
            secrets,
        } => {
            let from_files = (|| {
                Ok::<_, String>((
                    secret_lines(secrets.admin_tokens_file.as_ref(), "--admin-tokens-file")?,
                    secret_lines(secrets.read_tokens_file.as_ref(), "--read-tokens-file")?,
                    secret_lines(
                        secrets.cluster_tokens_file.as_ref(),
                        "--cluster-tokens-file",
                    )?,
                    secret_lines(secrets.database_url_file.as_ref(), "--database-url-file")?,
                ))
            })();
            let (admin_file, read_file, cluster_file, database_url_file) = match from_files {
                Ok(values) => values,
                Err(e) => {
                    eprintln!("peregrine: {e}");
                    return ExitCode::from(2);
                }
            };
            let database_url = match (
                secrets.database_url_file.as_ref(),
                database_url_file.first(),
            ) {
                (None, _) => database_url,
                (Some(_), Some(url)) => url.clone(),
                (Some(file), None) => {
                    eprintln!(
                        "peregrine: --database-url-file {} holds no URL",
                        file.display()
                    );
                    return ExitCode::from(2);
                }
            };
            let mut tokens = Tokens {
                admin: admin_tokens.into_iter().chain(admin_file).collect(),
                read: read_tokens.into_iter().chain(read_file).collect(),
            };
            tokens.admin.retain(|t| !t.is_empty());
            tokens.read.retain(|t| !t.is_empty());
            if tokens.is_empty() {
                let token = api::auth_token();
                eprintln!("peregrine: no API tokens configured; this run's admin token is {token}");
                eprintln!(
                    "peregrine: (set PEREGRINE_ADMIN_TOKENS / PEREGRINE_READ_TOKENS to choose your own)"
                );
                tokens.admin.push(token);
            }
            let mut clusters = Vec::new();
            for spec in cluster_tokens
                .iter()
                .chain(&cluster_file)
                .filter(|s| !s.is_empty())
            {
                match spec.split_once('=') {
                    Some((cluster, token)) if !cluster.is_empty() && !token.is_empty() => {
                        clusters.push((cluster.to_string(), token.to_string()))
                    }
                    _ => {
                        eprintln!("peregrine: --cluster-token takes CLUSTER=TOKEN");
                        return ExitCode::from(2);
                    }
                }
            }
            let config = serve::ServeConfig {
                listen,
                database_url,
                rules_dir: engine.rules.clone(),
                intel_dir: intel,
                tls: tls_cert.zip(tls_key),
                tokens,
                cluster_tokens: clusters,
                follow,
                replay,
                cluster,
                engine: engine.engine_config(),
                pipeline: PipelineConfig {
                    workers: engine.workers(),
                    max_queued_events,
                    ..PipelineConfig::default()
                },
                ack_timeout: Duration::from_secs(ack_timeout_secs),
                read_timeout: Duration::from_secs(read_timeout_secs),
                watch: Default::default(),
                context: Default::default(),
            };
            match serve::run(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("peregrine: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Rules { command } => rules_command(command),
        Command::Simulate {
            seed,
            days,
            attacks_per_day,
            quiet_days,
            out,
            labels,
        } => simulate(
            &crate::simulate::SimulationConfig {
                seed,
                days,
                attacks_per_day,
                quiet_days,
            },
            &out,
            &labels,
        ),
        Command::Accuracy {
            engine,
            seeds,
            days,
            quiet_days,
            attacks_per_day,
            out,
            require,
            scores,
        } => {
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
        Command::Intel {
            command:
                IntelCommand::Update {
                    intel,
                    tor_url,
                    no_tor,
                    malicious_url,
                    feeds,
                    timeout_secs,
                },
        } => update_intel(
            &intel,
            (!no_tor).then_some(tor_url),
            malicious_url,
            &feeds,
            Duration::from_secs(timeout_secs),
        ),
        Command::Scan {
            engine,
            intel,
            cluster,
            format,
            database_url,
            files,
        } => {
            let mut options = ScanOptions::new(engine.rules.clone());
            options.intel_dir = intel;
            options.cluster = cluster;
            options.workers = engine.workers();
            options.engine = engine.engine_config();
            run_scan(&options, &files, format, database_url.as_deref())
        }
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

fn simulate(
    config: &crate::simulate::SimulationConfig,
    out: &std::path::Path,
    labels: &std::path::Path,
) -> ExitCode {
    let open = |path: &std::path::Path| {
        std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let result = open(out).and_then(|mut events| {
        let mut labeled = open(labels)?;
        let summary = crate::simulate::run(config, &mut events, &mut labeled)
            .and_then(|s| events.flush().and(labeled.flush()).map(|_| s))
            .map_err(|e| e.to_string())?;
        Ok(summary)
    });
    match result {
        Ok(summary) => {
            eprintln!(
                "peregrine: {} events over {} days, {} of them attacks (labels in {})",
                summary.events,
                config.days,
                summary.attack_events,
                labels.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("peregrine: {e}");
            ExitCode::from(1)
        }
    }
}

fn rules_command(command: RulesCommand) -> ExitCode {
    use crate::authoring;
    // Compiled modules are cached as for `scan` and `serve`: a second run starts at once.
    let config = EngineConfig {
        cache_dir: default_cache_dir(),
        ..EngineConfig::default()
    };
    match command {
        RulesCommand::Inspect { module } => match authoring::inspect(&module, &config) {
            Ok((text, loadable)) => {
                print!("{text}");
                if loadable {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("peregrine: {e}");
                ExitCode::from(1)
            }
        },
        RulesCommand::Test {
            module,
            fixtures,
            rule_settings,
        } => {
            let config = EngineConfig {
                settings: std::sync::Arc::new(rule_settings.into_iter().collect()),
                ..config
            };
            match authoring::test(&module, &fixtures, &config) {
                Ok(results) => {
                    results.iter().for_each(|r| println!("{}", r.report));
                    let failed = results.iter().filter(|r| !r.passed).count();
                    println!(
                        "{} fixtures: {} passed, {failed} failed",
                        results.len(),
                        results.len() - failed
                    );
                    if failed == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("peregrine: {e}");
                    ExitCode::from(2)
                }
            }
        }
        RulesCommand::New {
            lang,
            dir,
            sdk,
            name,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            match crate::scaffold::create(lang, &name, &dir, sdk.as_deref()) {
                Ok(next) => {
                    println!(
                        "created {}
{next}",
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("peregrine: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn update_intel(
    dir: &std::path::Path,
    tor: Option<String>,
    malicious: Option<String>,
    custom: &[String],
    timeout: Duration,
) -> ExitCode {
    let mut list = Vec::new();
    list.extend(tor.map(|url| feeds::Feed::tor(&url)));
    list.extend(malicious.map(|url| feeds::Feed::malicious(&url)));
    for spec in custom {
        let Some((name, url)) = spec.split_once('=') else {
            eprintln!("peregrine: --feed takes NAME=URL, not {spec:?}");
            return ExitCode::from(2);
        };
        match feeds::Feed::custom(name, url) {
            Ok(feed) => list.push(feed),
            Err(e) => {
                eprintln!("peregrine: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if list.is_empty() {
        eprintln!("peregrine: no feeds to update");
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("peregrine: cannot create {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    match feeds::update(dir, &list, timeout) {
        Ok(updated) => {
            for u in updated {
                let skipped = if u.warnings > 0 {
                    format!(" ({} entries skipped)", u.warnings)
                } else {
                    String::new()
                };
                println!("{}: {} entries{skipped}", u.file.display(), u.entries);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("peregrine: intel update failed, no list changed: {e}");
            ExitCode::from(1)
        }
    }
}

fn store_findings(
    url: &str,
    findings: &[crate::finding::Finding],
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

/// `$XDG_CACHE_HOME/peregrine`, else `~/.cache/peregrine`.
fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("peregrine"))
}

fn run_scan(
    options: &ScanOptions,
    files: &[PathBuf],
    format: Format,
    database_url: Option<&str>,
) -> ExitCode {
    let mut notify = |notice: Notice<'_>| match notice {
        Notice::Malformed { location, reason } => {
            eprintln!("peregrine: {location}: skipped: {reason}")
        }
        Notice::RuleNotLoaded(e) => eprintln!("peregrine: rule not loaded: {e}"),
        Notice::IntelWarning(w) => eprintln!("peregrine: threat list entry skipped: {w}"),
        Notice::FileFailed(e) => eprintln!("peregrine: cannot read {e}"),
    };
    let report = match scan::run(options, files, &mut notify) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Jsonl => report.findings.iter().try_for_each(|f| {
            serde_json::to_writer(&mut out, f).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        }),
        Format::Table => out.write_all(scan::render_table(&report.findings).as_bytes()),
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("peregrine: cannot write findings: {e}");
            return ExitCode::from(2);
        }
    }
    eprintln!("peregrine: {}", scan::summary(&report));
    if let Some(url) = database_url {
        match store_findings(url, &report.findings) {
            Ok(()) => eprintln!(
                "peregrine: stored {} findings in {}",
                report.findings.len(),
                store::redact(url)
            ),
            Err(e) => {
                eprintln!("peregrine: findings not stored: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if report.files_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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
