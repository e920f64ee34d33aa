//! The router: `POST /api/router` with parameters in a form or JSON body (and/or the
//! query string). Every call passes the same admission, in this order: injected failure,
//! required common parameters, `data_type`, `client_id`, `timestamp`, `sign`,
//! `access_token`, rate limit. Then `type` selects the API:
//! - `pdd.order.number.list.increment.get` → `order_sn_increment_get_response`;
//! - `pdd.order.information.get` → `order_info_get_response` (`order_info: null` for an
//!   unknown order number);
//! - `pdd.goods.quantity.update` (`goods_id`, `sku_id`, `quantity`, `update_type` 1 = full
//!   (default) or 2 = incremental) → `goods_quantity_update_response.is_success`; an
//!   unknown goods or SKU is error 60000 `isv.goods-not-exist`;
//! - `pdd.logistics.online.send` (in `shipping`) → `logistics_online_send_response`.
//!
//! PDD answers errors with HTTP 200 and an `error_response` body.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::error::PddError;
use super::shipping::{self, SEND_API};
use super::store::Query;
use super::{json, present, sign, Failure, PddSim, ROUTER_PATH};
use crate::time;

pub const LIST_API: &str = "pdd.order.number.list.increment.get";
pub const INFO_API: &str = "pdd.order.information.get";
pub const STOCK_API: &str = "pdd.goods.quantity.update";

pub(crate) fn router(sim: PddSim) -> Router {
    Router::new()
        .route(ROUTER_PATH, post(handle))
        .fallback(not_found)
        .with_state(sim)
}

type Params = Vec<(String, String)>;

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `a=1&b=2` → pairs.
fn parse_form(s: &str) -> Result<Params, PddError> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            match (percent_decode(k), percent_decode(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(PddError::InvalidParam(format!(
                    "malformed form field {kv:?}"
                ))),
            }
        })
        .collect()
}

/// A JSON object body → pairs (strings as is, numbers and booleans as written).
fn parse_json(body: &[u8]) -> Result<Params, PddError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| PddError::InvalidParam(format!("body is not JSON: {e}")))?;
    let Value::Object(map) = v else {
        return Err(PddError::InvalidParam("JSON body must be an object".into()));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            Value::Bool(b) => Ok((k, b.to_string())),
            _ => Err(PddError::InvalidParam(format!(
                "parameter {k} must be a string or number"
            ))),
        })
        .collect()
}

fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Params, PddError> {
    let mut all = parse_form(query.unwrap_or(""))?;
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json_body {
        all.extend(parse_json(body)?);
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| PddError::InvalidParam("body is not UTF-8".into()))?;
        all.extend(parse_form(text)?);
    }
    for (i, (k, _)) in all.iter().enumerate() {
        if all[..i].iter().any(|(x, _)| x == k) {
            return Err(PddError::InvalidParam(format!("parameter {k} given twice")));
        }
    }
    Ok(all)
}

fn get<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn require<'a>(p: &'a Params, key: &str) -> Result<&'a str, PddError> {
    get(p, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PddError::InvalidParam(format!("missing required parameter {key}")))
}

fn int(p: &Params, key: &str, default: Option<i64>) -> Result<i64, PddError> {
    match get(p, key) {
        None if default.is_some() => Ok(default.unwrap_or_default()),
        None => Err(PddError::InvalidParam(format!(
            "missing required parameter {key}"
        ))),
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| PddError::InvalidParam(format!("{key} must be an integer, got {v:?}"))),
    }
}

fn one_of(p: &Params, key: &str, allowed: &[i64], default: Option<i64>) -> Result<i64, PddError> {
    let v = int(p, key, default)?;
    if allowed.contains(&v) {
        Ok(v)
    } else {
        Err(PddError::InvalidParam(format!(
            "{key} must be one of {allowed:?}, got {v}"
        )))
    }
}

