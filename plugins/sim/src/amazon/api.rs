//! The HTTP surface of the simulated SP-API and its LWA token endpoint.
//!
//! - `POST /auth/o2/token`: form `grant_type=refresh_token`, `refresh_token`,
//!   `client_id`, `client_secret` → `{"access_token", "token_type": "bearer",
//!   "expires_in"}`; a wrong client → 401 `invalid_client`, a wrong refresh token → 400
//!   `invalid_grant`, anything else malformed → 400 `invalid_request`.
//! - every SP-API call passes the gate in this order: injected fault, the
//!   `x-amz-access-token` header (missing, unknown or expired → 403 `Unauthorized`), the
//!   operation's token bucket (empty → 429 `QuotaExceeded`). Every answer carries
//!   `x-amzn-RequestId` and the operation's `x-amzn-RateLimit-Limit`.
//! - `GET /orders/v0/orders` (`getOrders`), `GET /orders/v0/orders/{id}` (`getOrder`),
//!   `GET /orders/v0/orders/{id}/orderItems` (`getOrderItems`),
//!   `PATCH /listings/2021-08-01/items/{sellerId}/{sku}` (`patchListingsItem`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::config::Limit;
use super::shipping;
use super::store::Bucket;
use super::{format_time, AmazonSim, Call, Fault, PageToken};
use crate::taobao::top::decode_form;

pub(crate) const GET_ORDERS: &str = "getOrders";
pub(crate) const GET_ORDER: &str = "getOrder";
pub(crate) const GET_ORDER_ITEMS: &str = "getOrderItems";
pub(crate) const PATCH_LISTINGS_ITEM: &str = "patchListingsItem";

pub(crate) fn router(sim: AmazonSim) -> Router {
    Router::new()
        .route("/auth/o2/token", post(token))
        .route("/orders/v0/orders", get(get_orders))
        .route("/orders/v0/orders/{id}", get(get_order))
        .route("/orders/v0/orders/{id}/orderItems", get(get_order_items))
        .route(
            "/orders/v0/orders/{id}/shipmentConfirmation",
            post(shipping::shipment_confirmation),
        )
        .route(
            "/listings/2021-08-01/items/{seller}/{sku}",
            patch(patch_listings_item),
        )
        .with_state(sim)
}

/// An SP-API error answer: status + `{"errors": [{"code", "message", "details"}]}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidInput", message)
    }
    fn unauthorized() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
        )
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }
    fn quota() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
        )
    }
    fn server(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            Self::new(
                status,
                "ServiceUnavailable",
                "Service is temporarily unavailable.",
            )
        } else {
            Self::new(
                status,
                "InternalFailure",
                "We encountered an internal error. Please try again.",
            )
        }
    }
    fn body(&self) -> Value {
        json!({"errors": [{"code": self.code, "message": self.message, "details": ""}]})
    }
}

fn with_headers(mut r: Response, limit: Limit, request_id: &str) -> Response {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("{}", limit.rate)) {
        h.insert("x-amzn-RateLimit-Limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    r
}

fn limit_of(sim: &AmazonSim, operation: &str) -> Limit {
    let l = &sim.config().limits;
    match operation {
        GET_ORDERS => l.get_orders,
        GET_ORDER => l.get_order,
        GET_ORDER_ITEMS => l.get_order_items,
        _ => l.patch_listings_item,
    }
}

/// Run the gate, then `handler`; render either way with Amazon's headers.
pub(crate) fn serve(
    sim: &AmazonSim,
    operation: &'static str,
    path: String,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    handler: impl FnOnce(&AmazonSim) -> Result<Value, ApiError>,
) -> Response {
    let limit = limit_of(sim, operation);
    let now = sim.now_ms();
    let request_id = {
        let mut st = sim.state();
        st.requests += 1;
        format!("sim-{:08x}-0000-4000-8000-{:012x}", st.requests, now)
    };
    let result = gate(sim, operation, path, query, headers, limit, now).and_then(|()| handler(sim));
    let r = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => (e.status, Json(e.body())).into_response(),
    };
    with_headers(r, limit, &request_id)
}

fn gate(
    sim: &AmazonSim,
    operation: &'static str,
    path: String,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    limit: Limit,
    now: i64,
) -> Result<(), ApiError> {
    let mut st = sim.state();
    match st.faults.pop_front() {
        Some(Fault::Server(code)) => return Err(ApiError::server(code)),
        Some(Fault::QuotaExceeded) => return Err(ApiError::quota()),
        Some(Fault::Unauthorized) => return Err(ApiError::unauthorized()),
        None => {}
    }
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match st.access_tokens.get(token) {
        Some(&expiry) if expiry > now => {}
        _ => return Err(ApiError::unauthorized()),
    }
    let bucket = st
        .buckets
        .entry(operation)
        .or_insert_with(|| Bucket::full(limit, now));
    if !bucket.take(limit, now) {
        return Err(ApiError::quota());
    }
    st.calls.push(Call {
        operation,
        path,
        query: query.clone(),
    });
    Ok(())
}

