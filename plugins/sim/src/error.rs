//! The crate's one error type. API rejections render as the platform's own error JSON.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// 400 with the platform's `{"errors": …}` body.
    #[error("bad request: {0}")]
    BadRequest(Value),
    /// 401: missing or wrong access token.
    #[error("unauthorized")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    /// 422 with the platform's `{"errors": …}` body (a well-formed request it refuses).
    #[error("unprocessable: {0}")]
    Unprocessable(Value),
    /// 429 from the leaky bucket.
    #[error("rate limited: retry after {retry_after_s} s")]
    RateLimited {
        retry_after_s: f64,
        call_limit: String,
    },
    /// A failure injected with `fail_next`.
    #[error("injected HTTP {0}")]
    Injected(u16),
    /// An order handed to the simulator that it cannot store.
    #[error("invalid order: {0}")]
    InvalidOrder(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
}

const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
const TOO_FAST: &str =
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.";

fn body(status: StatusCode, errors: Value) -> Response {
    (status, axum::Json(json!({ "errors": errors }))).into_response()
}

fn rate_limited(retry_after_s: f64, call_limit: &str) -> Response {
    let mut r = body(StatusCode::TOO_MANY_REQUESTS, json!(TOO_FAST));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("{retry_after_s:.1}")) {
        h.insert("Retry-After", v);
    }
    if let Ok(v) = HeaderValue::from_str(call_limit) {
        h.insert("X-Shopify-Shop-Api-Call-Limit", v);
    }
    r
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        match self {
            SimError::BadRequest(errors) => body(StatusCode::BAD_REQUEST, errors),
            SimError::Unprocessable(errors) => body(StatusCode::UNPROCESSABLE_ENTITY, errors),
            SimError::Unauthorized | SimError::Injected(401) => {
                body(StatusCode::UNAUTHORIZED, json!(INVALID_TOKEN))
            }
            SimError::NotFound | SimError::Injected(404) => {
                body(StatusCode::NOT_FOUND, json!("Not Found"))
            }
            SimError::RateLimited {
                retry_after_s,
                call_limit,
            } => rate_limited(retry_after_s, &call_limit),
            SimError::Injected(429) => rate_limited(1.0, "40/40"),
            SimError::Injected(code) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let reason = status.canonical_reason().unwrap_or("Error");
                body(status, json!(reason))
            }
            other => body(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!(format!("simulator: {other}")),
            ),
        }
    }
}
