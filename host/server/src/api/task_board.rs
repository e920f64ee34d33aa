//! `/v1/task-board`: the warehouse page's two lists — the open queue (tasks nobody took,
//! oldest first) and one worker's live tasks (assigned, in progress, in exception) — each
//! task with its order's number and destination city.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wharf_store::warehouse::{Board, BoardTask};

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/task-board", get(board))
}

/// Which list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// `open` (the queue) or `mine` (needs `assignee`).
    pub queue: String,
    /// The worker, for `queue=mine`.
    pub assignee: Option<String>,
    /// At most this many (default 50, max 500).
    pub limit: Option<i64>,
}

/// The open queue or a worker's live tasks, oldest first, with order numbers.
#[utoipa::path(get, path = "/v1/task-board", tag = "warehouse", params(BoardQuery),
    responses((status = 200, body = Vec<BoardTask>), (status = 400)), security(("bearer" = [])))]
pub async fn board(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<BoardTask>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let board = match q.queue.as_str() {
        "open" => Board::Open,
        "mine" => {
            let who = q.assignee.as_deref().map(str::trim).unwrap_or_default();
            if who.is_empty() {
                return Err(ApiError::BadRequest("queue=mine needs the assignee".into()));
            }
            Board::Mine(who.to_string())
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "queue must be open or mine, got {other:?}"
            )))
        }
    };
    let limit = q.limit.unwrap_or(50);
    Ok(Json(state.store().task_board(m, &board, limit).await?))
}
