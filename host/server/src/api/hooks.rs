//! `POST /v1/hooks/{installation}`: webhook ingress. Headers and the raw body go to the
//! installation's plugin, which verifies the signature; 2xx only after commit.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};

use crate::ingest::{self, WebhookAck};
use crate::{ApiError, AppState};

pub fn router(max_body: usize) -> Router<AppState> {
    Router::new()
        .route("/v1/hooks/{installation}", post(receive))
        .layer(DefaultBodyLimit::max(max_body))
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
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<WebhookAck>, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("webhook body over the size cap".into())
        }
        _ => ApiError::BadRequest(rejection.body_text()),
    })?;
    let started = std::time::Instant::now();
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let result = ingest::webhook(&state, installation, headers, body.to_vec()).await;
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
