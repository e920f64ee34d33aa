//! `/v1/after-sales`: refund and return tickets opened from the channels, in a
//! customer-service queue — list (status, queue, assignee, order filters), read, assign,
//! start, resolve, reject, annotate. An action the ticket table does not allow is 409
//! with the reason.

use axum::extract::{Path, Query, State as AxState};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wharf_domain::after_sales::TicketStatus;
use wharf_store::after_sales::{Ticket, TicketCommand, TicketFilter};

use super::auth::{Actor, Merchant};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/after-sales", get(list))
        .route("/v1/after-sales/{id}", get(show))
        .route("/v1/after-sales/{id}/assign", post(assign))
        .route("/v1/after-sales/{id}/start", post(start))
        .route("/v1/after-sales/{id}/resolve", post(resolve))
        .route("/v1/after-sales/{id}/reject", post(reject))
        .route("/v1/after-sales/{id}/note", post(note))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `open`, `in_progress`, `resolved`, `rejected` or `closed`.
    pub status: Option<String>,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    pub order_id: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub assignee: String,
    /// Move the ticket to another queue.
    pub queue: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// Kept as a note on the ticket.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
}

/// The merchant's tickets, oldest first.
#[utoipa::path(get, path = "/v1/after-sales", tag = "after-sales", params(ListQuery),
    responses((status = 200, body = Vec<Ticket>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<Ticket>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(TicketStatus::parse)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let filter = TicketFilter {
        status,
        queue: q.queue,
        assignee: q.assignee,
        order_id: q.order_id,
    };
    Ok(Json(
        state
            .store()
            .list_tickets(m, &filter, q.limit.unwrap_or(100))
            .await?,
    ))
}

/// One ticket with its notes.
#[utoipa::path(get, path = "/v1/after-sales/{id}", tag = "after-sales",
    params(("id" = i64, Path)), responses((status = 200, body = Ticket), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(state.store().get_ticket(m, id).await?))
}

async fn act(
    state: &AppState,
    m: i64,
    id: i64,
    cmd: TicketCommand,
    actor: &str,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(state.store().act_on_ticket(m, id, &cmd, actor).await?))
}

/// Assign the ticket (optionally to another queue).
#[utoipa::path(post, path = "/v1/after-sales/{id}/assign", tag = "after-sales",
    params(("id" = i64, Path)), request_body = AssignBody,
    responses((status = 200, body = Ticket), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn assign(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    Json(b): Json<AssignBody>,
) -> Result<Json<Ticket>, ApiError> {
    let cmd = TicketCommand::Assign {
        assignee: b.assignee,
        queue: b.queue,
    };
    act(&state, m, id, cmd, &actor).await
}

/// Start working the ticket (`open → in_progress`).
#[utoipa::path(post, path = "/v1/after-sales/{id}/start", tag = "after-sales",
    params(("id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn start(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Ticket>, ApiError> {
    act(&state, m, id, TicketCommand::Start, &actor).await
}

/// Resolve the ticket.
#[utoipa::path(post, path = "/v1/after-sales/{id}/resolve", tag = "after-sales",
    params(("id" = i64, Path)), request_body = OutcomeBody,
    responses((status = 200, body = Ticket), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn resolve(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    body: Option<Json<OutcomeBody>>,
) -> Result<Json<Ticket>, ApiError> {
    let note = body.and_then(|Json(b)| b.note);
    act(&state, m, id, TicketCommand::Resolve { note }, &actor).await
}

/// Reject the ticket.
#[utoipa::path(post, path = "/v1/after-sales/{id}/reject", tag = "after-sales",
    params(("id" = i64, Path)), request_body = OutcomeBody,
    responses((status = 200, body = Ticket), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn reject(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    body: Option<Json<OutcomeBody>>,
) -> Result<Json<Ticket>, ApiError> {
    let note = body.and_then(|Json(b)| b.note);
    act(&state, m, id, TicketCommand::Reject { note }, &actor).await
}

/// Add a note to the ticket.
#[utoipa::path(post, path = "/v1/after-sales/{id}/note", tag = "after-sales",
    params(("id" = i64, Path)), request_body = NoteBody,
    responses((status = 200, body = Ticket), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn note(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    Json(b): Json<NoteBody>,
) -> Result<Json<Ticket>, ApiError> {
    act(&state, m, id, TicketCommand::Note { body: b.body }, &actor).await
}
