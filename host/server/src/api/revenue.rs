//! `/v1/revenue`: what each channel settled per day — gross, fees, refunds, other
//! platform money, net — and the margin over the merchant's SKU unit costs (`null`, not
//! zero, when a cost is missing). Days are local to the server's merchant UTC offset.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wharf_store::reconcile::{RevenueGroup, RevenueRow};
use wharf_store::revenue_sku::SkuRevenueRow;

use super::auth::Merchant;
use crate::{ApiError, AppState};

/// Longest range one request may cover, in days.
const MAX_DAYS: i64 = 400;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/revenue", get(revenue))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevenueQuery {
    /// First local day, `YYYY-MM-DD`.
    pub from: String,
    /// Last local day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// Comma-separated grouping: `channel`, `day`, both (default) or empty for one total
    /// per currency; or `sku` / `channel,sku` for figures per SKU (settled lines split
    /// over their orders' lines, adding up exactly to the channel totals).
    pub group: Option<String>,
}

/// Revenue rows: per channel and/or day, or per SKU.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RevenueRows {
    Channel(Vec<RevenueRow>),
    Sku(Vec<SkuRevenueRow>),
}

/// Revenue per channel (installation) and day, or per SKU (and channel), per currency.
#[utoipa::path(get, path = "/v1/revenue", tag = "reconciliation", params(RevenueQuery),
    responses((status = 200, body = RevenueRows), (status = 400)), security(("bearer" = [])))]
pub async fn revenue(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<RevenueQuery>,
) -> Result<Json<RevenueRows>, ApiError> {
    let offset = state.config().verify.utc_offset_minutes;
    let day = |name: &str, s: &str| {
        wharf_domain::reconcile::parse_day(s, offset)
            .ok_or_else(|| ApiError::BadRequest(format!("{name} {s:?}: expected YYYY-MM-DD")))
    };
    let (start, _) = day("from", &q.from)?;
    let (_, end) = day("to", &q.to)?;
    if end <= start {
        return Err(ApiError::BadRequest("to is before from".into()));
    }
    if end - start > MAX_DAYS * 86_400_000 {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_DAYS} days per request"
        )));
    }
    let mut group = RevenueGroup::default();
    let mut sku = false;
    for g in q
        .group
        .as_deref()
        .unwrap_or("channel,day")
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        match g {
            "channel" => group.channel = true,
            "day" => group.day = true,
            "sku" => sku = true,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "group {other:?}: expected channel, day or sku"
                )))
            }
        }
    }
    if sku {
        if group.day {
            return Err(ApiError::BadRequest(
                "group sku combines with channel only, not day".into(),
            ));
        }
        let rows = state
            .store()
            .revenue_by_sku(m, start, end, group.channel)
            .await?;
        return Ok(Json(RevenueRows::Sku(rows)));
    }
    Ok(Json(RevenueRows::Channel(
        state.store().revenue(m, start, end, offset, group).await?,
    )))
}
