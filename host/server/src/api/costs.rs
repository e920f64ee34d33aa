//! `/v1/sku-costs`: the merchant's unit cost per SKU code (integer minor units), used for
//! margins in `/v1/revenue`. A SKU without a cost makes its margin unknown, not zero.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_store::settlements::SkuCost;

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sku-costs", get(list).put(put))
}

/// SKU unit costs.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuCosts {
    pub costs: Vec<SkuCost>,
}

/// The merchant's SKU unit costs.
#[utoipa::path(get, path = "/v1/sku-costs", tag = "reconciliation",
    responses((status = 200, body = SkuCosts)), security(("bearer" = [])))]
pub async fn list(
    Merchant(m): Merchant,
    State(state): State<AppState>,
) -> Result<Json<SkuCosts>, ApiError> {
    Ok(Json(SkuCosts {
        costs: state.store().sku_costs(m).await?,
    }))
}

/// Set unit costs (SKUs listed are set, others kept); all or nothing. Returns all costs.
#[utoipa::path(put, path = "/v1/sku-costs", tag = "reconciliation", request_body = SkuCosts,
    responses((status = 200, body = SkuCosts), (status = 400)), security(("bearer" = [])))]
pub async fn put(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(body): Json<SkuCosts>,
) -> Result<Json<SkuCosts>, ApiError> {
    Ok(Json(SkuCosts {
        costs: state.store().put_sku_costs(m, &body.costs).await?,
    }))
}