pub(crate) fn query_map(raw: Option<&str>) -> BTreeMap<String, String> {
    decode_form(raw.unwrap_or("")).into_iter().collect()
}

/// `POST /auth/o2/token`: Login with Amazon's refresh-token grant.
async fn token(State(sim): State<AmazonSim>, body: Bytes) -> Response {
    let form: BTreeMap<String, String> = decode_form(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let cfg = sim.config();
    let now = sim.now_ms();
    let err = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    let mut st = sim.state();
    st.token_requests += 1;
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("grant_type") != "refresh_token" {
        return err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    if field("client_id").is_empty() || field("refresh_token").is_empty() {
        return err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : client_id or refresh_token",
        );
    }
    if field("client_id") != cfg.client_id || field("client_secret") != cfg.client_secret {
        return err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if field("refresh_token") != cfg.refresh_token {
        return err(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    st.minted += 1;
    let access = format!("Atza|IwEBIsim{:08}{:x}", st.minted, now);
    st.access_tokens
        .insert(access.clone(), now + cfg.access_token_ttl_s * 1000);
    Json(json!({
        "access_token": access,
        "refresh_token": cfg.refresh_token,
        "token_type": "bearer",
        "expires_in": cfg.access_token_ttl_s,
    }))
    .into_response()
}

fn time_param(q: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => crate::time::parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("{key} is not a valid ISO 8601 date: {v}"))),
    }
}

/// `GET /orders/v0/orders`.
async fn get_orders(
    State(sim): State<AmazonSim>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = query_map(raw.as_deref());
    serve(
        &sim,
        GET_ORDERS,
        "/orders/v0/orders".into(),
        &q,
        &headers,
        |sim| list_orders(sim, &q),
    )
}

fn list_orders(sim: &AmazonSim, q: &BTreeMap<String, String>) -> Result<Value, ApiError> {
    let cfg = sim.config();
    let now = sim.now_ms();
    let markets: Vec<String> = q
        .get("MarketplaceIds")
        .map(|m| {
            m.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if markets.is_empty() {
        return Err(ApiError::invalid("MarketplaceIds is required."));
    }
    if let Some(m) = markets.iter().find(|m| !cfg.marketplace_ids.contains(m)) {
        return Err(ApiError::invalid(format!("Invalid MarketplaceId: {m}")));
    }
    let mut filter = q.clone();
    let next = filter.remove("NextToken");
    let (window, from, size) = match next {
        Some(token) => {
            let mut st = sim.state();
            let Some(t) = st.next_tokens.get(&token).cloned() else {
                return Err(ApiError::invalid("Invalid NextToken."));
            };
            if now - t.issued_ms > cfg.next_token_ttl_ms {
                st.next_tokens.remove(&token);
                return Err(ApiError::invalid("The NextToken has expired."));
            }
            if t.filter != filter {
                return Err(ApiError::invalid(
                    "The NextToken does not match the request parameters.",
                ));
            }
            (t.window, Some(t.after), t.size)
        }
        None => {
            if q.contains_key("CreatedAfter") || q.contains_key("CreatedBefore") {
                return Err(ApiError::invalid(
                    "CreatedAfter/CreatedBefore are not supported by this simulator; use LastUpdatedAfter.",
                ));
            }
            let after = time_param(q, "LastUpdatedAfter")?.ok_or_else(|| {
                ApiError::invalid("One of CreatedAfter or LastUpdatedAfter is required.")
            })?;
            let latest = now - cfg.min_lag_ms;
            let before = match time_param(q, "LastUpdatedBefore")? {
                Some(b) if b > latest => {
                    return Err(ApiError::invalid(
                        "LastUpdatedBefore must be no later than two minutes before the time the request was submitted.",
                    ))
                }
                Some(b) => b,
                None => latest,
            };
            if after > before {
                return Err(ApiError::invalid(
                    "LastUpdatedAfter must be before LastUpdatedBefore.",
                ));
            }
            let size = match q.get("MaxResultsPerPage") {
                None => cfg.max_results_per_page as usize,
                Some(v) => match v.parse::<u32>() {
                    Ok(n) if (1..=cfg.max_results_per_page).contains(&n) => n as usize,
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "MaxResultsPerPage must be from 1 to {}.",
                            cfg.max_results_per_page
                        )))
                    }
                },
            };
            ((after, before), None, size)
        }
    };
    let mut st = sim.state();
    let listed = st.store.list(&markets, window, from.as_ref(), size);
    let mut payload = json!({
        "Orders": listed.orders,
        "LastUpdatedBefore": format_time(window.1),
    });
    if let Some(after) = listed.more_after {
        st.minted += 1;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("sim-next:{:012}:{now}", st.minted));
        st.next_tokens.insert(
            token.clone(),
            PageToken {
                filter,
                window,
                size,
                after,
                issued_ms: now,
            },
        );
        payload["NextToken"] = json!(token);
    }
    Ok(json!({ "payload": payload }))
}

pub(crate) fn check_order_id(id: &str) -> Result<(), ApiError> {
    let ok = id.len() == 19
        && id.bytes().enumerate().all(|(i, b)| match i {
            3 | 11 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("Invalid orderId: {id}")))
    }
}

