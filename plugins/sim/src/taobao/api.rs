//! The `/router/rest` gateway of the simulated TOP.
//!
//! Every request (GET query or POST form, or both merged) passes the gate in TOP's order:
//! injected fault, `method`, `app_key`, `timestamp` (GMT+8, within the allowed skew),
//! `v=2.0`, `format=json`, `sign_method=md5`, `sign` (recomputed over every parameter but
//! `sign`), `session`. Errors are HTTP 200 with `{"error_response": …}`, as TOP answers.
//!
//! Methods: `taobao.trades.sold.increment.get`, `taobao.trade.fullinfo.get` and
//! `taobao.item.quantity.update` (`num_iid`, optional `sku_id` / `outer_id`, `quantity`,
//! `type` 1 = full (default) or 2 = incremental; an unknown item is code 15
//! `isv.item-not-exist`, an unknown SKU code 15
//! `isv.item-is-delete:invalid-numIid-or-skuId`), and `taobao.logistics.offline.send`
//! (in `shipping`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::shipping::{offline_send, OFFLINE_SEND};
use super::store::Listed;
use super::top::{self, TopError};
use super::{Call, Fault, TaobaoSim};
use crate::time;

pub(crate) const INCREMENT_GET: &str = "taobao.trades.sold.increment.get";
pub(crate) const FULLINFO_GET: &str = "taobao.trade.fullinfo.get";
pub(crate) const QUANTITY_UPDATE: &str = "taobao.item.quantity.update";
/// TOP's default `page_size` for the increment listing.
const DEFAULT_PAGE_SIZE: u32 = 40;

pub(crate) fn router(sim: TaobaoSim) -> Router {
    Router::new()
        .route("/router/rest", get(rest).post(rest))
        .with_state(sim)
}

pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn required<'a>(params: &'a Params, key: &str) -> Result<&'a str, TopError> {
    param(params, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TopError::missing(key))
}

async fn rest(
    State(sim): State<TaobaoSim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = top::decode_form(query.as_deref().unwrap_or(""));
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(top::decode_form(&String::from_utf8_lossy(&body)));
    }
    let request_id = {
        let mut st = sim.state();
        st.requests += 1;
        format!("sim{:08x}", st.requests)
    };
    let result = match gate(&sim, &params) {
        Ok(Some(Fault::Http(code))) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, status.canonical_reason().unwrap_or("error")).into_response();
        }
        Ok(Some(Fault::Top(e))) => Err(e),
        Ok(None) => dispatch(&sim, &params, &request_id),
        Err(e) => Err(e),
    };
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(&request_id),
    }
}

/// The admission checks. `Ok(Some(fault))` is an injected failure to answer with.
fn gate(sim: &TaobaoSim, params: &Params) -> Result<Option<Fault>, TopError> {
    if let Some(fault) = sim.state().faults.pop_front() {
        return Ok(Some(fault));
    }
    let cfg = sim.config();
    let method = param(params, "method")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| TopError::new(21, "Missing method"))?;
    let bill_methods = [super::bills::BILLS_GET, super::bills::ACCOUNTS_GET];
    if ![INCREMENT_GET, FULLINFO_GET, QUANTITY_UPDATE, OFFLINE_SEND].contains(&method)
        && !bill_methods.contains(&method)
    {
        return Err(TopError::new(22, "Invalid method"));
    }
    match param(params, "app_key") {
        None | Some("") => return Err(TopError::new(28, "Missing app key")),
        Some(k) if k != cfg.app_key => return Err(TopError::new(29, "Invalid app key")),
        Some(_) => {}
    }
    let ts = param(params, "timestamp")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TopError::new(30, "Missing timestamp"))?;
    match top::parse_time(ts) {
        Some(ms) if (ms - time::now_ms()).abs() <= cfg.max_clock_skew_ms => {}
        _ => return Err(TopError::new(31, "Invalid timestamp")),
    }
    match param(params, "v") {
        None | Some("") => return Err(TopError::new(32, "Missing version")),
        Some("2.0") => {}
        Some(_) => return Err(TopError::new(34, "Unsupported version")),
    }
    if !matches!(param(params, "format"), None | Some("json")) {
        return Err(TopError::new(23, "Invalid format"));
    }
    if !matches!(param(params, "sign_method"), None | Some("md5")) {
        return Err(TopError::invalid("sign_method"));
    }
    let sign = param(params, "sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TopError::new(24, "Missing signature"))?;
    if !sign.eq_ignore_ascii_case(&top::sign(&cfg.app_secret, params)) {
        return Err(TopError::invalid_signature());
    }
    match param(params, "session") {
        None | Some("") => return Err(TopError::new(26, "Missing session")),
        Some(s) if s != cfg.session => return Err(TopError::invalid_session()),
        Some(_) => {}
    }
    sim.state().calls.push(Call {
        method: method.to_string(),
        params: params.iter().cloned().collect(),
    });
    Ok(None)
}

