//! `/v1/orders`: the merchant's unified order store — list with filters and stable
//! pagination, show one with lines, flags and its event log.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wharf_domain::ChannelStatus;
use wharf_store::{OrderDetail, OrderFilter, OrderPage};

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders", get(list))
        .route("/v1/orders/{id}", get(show))
}

/// Filters and paging for the order list. Times are Unix epoch milliseconds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    pub installation_id: Option<i64>,
    /// Platform (plugin name), e.g. `shopify`.
    pub platform: Option<String>,
    /// Channel status, e.g. `paid`, `pending_payment`.
    pub status: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub updated_from: Option<i64>,
    pub updated_to: Option<i64>,
    /// Only orders with (true) or without (false) anomaly flags.
    pub flagged: Option<bool>,
    /// Page size (default 50, max 500).
    pub limit: Option<u32>,
    /// The `next` token of the previous page.
    pub after: Option<String>,
}

/// List orders, oldest first, in stable pages.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderPage), (status = 400, description = "bad filter or page token")),
    security(("bearer" = [])))]
pub async fn list(
    Merchant(merchant_id): Merchant,
    State(state): State<AppState>,
    query: Result<Query<OrderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OrderPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(ChannelStatus::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let filter = OrderFilter {
        installation_id: q.installation_id,
        platform: q.platform,
        status,
        created_from: q.created_from,
        created_to: q.created_to,
        updated_from: q.updated_from,
        updated_to: q.updated_to,
        flagged: q.flagged,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(
        state
            .store()
            .list_orders(merchant_id, &filter, limit, q.after.as_deref())
            .await?,
    ))
}

/// One order with its lines, anomaly flags and event log.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = OrderDetail), (status = 404)), security(("bearer" = [])))]
pub async fn show(
    Merchant(merchant_id): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<OrderDetail>, ApiError> {
    let order = state
        .store()
        .get_order(merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))?;
    Ok(Json(order))
}
