//! `/v1/skus`, `/v1/stock`, `/v1/listings`, `/v1/sync-rules`, `/v1/inventory`: the
//! merchant's SKUs and stock (set, adjust with a reason, CSV import, audit trail),
//! listing mappings, sync rules, the stock-reduction mode per installation, and the
//! oversold / unmapped review queues.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use wharf_domain::inventory::{parse_stock_csv, CsvLineError, ReduceStockAt, RuleScope, SyncRule};
use wharf_store::inventory::{
    ImportReport, Listing, NewListing, NewSku, Sku, SkuDetail, StockChange, StockEvent,
    SyncRuleRecord, WarehouseStock,
};
use wharf_store::reservations::{QueuedOrder, OVERSOLD, UNMAPPED_SKU};

use super::auth::Merchant;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/skus", post(create_sku).get(list_skus))
        .route("/v1/skus/{code}", get(show_sku))
        .route("/v1/skus/{code}/events", get(sku_events))
        .route("/v1/skus/{code}/stock/{warehouse}", put(set_stock))
        .route(
            "/v1/skus/{code}/stock/{warehouse}/adjust",
            post(adjust_stock),
        )
        .route("/v1/stock/import", post(import_stock))
        .route("/v1/listings", post(create_listing).get(list_listings))
        .route("/v1/listings/{id}", delete(delete_listing))
        .route("/v1/sync-rules", put(put_rule).get(list_rules))
        .route("/v1/sync-rules/{id}", delete(delete_rule))
        .route(
            "/v1/installations/{id}/stock-settings",
            get(stock_settings).put(set_stock_settings),
        )
        .route("/v1/installations/{id}/push-stock", post(push_now))
        .route("/v1/inventory/oversold", get(oversold))
        .route("/v1/inventory/unmapped", get(unmapped))
}

/// Create a SKU.
#[utoipa::path(post, path = "/v1/skus", tag = "inventory", request_body = NewSku,
    responses((status = 201, body = Sku), (status = 400), (status = 409)), security(("bearer" = [])))]
pub async fn create_sku(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(new): Json<NewSku>,
) -> Result<(StatusCode, Json<Sku>), ApiError> {
    let sku = state.store().create_sku(m, &new).await?;
    Ok((StatusCode::CREATED, Json(sku)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Return SKUs whose code sorts after this one (keyset pagination).
    pub after: Option<String>,
    /// Page size (default 100, max 1000).
    pub limit: Option<i64>,
}

/// The merchant's SKUs with on-hand, reserved and available summed over warehouses.
#[utoipa::path(get, path = "/v1/skus", tag = "inventory", params(Paging),
    responses((status = 200, body = Vec<Sku>)), security(("bearer" = [])))]
pub async fn list_skus(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(p): Query<Paging>,
) -> Result<Json<Vec<Sku>>, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store()
            .list_skus(m, p.after.as_deref(), limit)
            .await?,
    ))
}

/// One SKU: stock per warehouse, and per channel listing its available-to-sell, the rule
/// in force, and the last pushed value and time.
#[utoipa::path(get, path = "/v1/skus/{code}", tag = "inventory", params(("code" = String, Path)),
    responses((status = 200, body = SkuDetail), (status = 404)), security(("bearer" = [])))]
pub async fn show_sku(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<SkuDetail>, ApiError> {
    state
        .store()
        .sku_detail(m, &code)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("sku {code:?} not found")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventPaging {
    /// Return events older than this event id.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// The SKU's stock audit trail, newest first: every set, adjustment, import,
/// reservation, release and consumption, with who, when, deltas and reason.
#[utoipa::path(get, path = "/v1/skus/{code}/events", tag = "inventory",
    params(("code" = String, Path), EventPaging),
    responses((status = 200, body = Vec<StockEvent>)), security(("bearer" = [])))]
pub async fn sku_events(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(p): Query<EventPaging>,
) -> Result<Json<Vec<StockEvent>>, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store()
            .stock_events(m, &code, p.before, limit)
            .await?,
    ))
}

/// A stock count: set on-hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStock {
    pub on_hand: i64,
    pub reason: String,
}

