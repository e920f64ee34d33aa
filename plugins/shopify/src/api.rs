//! The REST calls: one page of `orders.json` per pull, and `orders/{id}.json`. The
//! transport is passed in (`wharf_sdk::http::send` in the plugin, a fake in tests), so the
//! paging logic is tested natively.

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::http::Request;
use wharf_sdk::time::{format_rfc3339, parse_rfc3339_ms};
use wharf_sdk::types::{ConnectorError, Order, Page, StockLevel, StockPushResult};

use crate::cursor::Cursor;
use crate::mapping;
use crate::settings::Settings;

pub use wharf_sdk::http::Transport;

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize)]
struct OrdersBody {
    orders: Vec<Value>,
}

#[derive(Deserialize)]
struct OrderBody {
    order: Value,
}

fn authed(req: Request, token: &str) -> Request {
    req.header("X-Shopify-Access-Token", token)
        .header("Accept", "application/json")
}

/// Read one page of orders changed since the cursor (see [`crate::cursor`]).
pub fn pull_orders(
    settings: &Settings,
    token: &str,
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Page, ConnectorError> {
    let base = settings.api_base();
    let cursor = match cursor {
        Some(raw) => Cursor::decode(raw, &base)?,
        None => Cursor {
            since: format_rfc3339(now_ms - i64::from(settings.lookback_days) * DAY_MS),
            next: None,
            watermark: None,
        },
    };
    let req = match &cursor.next {
        // On page_info requests Shopify allows only `limit` and `page_info`: the link
        // already carries both.
        Some(next) => Request::get(next.clone()),
        None => Request::get(format!("{base}/orders.json")).query(&[
            ("status", "any"),
            ("updated_at_min", &cursor.since),
            ("limit", &settings.page_size.to_string()),
            ("order", "updated_at asc"),
        ]),
    };
    let resp = send(authed(req, token))?.error_for_status()?;
    let body: OrdersBody = resp.json()?;
    let mut watermark = match &cursor.watermark {
        Some(w) => Some((parse_rfc3339_ms("watermark", w)?, w.clone())),
        None => None,
    };
    let mut orders = Vec::with_capacity(body.orders.len());
    for value in &body.orders {
        let order = mapping::order_from_json(value)?;
        if watermark
            .as_ref()
            .is_none_or(|(ms, _)| order.updated_at > *ms)
        {
            let raw = value["updated_at"].as_str().unwrap_or_default().to_string();
            watermark = Some((order.updated_at, raw));
        }
        orders.push(order);
    }
    let next = resp.next_link();
    let more = next.is_some();
    let cursor = match next {
        Some(next) => Cursor {
            since: cursor.since,
            next: Some(next),
            watermark: watermark.map(|(_, w)| w),
        },
        None => Cursor {
            since: watermark.map(|(_, w)| w).unwrap_or(cursor.since),
            next: None,
            watermark: None,
        },
    };
    Ok(Page {
        orders,
        cursor: Some(cursor.encode()),
        more,
    })
}

/// Read one order as Shopify has it now; an unknown id is `None`.
pub fn get_order(
    settings: &Settings,
    token: &str,
    external_id: &str,
    send: Transport<'_>,
) -> Result<Option<Order>, ConnectorError> {
    if external_id.is_empty() || !external_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{external_id:?} is not a Shopify order id (digits only)"
        )));
    }
    let url = format!("{}/orders/{external_id}.json", settings.api_base());
    let resp = send(authed(Request::get(url), token))?;
    if resp.status == 404 {
        return Ok(None);
    }
    let body: OrderBody = resp.error_for_status()?.json()?;
    mapping::order_from_json(&body.order).map(Some)
}

#[derive(Deserialize)]
struct VariantBody {
    variant: Variant,
}

#[derive(Deserialize)]
struct Variant {
    inventory_item_id: u64,
}

/// Set `available` for each level's variant at the configured location: look up the
/// variant's inventory item (`variants/{id}.json`), then `inventory_levels/set.json`.
/// A variant Shopify does not know (404) or refuses (422) fails that level only; auth,
/// rate-limit and server errors fail the call.
pub fn push_inventory(
    settings: &Settings,
    token: &str,
    levels: &[StockLevel],
    send: Transport<'_>,
) -> Result<Vec<StockPushResult>, ConnectorError> {
    let location = settings.location_id.ok_or_else(|| {
        ConnectorError::InvalidInput(
            "config `location_id` is not set: the shop's stock location is needed to push \
             inventory"
                .into(),
        )
    })?;
    let mut results = Vec::with_capacity(levels.len());
    for level in levels {
        let refuse = |message: String| StockPushResult {
            sku: level.sku.clone(),
            ok: false,
            message,
        };
        if level.channel_sku.is_empty() || !level.channel_sku.bytes().all(|b| b.is_ascii_digit()) {
            results.push(refuse(format!(
                "{:?} is not a Shopify variant id (digits only)",
                level.channel_sku
            )));
            continue;
        }
        let url = format!(
            "{}/variants/{}.json",
            settings.api_base(),
            level.channel_sku
        );
        let resp = send(authed(Request::get(url), token))?;
        if resp.status == 404 {
            results.push(refuse(format!("variant {} not found", level.channel_sku)));
            continue;
        }
        let item = resp
            .error_for_status()?
            .json::<VariantBody>()?
            .variant
            .inventory_item_id;
        let body = serde_json::json!({
            "location_id": location,
            "inventory_item_id": item,
            "available": level.available.max(0),
        });
        let url = format!("{}/inventory_levels/set.json", settings.api_base());
        let req = authed(Request::post(url, body.to_string().into_bytes()), token)
            .header("Content-Type", "application/json");
        let resp = send(req)?;
        if resp.status == 404 || resp.status == 422 {
            let text = String::from_utf8_lossy(&resp.body)
                .chars()
                .take(300)
                .collect();
            results.push(refuse(text));
            continue;
        }
        resp.error_for_status()?;
        results.push(StockPushResult {
            sku: level.sku.clone(),
            ok: true,
            message: String::new(),
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests;
