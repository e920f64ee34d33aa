//! The REST Admin API routes of the simulated shop.
//!
//! Every request passes the same gate, in Shopify's order: injected failure, API version,
//! access token, leaky bucket. Successful responses carry
//! `X-Shopify-Shop-Api-Call-Limit` and `X-Shopify-API-Version`.

use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::page_info::PageInfo;
use super::rate_limit::Take;
use super::store::{Filters, Position, Sort, StatusFilter};
use super::ShopifySim;
use crate::{time, SimError};

/// Shopify's default page size.
const DEFAULT_LIMIT: usize = 50;
/// Parameters Shopify accepts together with `page_info`.
const PAGE_INFO_COMPANIONS: [&str; 3] = ["page_info", "limit", "fields"];

pub(crate) fn router(sim: ShopifySim) -> Router {
    Router::new()
        .route("/admin/api/{version}/orders.json", get(list_orders))
        .route("/admin/api/{version}/orders/{file}", get(order_or_count))
        .route(
            "/admin/api/{version}/variants/{file}",
            get(super::inventory::get_variant),
        )
        .route(
            "/admin/api/{version}/inventory_levels/set.json",
            post(super::inventory::set_level),
        )
        .route(
            "/admin/api/{version}/shopify_payments/payouts.json",
            get(super::payments::list_payouts),
        )
        .route(
            "/admin/api/{version}/shopify_payments/balance/transactions.json",
            get(super::payments::list_transactions),
        )
        .route(
            "/admin/api/{version}/orders/{order}/{file}",
            get(super::fulfillment::list_fulfillment_orders),
        )
        .route(
            "/admin/api/{version}/fulfillments.json",
            post(super::fulfillment::create_fulfillment),
        )
        .fallback(not_found)
        .with_state(sim)
}

pub(crate) type Params = Vec<(String, String)>;

/// The admission checks every API call goes through. Returns the call-limit header value.
pub(crate) fn gate(
    sim: &ShopifySim,
    version: &str,
    headers: &HeaderMap,
) -> Result<String, SimError> {
    let cfg = sim.config();
    let mut st = sim.state();
    st.requests += 1;
    if let Some(code) = st.failures.pop_front() {
        return Err(SimError::Injected(code));
    }
    if version != cfg.api_version {
        return Err(SimError::NotFound);
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(cfg.access_token.as_str()) {
        return Err(SimError::Unauthorized);
    }
    match st.bucket.as_mut().map(|b| b.take(Instant::now())) {
        None => Ok("1/40".into()),
        Some(Take::Allowed { used, size }) => Ok(format!("{used}/{size}")),
        Some(Take::Refused {
            retry_after_s,
            size,
        }) => Err(SimError::RateLimited {
            retry_after_s,
            call_limit: format!("{size}/{size}"),
        }),
    }
}

pub(crate) fn respond(
    sim: &ShopifySim,
    call_limit: &str,
    body: Value,
    link: Option<String>,
) -> Response {
    let mut r = Json(body).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(call_limit) {
        h.insert("X-Shopify-Shop-Api-Call-Limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(&sim.config().api_version) {
        h.insert("X-Shopify-API-Version", v);
    }
    if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert("Link", v);
    }
    r
}

pub(crate) fn bad(field: &str, message: impl Into<String>) -> SimError {
    SimError::BadRequest(json!({ field: [message.into()] }))
}

pub(crate) fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn time_param(params: &Params, key: &str) -> Result<Option<i64>, SimError> {
    param(params, key)
        .map(|v| time::parse(v).ok_or_else(|| bad(key, format!("is invalid: {v:?}"))))
        .transpose()
}

/// The filter parameters shared by `orders.json` and `count.json`.
fn filters(params: &Params) -> Result<Filters, SimError> {
    let status = match param(params, "status") {
        None => StatusFilter::Open,
        Some(s) => StatusFilter::parse(s).ok_or_else(|| {
            bad(
                "status",
                format!("{s:?} is not one of open, closed, cancelled, any"),
            )
        })?,
    };
    let since_id = param(params, "since_id")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| bad("since_id", "must be an integer"))
        })
        .transpose()?;
    Ok(Filters {
        status,
        created_min: time_param(params, "created_at_min")?,
        created_max: time_param(params, "created_at_max")?,
        updated_min: time_param(params, "updated_at_min")?,
        updated_max: time_param(params, "updated_at_max")?,
        since_id,
        financial_status: param(params, "financial_status").map(str::to_string),
    })
}

