//! The gateway of the simulated doudian open platform: `/{method with '.' → '/'}`.
//!
//! Every request (POST with `param_json` in the query and/or as the JSON body; GET with
//! it in the query) passes the gate in this order: injected fault, `app_key`, `method`
//! (known, and matching the path), `v=2`, `sign_method` (`hmac-sha256` or `md5`, the
//! default), `timestamp` (Unix seconds or GMT+8 `yyyy-MM-dd HH:mm:ss`, within the allowed
//! skew), `param_json` (a JSON object; query and body must agree), `sign` (recomputed
//! over `param_json` in canonical form: keys sorted, no spaces — a `param_json` sent in
//! another form fails the check, as on doudian), `access_token`. Errors are HTTP 200
//! with doudian's error envelope.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::protocol::{self, DoudianError};
use super::shipping::{logistics_add, LOGISTICS_ADD};
use super::store::{Listed, OrderBy};
use super::{Call, DouyinSim, Fault};
use crate::taobao::top::decode_form;
use crate::time;

pub(crate) const SEARCH_LIST: &str = "order.searchList";
pub(crate) const ORDER_DETAIL: &str = "order.orderDetail";
pub(crate) const SYNC_STOCK: &str = "sku.syncStock";
const METHODS: [&str; 5] = [
    SEARCH_LIST,
    ORDER_DETAIL,
    SYNC_STOCK,
    LOGISTICS_ADD,
    super::settle::SETTLE_BILL_DETAIL,
];
/// doudian's default `size` of `order.searchList`.
const DEFAULT_PAGE_SIZE: i64 = 10;

pub(crate) fn router(sim: DouyinSim) -> Router {
    Router::new().fallback(gateway).with_state(sim)
}

type Query = Vec<(String, String)>;

fn param<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

async fn gateway(
    State(sim): State<DouyinSim>,
    uri: Uri,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = decode_form(query.as_deref().unwrap_or(""));
    let log_id = {
        let mut st = sim.state();
        st.requests += 1;
        format!("2024{:016X}", st.requests)
    };
    let admitted = match gate(&sim, uri.path(), &query, &body) {
        Ok(Err(Fault::Http(code))) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, status.canonical_reason().unwrap_or("error")).into_response();
        }
        Ok(Err(Fault::Doudian(e))) => Err(e),
        Ok(Ok(call)) => Ok(call),
        Err(e) => Err(e),
    };
    let result = admitted.and_then(|call| dispatch(&sim, &call));
    match result {
        Ok(data) => Json(protocol::success(data, &log_id)).into_response(),
        Err(e) => e.into_response(&log_id),
    }
}

/// The admission checks. `Ok(Err(fault))` is an injected failure to answer with.
fn gate(
    sim: &DouyinSim,
    path: &str,
    query: &Query,
    body: &[u8],
) -> Result<Result<Call, Fault>, DoudianError> {
    if let Some(fault) = sim.state().faults.pop_front() {
        return Ok(Err(fault));
    }
    let cfg = sim.config();
    let app_key = param(query, "app_key").ok_or_else(|| DoudianError::missing("app_key"))?;
    if app_key != cfg.app_key {
        return Err(DoudianError::app_key_invalid());
    }
    let method = param(query, "method").ok_or_else(|| DoudianError::missing("method"))?;
    if !METHODS.contains(&method) {
        return Err(DoudianError::invalid(format!("不支持的method: {method}")));
    }
    if path != format!("/{}", method.replace('.', "/")) {
        return Err(DoudianError::invalid(format!(
            "请求路径{path}与method {method}不一致"
        )));
    }
    let v = param(query, "v").ok_or_else(|| DoudianError::missing("v"))?;
    if v != "2" {
        return Err(DoudianError::invalid("v只支持2"));
    }
    let sign_method = param(query, "sign_method").unwrap_or("md5");
    if !["md5", "hmac-sha256"].contains(&sign_method) {
        return Err(DoudianError::invalid(format!(
            "不支持的sign_method: {sign_method}"
        )));
    }
    let timestamp = param(query, "timestamp").ok_or_else(|| DoudianError::missing("timestamp"))?;
    match protocol::parse_timestamp(timestamp) {
        Some(s) if (s - time::now_ms().div_euclid(1000)).abs() <= cfg.max_clock_skew_secs => {}
        _ => return Err(DoudianError::invalid("timestamp无效或与服务器时间相差过大")),
    }
    let from_body = std::str::from_utf8(body)
        .map_err(|_| DoudianError::invalid("请求体不是UTF-8"))?
        .trim();
    let param_json = match (param(query, "param_json"), from_body) {
        (Some(q), "") => q,
        (None, b) if !b.is_empty() => b,
        (Some(q), b) if q == b => q,
        (Some(_), _) => return Err(DoudianError::invalid("query与body中的param_json不一致")),
        (None, _) => return Err(DoudianError::missing("param_json")),
    };
    let params: Value = serde_json::from_str(param_json)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| DoudianError::invalid("param_json不是JSON对象"))?;
    let sign = param(query, "sign").ok_or_else(|| DoudianError::missing("sign"))?;
    // The platform signs the canonical form: a param_json sent unsorted or padded fails.
    let canonical = protocol::canonical(&params);
    let payload = protocol::sign_string(&cfg.app_secret, app_key, method, &canonical, timestamp, v);
    let expected = match sign_method {
        "hmac-sha256" => protocol::sign_hmac_sha256(&cfg.app_secret, &payload),
        _ => protocol::sign_md5(&payload),
    };
    if canonical != param_json || !sign.eq_ignore_ascii_case(&expected) {
        return Err(DoudianError::bad_sign());
    }
    match param(query, "access_token") {
        Some(t) if t == cfg.access_token => {}
        _ => return Err(DoudianError::token_invalid()),
    }
    let call = Call {
        method: method.to_string(),
        query: query.iter().cloned().collect(),
        params,
    };
    sim.state().calls.push(call.clone());
    Ok(Ok(call))
}

