//! `peregrine serve`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};

use super::EngineArgs;
use super::exit::{OrExit, Status, fail};
use crate::api::{self, Tokens};
use crate::pipeline::PipelineConfig;
use crate::serve;
use crate::store;

#[derive(clap::Args)]
pub struct ServeArgs {
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
    /// An audit log or runtime sensor export file to follow as it grows, across rotation
    /// and restarts (repeatable).
    #[arg(long, env = "PEREGRINE_FOLLOW", value_delimiter = ',')]
    follow: Vec<PathBuf>,
    /// An audit log or sensor export file to read once to its end, e.g. a sample
    /// (repeatable; its position is checkpointed like a followed file's, so a restart does
    /// not read it again).
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
}

impl ServeArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let ServeArgs {
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
        } = self;
        let from_files = secrets.read().or_exit(Status::CannotStart)?;
        let database_url = from_files.database_url.unwrap_or(database_url);
        let mut tokens = Tokens {
            admin: admin_tokens.into_iter().chain(from_files.admin).collect(),
            read: read_tokens.into_iter().chain(from_files.read).collect(),
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
            .chain(&from_files.cluster)
            .filter(|s| !s.is_empty())
        {
            match spec.split_once('=') {
                Some((cluster, token)) if !cluster.is_empty() && !token.is_empty() => {
                    clusters.push((cluster.to_string(), token.to_string()))
                }
                _ => {
                    return Err(fail(
                        Status::Usage,
                        anyhow!("--cluster-token takes CLUSTER=TOKEN"),
                    ));
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
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                let status = match e {
                    serve::ServeError::Store(_) => Status::Store,
                    serve::ServeError::Server(_) => Status::Incomplete,
                    _ => Status::CannotStart,
                };
                Err(fail(status, e))
            }
        }
    }
}

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

/// What the secret files held.
struct Secrets {
    admin: Vec<String>,
    read: Vec<String>,
    cluster: Vec<String>,
    /// The URL of `--database-url-file`, which replaces `--database-url`.
    database_url: Option<String>,
}

impl SecretFiles {
    fn read(&self) -> anyhow::Result<Secrets> {
        let database_url = match &self.database_url_file {
            None => None,
            Some(file) => {
                let lines = secret_lines(Some(file), "--database-url-file")?;
                let url = lines.into_iter().next().ok_or_else(|| {
                    anyhow!("--database-url-file {} holds no URL", file.display())
                })?;
                Some(url)
            }
        };
        Ok(Secrets {
            admin: secret_lines(self.admin_tokens_file.as_ref(), "--admin-tokens-file")?,
            read: secret_lines(self.read_tokens_file.as_ref(), "--read-tokens-file")?,
            cluster: secret_lines(self.cluster_tokens_file.as_ref(), "--cluster-tokens-file")?,
            database_url,
        })
    }
}

/// The values of a secret file, with the flag that named it for errors.
fn secret_lines(file: Option<&PathBuf>, flag: &str) -> anyhow::Result<Vec<String>> {
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {flag} {}", file.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}
