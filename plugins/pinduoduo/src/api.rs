//! The API calls and the pull built on them:
//! - [`list_page`] reads one page of `pdd.order.number.list.increment.get` (full orders);
//! - [`pull_orders`] is one call of the pull, driven by the cursor (see [`crate::window`]);
//! - [`get_order`] reads `pdd.order.information.get`;
//! - [`push_inventory`] sets SKU stock with `pdd.goods.quantity.update`.
//!
//! The transport is passed in (`wharf_sdk::http::send` in the plugin, a fake or reqwest in
//! tests), and so is the clock, so paging is tested natively.

use serde::Deserialize;
use serde_json::value::RawValue;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};

use crate::mapping;
use crate::router::{self, Credentials, Transport};
use crate::settings::Settings;
use crate::window::{self, Cursor, Position};

pub const LIST_API: &str = "pdd.order.number.list.increment.get";
pub const INFO_API: &str = "pdd.order.information.get";
pub const STOCK_API: &str = "pdd.goods.quantity.update";
const LIST_KEY: &str = "order_sn_increment_get_response";
const INFO_KEY: &str = "order_info_get_response";
const STOCK_KEY: &str = "goods_quantity_update_response";

/// One page of a window, mapped.
#[derive(Debug)]
pub struct ListPage {
    /// `total_count` of the window (as the platform counted it for this request).
    pub total_count: u64,
    pub has_next: bool,
    pub orders: Vec<Order>,
}

#[derive(Deserialize)]
struct ListBody<'a> {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    has_next: bool,
    #[serde(borrow, default)]
    order_sn_list: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct StockBody {
    #[serde(default)]
    is_success: Option<bool>,
}

#[derive(Deserialize)]
struct InfoBody<'a> {
    #[serde(borrow, default)]
    order_info: Option<&'a RawValue>,
}

