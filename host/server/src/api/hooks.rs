//! `POST /v1/hooks/{installation}`: webhook ingress. Headers and the raw body go to the
//! installation's plugin, which verifies the signature; 2xx only after commit.
//!
//! The body is read up to `--max-webhook-bytes`. An oversized one is refused with 413,
//! but first read on and dropped (up to [`DRAIN_FACTOR`] × the cap, for at most
//! [`DRAIN_TIME`]): closing a connection with unread data resets it, and the sender would
//! see a broken pipe instead of the 413. Bodies whose `Content-Length` is over that
//! bound are refused without reading.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;

use crate::ingest::{self, WebhookAck};
use crate::{ApiError, AppState};

/// How much of an oversized body is read and dropped, as a multiple of the cap.
const DRAIN_FACTOR: usize = 4;
/// How long an oversized body is read on before the refusal is sent anyway.
const DRAIN_TIME: Duration = Duration::from_secs(5);

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/hooks/{installation}", post(receive))
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge("webhook body over the size cap".into())
}

/// The body, at most `max` bytes.
async fn read_capped(headers: &HeaderMap, body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max.saturating_mul(DRAIN_FACTOR)) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(max));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if out.len() + chunk.len() > max {
            let mut seen = out.len() + chunk.len();
            drop(out);
            let bound = max.saturating_mul(DRAIN_FACTOR);
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                while seen <= bound {
                    match stream.next().await {
                        Some(Ok(c)) => seen += c.len(),
                        _ => break,
                    }
                }
            })
            .await;
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Receive a webhook for an installation.
#[utoipa::path(post, path = "/v1/hooks/{installation}", tag = "ingest",
    params(("installation" = i64, Path, description = "installation id")),
    request_body(content = Vec<u8>, content_type = "application/json", description = "the platform's raw webhook body"),
    responses(
        (status = 200, description = "verified and committed", body = WebhookAck),
        (status = 400, description = "malformed body"),
        (status = 401, description = "bad signature; nothing stored"),
        (status = 404, description = "unknown or disabled installation"),
        (status = 413, description = "body over the size cap"),
        (status = 422, description = "not a marketplace installation (couriers and ledgers take no webhooks)"),
        (status = 502, description = "the plugin failed; retry later")))]
pub async fn receive(
    State(state): State<AppState>,
    Path(installation): Path<i64>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<WebhookAck>, ApiError> {
    let body = read_capped(&headers, body, state.config().max_webhook_bytes).await?;
    let started = std::time::Instant::now();
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let result = ingest::webhook(&state, installation, headers, body).await;
    let outcome = match &result {
        Ok(_) => "accepted",
        Err(ApiError::BadSignature(_)) => "bad_signature",
        Err(ApiError::BadRequest(_)) => "malformed",
        Err(ApiError::NotFound(_)) => "unknown_installation",
        Err(_) => "failed",
    };
    let metrics = state.metrics();
    metrics.inc(
        "wharf_webhooks_total",
        vec![
            ("installation", installation.to_string()),
            ("outcome", outcome.into()),
        ],
        1,
    );
    metrics.observe("wharf_webhook_ack_seconds", vec![], started.elapsed());
    Ok(Json(result?))
}
