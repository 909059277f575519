//! Operations endpoints: `/healthz` (the process answers), `/readyz` (it can take events:
//! rules loaded, store reachable, not stopping) and `/metrics` (Prometheus, read token).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::{Scope, bearer};
use super::{ApiState, Problem};

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<Arc<ApiState>>) -> Response {
    let mut problems = Vec::new();
    if let Some(webhook) = &state.webhook {
        if !webhook.pipeline.accepting() {
            problems.push("shutting down".to_string());
        }
        if !webhook.pipeline.store_up() {
            problems.push("the last commit to the store failed".to_string());
        }
    }
    if let Some(rules) = &state.rules
        && rules.current().rules.is_empty()
    {
        problems.push(format!(
            "no rule loaded from {}",
            rules.directory().display()
        ));
    }
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("store: {e}")),
        Err(_) => problems.push("store: no answer in 2s".into()),
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", problems.join("; ")),
        )
            .into_response()
    }
}

pub async fn metrics(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if bearer(&headers)
        .and_then(|t| state.tokens.scope_of(t))
        .is_none_or(|s| s < Scope::Read)
    {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "a bearer token is required").into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().unwrap());
        return response;
    }
    let rules = state
        .rules
        .as_ref()
        .map(|r| r.current().rules.clone())
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&rules),
    )
        .into_response()
}
