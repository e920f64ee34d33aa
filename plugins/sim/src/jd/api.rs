//! The `/routerjson` gateway of the simulated JOS.
//!
//! Every request (GET query or POST form, or both merged) passes the gate in this order:
//! injected fault, `method` (14 missing, 15 unknown), `app_key` (16 missing, 17 unknown),
//! `timestamp` (7 missing, 8 malformed or more than 6 minutes off, GMT+8), `v` (4
//! missing, 5 not `2.0`), `sign` (11 missing, 12 wrong: recomputed over every parameter
//! but `sign`), `access_token` (18 missing, 19 unknown). Gateway errors are HTTP 200 with
//! `{"error_response": …}`. Business parameters come from the JSON string
//! `360buy_param_json`; a bad one is a business failure (`apiResult.success = false`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::jos::{self, BizError, JosError};
use super::shipping::{self, SHIPMENT};
use super::store::{DateType, Listed, Query};
use super::{generate, Call, Fault, JdSim};
use crate::time;

pub(crate) const ORDER_SEARCH: &str = "jingdong.pop.order.search";
pub(crate) const ORDER_GET: &str = "jingdong.pop.order.get";
pub(crate) const STOCK_UPDATE: &str = "jingdong.stock.write.updateSkuStock";
/// JOS's default `page_size` for the order search.
const DEFAULT_PAGE_SIZE: usize = 20;

pub(crate) fn router(sim: JdSim) -> Router {
    Router::new()
        .route("/routerjson", get(routerjson).post(routerjson))
        .with_state(sim)
}

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

async fn routerjson(
    State(sim): State<JdSim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = jos::decode_form(query.as_deref().unwrap_or(""));
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(jos::decode_form(&String::from_utf8_lossy(&body)));
    }
    sim.state().requests += 1;
    match gate(&sim, &params) {
        Ok(Some(Fault::Http(code))) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, status.canonical_reason().unwrap_or("error")).into_response()
        }
        Ok(Some(Fault::Jos(e))) | Err(e) => e.into_response(),
        Ok(None) => Json(dispatch(&sim, &params)).into_response(),
    }
}

/// The admission checks. `Ok(Some(fault))` is an injected failure to answer with.
fn gate(sim: &JdSim, params: &Params) -> Result<Option<Fault>, JosError> {
    if let Some(fault) = sim.state().faults.pop_front() {
        return Ok(Some(fault));
    }
    let cfg = sim.config();
    let method = param(params, "method")
        .ok_or_else(|| JosError::new("14", "缺少方法名参数", "Missing Method"))?;
    if ![ORDER_SEARCH, ORDER_GET, STOCK_UPDATE, SHIPMENT].contains(&method) {
        return Err(JosError::new("15", "不存在的方法名", "Invalid Method"));
    }
    match param(params, "app_key") {
        None => return Err(JosError::new("16", "缺少app_key参数", "Missing App Key")),
        Some(k) if k != cfg.app_key => {
            return Err(JosError::new("17", "无效的app_key", "Invalid App Key"))
        }
        Some(_) => {}
    }
    let ts = param(params, "timestamp")
        .ok_or_else(|| JosError::new("7", "缺少时间戳参数", "Missing Timestamp"))?;
    match jos::parse_time(ts) {
        Some(ms) if (ms - time::now_ms()).abs() <= cfg.max_clock_skew_ms => {}
        _ => return Err(JosError::new("8", "非法的时间戳参数", "Invalid Timestamp")),
    }
    match param(params, "v") {
        None => return Err(JosError::new("4", "缺少版本参数", "Missing Version")),
        Some("2.0") => {}
        Some(_) => return Err(JosError::new("5", "不支持的版本号", "Unsupported Version")),
    }
    let sign = param(params, "sign")
        .ok_or_else(|| JosError::new("11", "缺少签名参数", "Missing Signature"))?;
    if !sign.eq_ignore_ascii_case(&jos::sign(&cfg.app_secret, params)) {
        return Err(JosError::invalid_signature());
    }
    match param(params, "access_token") {
        None => {
            return Err(JosError::new(
                "18",
                "缺少access_token参数",
                "Missing access_token",
            ))
        }
        Some(t) if t != cfg.access_token => return Err(JosError::invalid_access_token()),
        Some(_) => {}
    }
    let business = param(params, "360buy_param_json")
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null);
    sim.state().calls.push(Call {
        method: method.to_string(),
        params: params.iter().cloned().collect(),
        business,
    });
    Ok(None)
}

/// `jingdong.pop.order.search` → `jingdong_pop_order_search_responce`.
fn response_key(method: &str) -> String {
    format!("{}_responce", method.replace('.', "_"))
}

fn dispatch(sim: &JdSim, params: &Params) -> Value {
    let method = param(params, "method").unwrap_or("");
    let business = param(params, "360buy_param_json")
        .ok_or_else(|| BizError::param("360buy_param_json is missing", "缺少业务参数"))
        .and_then(|j| match serde_json::from_str::<Value>(j) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(BizError::param(
                "360buy_param_json is not a JSON object",
                "业务参数格式错误",
            )),
        });
    let body = match method {
        ORDER_SEARCH => search(sim, business),
        ORDER_GET => order_get(sim, business),
        SHIPMENT => shipping::shipment(sim, business.as_ref().ok()),
        _ => stock_update(sim, business),
    };
    json!({ response_key(method): body })
}

