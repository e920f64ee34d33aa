//! `/v1/jobs`: the merchant's durable jobs — queue, retries and the dead-letter queue,
//! with re-drive.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wharf_store::Job;

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/jobs", get(list))
        .route("/v1/jobs/{id}", get(show))
        .route("/v1/jobs/{id}/redrive", post(redrive))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// `queued`, `running`, `done` or `dead` (the dead-letter queue).
    pub state: Option<String>,
    /// Most recent jobs to return (default 100, max 1000).
    pub limit: Option<u32>,
}

const STATES: [&str; 4] = ["queued", "running", "done", "dead"];

/// The merchant's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = Vec<Job>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    query: Result<Query<JobQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Job>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if let Some(s) = q.state.as_deref().filter(|s| !STATES.contains(s)) {
        return Err(ApiError::BadRequest(format!(
            "state {s:?}: expected one of {STATES:?}"
        )));
    }
    Ok(Json(
        state
            .store()
            .list_jobs(m, q.state.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

/// One job, with its attempts and last error.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404)), security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let job = state
        .store()
        .get_job(m, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))?;
    Ok(Json(job))
}

/// Re-drive a dead-lettered job: queued again now with fresh retries.
#[utoipa::path(post, path = "/v1/jobs/{id}/redrive", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404), (status = 409, description = "the job is not dead")),
    security(("bearer" = [])))]
pub async fn redrive(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let job = state.store().redrive_job(m, id).await?;
    tracing::info!(merchant_id = m, job_id = id, kind = %job.kind, "job re-driven");
    Ok(Json(job))
}
