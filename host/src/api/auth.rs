//! Bearer tokens with two scopes: read-only and admin (which may also read).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiState, Problem};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Admin,
}

#[derive(Clone, Debug, Default)]
pub struct Tokens {
    pub read: Vec<String>,
    pub admin: Vec<String>,
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Compares in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Tokens {
    pub fn is_empty(&self) -> bool {
        self.read.is_empty() && self.admin.is_empty()
    }

    pub fn scope_of(&self, token: &str) -> Option<Scope> {
        if self.admin.iter().any(|t| same(t, token)) {
            Some(Scope::Admin)
        } else if self.read.iter().any(|t| same(t, token)) {
            Some(Scope::Read)
        } else {
            None
        }
    }
}

/// A random token: 32 bytes of OS randomness, hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

/// Reads need any token; anything but GET needs an admin token.
pub async fn require_token(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let token = bearer(request.headers());
    let needed = if request.method() == Method::GET {
        Scope::Read
    } else {
        Scope::Admin
    };
    // Reading many findings by id, and searching, are POSTs but not writes.
    let path = request.uri().path();
    let read_only_post = path.ends_with("/findings/get") || path.ends_with("/findings/search");
    let needed = if read_only_post { Scope::Read } else { needed };
    let unauthorized = |detail: &str| {
        let mut response = Problem::new(StatusCode::UNAUTHORIZED, detail).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().unwrap());
        response
    };
    match token.map(|t| state.tokens.scope_of(t)) {
        None => unauthorized("an Authorization: Bearer token is required"),
        Some(None) => unauthorized("the bearer token is not valid"),
        Some(Some(scope)) if scope < needed => {
            Problem::new(StatusCode::FORBIDDEN, "this request needs an admin token").into_response()
        }
        Some(Some(_)) => next.run(request).await,
    }
}
