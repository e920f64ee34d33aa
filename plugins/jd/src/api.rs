//! The JOS calls: one page of `jingdong.pop.order.search` per pull (the window walk of
//! `wharf_sdk::windows`), `jingdong.pop.order.get`, and
//! `jingdong.stock.write.updateSkuStock` per stock level. The transport is passed in
//! (`wharf_sdk::http::send` in the plugin, a fake or reqwest in tests), so the paging
//! logic is tested natively.

use serde_json::{json, Value};
use wharf_sdk::http::Transport;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};
use wharf_sdk::windows::Listing;

use crate::jos::{self, Answer, Credentials};
use crate::mapping::{self, ORDER_FIELDS, ORDER_STATES};
use crate::settings::Settings;

pub const ORDER_SEARCH: &str = "jingdong.pop.order.search";
pub const ORDER_GET: &str = "jingdong.pop.order.get";
pub const STOCK_UPDATE: &str = "jingdong.stock.write.updateSkuStock";

/// One page of a window listing.
#[derive(Debug)]
pub struct OrdersPage {
    /// Orders in the whole window (`orderTotal`).
    pub total: u64,
    pub orders: Vec<Value>,
}

/// The business parameters of one search page: the window on modification time
/// (`dateType=0`), newest first (`sortType=1`), every known state.
pub fn search_params(settings: &Settings, (start, end): (i64, i64), page: u32) -> Value {
    json!({
        "start_date": jos::format_time(start),
        "end_date": jos::format_time(end),
        "order_state": ORDER_STATES.join(","),
        "optional_fields": ORDER_FIELDS,
        "page": page.to_string(),
        "page_size": settings.page_size.to_string(),
        "dateType": "0",
        "sortType": "1",
    })
}

/// Read page `page` of the window `[start, end]` (Unix ms; sent as GMT+8 times).
pub fn fetch_page(
    settings: &Settings,
    creds: &Credentials,
    window: (i64, i64),
    page: u32,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<OrdersPage, ConnectorError> {
    let req = jos::request(
        &settings.api_url,
        creds,
        ORDER_SEARCH,
        &search_params(settings, window, page),
        now_ms,
    );
    let body = jos::read_response(ORDER_SEARCH, send(req)?)?;
    let result = body.get("searchorderinfo_result").ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{ORDER_SEARCH}: searchorderinfo_result is missing"))
    })?;
    jos::api_result(result.get("apiResult")).map_err(|f| f.to_connector_error(ORDER_SEARCH))?;
    let total = result
        .get("orderTotal")
        .and_then(jos::text_of)
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!("{ORDER_SEARCH}: orderTotal is missing"))
        })?;
    let orders = match result.get("orderInfoList") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(ConnectorError::InvalidInput(format!(
                "{ORDER_SEARCH}: orderInfoList is not a list: {other}"
            )))
        }
    };
    Ok(OrdersPage { total, orders })
}

fn map_orders(settings: &Settings, orders: &[Value]) -> Result<Vec<Order>, ConnectorError> {
    orders.iter().map(|o| map_checked(settings, o)).collect()
}

/// Map one order, refusing an order of another seller when `vender_id` is configured.
pub(crate) fn map_checked(settings: &Settings, value: &Value) -> Result<Order, ConnectorError> {
    let order = mapping::order_from_json(value)?;
    if let (Some(want), Some(got)) = (
        &settings.vender_id,
        value.get("venderId").and_then(jos::text_of),
    ) {
        if *want != got {
            return Err(ConnectorError::Permanent(format!(
                "JD order {} belongs to vender {got}, not the configured {want}: \
                 the access token is another shop's",
                order.external_id
            )));
        }
    }
    Ok(order)
}