/// Admission checks shared by every API. Returns the API `type`.
fn admit(sim: &PddSim, p: &Params) -> Result<String, Failure> {
    let cfg = sim.config();
    let mut st = sim.state();
    if let Some(f) = st.failures.pop_front() {
        return Err(f);
    }
    let pdd = Failure::Pdd;
    let api = require(p, "type").map_err(pdd)?.to_string();
    for key in ["client_id", "timestamp", "sign"] {
        require(p, key).map_err(pdd)?;
    }
    if let Some(dt) = get(p, "data_type") {
        if !dt.eq_ignore_ascii_case("JSON") {
            return Err(pdd(PddError::InvalidParam(format!(
                "data_type {dt:?} is not supported here (JSON only)"
            ))));
        }
    }
    if get(p, "client_id") != Some(cfg.client_id.as_str()) {
        return Err(pdd(PddError::UnknownClient));
    }
    let ts = int(p, "timestamp", None).map_err(pdd)?;
    let now_s = time::now_ms().div_euclid(1000);
    if (ts - now_s).abs() > cfg.timestamp_tolerance_secs {
        return Err(pdd(PddError::InvalidParam(format!(
            "timestamp {ts} is more than {} s from the server time {now_s}",
            cfg.timestamp_tolerance_secs
        ))));
    }
    if get(p, "sign") != Some(sign(&cfg.client_secret, p).as_str()) {
        return Err(pdd(PddError::BadSign));
    }
    match get(p, "access_token") {
        None | Some("") => {
            return Err(pdd(PddError::InvalidToken(
                "access_token is missing".into(),
            )))
        }
        Some(t) if t != cfg.access_token => {
            return Err(pdd(PddError::InvalidToken(
                "access_token is not valid".into(),
            )))
        }
        Some(_) if st.token_revoked => {
            return Err(pdd(PddError::InvalidToken(
                "access_token has been revoked by the shop".into(),
            )))
        }
        Some(_) => {}
    }
    if let Some(limit) = cfg.rate_limit_per_second {
        let (sec, n) = st.rate;
        let count = if sec == now_s { n + 1 } else { 1 };
        st.rate = (now_s, count);
        if count > limit {
            return Err(pdd(PddError::RateLimited));
        }
    }
    st.calls.push(api.clone());
    Ok(api)
}

fn list(sim: &PddSim, p: &Params) -> Result<Value, PddError> {
    let cfg = sim.config();
    let start = int(p, "start_updated_at", None)?;
    let end = int(p, "end_updated_at", None)?;
    if end <= start {
        return Err(PddError::InvalidParam(format!(
            "end_updated_at {end} must be later than start_updated_at {start}"
        )));
    }
    if end - start > cfg.max_window_secs {
        return Err(PddError::InvalidParam(format!(
            "the window from start_updated_at to end_updated_at is {} s; at most {} s (30 minutes) is allowed",
            end - start,
            cfg.max_window_secs
        )));
    }
    one_of(p, "is_lucky_flag", &[0, 1, 2], Some(0))?;
    let order_status = one_of(p, "order_status", &[1, 2, 3, 5], None)?;
    let refund_status = one_of(p, "refund_status", &[1, 2, 3, 4, 5], None)?;
    let page = int(p, "page", Some(1))?;
    let page_size = int(p, "page_size", Some(100))?;
    if page < 1 {
        return Err(PddError::InvalidParam(format!(
            "page must be at least 1, got {page}"
        )));
    }
    if !(1..=i64::from(cfg.max_page_size)).contains(&page_size) {
        return Err(PddError::InvalidParam(format!(
            "page_size must be from 1 to {}, got {page_size}",
            cfg.max_page_size
        )));
    }
    let use_has_next = match get(p, "use_has_next") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(PddError::InvalidParam(format!(
                "use_has_next must be true or false, got {v:?}"
            )))
        }
    };
    let listed = sim.state().store.list(&Query {
        start,
        end,
        order_status,
        refund_status,
        page: u32::try_from(page).unwrap_or(u32::MAX),
        page_size: page_size as u32,
    });
    let orders: Vec<Value> = listed
        .orders
        .into_iter()
        .map(|o| present(o, sim.config().encrypt_awaiting_shipment))
        .collect();
    // With use_has_next PDD skips counting: the total is not reported.
    let total = if use_has_next { 0 } else { listed.total };
    Ok(json!({"order_sn_increment_get_response": {
        "total_count": total,
        "has_next": listed.has_next,
        "order_sn_list": orders,
    }}))
}

