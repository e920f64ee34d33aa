//! `/v1/orders/{id}/fulfillment|transitions|review`: an order's place in the host-owned
//! state machine — read it with its tasks and audited transitions, request a transition
//! (label, ship, deliver, exception, return, cancel; an illegal one is 409 with the
//! reason), and review a flagged or held order.

use axum::extract::{Path, State as AxState};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use wharf_domain::fulfillment::State;
use wharf_store::fulfillment::{Fulfillment, StateChange, TransitionRequest};

use super::auth::{Actor, Merchant};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders/{id}/fulfillment", get(show))
        .route(
            "/v1/orders/{id}/transitions",
            get(transitions).post(transition),
        )
        .route("/v1/orders/{id}/review", post(review))
}

/// A requested transition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// Target state: `labelled`, `shipped`, `delivered`, `exception`, `returned` or
    /// `cancelled` (warehouse steps move with their tasks, holds with reviews).
    pub to: String,
    /// Why (kept in the audit trail).
    pub reason: String,
    /// Required for `labelled`.
    pub carrier: Option<String>,
    /// Required for `labelled`.
    pub tracking_number: Option<String>,
}

/// A review decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `approve` or `hold`.
    pub decision: String,
    pub reason: String,
}

fn reason(r: &str) -> Result<String, ApiError> {
    let r = r.trim();
    if r.is_empty() || r.len() > 500 {
        return Err(ApiError::BadRequest("reason must be 1-500 bytes".into()));
    }
    Ok(r.to_string())
}

/// An order's fulfillment: state, review, clocks, label, tasks and transitions.
#[utoipa::path(get, path = "/v1/orders/{id}/fulfillment", tag = "fulfillment",
    params(("id" = i64, Path)), responses((status = 200, body = Fulfillment), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Fulfillment>, ApiError> {
    Ok(Json(state.store().fulfillment(m, id).await?))
}

/// The order's audited state changes (actor, time, from, to, reason), oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/transitions", tag = "fulfillment",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<StateChange>), (status = 404)),
    security(("bearer" = [])))]
pub async fn transitions(
    Merchant(m): Merchant,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<StateChange>>, ApiError> {
    // 404 for an order that is not the merchant's (an empty list would leak nothing, but
    // would not say "no such order" either).
    state.store().fulfillment(m, id).await?;
    Ok(Json(state.store().state_changes(m, id).await?))
}

/// Move the order to another state. An illegal transition is 409 with the reason.
#[utoipa::path(post, path = "/v1/orders/{id}/transitions", tag = "fulfillment",
    params(("id" = i64, Path)), request_body = TransitionBody,
    responses((status = 200, body = Fulfillment), (status = 400), (status = 404),
        (status = 409, description = "illegal transition; the message says why")),
    security(("bearer" = [])))]
pub async fn transition(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<TransitionBody>,
) -> Result<Json<Fulfillment>, ApiError> {
    let to = State::parse(&body.to).map_err(ApiError::BadRequest)?;
    let req = TransitionRequest {
        to,
        reason: reason(&body.reason)?,
        carrier: body.carrier,
        tracking_number: body.tracking_number,
    };
    Ok(Json(
        state.store().transition_order(m, id, &req, &actor).await?,
    ))
}

/// Review a flagged or held order: `approve` clears it (it progresses when paid and its
/// stock is held), `hold` keeps it on hold until approved.
#[utoipa::path(post, path = "/v1/orders/{id}/review", tag = "fulfillment",
    params(("id" = i64, Path)), request_body = ReviewBody,
    responses((status = 200, body = Fulfillment), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn review(
    Merchant(m): Merchant,
    Actor(actor): Actor,
    AxState(state): AxState<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ReviewBody>,
) -> Result<Json<Fulfillment>, ApiError> {
    let approve = match body.decision.as_str() {
        "approve" => true,
        "hold" => false,
        other => {
            return Err(ApiError::BadRequest(format!(
                "decision must be approve or hold, got {other:?}"
            )))
        }
    };
    let why = reason(&body.reason)?;
    Ok(Json(
        state
            .store()
            .review_order(m, id, approve, &why, &actor)
            .await?,
    ))
}
