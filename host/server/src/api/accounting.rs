//! `/v1/accounting/settings` and `/v1/journals`: the merchant's accounting connector and
//! account mapping, and the period journals posted to it (queued with a durable
//! `post_journal` job each; a period is posted at most once).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wharf_store::journals::{AccountingSettings, JournalRecord, Queued};

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/accounting/settings",
            get(show_settings).put(put_settings),
        )
        .route("/v1/journals", post(create).get(list))
        .route("/v1/journals/{id}", get(show))
}

/// The merchant's accounting connector and account mapping.
#[utoipa::path(get, path = "/v1/accounting/settings", tag = "accounting",
    responses((status = 200, body = AccountingSettings), (status = 404, description = "not set yet")),
    security(("bearer" = [])))]
pub async fn show_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
) -> Result<Json<AccountingSettings>, ApiError> {
    state
        .store()
        .accounting_settings(m)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("accounting settings are not set".into()))
}

/// Set the accounting connector (an installation of an accounting plugin), the account
/// numbers channel money is posted to, and whether each day is posted automatically
/// after the daily settlement import.
#[utoipa::path(put, path = "/v1/accounting/settings", tag = "accounting",
    request_body = AccountingSettings,
    responses((status = 200, body = AccountingSettings), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn put_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    body: Result<Json<AccountingSettings>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AccountingSettings>, ApiError> {
    let Json(settings) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    Ok(Json(
        state.store().put_accounting_settings(m, &settings).await?,
    ))
}

/// Which period to post.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JournalRequest {
    /// A local day `YYYY-MM-DD` or month `YYYY-MM` that has ended.
    pub period: String,
    /// One channel installation; all of the merchant's when absent.
    #[serde(default)]
    pub installation_id: Option<i64>,
}

/// The journals of a period (one per currency).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Journals {
    pub journals: Vec<JournalRecord>,
}

/// Build the period's journals from its settled money (one per currency: clearing,
/// fees, refunds, revenue, other income), check them balanced and queue one durable
/// `post_journal` job each. 409 with the existing journals when the period (for that
/// installation, or for all) was already queued or posted; 422 when the settled data
/// does not balance.
#[utoipa::path(post, path = "/v1/journals", tag = "accounting", request_body = JournalRequest,
    responses((status = 201, body = Journals),
              (status = 400), (status = 404),
              (status = 409, description = "already queued or posted: `journals` holds them", body = Journals),
              (status = 422, description = "the settled data does not balance")),
    security(("bearer" = [])))]
pub async fn create(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    body: Result<Json<JournalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    match crate::journals::queue_period(&state, m, &req.period, req.installation_id).await? {
        Queued::Created(journals) => {
            Ok((StatusCode::CREATED, Json(Journals { journals })).into_response())
        }
        Queued::Exists(journals) => {
            let states: Vec<&str> = journals.iter().map(|j| j.state.as_str()).collect();
            let body = serde_json::json!({
                "error": {
                    "code": "conflict",
                    "message": format!("period {} already has journals ({}): nothing queued", req.period, states.join(", ")),
                },
                "journals": journals,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    /// Journals with an id below this (the previous page's last id).
    pub before: Option<i64>,
    /// At most this many (default 100, max 1000).
    pub limit: Option<i64>,
}

/// The merchant's journals, newest first.
#[utoipa::path(get, path = "/v1/journals", tag = "accounting", params(JournalQuery),
    responses((status = 200, body = Vec<JournalRecord>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    query: Result<Query<JournalQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<JournalRecord>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("limit: must be from 1 to 1000".into()));
    }
    Ok(Json(state.store().list_journals(m, q.before, limit).await?))
}

/// One journal: its entries, state, attempts, last error and voucher.
#[utoipa::path(get, path = "/v1/journals/{id}", tag = "accounting", params(("id" = i64, Path)),
    responses((status = 200, body = JournalRecord), (status = 404)), security(("bearer" = [])))]
pub async fn show(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<JournalRecord>, ApiError> {
    state
        .store()
        .journal(m, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("journal {id} not found")))
}
