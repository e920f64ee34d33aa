//! `/v1/scan` and `/v1/warehouse/orders/{id}`: what the warehouse page reads — the
//! merchant's orders a scanned code names (order number, the channel's order id or the
//! tracking number; 404 when none), and one order's warehouse view (lines with SKU codes
//! and quantities, destination city, state, its tasks and the one to work on now).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_store::warehouse::WarehouseOrder;

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/scan", get(scan))
        .route("/v1/warehouse/orders/{id}", get(show))
}

/// A scanned or typed code.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScanQuery {
    /// An order number (`#1001` or `1001`), the channel's order id, or a tracking number.
    pub code: String,
}

/// The orders a code names, newest first (usually one; several when shops share numbers).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanResult {
    pub orders: Vec<WarehouseOrder>,
}

/// Look up the merchant's orders by a scanned code.
#[utoipa::path(get, path = "/v1/scan", tag = "warehouse", params(ScanQuery),
    responses((status = 200, body = ScanResult), (status = 400, description = "empty or overlong code"),
        (status = 404, description = "no order of the merchant has this number, id or tracking number")),
    security(("bearer" = [])))]
pub async fn scan(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    query: Result<Query<ScanQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ScanResult>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let orders = state.store().scan(m, &q.code).await?;
    if orders.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no order with number, order id or tracking number {:?}",
            q.code.trim()
        )));
    }
    Ok(Json(ScanResult { orders }))
}

/// One order as the warehouse sees it.
#[utoipa::path(get, path = "/v1/warehouse/orders/{id}", tag = "warehouse",
    params(("id" = i64, Path)), responses((status = 200, body = WarehouseOrder), (status = 404)),
    security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<WarehouseOrder>, ApiError> {
    Ok(Json(state.store().warehouse_order(m, id).await?))
}