/// Read page `page` of the window `[from, to]` (Unix seconds): all order and refund
/// states, newest `updated_at` first, with the exact `total_count`.
#[allow(clippy::too_many_arguments)]
pub fn list_page(
    settings: &Settings,
    creds: &Credentials,
    from: i64,
    to: i64,
    page: u32,
    page_size: u32,
    now_s: i64,
    send: Transport<'_>,
) -> Result<ListPage, ConnectorError> {
    let params = [
        ("is_lucky_flag", "0".to_string()),
        ("order_status", "5".to_string()),
        ("refund_status", "5".to_string()),
        ("start_updated_at", from.to_string()),
        ("end_updated_at", to.to_string()),
        ("page", page.to_string()),
        ("page_size", page_size.to_string()),
        ("use_has_next", "false".to_string()),
    ];
    let body = router::call(&settings.api_url, creds, LIST_API, &params, now_s, send)?;
    let part = router::response_part(&body, LIST_KEY)?;
    let list: ListBody<'_> = serde_json::from_str(part.get())
        .map_err(|e| ConnectorError::InvalidInput(format!("{LIST_API} response: {e}")))?;
    let orders = list
        .order_sn_list
        .iter()
        .map(|raw| mapping::order_from_str(raw.get()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListPage {
        total_count: list.total_count,
        has_next: list.has_next,
        orders,
    })
}

/// One call of the pull: one request, one page of orders, the next cursor.
///
/// - Between windows: open the next window (ending at most at now − lag), read page 1
///   with the window's `total_count`. One page → the window is done. More → continue at
///   the LAST page (page 1's orders are delivered now as well, and page 1 is read again
///   at the end).
/// - Paging: read the cursor's page; count down to 1, then close the window.
///
/// `more` is true while pages remain or another window is readable.
pub fn pull_orders(
    settings: &Settings,
    creds: &Credentials,
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Page, ConnectorError> {
    let now_s = now_ms.div_euclid(1000);
    let position = match cursor {
        Some(raw) => Cursor::decode(raw)?,
        None => Position::Between {
            from: Cursor::initial(now_s, settings.lookback_days).from,
        },
    };
    match position {
        Position::Between { from } => {
            let Some((from, to)) = window::next_window(from, now_s, settings.window_secs()) else {
                return Ok(Page {
                    orders: Vec::new(),
                    cursor: Some(Cursor::at(from).encode()),
                    more: false,
                });
            };
            let size = settings.page_size;
            let page = list_page(settings, creds, from, to, 1, size, now_s, send)?;
            let pages = window::page_count(page.total_count, size);
            let (cursor, more) = if pages <= 1 {
                window::after_window(to, now_s)
            } else {
                (Cursor::paging(from, to, pages, size), true)
            };
            Ok(Page {
                orders: page.orders,
                cursor: Some(cursor.encode()),
                more,
            })
        }
        Position::Paging {
            from,
            to,
            page,
            page_size,
        } => {
            let listed = list_page(settings, creds, from, to, page, page_size, now_s, send)?;
            let (cursor, more) = if page > 1 {
                (Cursor::paging(from, to, page - 1, page_size), true)
            } else {
                window::after_window(to, now_s)
            };
            Ok(Page {
                orders: listed.orders,
                cursor: Some(cursor.encode()),
                more,
            })
        }
    }
}

/// True for a PDD order number: `YYMMDD-` then digits.
pub fn is_order_sn(s: &str) -> bool {
    match s.split_once('-') {
        Some((date, serial)) => {
            date.len() == 6
                && !serial.is_empty()
                && date
                    .bytes()
                    .chain(serial.bytes())
                    .all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Read one order as PDD has it now; an unknown order number is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    order_sn: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    match order_info_text(settings, creds, order_sn, now_ms, send)? {
        Some(text) => mapping::order_from_str(&text).map(Some),
        None => Ok(None),
    }
}

/// The JSON text of `order_info` from `pdd.order.information.get`; an unknown order
/// number is `None`, a malformed one `invalid-input`.
pub fn order_info_text(
    settings: &Settings,
    creds: &Credentials,
    order_sn: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<String>, ConnectorError> {
    if !is_order_sn(order_sn) {
        return Err(ConnectorError::InvalidInput(format!(
            "{order_sn:?} is not a PDD order number (YYMMDD-digits)"
        )));
    }
    let params = [("order_sn", order_sn.to_string())];
    let now_s = now_ms.div_euclid(1000);
    let body = router::call(&settings.api_url, creds, INFO_API, &params, now_s, send)?;
    let part = router::response_part(&body, INFO_KEY)?;
    let info: InfoBody<'_> = serde_json::from_str(part.get())
        .map_err(|e| ConnectorError::InvalidInput(format!("{INFO_API} response: {e}")))?;
    Ok(info
        .order_info
        .filter(|raw| raw.get().trim() != "null")
        .map(|raw| raw.get().to_string()))
}

/// A PDD id: 1–20 ASCII digits.
fn is_pdd_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Read a level's `channel-sku`: `"goods_id:sku_id"` (surrounding spaces ignored).
pub fn parse_channel_sku(channel_sku: &str) -> Result<(&str, &str), String> {
    match channel_sku.trim().split_once(':') {
        Some((g, s)) if is_pdd_id(g.trim()) && is_pdd_id(s.trim()) => Ok((g.trim(), s.trim())),
        _ => Err(format!(
            "channel-sku {channel_sku:?} is not a PDD \"goods_id:sku_id\" (digits)"
        )),
    }
}

/// Set each level's SKU stock on PDD with `pdd.goods.quantity.update` (`update_type=1`, a
/// full update): `channel-sku` is `"goods_id:sku_id"` (see [`parse_channel_sku`]); a
/// negative available (oversold) is pushed as 0.
///
/// A level whose channel-sku is malformed, that PDD refuses with a business or parameter
/// error (`permanent` / `invalid-input`: unknown goods or SKU, refused quantity), or that
/// answers `is_success: false`, fails on its own (`ok: false` with PDD's message) and the
/// other levels go on. An error about the whole call (credentials, rate limit, platform
/// failure) fails the call; the host retries every level (setting an absolute quantity is
/// idempotent).
pub fn push_inventory(
    settings: &Settings,
    creds: &Credentials,
    levels: &[StockLevel],
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Vec<StockPushResult>, ConnectorError> {
    let now_s = now_ms.div_euclid(1000);
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let result = |ok: bool, message: String| StockPushResult {
            sku: level.sku.clone(),
            ok,
            message,
        };
        let (goods_id, sku_id) = match parse_channel_sku(&level.channel_sku) {
            Ok(ids) => ids,
            Err(why) => {
                results.push(result(false, why));
                continue;
            }
        };
        let quantity = level.available.max(0);
        let params = [
            ("goods_id", goods_id.to_string()),
            ("sku_id", sku_id.to_string()),
            ("quantity", quantity.to_string()),
            ("update_type", "1".to_string()),
        ];
        let target = format!("goods_id {goods_id} sku_id {sku_id}");
        let body = router::call(&settings.api_url, creds, STOCK_API, &params, now_s, send)?;
        let part = match router::response_part(&body, STOCK_KEY) {
            Ok(part) => part,
            Err(ConnectorError::Permanent(m) | ConnectorError::InvalidInput(m)) => {
                results.push(result(false, format!("{target}: {m}")));
                continue;
            }
            Err(whole_call) => return Err(whole_call),
        };
        match serde_json::from_str::<StockBody>(part.get()) {
            Ok(StockBody {
                is_success: Some(true),
            }) => results.push(result(
                true,
                format!("{target}: quantity set to {quantity}"),
            )),
            _ => results.push(result(
                false,
                format!(
                    "{target}: {STOCK_API} did not report success: {}",
                    part.get()
                ),
            )),
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