type Business = Result<Map<String, Value>, BizError>;

/// A business parameter as text: JSON strings as they are, numbers written out.
fn text(b: &Map<String, Value>, key: &str) -> Option<String> {
    match b.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn required(b: &Map<String, Value>, key: &str) -> Result<String, BizError> {
    text(b, key).ok_or_else(|| BizError::param(format!("{key} is required"), "参数缺失"))
}

fn number(b: &Map<String, Value>, key: &str, default: i64) -> Result<i64, BizError> {
    match text(b, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| BizError::param(format!("{key} must be an integer"), "参数格式错误")),
    }
}

/// Keep the top-level keys named in `optional_fields` (all of them when absent).
fn project(order: Value, fields: Option<&str>) -> Value {
    let (Value::Object(obj), Some(fields)) = (&order, fields) else {
        return order;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let out: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(out)
}

fn search(sim: &JdSim, business: Business) -> Value {
    let failed = |e: BizError| {
        json!({"code": "0", "searchorderinfo_result": {
            "apiResult": e.api_result(), "orderInfoList": [], "orderTotal": 0}})
    };
    let b = match business {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    match list(sim, &b) {
        Ok(Listed { orders, total }) => {
            let fields = text(&b, "optional_fields");
            let orders: Vec<Value> = orders
                .into_iter()
                .map(|o| project(o, fields.as_deref()))
                .collect();
            json!({"code": "0", "searchorderinfo_result": {
                "apiResult": jos::ok_result(), "orderInfoList": orders, "orderTotal": total}})
        }
        Err(e) => failed(e),
    }
}

fn list(sim: &JdSim, b: &Map<String, Value>) -> Result<Listed, BizError> {
    let cfg = sim.config();
    let time = |key: &str| -> Result<i64, BizError> {
        jos::parse_time(&required(b, key)?).ok_or_else(|| {
            BizError::param(format!("{key} must be yyyy-MM-dd HH:mm:ss"), "时间格式错误")
        })
    };
    let (start, end) = (time("start_date")?, time("end_date")?);
    if end <= start {
        return Err(BizError::param(
            "end_date must be later than start_date",
            "结束时间必须晚于开始时间",
        ));
    }
    if end - start > cfg.max_window_ms {
        return Err(BizError::param(
            format!(
                "the span of start_date and end_date must not exceed {} days",
                cfg.max_window_ms / 86_400_000
            ),
            "查询时间跨度超过限制",
        ));
    }
    let states: Vec<String> = required(b, "order_state")?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = states
        .iter()
        .find(|s| !generate::STATES.iter().any(|(k, _)| k == s))
    {
        return Err(BizError::param(
            format!("order_state {bad} is not an order state"),
            "订单状态参数错误",
        ));
    }
    let page = number(b, "page", 1)?;
    let page_size = number(b, "page_size", DEFAULT_PAGE_SIZE as i64)?;
    if page < 1 {
        return Err(BizError::param("page must be at least 1", "页码错误"));
    }
    if page_size < 1 || page_size > i64::from(cfg.max_page_size) {
        return Err(BizError::param(
            format!("page_size must be from 1 to {}", cfg.max_page_size),
            "每页条数错误",
        ));
    }
    // dateType: 1 = creation time; 0 and any other number = modification time.
    let date_type = match number(b, "dateType", 0)? {
        1 => DateType::Created,
        _ => DateType::Modified,
    };
    // sortType: 0 = oldest first; 1 (and absent) = newest first.
    let descending = number(b, "sortType", 1)? != 0;
    Ok(sim.state().store.list(&Query {
        start,
        end,
        states: &states,
        date_type,
        descending,
        page: page as usize,
        page_size: page_size as usize,
    }))
}

fn order_get(sim: &JdSim, business: Business) -> Value {
    let failed =
        |e: BizError| json!({"code": "0", "orderDetailInfo": {"apiResult": e.api_result()}});
    let b = match business {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    let id = match required(&b, "order_id").map(|s| s.parse::<u64>()) {
        Ok(Ok(id)) => id,
        Ok(Err(_)) => return failed(BizError::param("order_id must be a number", "订单号错误")),
        Err(e) => return failed(e),
    };
    match sim.order(id) {
        Some(o) => json!({"code": "0", "orderDetailInfo": {
            "apiResult": jos::ok_result(),
            "orderInfo": project(o, text(&b, "optional_fields").as_deref())}}),
        None => failed(BizError {
            number_code: 10_400_001,
            english: "order not exist".into(),
            chinese: "订单不存在".into(),
        }),
    }
}

fn stock_update(sim: &JdSim, business: Business) -> Value {
    let failed = |message: String| json!({"code": "0", "success": false, "message": message});
    let b = match business {
        Ok(b) => b,
        Err(e) => return failed(e.english),
    };
    let sku = match required(&b, "skuId").map(|s| s.parse::<u64>()) {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return failed("skuId must be a number".into()),
        Err(e) => return failed(e.english),
    };
    let qty = match number(&b, "stockNum", -1) {
        Ok(q) if (0..=9_999_999).contains(&q) => q,
        _ => return failed("stockNum must be an integer from 0 to 9999999".into()),
    };
    let mut st = sim.state();
    match st.skus.get_mut(&sku) {
        Some(stock) => {
            *stock = Some(qty);
            json!({"code": "0", "success": true})
        }
        None => failed(format!("skuId {sku} 不存在 (sku not exist)")),
    }
}