/// Set on-hand of a SKU in a warehouse (a count). Refused with 409 below what open
/// orders hold.
#[utoipa::path(put, path = "/v1/skus/{code}/stock/{warehouse}", tag = "inventory",
    params(("code" = String, Path), ("warehouse" = String, Path)), request_body = SetStock,
    responses((status = 200, body = WarehouseStock), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn set_stock(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path((code, warehouse)): Path<(String, String)>,
    Json(req): Json<SetStock>,
) -> Result<Json<WarehouseStock>, ApiError> {
    let level = state
        .store()
        .change_stock(
            m,
            &code,
            &warehouse,
            StockChange::Set(req.on_hand),
            "api",
            &req.reason,
        )
        .await?;
    Ok(Json(level))
}

/// An adjustment: add (or, negative, remove) units with a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    pub delta: i64,
    pub reason: String,
}

/// Adjust on-hand of a SKU in a warehouse by a delta (received goods, damage, …).
#[utoipa::path(post, path = "/v1/skus/{code}/stock/{warehouse}/adjust", tag = "inventory",
    params(("code" = String, Path), ("warehouse" = String, Path)), request_body = AdjustStock,
    responses((status = 200, body = WarehouseStock), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn adjust_stock(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path((code, warehouse)): Path<(String, String)>,
    Json(req): Json<AdjustStock>,
) -> Result<Json<WarehouseStock>, ApiError> {
    let level = state
        .store()
        .change_stock(
            m,
            &code,
            &warehouse,
            StockChange::Adjust(req.delta),
            "api",
            &req.reason,
        )
        .await?;
    Ok(Json(level))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Why the stock changes (e.g. "monthly count"); recorded on every event.
    pub reason: String,
}

/// Why an import was refused: every bad line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportRefused {
    pub error: String,
    pub lines: Vec<CsvLineError>,
}

/// Import stock from a CSV body (`sku,warehouse,on_hand[,title]`, header first). All or
/// nothing: any bad line refuses the file with every bad line listed (422).
#[utoipa::path(post, path = "/v1/stock/import", tag = "inventory", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = ImportRefused)),
    security(("bearer" = [])))]
pub async fn import_stock(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    if q.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("reason must not be empty".into()));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the CSV is not UTF-8".into()))?;
    let rows = match parse_stock_csv(text) {
        Ok(rows) => rows,
        Err(lines) => {
            let refused = ImportRefused {
                error: format!("{} bad line(s); nothing was imported", lines.len()),
                lines,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response());
        }
    };
    match state.store().import_stock(m, &rows, &q.reason).await {
        Ok(report) => Ok(Json(report).into_response()),
        Err(wharf_store::StoreError::InvalidInput(msg)) => {
            let refused = ImportRefused {
                error: format!("{msg}; nothing was imported"),
                lines: Vec::new(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Map a channel listing to a SKU; it is pushed at once.
#[utoipa::path(post, path = "/v1/listings", tag = "inventory", request_body = NewListing,
    responses((status = 201, body = Listing), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn create_listing(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(new): Json<NewListing>,
) -> Result<(StatusCode, Json<Listing>), ApiError> {
    let listing = state.store().create_listing(m, &new).await?;
    Ok((StatusCode::CREATED, Json(listing)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ByInstallation {
    pub installation_id: Option<i64>,
}

/// The merchant's listing mappings.
#[utoipa::path(get, path = "/v1/listings", tag = "inventory", params(ByInstallation),
    responses((status = 200, body = Vec<Listing>)), security(("bearer" = [])))]
pub async fn list_listings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<ByInstallation>,
) -> Result<Json<Vec<Listing>>, ApiError> {
    Ok(Json(
        state.store().list_listings(m, q.installation_id).await?,
    ))
}

/// Remove a listing mapping.
#[utoipa::path(delete, path = "/v1/listings/{id}", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_listing(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store().delete_listing(m, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A sync rule: how much of a SKU one channel may sell.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRule {
    pub installation_id: i64,
    /// `shop` (every SKU), `product` (a product code) or `sku` (a SKU code).
    pub scope: RuleScope,
    /// The product or SKU code; empty or absent for a shop rule.
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub safety_stock: i64,
    /// Share of free stock offered, in basis points (10000 = 100 %).
    pub ratio_bp: i64,
}

/// Create or replace a sync rule (the more specific rule wins: SKU > product > shop).
/// The installation's listings are re-pushed.
#[utoipa::path(put, path = "/v1/sync-rules", tag = "inventory", request_body = PutRule,
    responses((status = 200, body = SyncRuleRecord), (status = 400), (status = 404)),
    security(("bearer" = [])))]
pub async fn put_rule(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Json(req): Json<PutRule>,
) -> Result<Json<SyncRuleRecord>, ApiError> {
    let rule = SyncRule {
        safety_stock: req.safety_stock,
        ratio_bp: req.ratio_bp,
    };
    let rec = state
        .store()
        .put_sync_rule(m, req.installation_id, req.scope, &req.target, rule)
        .await?;
    Ok(Json(rec))
}

/// The merchant's sync rules.
#[utoipa::path(get, path = "/v1/sync-rules", tag = "inventory", params(ByInstallation),
    responses((status = 200, body = Vec<SyncRuleRecord>)), security(("bearer" = [])))]
