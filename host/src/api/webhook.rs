//! `POST /v1/audit/{cluster}`: kube-apiserver's webhook audit backend posts here
//! unchanged: an `EventList` per request in batch mode, or a single event in blocking mode.
//!
//! A request is answered only after its events are judged and their findings committed.
//! When that cannot happen now (the store is down, the queue is full, the server is
//! stopping) the answer is a retryable status with `Retry-After`, in the `Status` shape
//! the apiserver's client reads, and nothing of the request is acknowledged. A resent
//! event that was already judged is recognised by its audit ID and not judged again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use peregrine_rules_sdk::normalize::Normalizer;
use serde_json::json;

use super::ApiState;
use super::auth::{Scope, bearer, same};
use crate::ingest::{self, Item, Location};
use crate::pipeline::{Batch, Pipeline, Refusal};

/// Largest webhook request: a batch of the apiserver's default 400 events with their
/// request and response objects fits with room to spare.
pub const MAX_AUDIT_BODY: usize = 64 << 20;

/// What the webhook needs from the service.
pub struct Ingest {
    pub pipeline: Arc<Pipeline>,
    /// `(cluster, token)` pairs: a token lets its cluster post.
    pub cluster_tokens: Vec<(String, String)>,
    /// Longest a request waits for its findings to be committed before the sender is told
    /// to retry.
    pub ack_timeout: Duration,
}

/// A Kubernetes `Status` answer (what the apiserver's webhook client decodes).
fn status(code: StatusCode, reason: &str, message: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(seconds) = retry_after {
        body["details"] = json!({ "retryAfterSeconds": seconds });
    }
    let mut response = (code, axum::Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn authorized(state: &ApiState, ingest: &Ingest, cluster: &str, headers: &HeaderMap) -> bool {
    let Some(token) = bearer(headers) else {
        return false;
    };
    ingest
        .cluster_tokens
        .iter()
        .any(|(c, t)| c == cluster && same(t, token))
        || state.tokens.scope_of(token) == Some(Scope::Admin)
}

pub async fn receive(
    State(state): State<Arc<ApiState>>,
    Path(cluster): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = handle(&state, &cluster, &headers, body).await;
    state
        .metrics
        .webhook_responses
        .add(response.status().as_str(), 1);
    response
}

async fn handle(
    state: &Arc<ApiState>,
    cluster: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let Some(ingest) = &state.ingest else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "this server does not ingest audit events",
            None,
        );
    };
    if !valid_cluster_name(cluster) {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "a cluster name is 1 to 100 letters, digits, '-', '_' or '.'",
            None,
        );
    }
    if !authorized(state, ingest, cluster, headers) {
        let mut response = status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            &format!("a bearer token of cluster {cluster} (or an admin token) is required"),
            None,
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    if !ingest.pipeline.accepting() {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "shutting down",
            Some(5),
        );
    }
    if !ingest.pipeline.store_up() {
        return refused(Refusal::StoreDown);
    }
    // Taking events with no rule to judge them would acknowledge them unjudged.
    if state
        .rules
        .as_ref()
        .is_some_and(|r| r.current().rules.is_empty())
    {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "no rule modules are loaded; events are taken once some are",
            Some(10),
        );
    }

    let normalizer = Normalizer {
        cluster: cluster.to_string(),
        keep_raw: state
            .rules
            .as_ref()
            .is_some_and(|r| r.current().wants_raw()),
    };
    let source = format!("webhook:{cluster}");
    let parsed = tokio::task::spawn_blocking({
        let source = source.clone();
        move || {
            let mut events = Vec::new();
            let mut malformed = Vec::new();
            let location = Location {
                file: Arc::from(source.as_str()),
                line: 1,
            };
            let cluster = normalizer.cluster.clone();
            ingest::parse_document(&body, &location, &normalizer, &mut |item| match item {
                // The path's cluster, which the token was checked against, wins over any
                // name the payload carries (a CloudWatch log group).
                Item::Event(mut event, _) => {
                    event.cluster.clone_from(&cluster);
                    events.push(event)
                }
                Item::Malformed { reason, .. } => malformed.push(reason),
            })
            .map(|()| (events, malformed))
        }
    })
    .await;
    let (events, malformed) = match parsed {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(reason)) => {
            tracing::warn!(%cluster, "audit webhook body refused: {reason}");
            return status(StatusCode::BAD_REQUEST, "BadRequest", &reason, None);
        }
        Err(e) => {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &e.to_string(),
                Some(1),
            );
        }
    };
    let metrics = &state.metrics;
    metrics.events_received.add(&source, events.len() as u64);
    if !malformed.is_empty() {
        metrics
            .events_malformed
            .add(&source, malformed.len() as u64);
        for reason in malformed.iter().take(3) {
            tracing::warn!(%cluster, "audit webhook entry skipped: {reason}");
        }
    }
    if events.is_empty() {
        let why = malformed
            .first()
            .map_or("the EventList has no items", String::as_str);
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("no audit event in the request: {why}"),
            None,
        );
    }
    let received = events.len();
    let ack = match ingest.pipeline.try_submit(Batch {
        events,
        checkpoint: None,
    }) {
        Ok(ack) => ack,
        Err(refusal) => return refused(refusal),
    };
    match tokio::time::timeout(
        ingest.ack_timeout.saturating_sub(arrived.elapsed()),
        ack.committed(),
    )
    .await
    {
        Ok(Some(outcome)) => (
            StatusCode::OK,
            axum::Json(json!({
                "accepted": received,
                "judged": outcome.judged,
                "findings": outcome.findings,
                "malformed": malformed.len(),
            })),
        )
            .into_response(),
        Ok(None) => status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "shutting down",
            Some(5),
        ),
        // The events will still be judged and committed; a resend is recognised.
        Err(_) => status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "findings not committed in time; retry",
            Some(5),
        ),
    }
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Busy => status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            &refusal.to_string(),
            Some(1),
        ),
        Refusal::StoreDown | Refusal::ShuttingDown => status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            &refusal.to_string(),
            Some(5),
        ),
    }
}