fn info(sim: &PddSim, p: &Params) -> Result<Value, PddError> {
    let sn = require(p, "order_sn")?;
    let order = sim.state().store.get(sn).map(|o| o.json.clone());
    Ok(json!({"order_info_get_response": {
        "order_info": order.map(|o| present(o, sim.config().encrypt_awaiting_shipment)),
    }}))
}

fn id(p: &Params, key: &str) -> Result<u64, PddError> {
    let v = require(p, key)?;
    v.parse::<u64>()
        .map_err(|_| PddError::InvalidParam(format!("{key} must be a positive integer, got {v:?}")))
}

fn quantity_update(sim: &PddSim, p: &Params) -> Result<Value, PddError> {
    let goods_id = id(p, "goods_id")?;
    let sku_id = id(p, "sku_id")?;
    let quantity = int(p, "quantity", None)?;
    let update_type = one_of(p, "update_type", &[1, 2], Some(1))? as u8;
    if update_type == 1 && quantity < 0 {
        return Err(PddError::InvalidParam(format!(
            "quantity must not be negative for a full update (update_type=1), got {quantity}"
        )));
    }
    sim.state()
        .goods
        .update(goods_id, sku_id, quantity, update_type, time::now_ms())?;
    Ok(json!({"goods_quantity_update_response": {"is_success": true}}))
}

fn logistics_send(sim: &PddSim, p: &Params) -> Result<Value, PddError> {
    let order_sn = require(p, "order_sn")?;
    let logistics_id = int(p, "logistics_id", None)?;
    let tracking_number = require(p, "tracking_number")?;
    shipping::send(sim, order_sn, logistics_id, tracking_number)
}

fn answer(sim: &PddSim, body: &Value) -> Response {
    let text = json::to_string(body, sim.config().amounts);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        text,
    )
        .into_response()
}

fn request_id(sim: &PddSim) -> String {
    let mut st = sim.state();
    let id = st.next_request_id;
    st.next_request_id += 1;
    format!("17120000{id:010}")
}

async fn handle(
    State(sim): State<PddSim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.state().requests += 1;
    let rid = request_id(&sim);
    let result = params(query.as_deref(), &headers, &body)
        .map_err(Failure::Pdd)
        .and_then(|p| admit(&sim, &p).map(|api| (api, p)));
    let outcome = match result {
        Err(Failure::Http(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, status.canonical_reason().unwrap_or("error")).into_response();
        }
        Err(Failure::Pdd(e)) => Err(e),
        Ok((api, p)) => match api.as_str() {
            LIST_API => list(&sim, &p),
            INFO_API => info(&sim, &p),
            STOCK_API => quantity_update(&sim, &p),
            SEND_API => logistics_send(&sim, &p),
            other => Err(PddError::InvalidParam(format!(
                "type {other:?} does not exist"
            ))),
        },
    };
    match outcome {
        Ok(mut body) => {
            if let Some(inner) = body.as_object_mut().and_then(|o| o.values_mut().next()) {
                inner["request_id"] = Value::String(rid);
            }
            answer(&sim, &body)
        }
        Err(e) => answer(&sim, &e.body(&rid)),
    }
}

async fn not_found(State(sim): State<PddSim>) -> Response {
    sim.state().requests += 1;
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}
