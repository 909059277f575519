//! Errors as RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::FilterExists(_) | StoreError::TooManyFilters => {
                Problem::new(StatusCode::CONFLICT, e.to_string())
            }
            _ => {
                // The store's own words may name internals; say what the client needs.
                tracing::error!("store error: {e}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the findings store is unavailable; retry later",
                )
            }
        }
    }
}

pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no such endpoint")
}

/// `value` of the parameter `name`, refused if it holds a NUL character: the store cannot
/// hold one (PostgreSQL text refuses it), so it is the client's error, not a 503.
pub fn no_nul(name: &str, value: &str) -> Result<(), Problem> {
    if value.contains('\0') {
        Err(Problem::bad_request(format!(
            "{name} must not contain a NUL character"
        )))
    } else {
        Ok(())
    }
}

/// The query string as `T`, or a 400 that names the parameter at fault.
pub fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, Problem> {
    use axum::extract::Query;
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| Problem::bad_request(e.body_text()))?;
    for (name, value) in &pairs {
        no_nul(&format!("the query parameter {name:?}"), name)?;
        no_nul(&format!("the query parameter {name}"), value)?;
    }
    let Query(query) =
        Query::<T>::try_from_uri(uri).map_err(|e| Problem::bad_request(e.body_text()))?;
    Ok(query)
}

/// The first string (value or key) of `value` that holds a NUL character, as a path such as
/// `findingCriteria.criterion.severity.equals[0]`.
pub fn nul_in(value: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() {
            "the body".into()
        } else {
            at.into()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in(v, &format!("{at}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(format!("the field name {:?}", join(k)))
            } else {
                nul_in(v, &join(k))
            }
        }),
        _ => None,
    }
}

/// Makes every error the REST API's routing and extractors answer by themselves (405
/// method not allowed, 413 body too large, a path that does not decode) a problem, like the
/// handlers' own. `Allow` and other headers stay.
pub async fn errors_as_problems(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .unwrap_or_default();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("this method is not allowed here; allowed: {allowed}")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than this endpoint takes".into()
        }
        _ if !text.is_empty() => String::from_utf8_lossy(&text).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").into(),
    };
    let problem = Problem::new(status, detail).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    let (problem_parts, body) = problem.into_parts();
    parts.headers.extend(problem_parts.headers);
    Response::from_parts(parts, body)
}

/// The operations endpoints keep their plain-text answers; only a wrong method gets a
/// problem.
pub async fn method_not_allowed(response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        errors_as_problems(response).await
    } else {
        response
    }
}