/// Read one page of orders from the cursor: the window walk of `wharf_sdk::windows`
/// (backward paging, empty windows skipped) over [`fetch_page`], with the platform's
/// limits ([`Settings::walk`]).
pub fn pull_orders(
    settings: &Settings,
    creds: &Credentials,
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Page, ConnectorError> {
    settings.walk().pull(cursor, now_ms, |window, page| {
        let got = fetch_page(settings, creds, window, page, now_ms, send)?;
        Ok(Listing {
            total: got.total,
            orders: map_orders(settings, &got.orders)?,
        })
    })
}

/// Read one order as JD has it now; an unknown order id is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    order_id: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    match order_info(settings, creds, order_id, ORDER_FIELDS, now_ms, send)? {
        Some(o) => map_checked(settings, &o).map(Some),
        None => Ok(None),
    }
}

/// The `orderInfo` JSON of `jingdong.pop.order.get` with `optional_fields`; an unknown
/// order id is `None`.
pub fn order_info(
    settings: &Settings,
    creds: &Credentials,
    order_id: &str,
    fields: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Value>, ConnectorError> {
    if order_id.is_empty() || order_id.len() > 20 || !order_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{order_id:?} is not a JD orderId (digits only)"
        )));
    }
    let req = jos::request(
        &settings.api_url,
        creds,
        ORDER_GET,
        &json!({"order_id": order_id, "optional_fields": fields}),
        now_ms,
    );
    let mut body = jos::read_response(ORDER_GET, send(req)?)?;
    let detail = body.get_mut("orderDetailInfo").ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{ORDER_GET}: orderDetailInfo is missing"))
    })?;
    match jos::api_result(detail.get("apiResult")) {
        Err(f) if f.is_not_found() => return Ok(None),
        Err(f) => return Err(f.to_connector_error(ORDER_GET)),
        Ok(()) => {}
    }
    match detail.get_mut("orderInfo").map(Value::take) {
        None | Some(Value::Null) => Ok(None),
        Some(o) if o.is_object() => Ok(Some(o)),
        Some(other) => Err(ConnectorError::InvalidInput(format!(
            "{ORDER_GET}: orderInfo is not an object: {other}"
        ))),
    }
}

/// Set the stock of each level's JD SKU (`channel-sku` = `skuId`) to `available` (a
/// negative available, i.e. oversold, is pushed as 0). A level JD refuses, or whose
/// channel-sku is not a skuId, fails on its own (`ok: false`); an error that concerns the
/// whole call (credentials, call limit, a transient failure) fails the call, and the
/// host retries all levels (setting an absolute quantity is idempotent).
pub fn push_inventory(
    settings: &Settings,
    creds: &Credentials,
    levels: &[StockLevel],
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Vec<StockPushResult>, ConnectorError> {
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let result = |ok: bool, message: String| StockPushResult {
            sku: level.sku.clone(),
            ok,
            message,
        };
        let sku_id = level.channel_sku.trim();
        if sku_id.is_empty() || sku_id.len() > 20 || !sku_id.bytes().all(|b| b.is_ascii_digit()) {
            results.push(result(
                false,
                format!(
                    "channel-sku {:?} is not a JD skuId (digits only)",
                    level.channel_sku
                ),
            ));
            continue;
        }
        let stock = level.available.max(0);
        let req = jos::request(
            &settings.api_url,
            creds,
            STOCK_UPDATE,
            &json!({"skuId": sku_id, "stockNum": stock.to_string()}),
            now_ms,
        );
        let answer = match jos::read_answer(STOCK_UPDATE, send(req)?)? {
            Answer::Ok(body) => body,
            Answer::Err(e) => match e.to_connector_error() {
                ConnectorError::Permanent(m) | ConnectorError::InvalidInput(m) => {
                    results.push(result(false, m));
                    continue;
                }
                whole_call => return Err(whole_call),
            },
        };
        let ok = match answer.get("success") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        if ok {
            results.push(result(true, format!("skuId {sku_id} stock set to {stock}")));
        } else {
            let why = answer
                .get("message")
                .and_then(jos::text_of)
                .unwrap_or_else(|| answer.to_string());
            results.push(result(false, format!("skuId {sku_id}: {why}")));
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
