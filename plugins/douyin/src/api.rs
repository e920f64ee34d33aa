//! The doudian calls: one page of `order.searchList` per pull (the window walk of
//! `wharf_sdk::windows`), `order.orderDetail`, and `sku.syncStock` per stock level. The
//! transport is passed in (`wharf_sdk::http::send` in the plugin, a fake or reqwest in
//! tests), so the paging logic is tested natively.

use serde_json::{json, Value};
use wharf_sdk::http::Transport;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};
use wharf_sdk::windows::Listing;

use crate::doudian::{self, Answer, Credentials};
use crate::mapping;
use crate::settings::Settings;

pub const SEARCH_LIST: &str = "order.searchList";
pub const ORDER_DETAIL: &str = "order.orderDetail";
pub const SYNC_STOCK: &str = "sku.syncStock";

/// One page of a window listing.
#[derive(Debug)]
pub struct OrdersPage {
    /// Orders in the whole window (`total`).
    pub total: u64,
    pub orders: Vec<Value>,
}

/// Read page `page` (0-based) of the window `[start, end]` (Unix ms on whole seconds;
/// sent as Unix seconds), newest `update_time` first.
pub fn fetch_page(
    settings: &Settings,
    creds: &Credentials,
    (start, end): (i64, i64),
    page: u32,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<OrdersPage, ConnectorError> {
    let params = json!({
        "update_time_start": start.div_euclid(1000),
        "update_time_end": end.div_euclid(1000),
        "order_by": "update_time",
        "order_asc": false,
        "page": page,
        "size": settings.page_size,
    });
    let req = doudian::request(&settings.api_url, creds, SEARCH_LIST, &params, now_ms);
    let data = doudian::read_response(SEARCH_LIST, send(req)?)?;
    let total = data.get("total").and_then(Value::as_u64).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{SEARCH_LIST}: data.total is missing"))
    })?;
    let orders = match data.get("shop_order_list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(ConnectorError::InvalidInput(format!(
                "{SEARCH_LIST}: shop_order_list is not a list: {other}"
            )))
        }
    };
    Ok(OrdersPage { total, orders })
}

fn map_orders(orders: &[Value]) -> Result<Vec<Order>, ConnectorError> {
    orders.iter().map(mapping::order_from_json).collect()
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
            orders: map_orders(&got.orders)?,
        })
    })
}

/// Read one shop order as doudian has it now; an unknown id is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    id: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    match order_detail(settings, creds, id, now_ms, send)? {
        Some(o) => mapping::order_from_json(&o).map(Some),
        None => Ok(None),
    }
}

/// The `shop_order_detail` JSON of `order.orderDetail`; an unknown id is `None`.
pub fn order_detail(
    settings: &Settings,
    creds: &Credentials,
    id: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Value>, ConnectorError> {
    if id.is_empty() || id.len() > 24 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{id:?} is not a doudian order id (digits only)"
        )));
    }
    let req = doudian::request(
        &settings.api_url,
        creds,
        ORDER_DETAIL,
        &json!({ "shop_order_id": id }),
        now_ms,
    );
    match doudian::read_answer(ORDER_DETAIL, send(req)?)? {
        Answer::Err(e) if e.is_not_found() => Ok(None),
        Answer::Err(e) => Err(e.to_connector_error()),
        Answer::Ok(mut data) => match data.get_mut("shop_order_detail").map(Value::take) {
            Some(o) if o.is_object() => Ok(Some(o)),
            _ => Err(ConnectorError::InvalidInput(format!(
                "{ORDER_DETAIL}: the answer has no shop_order_detail"
            ))),
        },
    }
}

/// Set each listing's stock with `sku.syncStock` (absolute: `incremental=false`), by
/// doudian `sku_id` (the level's `channel-sku`), or by merchant `code` (the level's
/// `sku`) when no channel SKU is known. A negative `available` is pushed as 0.
///
/// Per-item failures (a parameter or business error, e.g. an unknown SKU) become
/// `ok: false` with doudian's message; a failure of the call itself (credentials, flow
/// control, platform down) fails the whole push — every push is absolute, so the host
/// may simply retry it.
pub fn push_inventory(
    settings: &Settings,
    creds: &Credentials,
    levels: &[StockLevel],
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Vec<StockPushResult>, ConnectorError> {
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let name = if level.sku.is_empty() {
            level.channel_sku.clone()
        } else {
            level.sku.clone()
        };
        let result = |ok: bool, message: String| StockPushResult {
            sku: name.clone(),
            ok,
            message,
        };
        let stock_num = level.available.max(0);
        let channel_sku = level.channel_sku.trim();
        let params = if !channel_sku.is_empty() {
            match channel_sku.parse::<u64>() {
                Ok(sku_id) => {
                    json!({"sku_id": sku_id, "stock_num": stock_num, "incremental": false})
                }
                Err(_) => {
                    results.push(result(
                        false,
                        format!("channel-sku {channel_sku:?} is not a doudian sku_id (digits)"),
                    ));
                    continue;
                }
            }
        } else if !level.sku.trim().is_empty() {
            json!({"code": level.sku.trim(), "stock_num": stock_num, "incremental": false})
        } else {
            results.push(result(false, "neither sku nor channel-sku is set".into()));
            continue;
        };
        let req = doudian::request(&settings.api_url, creds, SYNC_STOCK, &params, now_ms);
        match doudian::read_answer(SYNC_STOCK, send(req)?)? {
            Answer::Ok(_) => results.push(result(true, String::new())),
            Answer::Err(e) => match e.to_connector_error() {
                ConnectorError::InvalidInput(m) | ConnectorError::Permanent(m) => {
                    results.push(result(false, m))
                }
                whole_call => return Err(whole_call),
            },
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
