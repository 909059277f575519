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

/// The token of an `Authorization: Bearer …` header (the scheme is case-insensitive, RFC 7235).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares in constant time. Comparing digests, not the strings, keeps even the length
/// of a configured token from showing in how long a refusal takes.
pub fn same(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(a.as_bytes())
        .ct_eq(&Sha256::digest(b.as_bytes()))
        .into()
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

/// Reads need any token; anything but GET or HEAD needs an admin token.
pub async fn require_token(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let token = bearer(request.headers());
    let needed = if matches!(*request.method(), Method::GET | Method::HEAD) {
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

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{bearer, same};

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "Bearer   t0k "] {
            assert_eq!(bearer(&with(value)), Some("t0k"), "{value}");
        }
        for value in ["Basic dXNlcg==", "Bearer", "Bearer ", "Bearert0k", "t0k"] {
            assert_eq!(bearer(&with(value)), None, "{value}");
        }
    }

    #[test]
    fn tokens_compare_by_value() {
        assert!(same("a-token", "a-token"));
        assert!(!same("a-token", "a-tokeN"));
        assert!(!same("a-token", "a-token-longer"));
        assert!(!same("", "a"));
    }
}
