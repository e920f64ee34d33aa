//! `/v1/sla-rules` and `/v1/escalations`: the merchant's time limits per step (pick, pack,
//! ship) and the breaches recorded against them (one escalation per breach).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_store::sla::{Escalation, SlaRule};

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sla-rules", get(list_rules).put(put_rules))
        .route("/v1/escalations", get(escalations))
}

/// The merchant's SLA rules; steps not listed have no limit.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaRules {
    pub rules: Vec<SlaRule>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EscalationQuery {
    /// At most this many, newest first (default 100, max 1000).
    pub limit: Option<i64>,
}

/// The merchant's SLA rules.
#[utoipa::path(get, path = "/v1/sla-rules", tag = "sla",
    responses((status = 200, body = SlaRules)), security(("bearer" = [])))]
pub async fn list_rules(
    Merchant(m): Merchant,
    State(state): State<AppState>,
) -> Result<Json<SlaRules>, ApiError> {
    Ok(Json(SlaRules {
        rules: state.store().sla_rules(m).await?,
    }))
}

/// Replace the merchant's SLA rules (limits in seconds; they apply to clocks started
/// after the change: a task's at its start, an order's at payment).
#[utoipa::path(put, path = "/v1/sla-rules", tag = "sla", request_body = SlaRules,
    responses((status = 200, body = SlaRules), (status = 400)), security(("bearer" = [])))]
pub async fn put_rules(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(body): Json<SlaRules>,
) -> Result<Json<SlaRules>, ApiError> {
    Ok(Json(SlaRules {
        rules: state.store().put_sla_rules(m, &body.rules).await?,
    }))
}

/// SLA breaches, newest first; each is also sent to the notification webhook.
#[utoipa::path(get, path = "/v1/escalations", tag = "sla", params(EscalationQuery),
    responses((status = 200, body = Vec<Escalation>)), security(("bearer" = [])))]
pub async fn escalations(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<EscalationQuery>,
) -> Result<Json<Vec<Escalation>>, ApiError> {
    Ok(Json(
        state.store().escalations(m, q.limit.unwrap_or(100)).await?,
    ))
}
