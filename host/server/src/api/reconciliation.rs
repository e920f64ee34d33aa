//! `/v1/reconciliation/…`: a period's reconciliation (expected vs actual net per order,
//! unmatched lines, overdue orders, payout checks, data-quality issues, summary) as JSON,
//! its exports as CSV and XLSX, and the merchant's variance threshold. A period is a local
//! day `YYYY-MM-DD` or month `YYYY-MM` in the server's merchant UTC offset
//! (`--verify-utc-offset-minutes`).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wharf_store::reconcile::{ReconcilePlan, ReconcileTotals, ReconciliationReport};
use wharf_store::settlements::ReconciliationSettings;

use super::auth::Merchant;
use crate::export;
use crate::{ApiError, AppState};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/reconciliation/settings",
            get(show_settings).put(put_settings),
        )
        .route("/v1/reconciliation/{period}", get(report))
        .route(
            "/v1/reconciliation/{period}/variances.csv",
            get(variances_csv),
        )
        .route(
            "/v1/reconciliation/{period}/variances.xlsx",
            get(variances_xlsx),
        )
        .route("/v1/reconciliation/{period}/summary.csv", get(summary_csv))
        .route(
            "/v1/reconciliation/{period}/summary.xlsx",
            get(summary_xlsx),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Only this installation (404 if it is not the merchant's).
    pub installation_id: Option<i64>,
}

/// The period's plan: a bad period is 400, another merchant's installation 404 — both
/// before anything is streamed.
async fn plan(
    state: &AppState,
    merchant: i64,
    period: &str,
    q: &ReportQuery,
) -> Result<ReconcilePlan, ApiError> {
    let offset = state.config().verify.utc_offset_minutes;
    let (start, end) = wharf_domain::reconcile::parse_period(period, offset).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "period {period:?}: expected a day YYYY-MM-DD or a month YYYY-MM"
        ))
    })?;
    Ok(state
        .store()
        .reconcile_plan(
            merchant,
            start,
            end,
            q.installation_id,
            crate::scheduler::now_ms(),
        )
        .await?)
}

async fn load(
    state: &AppState,
    merchant: i64,
    period: &str,
    q: &ReportQuery,
) -> Result<ReconciliationReport, ApiError> {
    let plan = plan(state, merchant, period, q).await?;
    Ok(state.store().reconcile_report(&plan).await?)
}

/// The period's totals only (records are counted, not kept).
async fn totals(
    state: &AppState,
    merchant: i64,
    period: &str,
    q: &ReportQuery,
) -> Result<ReconcileTotals, ApiError> {
    let plan = plan(state, merchant, period, q).await?;
    state
        .store()
        .reconcile_stream(&plan, &mut export::stream::Discard)
        .await
}

fn file(content_type: &'static str, name: String, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

fn xlsx(tables: &[export::Table], name: String) -> Result<Response, ApiError> {
    let bytes = export::to_xlsx(tables).map_err(|e| ApiError::Internal(format!("xlsx: {e}")))?;
    Ok(file(XLSX, name, bytes))
}

/// The period's reconciliation.
#[utoipa::path(get, path = "/v1/reconciliation/{period}", tag = "reconciliation",
    params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM"), ReportQuery),
    responses((status = 200, body = ReconciliationReport), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn report(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReconciliationReport>, ApiError> {
    Ok(Json(load(&state, m, &period, &q).await?))
}

/// Variance detail as CSV: judged orders (expected-net components, actual, variance,
/// red), unmatched lines and overdue orders, in integer minor units.
#[utoipa::path(get, path = "/v1/reconciliation/{period}/variances.csv", tag = "reconciliation",
    params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM"), ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn variances_csv(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let plan = plan(&state, m, &period, &q).await?;
    Ok(file(
        CSV,
        format!("variances-{period}.csv"),
        export::stream::variances_csv(state.store().clone(), plan),
    ))
}

/// Variance detail as XLSX: sheets Variances, Payouts and Data quality.
#[utoipa::path(get, path = "/v1/reconciliation/{period}/variances.xlsx", tag = "reconciliation",
    params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM"), ReportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn variances_xlsx(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let plan = plan(&state, m, &period, &q).await?;
    let body = export::stream::variances_xlsx(state.store(), &plan).await?;
    Ok(file(XLSX, format!("variances-{period}.xlsx"), body))
}

/// The period summary per installation and currency as CSV.
#[utoipa::path(get, path = "/v1/reconciliation/{period}/summary.csv", tag = "reconciliation",
    params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM"), ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn summary_csv(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let r = totals(&state, m, &period, &q).await?;
    let csv = export::to_csv(&export::summary(&r));
    Ok(file(CSV, format!("summary-{period}.csv"), csv.into_bytes()))
}

/// The period summary as XLSX (sheet Summary).
#[utoipa::path(get, path = "/v1/reconciliation/{period}/summary.xlsx", tag = "reconciliation",
    params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM"), ReportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn summary_xlsx(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(period): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let r = totals(&state, m, &period, &q).await?;
    xlsx(&[export::summary(&r)], format!("summary-{period}.xlsx"))
}

/// The merchant's reconciliation settings.
#[utoipa::path(get, path = "/v1/reconciliation/settings", tag = "reconciliation",
    responses((status = 200, body = ReconciliationSettings)), security(("bearer" = [])))]
pub async fn show_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
) -> Result<Json<ReconciliationSettings>, ApiError> {
    Ok(Json(state.store().reconciliation_settings(m).await?))
}

/// Set the variance threshold (minor units of the order's currency; ≥ 0).
#[utoipa::path(put, path = "/v1/reconciliation/settings", tag = "reconciliation",
    request_body = ReconciliationSettings,
    responses((status = 200, body = ReconciliationSettings), (status = 400)),
    security(("bearer" = [])))]
pub async fn put_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(body): Json<ReconciliationSettings>,
) -> Result<Json<ReconciliationSettings>, ApiError> {
    Ok(Json(
        state.store().put_reconciliation_settings(m, &body).await?,
    ))
}
