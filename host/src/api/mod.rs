//! The REST API (`/v1/...`), shaped after GuardDuty's findings API. Every endpoint but
//! `/healthz` needs a bearer token; writes need an admin token. Errors are
//! `application/problem+json`.

mod auth;
mod filters;
mod findings;
mod lists;
pub mod openapi;
mod problem;
mod rules;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::{Scope, Tokens, generate as auth_token};
pub use problem::Problem;
pub use rules::RuleCatalog;

use crate::store::Store;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// Largest threat list accepted in one upload.
pub const MAX_LIST: usize = 64 << 20;

pub struct ApiState {
    pub store: Store,
    pub tokens: Tokens,
    /// The threat-intelligence directory the lists endpoints manage, if any.
    pub intel_dir: Option<std::path::PathBuf>,
    /// The rule modules the server loaded, if any.
    pub rules: Option<RuleCatalog>,
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
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .nest("/v1", v1)
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