fn dispatch(sim: &DouyinSim, call: &Call) -> Result<Value, DoudianError> {
    match call.method.as_str() {
        SEARCH_LIST => search_list(sim, &call.params),
        ORDER_DETAIL => order_detail(sim, &call.params),
        SYNC_STOCK => sync_stock(sim, &call.params),
        LOGISTICS_ADD => logistics_add(sim, &call.params),
        super::settle::SETTLE_BILL_DETAIL => super::settle::settle_bill_detail(sim, &call.params),
        other => Err(DoudianError::invalid(format!("不支持的method: {other}"))),
    }
}

/// An integer sent as a JSON number or a digit string (doudian's SDKs do both).
fn int(params: &Value, key: &str) -> Result<Option<i64>, DoudianError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| DoudianError::invalid(format!("{key}必须是整数"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| DoudianError::invalid(format!("{key}必须是整数"))),
        Some(_) => Err(DoudianError::invalid(format!("{key}必须是整数"))),
    }
}

fn boolean(params: &Value, key: &str, default: bool) -> Result<bool, DoudianError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(_) => Err(DoudianError::invalid(format!("{key}必须是布尔值"))),
    }
}

fn search_list(sim: &DouyinSim, params: &Value) -> Result<Value, DoudianError> {
    let cfg = sim.config();
    let by = match params
        .get("order_by")
        .and_then(Value::as_str)
        .unwrap_or("create_time")
    {
        "update_time" => OrderBy::UpdateTime,
        "create_time" => OrderBy::CreateTime,
        other => return Err(DoudianError::invalid(format!("order_by不支持: {other}"))),
    };
    let prefix = match by {
        OrderBy::UpdateTime => "update_time",
        OrderBy::CreateTime => "create_time",
    };
    let (sk, ek) = (format!("{prefix}_start"), format!("{prefix}_end"));
    let start = int(params, &sk)?.ok_or_else(|| DoudianError::missing(&sk))?;
    let end = int(params, &ek)?.ok_or_else(|| DoudianError::missing(&ek))?;
    if end <= start {
        return Err(DoudianError::invalid(format!("{ek}必须大于{sk}")));
    }
    if end - start > cfg.max_window_secs {
        return Err(DoudianError::invalid(format!(
            "{sk}与{ek}的间隔不能超过{}秒",
            cfg.max_window_secs
        )));
    }
    let page = int(params, "page")?.unwrap_or(0);
    let size = int(params, "size")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if page < 0 {
        return Err(DoudianError::invalid("page从0开始"));
    }
    if size < 1 || size > i64::from(cfg.max_page_size) {
        return Err(DoudianError::invalid(format!(
            "size取值范围1-{}",
            cfg.max_page_size
        )));
    }
    let asc = boolean(params, "order_asc", false)?;
    let Listed { orders, total } =
        sim.state()
            .store
            .list(by, (start, end), asc, page as usize, size as usize);
    Ok(json!({"shop_order_list": orders, "page": page, "size": size, "total": total}))
}

fn order_detail(sim: &DouyinSim, params: &Value) -> Result<Value, DoudianError> {
    let id = match params.get("shop_order_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(DoudianError::missing("shop_order_id")),
    };
    let order = id
        .parse::<u64>()
        .ok()
        .and_then(|n| sim.order(n))
        .ok_or_else(|| DoudianError::business("order_not_exist", "订单不存在"))?;
    Ok(json!({ "shop_order_detail": order }))
}

fn sync_stock(sim: &DouyinSim, params: &Value) -> Result<Value, DoudianError> {
    let sku_id = int(params, "sku_id")?;
    let code = params
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    if sku_id.is_none() && code.is_none() {
        return Err(DoudianError::missing("sku_id或code"));
    }
    let stock_num = int(params, "stock_num")?.ok_or_else(|| DoudianError::missing("stock_num"))?;
    if stock_num < 0 {
        return Err(DoudianError::invalid("stock_num不能为负数"));
    }
    let incremental = boolean(params, "incremental", false)?;
    let mut st = sim.state();
    let sku = st
        .store
        .resolve_sku(sku_id.and_then(|s| u64::try_from(s).ok()), code)
        .ok_or_else(|| DoudianError::business("sku_not_exist", "sku不存在"))?;
    let n = if incremental {
        st.store.stock(sku).unwrap_or(0) + stock_num
    } else {
        stock_num
    };
    st.store.set_stock(sku, n);
    Ok(json!({}))
}
