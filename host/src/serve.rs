//! `peregrine serve`: ingestion (the audit webhook, followed and replayed files), the rule
//! engine with hot reload, the findings store and the REST API, in one process.
//!
//! Shutdown (Ctrl-C or SITERM) drains: new webhook requests are refused with a retryable
//! status, requests in flight get their answer once their findings are committed, file
//! followers stop after their current batch, and the pipeline commits everything it took.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::api::{self, Tokens, Webhook};
use crate::engine::{EngineConfig, StateStores};
use crate::findings::FindingContext;
use crate::ingest::follow::{self, FollowConfig};
use crate::intel::{IntelDir, LiveIntel};
use crate::metrics::Metrics;
use crate::pipeline::PipelineConfig;
use crate::runtime::{Runtime, RuntimeOptions};
use crate::store::{self, Store, StoreSink};
use crate::watch::{self, WatchConfig};

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub rules_dir: PathBuf,
    pub intel_dir: PathBuf,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub tokens: Tokens,
    /// `(cluster, token)`: who may post audit events for which cluster.
    pub cluster_tokens: Vec<(String, String)>,
    /// Files to follow as they grow.
    pub follow: Vec<PathBuf>,
    /// Files to read once, to their end.
    pub replay: Vec<PathBuf>,
    /// Cluster name for file events that do not carry one.
    pub cluster: String,
    pub engine: EngineConfig,
    pub pipeline: PipelineConfig,
    pub ack_timeout: Duration,
    /// Longest a client may take to send a request's headers (and the first request on a
    /// new connection), or a webhook body once its token is checked.
    pub read_timeout: Duration,
    pub watch: WatchConfig,
    pub context: FindingContext,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot load the TLS certificate {cert} and key {key}: {source}")]
    Tls {
        cert: String,
        key: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Server(std::io::Error),
}

pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    let executor = tokio::runtime::Runtime::new().map_err(ServeError::Server)?;
    let store = executor.block_on(Store::connect(&config.database_url))?;
    // Rules continue from the state they had: profiles, images seen, and so on.
    let states = Arc::new(StateStores::default());
    for row in executor.block_on(store.rule_state())? {
        states.restore(&row.finding_type, row.key, row.value);
    }
    let Runtime {
        rules,
        intel,
        pipeline,
        metrics,
    } = Runtime::start(
        RuntimeOptions {
            rules_dir: config.rules_dir.clone(),
            engine: config.engine.clone(),
            pipeline: config.pipeline.clone(),
            context: config.context.clone(),
            intel: Arc::new(LiveIntel::watching(config.intel_dir.clone())),
            states,
            metrics: Arc::new(Metrics::default()),
        },
        Box::new(StoreSink {
            store: store.clone(),
            runtime: executor.handle().clone(),
        }),
    )?;
    match rules.sync() {
        Ok(_) => {
            for failure in rules.failures() {
                eprintln!("peregrine: rule not loaded: {failure}");
            }
            if rules.current().rules.is_empty() {
                eprintln!(
                    "peregrine: no rule modules in {} (build them with `cargo xtask dist`); \
                     events are taken but nothing is judged until modules arrive",
                    config.rules_dir.display()
                );
            }
        }
        Err(e) => eprintln!(
            "peregrine: cannot read the rules directory {}: {e}; watching for it",
            config.rules_dir.display()
        ),
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut background = vec![
        watch::watch(
            "rules",
            config.rules_dir.clone(),
            config.watch.clone(),
            Arc::clone(&stop),
            {
                let rules = Arc::clone(&rules);
                move || match rules.sync() {
                    Ok(report) if report != Default::default() => {
                        tracing::info!(?report, "rules directory changed")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!("cannot read the rules directory: {e}"),
                }
            },
        ),
        watch::watch(
            "intel",
            config.intel_dir.clone(),
            config.watch.clone(),
            Arc::clone(&stop),
            {
                let (intel, metrics) = (Arc::clone(&intel), Arc::clone(&metrics));
                move || match intel.reload() {
                    Ok(()) => metrics.intel_reloads.add("loaded", 1),
                    Err(e) => {
                        metrics.intel_reloads.add("failed", 1);
                        tracing::error!(
                            "threat lists not reloaded, the previous ones stay in use: {e}"
                        )
                    }
                }
            },
        ),
    ];
    let sources = config
        .follow
        .iter()
        .map(|p| (p, false))
        .chain(config.replay.iter().map(|p| (p, true)));
    let mut followers = Vec::new();
    for (path, replay) in sources {
        let follow_config = FollowConfig::new(path.clone(), &config.cluster, replay);
        // Where the file was read up to: committed with the findings of what was read.
        let checkpoint = match executor.block_on(store.checkpoint(&follow_config.source())) {
            Ok(checkpoint) => checkpoint,
            Err(e) => {
                eprintln!(
                    "peregrine: stopped reading {}: cannot read its checkpoint: {e}",
                    path.display()
                );
                continue;
            }
        };
        let (pipeline, stop) = (Arc::clone(&pipeline), Arc::clone(&stop));
        followers.push(
            std::thread::Builder::new()
                .name("follow".into())
                .spawn(move || {
                    let verb = if replay { "replaying" } else { "following" };
                    tracing::info!(path = %follow_config.path.display(), "{verb}");
                    match follow::follow(&follow_config, checkpoint, &pipeline, &stop) {
                        Ok(()) if replay => eprintln!(
                            "peregrine: replayed {} to its end",
                            follow_config.path.display()
                        ),
                        Ok(()) => {}
                        Err(e) => eprintln!("peregrine: stopped reading {e}"),
                    }
                })
                .expect("a follower thread starts"),
        );
    }

    let mut webhook = Webhook::new(Arc::clone(&pipeline), config.cluster_tokens.clone());
    webhook.ack_timeout = config.ack_timeout;
    webhook.read_timeout = config.read_timeout;
    let state = Arc::new(api::ApiState {
        intel_dir: Some(IntelDir::new(&config.intel_dir)),
        rules: Some(Arc::clone(&rules)),
        webhook: Some(webhook),
        metrics: Arc::clone(&metrics),
        ..api::ApiState::new(store.clone(), config.tokens.clone())
    });
    let served = executor.block_on(serve_http(&config, state, &store, {
        let (stop, pipeline) = (Arc::clone(&stop), Arc::clone(&pipeline));
        move || {
            eprintln!("peregrine: shutting down: draining in-flight batches");
            stop.store(true, Ordering::Relaxed);
            pipeline.stop_accepting();
        }
    }));
    stop.store(true, Ordering::Relaxed);
    pipeline.stop_accepting();
    for follower in followers {
        let _ = follower.join();
    }
    pipeline.shutdown();
    background.drain(..).for_each(|t| {
        let _ = t.join();
    });
    executor.block_on(store.close());
    served
}

async fn serve_http(
    config: &ServeConfig,
    state: Arc<api::ApiState>,
    store: &Store,
    on_shutdown: impl FnOnce() + Send + 'static,
) -> Result<(), ServeError> {
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServeError::Listen {
            address: config.listen,
            source,
        })?;
    listener.set_nonblocking(true).map_err(ServeError::Server)?;
    let address = listener.local_addr().map_err(ServeError::Server)?;
    let app = api::router(state);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "peregrine: API on {scheme}://{address}/v1/findings (store: {}, {} backend)",
        store::redact(&config.database_url),
        match store.backend() {
            store::Backend::Postgres => "PostgreSQL",
            store::Backend::Sqlite => "SQLite",
        }
    );
    eprintln!("peregrine: audit webhook on {scheme}://{address}/v1/audit/<cluster>");
    let signalled = async move {
        shutdown_signal().await;
        on_shutdown();
    };
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        signalled.await;
        stopping.graceful_shutdown(Some(Duration::from_secs(60)));
    });
    // A client that connects and sends nothing, or its headers a byte at a time, is
    // dropped after the read timeout instead of holding its connection for good.
    let mut server = axum_server::from_tcp(listener)
        .map_err(ServeError::Server)?
        .handle(handle)
        .first_request_timeout(config.read_timeout);
    server
        .http_builder()
        .http1()
        .header_read_timeout(config.read_timeout);
    let app = app.into_make_service();
    match &config.tls {
        Some((cert, key)) => {
            // One TLS crypto provider for the process (ring, as the feed client uses).
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|source| ServeError::Tls {
                    cert: cert.display().to_string(),
                    key: key.display().to_string(),
                    source,
                })?;
            server
                .acceptor(axum_server::tls_rustls::RustlsAcceptor::new(tls))
                .serve(app)
                .await
        }
        None => server.serve(app).await,
    }
    .map_err(ServeError::Server)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
