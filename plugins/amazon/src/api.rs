//! The SP-API calls: one `getOrders` page per pull (plus `getOrderItems` for each of its
//! orders), `getOrder`, and stock through `patchListingsItem`. Every call first exchanges
//! the refresh token for an access token (one LWA request: plugins are stateless, so the
//! token is not kept between calls). The transport is passed in (`wharf_sdk::http::send`
//! in the plugin, a fake or reqwest in tests), so the paging logic is tested natively.

use serde_json::{json, Value};
use wharf_sdk::http::{encode, Request};
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};

use crate::cursor::{self, Cursor};
use crate::mapping;
use crate::settings::Settings;
use crate::spapi::{self, Credentials};

pub use wharf_sdk::http::Transport;

pub const GET_ORDERS: &str = "getOrders";
pub const GET_ORDER: &str = "getOrder";
pub const GET_ORDER_ITEMS: &str = "getOrderItems";
pub const PATCH_LISTINGS_ITEM: &str = "patchListingsItem";

/// `getOrders` requests one pull call may make while pages bring nothing new (every
/// order on them delivered already).
pub const MAX_LIST_REQUESTS: usize = 5;
/// `getOrderItems` pages read for one order at most.
pub const MAX_ITEM_PAGES: usize = 20;

/// Exchange the refresh token for an access token (one LWA request).
pub fn access_token(
    settings: &Settings,
    creds: &Credentials,
    send: Transport<'_>,
) -> Result<String, ConnectorError> {
    spapi::read_token(send(spapi::token_request(&settings.token_url, creds))?)
}

