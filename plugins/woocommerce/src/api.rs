//! The REST calls: one keyset page of `GET /orders` per pull (see [`crate::cursor`]),
//! `GET /orders/{id}`, and the stock updates of push-inventory. The transport is passed
//! in (`wharf_sdk::http::send` in the plugin, a fake or reqwest in tests), so the paging
//! logic is tested natively.

use std::collections::BTreeSet;

use serde_json::value::RawValue;
use wharf_sdk::http::Response;
use wharf_sdk::time::format_rfc3339;
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};

use crate::auth::{self, Credentials, WcError};
use crate::cursor::{self, Cursor};
use crate::mapping;
use crate::settings::Settings;

pub use wharf_sdk::http::Transport;

/// Unix ms → `YYYY-MM-DDTHH:MM:SS` (GMT, no offset: sent with `dates_are_gmt=true`).
pub fn format_gmt(ms: i64) -> String {
    format_rfc3339(ms).trim_end_matches('Z').to_string()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn call(
    settings: &Settings,
    creds: &Credentials,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<Vec<u8>>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Response, ConnectorError> {
    let url = format!("{}{path}", settings.api_base());
    call_url(creds, method, &url, params, body, now_ms, send)
}

/// One authenticated request to `url` (any REST namespace of the site), with an optional
/// JSON body.
pub(crate) fn call_url(
    creds: &Credentials,
    method: &str,
    url: &str,
    params: &[(&str, &str)],
    body: Option<Vec<u8>>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Response, ConnectorError> {
    let url = url.to_string();
    // The nonce covers the method and parameters too: under a frozen clock (the harness)
    // every call restarts the counter, and two pages of one listing share the URL.
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let nonce = auth::nonce(
        creds,
        now_ms,
        &format!("{method} {url}?{}", query.join("&")),
    );
    let mut req = auth::request(method, &url, params, creds, now_ms, &nonce);
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json");
        req.body = body;
    }
    send(req)
}

/// The list query of one pull call: page 1 of the orders modified in
/// `[after, horizon]` (whole seconds), oldest first, without the `seen` ids.
pub fn list_params(settings: &Settings, cur: &Cursor, horizon: i64) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("status", "any".to_string()),
        ("dates_are_gmt", "true".to_string()),
        // WooCommerce's `after`/`before` are exclusive: widen by one second each side.
        ("modified_after", format_gmt(cur.after - 1000)),
        ("modified_before", format_gmt(horizon + 1000)),
        ("orderby", "modified".to_string()),
        ("order", "asc".to_string()),
        ("per_page", settings.page_size.to_string()),
        ("page", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if !cur.seen.is_empty() {
        let ids: Vec<String> = cur.seen.iter().map(u64::to_string).collect();
        p.push(("exclude".into(), ids.join(",")));
    }
    p
}

/// Read one page of orders changed since the cursor.
///
/// Orders at seconds before `after` or listed in `seen` (which a correct server never
/// returns) are dropped. `more` is true while `X-WP-Total` reports more orders than the
/// page holds. When the range is exhausted the cursor moves to the horizon.
pub fn pull_orders(
    settings: &Settings,
    creds: &Credentials,
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Page, ConnectorError> {
    let cur = match cursor {
        Some(raw) => Cursor::decode(raw)?,
        None => cursor::initial(now_ms, settings.lookback_days),
    };
    let horizon = cursor::horizon(now_ms, settings.safety_lag_seconds);
    if horizon < cur.after {
        // Caught up: nothing closed yet past `after`.
        return Ok(Page {
            orders: Vec::new(),
            cursor: Some(cur.encode()),
            more: false,
        });
    }
    let params = list_params(settings, &cur, horizon);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = auth::check(call(
        settings, creds, "GET", "/orders", &refs, None, now_ms, send,
    )?)?;
    let raws: Vec<Box<RawValue>> = resp.json()?;
    let total = resp
        .header("x-wp-total")
        .and_then(|t| t.trim().parse::<usize>().ok());
    let seen: BTreeSet<u64> = cur.seen.iter().copied().collect();
    let mut orders = Vec::with_capacity(raws.len());
    for raw in &raws {
        let order = mapping::order_from_str(raw.get())?;
        let sec = cursor::floor_sec(order.updated_at);
        let id = order.external_id.parse::<u64>().unwrap_or(0);
        if sec < cur.after || (sec == cur.after && seen.contains(&id)) {
            continue;
        }
        orders.push(order);
    }
    if !raws.is_empty() && orders.is_empty() {
        return Err(ConnectorError::Permanent(
            "GET /orders returned only orders before the cursor: the site ignores \
             modified_after/exclude, so a keyset pull cannot advance"
                .into(),
        ));
    }
    let more = match total {
        Some(t) => t > raws.len(),
        None => raws.len() >= settings.page_size as usize,
    };
    // The newest second delivered, and the ids delivered at it.
    let mut next = if more {
        let newest = orders
            .iter()
            .map(|o| cursor::floor_sec(o.updated_at))
            .max()
            .unwrap_or(cur.after);
        Cursor {
            after: newest,
            seen: Vec::new(),
        }
    } else {
        Cursor {
            after: horizon,
            seen: Vec::new(),
        }
    };
    if next.after == cur.after {
        next.seen = cur.seen.clone();
    }
    for o in &orders {
        if cursor::floor_sec(o.updated_at) == next.after {
            if let Ok(id) = o.external_id.parse::<u64>() {
                if !next.seen.contains(&id) {
                    next.seen.push(id);
                }
            }
        }
    }
    if next.seen.len() > cursor::MAX_SEEN {
        return Err(ConnectorError::Permanent(format!(
            "more than {} orders share the modified second {}: the keyset cannot page them",
            cursor::MAX_SEEN,
            format_gmt(next.after)
        )));
    }
    Ok(Page {
        orders,
        cursor: Some(next.encode()),
        more,
    })
}

/// Read one order as WooCommerce has it now; an unknown id is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    external_id: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    if external_id.is_empty()
        || external_id.len() > 20
        || !external_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ConnectorError::InvalidInput(format!(
            "{external_id:?} is not a WooCommerce order id (digits only)"
        )));
    }
    let path = format!("/orders/{external_id}");
    let resp = call(settings, creds, "GET", &path, &[], None, now_ms, send)?;
    if resp.status == 404 {
        // `woocommerce_rest_shop_order_invalid_id` (or a deleted order).
        return Ok(None);
    }
    let resp = auth::check(resp)?;
    let text = std::str::from_utf8(&resp.body)
        .map_err(|e| ConnectorError::InvalidInput(format!("order {external_id}: {e}")))?;
    mapping::order_from_str(text).map(Some)
}

