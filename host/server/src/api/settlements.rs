//! `/v1/installations/{id}/settlements` and `/v1/installations/{id}/settlement-rule`: the
//! admin import of settlement data (the contract's `settlement-page` shape as JSON — for
//! channels whose plugin does not fetch settlements yet, or a report the merchant
//! downloaded), stored by the same store function as the daily `settlements` job; and
//! the merchant's expected-net rule per installation; and `…/settlements/import`, which
//! runs the daily job's import for one chosen day now.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use wharf_domain::reconcile::NetRule;
use wharf_domain::settlement::SettlementPage;
use wharf_store::settlements::{SettlementImport, SettlementRule};

use super::auth::Merchant;
use crate::settlements::{ImportRun, Period};
use crate::{ApiError, AppState};

/// Largest import body accepted.
const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/installations/{id}/settlements",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route(
            "/v1/installations/{id}/settlements/import",
            post(run_import),
        )
        .route(
            "/v1/installations/{id}/settlement-rule",
            get(show_rule).put(put_rule),
        )
}

/// Import settlement lines and payouts for an installation (the JSON shape of the
/// contract's `settlement-page`; `cursor`/`more` are ignored). Idempotent: lines are keyed
/// by (installation, `line_id`), payouts by (installation, `payout_id`); sending the same
/// data again changes nothing. Amounts that do not add up are stored as sent and
/// reported by reconciliation; malformed records (unknown currency, empty or duplicate
/// ids) refuse the whole request.
#[utoipa::path(post, path = "/v1/installations/{id}/settlements", tag = "reconciliation",
    params(("id" = i64, Path, description = "installation id")),
    request_body = SettlementPage,
    responses((status = 200, body = SettlementImport), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn import(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(page): Json<SettlementPage>,
) -> Result<Json<SettlementImport>, ApiError> {
    Ok(Json(state.store().import_settlements(m, id, &page).await?))
}

/// The day to import through the plugin.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDay {
    /// A local day `YYYY-MM-DD` (the server's `--verify-utc-offset-minutes`).
    pub date: String,
}

/// Import one day's settlements now through the plugin's `fetch-settlements`, page by
/// page — exactly what the daily `settlements` job does for the previous day. Idempotent:
/// a second run of the same day changes nothing. A plugin that does not implement the
/// export answers `unsupported: true` with nothing imported.
#[utoipa::path(post, path = "/v1/installations/{id}/settlements/import", tag = "reconciliation",
    params(("id" = i64, Path, description = "installation id")),
    request_body = ImportDay,
    responses((status = 200, body = ImportRun), (status = 400), (status = 404),
              (status = 429), (status = 502)),
    security(("bearer" = [])))]
pub async fn run_import(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(day): Json<ImportDay>,
) -> Result<Json<ImportRun>, ApiError> {
    let inst = state
        .store()
        .get_installation(m, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("installation {id} not found")))?;
    let offset = state.config().verify.utc_offset_minutes;
    let (start, end) = wharf_domain::reconcile::parse_day(&day.date, offset)
        .ok_or_else(|| ApiError::BadRequest(format!("date {:?}: expected YYYY-MM-DD", day.date)))?;
    Ok(Json(
        crate::settlements::import(&state, &inst, Period { start, end }).await?,
    ))
}

/// The installation's expected-net rule (the platform default until one is set).
#[utoipa::path(get, path = "/v1/installations/{id}/settlement-rule", tag = "reconciliation",
    params(("id" = i64, Path, description = "installation id")),
    responses((status = 200, body = SettlementRule), (status = 404)),
    security(("bearer" = [])))]
pub async fn show_rule(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<SettlementRule>, ApiError> {
    Ok(Json(state.store().settlement_rule(m, id).await?))
}

/// Set the installation's expected-net rule: which components count and with what sign,
/// commission as reported or at a rate in basis points, and the settlement cycle (T+N
/// days after shipment or completion). Refused with every reason when inconsistent.
#[utoipa::path(put, path = "/v1/installations/{id}/settlement-rule", tag = "reconciliation",
    params(("id" = i64, Path, description = "installation id")),
    request_body = NetRule,
    responses((status = 200, body = SettlementRule), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn put_rule(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(rule): Json<NetRule>,
) -> Result<Json<SettlementRule>, ApiError> {
    Ok(Json(state.store().put_settlement_rule(m, id, &rule).await?))
}
