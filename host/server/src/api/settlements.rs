//! `/v1/installations/{id}/settlements` and `/v1/installations/{id}/settlement-rule`: the
//! admin import of settlement data (the contract's `settlement-page` shape as JSON — for
//! channels whose plugin does not fetch settlements yet, or a report the merchant
//! downloaded), stored by the same store function as the daily `settlements` job; and
//! the merchant's expected-net rule per installation.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use wharf_domain::reconcile::NetRule;
use wharf_domain::settlement::SettlementPage;
use wharf_store::settlements::{SettlementImport, SettlementRule};

use super::auth::Merchant;
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