/// Where a channel-sku points: `product_id` or `product_id/variation_id`.
pub fn stock_path(channel_sku: &str) -> Option<String> {
    let digits = |s: &str| {
        !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) && s != "0"
    };
    match channel_sku.trim().split_once('/') {
        None if digits(channel_sku.trim()) => Some(format!("/products/{}", channel_sku.trim())),
        Some((p, v)) if digits(p) && digits(v) => Some(format!("/products/{p}/variations/{v}")),
        _ => None,
    }
}

/// Set each listing's stock: `PUT /products/{id}` (or `/products/{id}/variations/{vid}`)
/// with `{"manage_stock": true, "stock_quantity": N}` (negative available is sent as 0).
/// A listing WooCommerce refuses (unknown product, bad channel-sku, 400/404) is a failed
/// result; 401/403, 429 and 5xx fail the whole call.
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
        let Some(path) = stock_path(&level.channel_sku) else {
            results.push(result(
                false,
                format!(
                    "channel-sku {:?} is not product_id or product_id/variation_id",
                    level.channel_sku
                ),
            ));
            continue;
        };
        let quantity = level.available.max(0);
        let body = serde_json::json!({"manage_stock": true, "stock_quantity": quantity});
        let resp = call(
            settings,
            creds,
            "PUT",
            &path,
            &[],
            Some(body.to_string().into_bytes()),
            now_ms,
            send,
        )?;
        match resp.status {
            200..=299 => results.push(result(true, format!("stock_quantity set to {quantity}"))),
            400 | 404 | 409 | 410 => {
                let why = WcError::of(&resp)
                    .map(|e| format!("{}: {}", e.code, e.message))
                    .unwrap_or_else(|| format!("HTTP {}", resp.status));
                results.push(result(false, format!("{path}: {why}")));
            }
            _ => {
                auth::check(resp)?;
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