fn dispatch(sim: &TaobaoSim, params: &Params, request_id: &str) -> Result<Value, TopError> {
    match required(params, "method")? {
        INCREMENT_GET => increment_get(sim, params, request_id),
        FULLINFO_GET => fullinfo_get(sim, params, request_id),
        QUANTITY_UPDATE => quantity_update(sim, params, request_id),
        OFFLINE_SEND => offline_send(sim, params, request_id),
        super::bills::BILLS_GET => super::bills::bills_get(sim, params, request_id),
        super::bills::ACCOUNTS_GET => super::bills::accounts_get(params, request_id),
        _ => Err(TopError::new(22, "Invalid method")),
    }
}

/// Keep the top-level keys named in `fields` (`orders.oid` keeps the whole `orders`).
fn project(trade: Value, fields: &str) -> Value {
    let Value::Object(obj) = trade else {
        return trade;
    };
    let wanted: Vec<&str> = fields
        .split(',')
        .map(|f| f.trim().split('.').next().unwrap_or(""))
        .collect();
    let out: Map<String, Value> = obj
        .into_iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .collect();
    Value::Object(out)
}

fn time_param(params: &Params, key: &str) -> Result<i64, TopError> {
    top::parse_time(required(params, key)?).ok_or_else(|| TopError::invalid(key))
}

fn int_param(params: &Params, key: &str, default: u32) -> Result<u32, TopError> {
    match param(params, key) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<u32>().map_err(|_| TopError::invalid(key)),
    }
}

fn increment_get(sim: &TaobaoSim, params: &Params, request_id: &str) -> Result<Value, TopError> {
    let cfg = sim.config();
    let fields = required(params, "fields")?;
    let start = time_param(params, "start_modified")?;
    let end = time_param(params, "end_modified")?;
    if end <= start {
        return Err(TopError::invalid_parameter(
            "end_modified must be later than start_modified",
        ));
    }
    if end - start > cfg.max_window_ms {
        return Err(TopError::invalid_parameter(
            "the span of start_modified and end_modified must not exceed one day",
        ));
    }
    let page_no = int_param(params, "page_no", 1)?;
    let page_size = int_param(params, "page_size", DEFAULT_PAGE_SIZE)?;
    if page_no == 0 {
        return Err(TopError::invalid_parameter("page_no must be at least 1"));
    }
    if page_size == 0 || page_size > cfg.max_page_size {
        return Err(TopError::invalid_parameter(format!(
            "page_size must be from 1 to {}",
            cfg.max_page_size
        )));
    }
    let use_has_next = match param(params, "use_has_next") {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(TopError::invalid("use_has_next")),
    };
    let Listed {
        trades,
        total,
        has_next,
    } = sim
        .state()
        .store
        .list(start, end, page_no as usize, page_size as usize);
    let mut body = json!({"has_next": has_next, "request_id": request_id});
    // With use_has_next=true TOP skips the count and leaves total_results out.
    if !use_has_next {
        body["total_results"] = json!(total);
    }
    if !trades.is_empty() {
        let trades: Vec<Value> = trades.into_iter().map(|t| project(t, fields)).collect();
        body["trades"] = json!({ "trade": trades });
    }
    Ok(json!({ "trades_sold_increment_get_response": body }))
}

fn fullinfo_get(sim: &TaobaoSim, params: &Params, request_id: &str) -> Result<Value, TopError> {
    let fields = required(params, "fields")?;
    let tid = required(params, "tid")?
        .parse::<u64>()
        .map_err(|_| TopError::invalid("tid"))?;
    let trade = sim.trade(tid).ok_or_else(|| {
        TopError::new(15, "Remote service error").sub("isv.trade-not-exist", "交易不存在")
    })?;
    Ok(json!({"trade_fullinfo_get_response": {
        "trade": project(trade, fields),
        "request_id": request_id,
    }}))
}

fn quantity_update(sim: &TaobaoSim, params: &Params, request_id: &str) -> Result<Value, TopError> {
    let num_iid = required(params, "num_iid")?
        .parse::<u64>()
        .map_err(|_| TopError::invalid("num_iid"))?;
    let sku_id = match param(params, "sku_id") {
        None | Some("") => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| TopError::invalid("sku_id"))?),
    };
    let outer_id = param(params, "outer_id").filter(|s| !s.is_empty());
    let quantity = required(params, "quantity")?
        .parse::<i64>()
        .map_err(|_| TopError::invalid("quantity"))?;
    let update_type = match param(params, "type") {
        None | Some("") | Some("1") => 1,
        Some("2") => 2,
        Some(_) => return Err(TopError::invalid("type")),
    };
    if update_type == 1 && quantity < 0 {
        return Err(TopError::invalid_parameter(
            "quantity must not be negative for a full update (type=1)",
        ));
    }
    let item = sim.state().items.update(
        num_iid,
        sku_id,
        outer_id,
        quantity,
        update_type,
        time::now_ms(),
    )?;
    Ok(json!({"item_quantity_update_response": {
        "item": item,
        "request_id": request_id,
    }}))
}