pub async fn list_rules(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<ByInstallation>,
) -> Result<Json<Vec<SyncRuleRecord>>, ApiError> {
    Ok(Json(
        state.store().list_sync_rules(m, q.installation_id).await?,
    ))
}

/// Delete a sync rule.
#[utoipa::path(delete, path = "/v1/sync-rules/{id}", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_rule(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store().delete_sync_rule(m, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When the installation's channel takes stock for an order.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// `order` (placing the order holds stock) or `payment` (paying does; default).
    pub reduce_stock_at: ReduceStockAt,
}

/// The installation's stock-reduction mode.
#[utoipa::path(get, path = "/v1/installations/{id}/stock-settings", tag = "inventory",
    params(("id" = i64, Path)), responses((status = 200, body = StockSettings), (status = 404)),
    security(("bearer" = [])))]
pub async fn stock_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<StockSettings>, ApiError> {
    let reduce_stock_at = state.store().reduce_stock_at(m, id).await?;
    Ok(Json(StockSettings { reduce_stock_at }))
}

/// Set the installation's stock-reduction mode.
#[utoipa::path(put, path = "/v1/installations/{id}/stock-settings", tag = "inventory",
    params(("id" = i64, Path)), request_body = StockSettings,
    responses((status = 200, body = StockSettings), (status = 404)), security(("bearer" = [])))]
pub async fn set_stock_settings(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(req): Json<StockSettings>,
) -> Result<Json<StockSettings>, ApiError> {
    state
        .store()
        .set_reduce_stock_at(m, id, req.reduce_stock_at)
        .await?;
    Ok(Json(req))
}

/// Push the installation's waiting stock changes now.
#[utoipa::path(post, path = "/v1/installations/{id}/push-stock", tag = "inventory",
    params(("id" = i64, Path)), responses((status = 202), (status = 404)), security(("bearer" = [])))]
pub async fn push_now(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .store()
        .get_installation(m, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("installation {id} not found")))?;
    state.store().enqueue_push(m, id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    pub limit: Option<i64>,
}

/// Orders held because no warehouse had stock for a line (oversold), with their
/// reservations.
#[utoipa::path(get, path = "/v1/inventory/oversold", tag = "inventory", params(QueueQuery),
    responses((status = 200, body = Vec<QueuedOrder>)), security(("bearer" = [])))]
pub async fn oversold(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<QueuedOrder>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state.store().inventory_queue(m, OVERSOLD, limit).await?,
    ))
}

/// Orders with a line that maps to no SKU.
#[utoipa::path(get, path = "/v1/inventory/unmapped", tag = "inventory", params(QueueQuery),
    responses((status = 200, body = Vec<QueuedOrder>)), security(("bearer" = [])))]
pub async fn unmapped(
    Merchant(m): Merchant,
    State(state): State<AppState>,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<QueuedOrder>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store()
            .inventory_queue(m, UNMAPPED_SKU, limit)
            .await?,
    ))
}
