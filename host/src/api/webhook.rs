//! `POST /v1/audit/{cluster}`: kube-apiserver's webhook audit backend posts here
//! unchanged: an `EventList` per request in batch mode, or a single event in blocking mode.
//!
//! A request is answered only after its events are judged and their findings committed.
//! When that cannot happen now (the store is down, the queue is full, the server is
//! stopping) the answer is a retryable status with `Retry-After`, in the `Status` shape
//! the apiserver's client reads, and nothing of the request is acknowledged. A resent
//! event that was already judged is recognised by its audit ID and content and not
//! judged again.
//!
//! The token is checked from the headers before any of the body is read, so an
//! unauthenticated client costs no more than its headers. Authenticated requests then take
//! a slot of their cluster and one of the server's, so one cluster cannot take the
//! webhook from the others, and must send their body within the read timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiState;
use super::auth::{Scope, bearer, same};
use crate::ingest::webhook::{self as intake, Received};
use crate::pipeline::{Batch, Pipeline, Refusal};

/// Largest webhook request: a batch of the apiserver's default 400 events with their
/// request and response objects fits with room to spare.
pub const MAX_AUDIT_BODY: usize = 64 << 20;

/// Webhook requests handled at once (their bodies are in memory); more wait for a turn.
pub const MAX_AUDIT_REQUESTS: usize = 16;

/// Webhook requests of one cluster handled at once: a quarter of the server's, so a
/// cluster (or whoever holds its token) cannot keep the others out.
pub const MAX_AUDIT_REQUESTS_PER_CLUSTER: usize = MAX_AUDIT_REQUESTS / 4;

/// What the webhook needs from the service.
pub struct Webhook {
    pub pipeline: Arc<Pipeline>,
    /// `(cluster, token)` pairs: a token lets its cluster post.
    pub cluster_tokens: Vec<(String, String)>,
    /// Longest a request waits for its findings to be committed before the sender is told
    /// to retry.
    pub ack_timeout: Duration,
    /// Longest an authenticated request may wait for a slot, and then take to send its body.
    pub read_timeout: Duration,
    slots: Slots,
}

impl Webhook {
    /// Ingestion into `pipeline` with the default timeouts (25 s to commit, 30 s to read).
    pub fn new(pipeline: Arc<Pipeline>, cluster_tokens: Vec<(String, String)>) -> Self {
        Webhook {
            pipeline,
            cluster_tokens,
            ack_timeout: Duration::from_secs(25),
            read_timeout: Duration::from_secs(30),
            slots: Slots::default(),
        }
    }
}

/// The server's webhook slots and each cluster's share of them.
struct Slots {
    all: Arc<Semaphore>,
    clusters: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            all: Arc::new(Semaphore::new(MAX_AUDIT_REQUESTS)),
            clusters: Mutex::default(),
        }
    }
}

impl Slots {
    /// A slot of `cluster`, then one of the server's; held until the request is answered.
    async fn take(&self, cluster: &str) -> [OwnedSemaphorePermit; 2] {
        let of_cluster = {
            let mut clusters = self.clusters.lock().unwrap_or_else(|e| e.into_inner());
            if !clusters.contains_key(cluster) && clusters.len() >= 1024 {
                // Admin tokens may post under any name: forget the clusters no one holds.
                clusters.retain(|_, slots| Arc::strong_count(slots) > 1);
            }
            Arc::clone(
                clusters
                    .entry(cluster.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(MAX_AUDIT_REQUESTS_PER_CLUSTER))),
            )
        };
        // Neither semaphore is ever closed.
        let of_cluster = of_cluster.acquire_owned().await.expect("open");
        let of_server = Arc::clone(&self.all).acquire_owned().await.expect("open");
        [of_cluster, of_server]
    }
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

fn authorized(state: &ApiState, webhook: &Webhook, cluster: &str, headers: &HeaderMap) -> bool {
    let Some(token) = bearer(headers) else {
        return false;
    };
    webhook
        .cluster_tokens
        .iter()
        .any(|(c, t)| c == cluster && same(t, token))
        || state.tokens.scope_of(token) == Some(Scope::Admin)
}

/// What a webhook path takes: kube-apiserver's audit bodies, or the runtime sensors' lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intake {
    Audit,
    Runtime,
}

pub async fn receive(
    State(state): State<Arc<ApiState>>,
    Path(cluster): Path<String>,
    request: Request,
) -> Response {
    respond(&state, &cluster, request, Intake::Audit).await
}

