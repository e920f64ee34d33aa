//! `GET /metrics`: Prometheus metrics (operator token required).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::auth::Operator;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Prometheus text exposition: ingest rate and latency, plugin call latency and errors per
/// installation, queue depth, retries and dead letters.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)), security(("bearer" = [])))]
pub async fn metrics(
    _op: Operator,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let jobs = state.store().job_counts().await?;
    let body = state.metrics().render(&jobs);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
