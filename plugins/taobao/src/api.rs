//! The TOP calls: one page of `taobao.trades.sold.increment.get` per pull (the window
//! walk of `wharf_sdk::windows`), `taobao.trade.fullinfo.get`, and
//! `taobao.item.quantity.update` per stock level. The transport is passed in
//! (`wharf_sdk::http::send` in the plugin, a fake or reqwest in tests), so the paging
//! logic is tested natively.

use serde_json::Value;
use wharf_sdk::http::Transport;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};
use wharf_sdk::windows::Listing;

use crate::mapping::{self, TRADE_FIELDS};
use crate::settings::Settings;
use crate::top::{self, Answer, Credentials};

pub const INCREMENT_GET: &str = "taobao.trades.sold.increment.get";
pub const FULLINFO_GET: &str = "taobao.trade.fullinfo.get";
pub const QUANTITY_UPDATE: &str = "taobao.item.quantity.update";

/// One page of a window listing.
#[derive(Debug)]
pub struct TradesPage {
    /// Trades in the whole window (`total_results`).
    pub total: u64,
    pub trades: Vec<Value>,
}

/// Read page `page_no` of the window `[start, end]` (Unix ms; sent as GMT+8 times).
pub fn fetch_page(
    settings: &Settings,
    creds: &Credentials,
    (start, end): (i64, i64),
    page_no: u32,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<TradesPage, ConnectorError> {
    let (start_s, end_s) = (top::format_time(start), top::format_time(end));
    let (page_s, size_s) = (page_no.to_string(), settings.page_size.to_string());
    let req = top::request(
        &settings.api_url,
        creds,
        INCREMENT_GET,
        &[
            ("fields", TRADE_FIELDS),
            ("start_modified", &start_s),
            ("end_modified", &end_s),
            ("page_no", &page_s),
            ("page_size", &size_s),
            // The count is what lets us start from the last page.
            ("use_has_next", "false"),
        ],
        now_ms,
    );
    let body = top::read_response(INCREMENT_GET, send(req)?)?;
    let total = body
        .get("total_results")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!("{INCREMENT_GET}: total_results is missing"))
        })?;
    let trades = match body.get("trades").and_then(|t| t.get("trade")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(ConnectorError::InvalidInput(format!(
                "{INCREMENT_GET}: trades.trade is not a list: {other}"
            )))
        }
    };
    Ok(TradesPage { total, trades })
}

fn map_trades(settings: &Settings, trades: &[Value]) -> Result<Vec<Order>, ConnectorError> {
    trades.iter().map(|t| map_checked(settings, t)).collect()
}

/// Map one trade, refusing a trade of another seller when `seller_nick` is configured.
fn map_checked(settings: &Settings, trade: &Value) -> Result<Order, ConnectorError> {
    let order = mapping::order_from_json(trade)?;
    if let (Some(want), Some(got)) = (
        &settings.seller_nick,
        trade.get("seller_nick").and_then(Value::as_str),
    ) {
        if want != got.trim() {
            return Err(ConnectorError::Permanent(format!(
                "trade {} belongs to seller {got:?}, not the configured {want:?}: \
                 the session is another shop's",
                order.external_id
            )));
        }
    }
    Ok(order)
}

/// Read one page of trades from the cursor: the window walk of `wharf_sdk::windows`
/// (backward paging, empty windows skipped) over [`fetch_page`], with TOP's limits
/// ([`Settings::walk`]).
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
            orders: map_trades(settings, &got.trades)?,
        })
    })
}

/// Read one trade as TOP has it now; an unknown tid is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    tid: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    if tid.is_empty() || tid.len() > 20 || !tid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{tid:?} is not a Taobao tid (digits only)"
        )));
    }
    let req = top::request(
        &settings.api_url,
        creds,
        FULLINFO_GET,
        &[("fields", TRADE_FIELDS), ("tid", tid)],
        now_ms,
    );
    match top::read_answer(FULLINFO_GET, send(req)?)? {
        Answer::Err(e) if e.sub_code.as_deref() == Some("isv.trade-not-exist") => Ok(None),
        Answer::Err(e) => Err(e.to_connector_error()),
        Answer::Ok(body) => match body.get("trade") {
            Some(t) if t.is_object() => map_checked(settings, t).map(Some),
            _ => Err(ConnectorError::InvalidInput(format!(
                "{FULLINFO_GET}: the answer has no trade"
            ))),
        },
    }
}

/// A TOP id: 1–20 ASCII digits.
fn is_top_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Read a level's `channel-sku`: `"num_iid:sku_id"` for a SKU of an item, or `"num_iid"`
/// for an item without SKUs (surrounding spaces ignored). Returns `(num_iid, sku_id)`.
pub fn parse_channel_sku(channel_sku: &str) -> Result<(&str, Option<&str>), String> {
    let s = channel_sku.trim();
    let (num_iid, sku_id) = match s.split_once(':') {
        Some((i, k)) => (i.trim(), Some(k.trim())),
        None => (s, None),
    };
    if is_top_id(num_iid) && sku_id.is_none_or(is_top_id) {
        Ok((num_iid, sku_id))
    } else {
        Err(format!(
            "channel-sku {channel_sku:?} is not a Taobao \"num_iid:sku_id\" or \"num_iid\" \
             (digits)"
        ))
    }
}

/// Set each level's quantity on Taobao with `taobao.item.quantity.update` (`type=1`, a
/// full update): `channel-sku` is `"num_iid:sku_id"`, or `"num_iid"` for an item without
/// SKUs (see [`parse_channel_sku`]); a negative available (oversold) is pushed as 0.
///
/// A level whose channel-sku is malformed, or that TOP refuses with a business error
/// (`permanent` / `invalid-input`: unknown item or SKU, refused quantity), fails on its
/// own (`ok: false` with TOP's message) and the other levels go on. An error about the
/// whole call (credentials, call limit, platform failure) fails the call; the host
/// retries every level (setting an absolute quantity is idempotent).
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
        let (num_iid, sku_id) = match parse_channel_sku(&level.channel_sku) {
            Ok(ids) => ids,
            Err(why) => {
                results.push(result(false, why));
                continue;
            }
        };
        let quantity = level.available.max(0).to_string();
        let mut params = vec![("num_iid", num_iid)];
        if let Some(sku) = sku_id {
            params.push(("sku_id", sku));
        }
        params.extend([("quantity", quantity.as_str()), ("type", "1")]);
        let req = top::request(&settings.api_url, creds, QUANTITY_UPDATE, &params, now_ms);
        let target = match sku_id {
            Some(sku) => format!("num_iid {num_iid} sku_id {sku}"),
            None => format!("num_iid {num_iid}"),
        };
        match top::read_answer(QUANTITY_UPDATE, send(req)?)? {
            Answer::Ok(body) if body.get("item").is_some_and(Value::is_object) => results.push(
                result(true, format!("{target}: quantity set to {quantity}")),
            ),
            Answer::Ok(body) => results.push(result(
                false,
                format!("{target}: {QUANTITY_UPDATE} answered without an item: {body}"),
            )),
            Answer::Err(e) => match e.to_connector_error() {
                ConnectorError::Permanent(m) | ConnectorError::InvalidInput(m) => {
                    results.push(result(false, format!("{target}: {m}")))
                }
                whole_call => return Err(whole_call),
            },
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