/// `POST /v1/runtime/{cluster}`: the runtime sensors' JSON lines or arrays, as Fluent
/// Bit's and Vector's HTTP outputs post them; tokens, limits and answers as for audit.
pub async fn receive_runtime(
    State(state): State<Arc<ApiState>>,
    Path(cluster): Path<String>,
    request: Request,
) -> Response {
    respond(&state, &cluster, request, Intake::Runtime).await
}

async fn respond(state: &Arc<ApiState>, cluster: &str, request: Request, kind: Intake) -> Response {
    let response = handle(state, cluster, request, kind).await;
    state
        .metrics
        .webhook_responses
        .add(response.status().as_str(), 1);
    response
}

/// Any method but POST.
pub async fn method_not_allowed() -> Response {
    let mut response = status(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "events are sent with POST",
        None,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn too_large() -> Response {
    status(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!(
            "a webhook request is at most {} MiB; lower the apiserver's --audit-webhook-batch-max-size",
            MAX_AUDIT_BODY >> 20
        ),
        None,
    )
}

/// The body, read within the limit and the read timeout.
async fn read_body(body: Body, timeout: Duration) -> Result<axum::body::Bytes, Response> {
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let read = Limited::new(body, MAX_AUDIT_BODY).collect();
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("the request body could not be read: {e}"),
            None,
        )),
        Err(_) => Err(status(
            StatusCode::REQUEST_TIMEOUT,
            "Timeout",
            &format!(
                "the request body was not received within {} s",
                timeout.as_secs_f64()
            ),
            Some(1),
        )),
    }
}

async fn handle(state: &Arc<ApiState>, cluster: &str, request: Request, kind: Intake) -> Response {
    let headers = request.headers();
    let arrived = Instant::now();
    let Some(webhook) = &state.webhook else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "this server does not ingest events",
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
    if !authorized(state, webhook, cluster, headers) {
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
    if !webhook.pipeline.accepting() {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "shutting down",
            Some(5),
        );
    }
    if !webhook.pipeline.store_up() {
        return refused(Refusal::StoreDown);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_AUDIT_BODY as u64) {
        return too_large();
    }
    // Taking events with no rule to judge them would acknowledge them unjudged.
    let Some(normalizer) = webhook.pipeline.normalizer(cluster) else {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "no rule modules are loaded; events are taken once some are",
            Some(10),
        );
    };

    let Ok(_slots) = tokio::time::timeout(webhook.read_timeout, webhook.slots.take(cluster)).await
    else {
        return status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            &format!(
                "cluster {cluster} has {MAX_AUDIT_REQUESTS_PER_CLUSTER} requests in progress (or the server {MAX_AUDIT_REQUESTS}); retry"
            ),
            Some(1),
        );
    };
    let body = match read_body(request.into_body(), webhook.read_timeout).await {
        Ok(body) => body,
        Err(response) => return response,
    };

    let source = format!("webhook:{cluster}");
    let parsed = tokio::task::spawn_blocking(move || match kind {
        Intake::Audit => intake::read_body(&body, &source, &normalizer),
        Intake::Runtime => intake::read_lines_body(&body, &source, &normalizer),
    })
    .await;
    let Received {
        events,
        runtime,
        owners,
        dropped,
        malformed,
    } = match parsed {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(reason)) => {
            tracing::warn!(%cluster, "webhook body refused: {reason}");
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
    metrics
        .events_received
        .add("webhook", cluster, (events.len() + runtime.len()) as u64);
    if dropped > 0 {
        metrics
            .sensor_events_dropped
            .add("webhook", cluster, dropped);
        tracing::warn!(%cluster, "the runtime sensor says it dropped {dropped} events");
    }
    if !malformed.is_empty() {
        metrics
            .events_malformed
            .add("webhook", cluster, malformed.len() as u64);
        for reason in malformed.iter().take(3) {
            tracing::warn!(%cluster, "webhook entry skipped: {reason}");
        }
    }
    if events.is_empty() && runtime.is_empty() {
        let (what, empty) = match kind {
            Intake::Audit => ("audit event", "the EventList has no items"),
            Intake::Runtime => ("event", "the body has no entries"),
        };
        let why = malformed.first().map_or(empty, String::as_str);
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("no {what} in the request: {why}"),
            None,
        );
    }
    let received = events.len() + runtime.len();
    let ack = match webhook.pipeline.try_submit(Batch {
        events,
        runtime,
        owners,
        checkpoint: None,
    }) {
        Ok(ack) => ack,
        Err(refusal) => return refused(refusal),
    };
    match tokio::time::timeout(
        webhook.ack_timeout.saturating_sub(arrived.elapsed()),
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
