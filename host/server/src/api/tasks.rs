//! `/v1/tasks`: warehouse tasks (pick, pack) — list with filters, show, assign to a
//! worker, start, complete (the pack task with its parcel record), report an exception.
//! Task actions move the order: starting the pick makes it `picking`, completing the pack
//! makes it `packed`.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use wharf_domain::fulfillment::{PackRecord, TaskKind, TaskStatus};
use wharf_store::fulfillment::{Task, TaskCommand, TaskFilter};

use super::auth::{Actor, Merchant};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tasks", get(list))
        .route("/v1/tasks/{id}", get(show))
        .route("/v1/tasks/{id}/assign", post(assign))
        .route("/v1/tasks/{id}/start", post(start))
        .route("/v1/tasks/{id}/complete", post(complete))
        .route("/v1/tasks/{id}/exception", post(exception))
}

/// Task list filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// `open`, `assigned`, `in_progress`, `done`, `exception` or `cancelled`.
    pub status: Option<String>,
    pub assignee: Option<String>,
    /// `pick` or `pack`.
    pub kind: Option<String>,
    pub order_id: Option<i64>,
    /// At most this many (default 100, max 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The picker / packer.
    pub assignee: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Required to complete a pack task.
    pub parcel: Option<PackRecord>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    pub reason: String,
}

/// The merchant's tasks, oldest first.
#[utoipa::path(get, path = "/v1/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = Vec<Task>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    query: Result<Query<TaskQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Task>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let filter = TaskFilter {
        status: q
            .status
            .as_deref()
            .map(TaskStatus::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        assignee: q.assignee,
        order_id: q.order_id,
        kind: q
            .kind
            .as_deref()
            .map(TaskKind::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
    };
    let limit = q.limit.unwrap_or(100);
    Ok(Json(state.store().list_tasks(m, &filter, limit).await?))
}

/// One task.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks", params(("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 404)), security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(state.store().get_task(m, id).await?))
}

async fn act(
    state: &AppState,
    m: i64,
    id: i64,
    cmd: TaskCommand,
    actor: &str,
) -> Result<Json<Task>, ApiError> {
    Ok(Json(state.store().act_on_task(m, id, &cmd, actor).await?))
}

/// Assign (or re-assign, also after an exception) the task to a worker.
#[utoipa::path(post, path = "/v1/tasks/{id}/assign", tag = "tasks", params(("id" = i64, Path)),
    request_body = AssignBody,
    responses((status = 200, body = Task), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn assign(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<AssignBody>,
) -> Result<Json<Task>, ApiError> {
    let cmd = TaskCommand::Assign {
        assignee: body.assignee,
    };
    act(&state, m, id, cmd, &actor).await
}

/// Start an assigned task (its SLA clock starts; the pick moves the order to `picking`).
#[utoipa::path(post, path = "/v1/tasks/{id}/start", tag = "tasks", params(("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn start(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Task>, ApiError> {
    act(&state, m, id, TaskCommand::Start, &actor).await
}

/// Complete a task in progress. The pick opens the pack task; the pack needs the parcel
/// (weight in grams, dimensions in millimetres) and moves the order to `packed`.
#[utoipa::path(post, path = "/v1/tasks/{id}/complete", tag = "tasks", params(("id" = i64, Path)),
    request_body = CompleteBody,
    responses((status = 200, body = Task), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn complete(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: Option<Json<CompleteBody>>,
) -> Result<Json<Task>, ApiError> {
    let parcel = body.and_then(|Json(b)| b.parcel);
    act(&state, m, id, TaskCommand::Complete { parcel }, &actor).await
}

/// Report a problem with a task (e.g. the item is not on the shelf); re-assign to resume.
#[utoipa::path(post, path = "/v1/tasks/{id}/exception", tag = "tasks", params(("id" = i64, Path)),
    request_body = ExceptionBody,
    responses((status = 200, body = Task), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn exception(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ExceptionBody>,
) -> Result<Json<Task>, ApiError> {
    let cmd = TaskCommand::Exception {
        reason: body.reason,
    };
    act(&state, m, id, cmd, &actor).await
}
