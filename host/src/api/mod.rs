//! The REST API (`/v1/...`), shaped after GuardDuty's findings API. Every endpoint but
//! `/healthz` needs a bearer token; writes need an admin token. Errors are
//! `application/problem+json`.

mod auth;
mod filters;
mod findings;
mod lists;
pub mod openapi;
mod ops;
mod problem;
mod rules;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::{Scope, Tokens, generate as auth_token};
pub use problem::Problem;
pub use webhook::{MAX_AUDIT_BODY, MAX_AUDIT_REQUESTS, MAX_AUDIT_REQUESTS_PER_CLUSTER, Webhook};

use crate::metrics::Metrics;
use crate::ruleset::RuleSet;
use crate::store::Store;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// Largest threat list accepted in one upload.
pub const MAX_LIST: usize = 64 << 20;

pub struct ApiState {
    pub store: Store,
    pub tokens: Tokens,
    /// The threat-intelligence directory the lists endpoints manage, if any.
    pub intel_dir: Option<crate::intel::IntelDir>,
    /// The rules the server runs, if any.
    pub rules: Option<Arc<RuleSet>>,
    /// Audit event ingestion (`/v1/audit/{cluster}`), if the server judges events.
    pub webhook: Option<Webhook>,
    pub metrics: Arc<Metrics>,
}

impl ApiState {
    /// The API over a store, with no rules, lists or ingestion.
    pub fn new(store: Store, tokens: Tokens) -> Self {
        ApiState {
            store,
            tokens,
            intel_dir: None,
            rules: None,
            webhook: None,
            metrics: Arc::default(),
        }
    }
}

pub fn router(state: Arc<ApiState>) -> Router {
    let v1 = Router::new()
        .route("/findings", get(findings::list))
        .route("/findings/get", post(findings::get_many))
        .route("/findings/statistics", get(findings::statistics))
        .route("/findings/archive", post(findings::archive))
        .route("/findings/unarchive", post(findings::unarchive))
        .route("/findings/feedback", post(findings::feedback))
        .route("/findings/search", post(findings::search))
        .route("/findings/{id}", get(findings::get_one))
        .route("/filters", get(filters::list).post(filters::create))
        .route(
            "/filters/{name}",
            get(filters::get_one)
                .put(filters::update)
                .delete(filters::delete),
        )
        .route("/openapi.json", get(openapi::serve))
        .route("/rules", get(rules::list))
        .route("/threat-lists", get(lists::list))
        .route(
            "/threat-lists/{name}",
            axum::routing::put(lists::put)
                .delete(lists::delete)
                .layer(DefaultBodyLimit::max(MAX_LIST)),
        )
        .route(
            "/trusted-list",
            axum::routing::put(lists::put_trusted)
                .delete(lists::delete_trusted)
                .layer(DefaultBodyLimit::max(MAX_LIST)),
        )
        .fallback(problem::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_token,
        ))
        .layer(axum::middleware::map_response(problem::errors_as_problems))
        // The webhook checks its own (per-cluster) tokens, and reads and bounds its body
        // itself once the token is known.
        .merge(
            Router::new()
                .route(
                    "/audit/{cluster}",
                    post(webhook::receive).fallback(webhook::method_not_allowed),
                )
                .route(
                    "/runtime/{cluster}",
                    post(webhook::receive_runtime).fallback(webhook::method_not_allowed),
                ),
        );
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .layer(axum::middleware::map_response(problem::method_not_allowed))
        .nest("/v1", v1)
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