/// An order id as Amazon writes them: `NNN-NNNNNNN-NNNNNNN`.
pub fn is_order_id(id: &str) -> bool {
    id.len() == 19
        && id.bytes().enumerate().all(|(i, b)| match i {
            3 | 11 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// One `getOrders` page of the query the cursor describes: (orders, NextToken).
pub fn list_page(
    settings: &Settings,
    token: &str,
    cur: &Cursor,
    send: Transport<'_>,
) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
    let before = cur
        .before
        .expect("a window is open before a page is listed");
    let (after_s, before_s) = (spapi::format_time(cur.after), spapi::format_time(before));
    let size = settings.page_size.to_string();
    let markets = settings.marketplace_ids.join(",");
    let mut params: Vec<(&str, &str)> = vec![
        ("MarketplaceIds", &markets),
        ("LastUpdatedAfter", &after_s),
        ("LastUpdatedBefore", &before_s),
        ("MaxResultsPerPage", &size),
    ];
    if let Some(next) = &cur.next {
        params.push(("NextToken", next));
    }
    let url = Request::get(format!("{}/orders/v0/orders", settings.endpoint))
        .query(&params)
        .url;
    let body = spapi::read(GET_ORDERS, send(spapi::request("GET", url, token))?)?;
    let payload = &body["payload"];
    let orders = match &payload["Orders"] {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        other => {
            return Err(ConnectorError::InvalidInput(format!(
                "{GET_ORDERS}: payload.Orders is not a list: {other}"
            )))
        }
    };
    let next = payload["NextToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok((orders, next))
}

/// Every item of an order (`getOrderItems`, following its `NextToken`s).
pub fn order_items(
    settings: &Settings,
    token: &str,
    id: &str,
    send: Transport<'_>,
) -> Result<Vec<Value>, ConnectorError> {
    let base = format!("{}/orders/v0/orders/{id}/orderItems", settings.endpoint);
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_ITEM_PAGES {
        let mut req = Request::get(base.clone());
        if let Some(n) = &next {
            req = req.query(&[("NextToken", n)]);
        }
        let body = spapi::read(
            GET_ORDER_ITEMS,
            send(spapi::request("GET", req.url, token))?,
        )?;
        let payload = &body["payload"];
        match &payload["OrderItems"] {
            Value::Array(a) => items.extend(a.iter().cloned()),
            Value::Null => {}
            other => {
                return Err(ConnectorError::InvalidInput(format!(
                    "{GET_ORDER_ITEMS} of {id}: payload.OrderItems is not a list: {other}"
                )))
            }
        }
        next = payload["NextToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if next.is_none() {
            return Ok(items);
        }
    }
    Err(ConnectorError::Permanent(format!(
        "{GET_ORDER_ITEMS} of {id}: more than {MAX_ITEM_PAGES} pages of items"
    )))
}

fn page(orders: Vec<Order>, cur: &Cursor, more: bool) -> Page {
    Page {
        orders,
        cursor: Some(cur.encode()),
        more,
    }
}

/// Read one page of orders from the cursor (see [`crate::cursor`] for the walk).
///
/// A call with nothing to read (the horizon has not passed the cursor) sends no request.
/// Otherwise: one LWA token, one `getOrders` page (a few more only when a page held
/// nothing new), and `getOrderItems` for each order on it. An expired or refused
/// `NextToken` (400) re-queries the window from the mark in the same call. If an items
/// call fails after some orders of the page were mapped, those orders are returned and
/// the next call resumes from the mark; if it fails before any, the call fails with its
/// error (e.g. rate-limited) and the cursor stays. An order the mapping cannot read fails
/// the whole call with `invalid-input`, so the cursor never moves past it.
pub fn pull_orders(
    settings: &Settings,
    creds: &Credentials,
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Page, ConnectorError> {
    let mut cur = match cursor {
        Some(raw) => Cursor::decode(raw)?,
        None => Cursor::at(cursor::initial_after(now_ms, settings.lookback_days)),
    };
    let horizon = cursor::horizon(now_ms);
    if cur.before.is_none() {
        if horizon <= cur.after {
            // Caught up: nothing older than two minutes past the cursor.
            return Ok(page(Vec::new(), &cur, false));
        }
        cur = Cursor::window(cur.after, horizon);
    }
    let token = access_token(settings, creds, send)?;
    let mut delivered = Vec::new();
    for _ in 0..MAX_LIST_REQUESTS {
        let (orders, next) = match list_page(settings, &token, &cur, send) {
            Err(ConnectorError::InvalidInput(_)) if cur.next.is_some() => {
                // The NextToken expired (or was refused): query again from the mark.
                cur.resume_from_mark();
                continue;
            }
            r => r?,
        };
        for raw in &orders {
            let id = raw["AmazonOrderId"].as_str().unwrap_or("").to_string();
            let updated = spapi::parse_time(
                &format!("Amazon order {id}: LastUpdateDate"),
                raw["LastUpdateDate"].as_str().unwrap_or(""),
            )?;
            if cur.delivered(&id, updated) {
                continue;
            }
            if !is_order_id(&id) {
                return Err(ConnectorError::InvalidInput(format!(
                    "{GET_ORDERS}: {id:?} is not an Amazon order id"
                )));
            }
            let items = match order_items(settings, &token, &id, send) {
                Ok(items) => items,
                Err(e) if delivered.is_empty() => return Err(e),
                Err(_) => {
                    // Keep what is mapped; the next call re-queries from the mark.
                    cur.resume_from_mark();
                    return Ok(page(delivered, &cur, true));
                }
            };
            delivered.push(mapping::order_from_json(raw, &items)?);
            cur.record(&id, updated);
        }
        match next {
            Some(t) => {
                cur.next = Some(t);
                if !delivered.is_empty() {
                    return Ok(page(delivered, &cur, true));
                }
            }
            None => {
                let before = cur.before.expect("a window is open");
                let done = Cursor::at(before);
                return Ok(page(delivered, &done, horizon > before));
            }
        }
    }
    Ok(page(delivered, &cur, true))
}

/// Read one order (and its items) as Amazon has it now; an unknown id is `None`.
pub fn get_order(
    settings: &Settings,
    creds: &Credentials,
    id: &str,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    if !is_order_id(id) {
        return Err(ConnectorError::InvalidInput(format!(
            "{id:?} is not an Amazon order id (NNN-NNNNNNN-NNNNNNN)"
        )));
    }
    let token = access_token(settings, creds, send)?;
    let url = format!("{}/orders/v0/orders/{id}", settings.endpoint);
    let resp = send(spapi::request("GET", url, &token))?;
    if spapi::is_not_found(&resp) {
        return Ok(None);
    }
    let body = spapi::read(GET_ORDER, resp)?;
    let order = &body["payload"];
    if !order.is_object() {
        return Err(ConnectorError::InvalidInput(format!(
            "{GET_ORDER}: the answer has no payload"
        )));
    }
    let items = order_items(settings, &token, id, send)?;
    mapping::order_from_json(order, &items).map(Some)
}

/// The `patchListingsItem` body setting the merchant-fulfilled quantity.
pub fn quantity_patch(quantity: i64) -> Value {
    json!({
        "productType": "PRODUCT",
        "patches": [{
            "op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
        }],
    })
}

/// Set the available quantity of each listing in every configured marketplace. The
/// listing is the level's `channel-sku` (the `SellerSKU`; `sku` when empty); a negative
/// available is sent as 0. Per listing, `ACCEPTED` is ok; `INVALID` (with its issues), a
/// 400 or a 404 is a failed result with the reason; 401/403, 429 and 5xx fail the whole
/// call (the host retries it; setting a quantity is idempotent).
pub fn push_inventory(
    settings: &Settings,
    creds: &Credentials,
    levels: &[StockLevel],
    send: Transport<'_>,
) -> Result<Vec<StockPushResult>, ConnectorError> {
    let seller = settings.seller_id.clone().ok_or_else(|| {
        ConnectorError::InvalidInput(
            "config `seller_id`: the merchant token is required to push inventory".into(),
        )
    })?;
    if levels.is_empty() {
        return Ok(Vec::new());
    }
    let token = access_token(settings, creds, send)?;
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let listing = if level.channel_sku.trim().is_empty() {
            level.sku.trim()
        } else {
            level.channel_sku.trim()
        };
        if listing.is_empty() {
            results.push(StockPushResult {
                sku: level.sku.clone(),
                ok: false,
                message: "no SellerSKU (channel-sku) to push to".into(),
            });
            continue;
        }
        let body = serde_json::to_vec(&quantity_patch(level.available.max(0)))
            .expect("a patch serialises");
        let mut problems = Vec::new();
        for market in &settings.marketplace_ids {
            let url = Request::get(format!(
                "{}/listings/2021-08-01/items/{}/{}",
                settings.endpoint,
                encode(&seller),
                encode(listing)
            ))
            .query(&[("marketplaceIds", market)])
            .url;
            let mut req =
                spapi::request("PATCH", url, &token).header("content-type", "application/json");
            req.body = body.clone();
            let resp = send(req)?;
            if matches!(resp.status, 400 | 404) {
                let what = match spapi::read(PATCH_LISTINGS_ITEM, resp) {
                    Err(ConnectorError::InvalidInput(m)) | Err(ConnectorError::Permanent(m)) => m,
                    other => format!("{other:?}"),
                };
                problems.push(format!("{market}: {what}"));
                continue;
            }
            let answer = spapi::read(PATCH_LISTINGS_ITEM, resp)?;
            match answer["status"].as_str() {
                Some("ACCEPTED") => {}
                status => {
                    let issues: Vec<String> = answer["issues"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| {
                            format!(
                                "{} {}",
                                i["code"].as_str().unwrap_or(""),
                                i["message"].as_str().unwrap_or("")
                            )
                        })
                        .collect();
                    problems.push(format!(
                        "{market}: {} {}",
                        status.unwrap_or("no status"),
                        issues.join("; ")
                    ));
                }
            }
        }
        results.push(StockPushResult {
            sku: level.sku.clone(),
            ok: problems.is_empty(),
            message: problems.join(" | "),
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
