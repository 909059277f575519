//! `/v1/filters`: saved filters and suppression rules (`action: ARCHIVE`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::findings::parse;
use super::{ApiState, Problem};
use crate::findings::now_micros;
use crate::findings::saved_filters::{FilterSpec, validate_name};

fn spec(body: &Bytes) -> Result<FilterSpec, Problem> {
    let spec: FilterSpec = parse(body)?;
    spec.validate().map_err(Problem::bad_request)?;
    Ok(spec)
}

fn not_found(name: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, format!("no filter named {name}"))
}

pub async fn list(State(state): State<Arc<ApiState>>) -> Result<Json<Value>, Problem> {
    Ok(Json(json!({ "filters": state.store.filters().await? })))
}

pub async fn create(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let spec = spec(&body)?;
    let name = spec
        .name
        .clone()
        .ok_or_else(|| Problem::bad_request("a filter needs a name"))?;
    let filter = state
        .store
        .create_filter(&name, &spec, now_micros() / 1000)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(filter))))
}

pub async fn get_one(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    // A name no filter can have is not looked up.
    validate_name(&name).map_err(|_| not_found(&name))?;
    let filter = state
        .store
        .filter(&name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(filter)))
}

pub async fn update(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    validate_name(&name).map_err(Problem::bad_request)?;
    let spec = spec(&body)?;
    if spec.name.as_ref().is_some_and(|n| *n != name) {
        return Err(Problem::bad_request(
            "a filter cannot be renamed; create a new one",
        ));
    }
    let filter = state
        .store
        .update_filter(&name, &spec, now_micros() / 1000)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(json!(filter)))
}

pub async fn delete(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    validate_name(&name).map_err(|_| not_found(&name))?;
    if state.store.delete_filter(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}