/// `GET /orders/v0/orders/{id}`.
async fn get_order(
    State(sim): State<AmazonSim>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = query_map(raw.as_deref());
    serve(
        &sim,
        GET_ORDER,
        format!("/orders/v0/orders/{id}"),
        &q,
        &headers,
        |sim| {
            check_order_id(&id)?;
            let order = sim
                .order(&id)
                .ok_or_else(|| ApiError::not_found(format!("Order {id} not found.")))?;
            Ok(json!({ "payload": order }))
        },
    )
}

/// `GET /orders/v0/orders/{id}/orderItems`, paged by `NextToken` past
/// `items_page_size` items.
async fn get_order_items(
    State(sim): State<AmazonSim>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = query_map(raw.as_deref());
    let path = format!("/orders/v0/orders/{id}/orderItems");
    serve(&sim, GET_ORDER_ITEMS, path, &q, &headers, |sim| {
        check_order_id(&id)?;
        let items = sim
            .items(&id)
            .ok_or_else(|| ApiError::not_found(format!("Order {id} not found.")))?;
        let size = sim.config().items_page_size.max(1);
        let b64 = base64::engine::general_purpose::STANDARD;
        let from = match q.get("NextToken") {
            None => 0,
            Some(t) => b64
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    let (oid, off) = s.strip_prefix("items:")?.rsplit_once(':')?;
                    (oid == id).then(|| off.parse::<usize>().ok())?
                })
                .ok_or_else(|| ApiError::invalid("Invalid NextToken."))?,
        };
        let page: Vec<Value> = items.iter().skip(from).take(size).cloned().collect();
        let mut payload = json!({"AmazonOrderId": id, "OrderItems": page});
        if from + size < items.len() {
            payload["NextToken"] = json!(b64.encode(format!("items:{id}:{}", from + size)));
        }
        Ok(json!({ "payload": payload }))
    })
}

/// `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=…`: only the
/// `/attributes/fulfillment_availability` quantity is understood; the quantity is stored
/// per marketplace and SKU.
async fn patch_listings_item(
    State(sim): State<AmazonSim>,
    Path((seller, sku)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = query_map(raw.as_deref());
    let path = format!("/listings/2021-08-01/items/{seller}/{sku}");
    serve(&sim, PATCH_LISTINGS_ITEM, path, &q, &headers, |sim| {
        let cfg = sim.config();
        if seller != cfg.seller_id {
            return Err(ApiError::unauthorized());
        }
        let markets: Vec<String> = q
            .get("marketplaceIds")
            .map(|m| {
                m.split(',')
                    .map(str::to_string)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if markets.is_empty() {
            return Err(ApiError::invalid("marketplaceIds is required."));
        }
        if let Some(m) = markets.iter().find(|m| !cfg.marketplace_ids.contains(m)) {
            return Err(ApiError::invalid(format!("Invalid marketplaceId: {m}")));
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
        if doc["productType"].as_str().is_none_or(str::is_empty) {
            return Err(ApiError::invalid("productType is required."));
        }
        let patches = doc["patches"]
            .as_array()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid("patches is required."))?;
        if !sim.state().listed_skus.contains(&sku) {
            return Err(ApiError::not_found(format!("SKU {sku} not found.")));
        }
        let mut quantity = None;
        let mut issues = Vec::new();
        for p in patches {
            if !matches!(
                p["op"].as_str(),
                Some("add" | "replace" | "delete" | "merge")
            ) {
                return Err(ApiError::invalid(format!("Invalid patch op: {}", p["op"])));
            }
            if p["path"] != "/attributes/fulfillment_availability" {
                return Err(ApiError::invalid(format!(
                    "The simulator only understands /attributes/fulfillment_availability, not {}",
                    p["path"]
                )));
            }
            for v in p["value"].as_array().into_iter().flatten() {
                match v["quantity"].as_i64() {
                    Some(n) if n >= 0 && v["fulfillment_channel_code"] == "DEFAULT" => {
                        quantity = Some(n)
                    }
                    _ => issues.push(json!({
                        "code": "90220",
                        "message": "'quantity' must be a whole number of 0 or more for fulfillment_channel_code DEFAULT.",
                        "severity": "ERROR",
                        "attributeNames": ["fulfillment_availability"],
                    })),
                }
            }
        }
        let mut st = sim.state();
        st.minted += 1;
        let submission = format!("{:032x}", st.minted);
        if !issues.is_empty() || quantity.is_none() {
            if issues.is_empty() {
                issues.push(json!({"code": "90220", "message": "fulfillment_availability has no quantity.",
                                   "severity": "ERROR", "attributeNames": ["fulfillment_availability"]}));
            }
            return Ok(
                json!({"sku": sku, "status": "INVALID", "submissionId": submission, "issues": issues}),
            );
        }
        for m in markets {
            st.quantities
                .insert((m, sku.clone()), quantity.unwrap_or(0));
        }
        Ok(json!({"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}))
    })
}