fn limit(params: &Params, max: usize) -> Result<usize, SimError> {
    match param(params, "limit") {
        None => Ok(DEFAULT_LIMIT.min(max)),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                "limit",
                format!("must be an integer from 1 to {max}, got {v:?}"),
            )),
        },
    }
}

/// `fields=id,name`: keep only those keys.
fn project(order: Value, fields: Option<&str>) -> Value {
    let (Some(fields), Value::Object(obj)) = (fields, &order) else {
        return order;
    };
    let keep: Vec<&str> = fields.split(',').map(str::trim).collect();
    let out: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(out)
}

async fn list_orders(
    State(sim): State<ShopifySim>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, SimError> {
    let call_limit = gate(&sim, &version, &headers)?;
    let limit = limit(&params, sim.config().max_limit)?;
    let (filters, sort, from) = match param(&params, "page_info") {
        Some(token) => {
            let extra: Vec<&str> = params
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !PAGE_INFO_COMPANIONS.contains(k))
                .collect();
            if !extra.is_empty() {
                return Err(bad(
                    "page_info",
                    format!(
                        "cannot be combined with other parameters (only limit and fields): {}",
                        extra.join(", ")
                    ),
                ));
            }
            let info = PageInfo::decode(token).ok_or_else(|| bad("page_info", "Invalid value."))?;
            (info.filters, info.sort, info.from)
        }
        None => {
            let sort = match param(&params, "order") {
                None => Sort::parse("created_at desc").expect("valid default order"),
                Some(o) => Sort::parse(o)
                    .ok_or_else(|| bad("order", format!("{o:?} is not a valid order")))?,
            };
            (filters(&params)?, sort, Position::First)
        }
    };
    let listed = sim.state().store.list(&filters, sort, from, limit);
    let fields = param(&params, "fields");
    // Like Shopify, links name the shop the client addressed (its Host header), not the
    // socket the simulator happens to listen on.
    let origin = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| sim.base_url());
    let url = |from: Position| {
        let token = PageInfo {
            filters: filters.clone(),
            sort,
            from,
        }
        .encode();
        let mut u =
            format!("{origin}/admin/api/{version}/orders.json?page_info={token}&limit={limit}");
        if let Some(f) = fields {
            u.push_str(&format!("&fields={f}"));
        }
        u
    };
    let links: Vec<String> = [
        listed
            .previous
            .map(|k| format!("<{}>; rel=\"previous\"", url(Position::Before(k)))),
        listed
            .next
            .map(|k| format!("<{}>; rel=\"next\"", url(Position::After(k)))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let orders: Vec<Value> = listed
        .orders
        .into_iter()
        .map(|o| project(o, fields))
        .collect();
    let link = (!links.is_empty()).then(|| links.join(", "));
    Ok(respond(
        &sim,
        &call_limit,
        json!({ "orders": orders }),
        link,
    ))
}

async fn order_or_count(
    State(sim): State<ShopifySim>,
    Path((version, file)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, SimError> {
    let call_limit = gate(&sim, &version, &headers)?;
    if file == "count.json" {
        let n = sim.state().store.count(&filters(&params)?);
        return Ok(respond(&sim, &call_limit, json!({ "count": n }), None));
    }
    let id = file
        .strip_suffix(".json")
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(SimError::NotFound)?;
    let order = sim
        .state()
        .store
        .get(id)
        .map(|o| o.json.clone())
        .ok_or(SimError::NotFound)?;
    let order = project(order, param(&params, "fields"));
    Ok(respond(&sim, &call_limit, json!({ "order": order }), None))
}

async fn not_found(State(sim): State<ShopifySim>) -> SimError {
    sim.state().requests += 1;
    SimError::NotFound
}
