//! `confirm-shipment` on SP-API: Orders API v0 `confirmShipment`,
//! `POST /orders/v0/orders/{orderId}/shipmentConfirmation` with `marketplaceId` and one
//! `packageDetail {packageReferenceId, carrierCode, carrierName?, trackingNumber,
//! shipDate, orderItems[{orderItemId, quantity}]}`; Amazon answers 204.
//!
//! The order and its items are read first (`getOrder`, `getOrderItems`): `Canceled`,
//! `Pending`, `PendingAvailability`, `Unfulfillable` and `InvoiceUnconfirmed` cannot ship
//! (`invalid-input` naming the order and status). The package holds the named items (all
//! when `line-ids` is empty; a line id is an `OrderItemId`) with their unshipped quantity
//! (`QuantityOrdered − QuantityShipped`; the ordered quantity when nothing is left, i.e.
//! a repeat).
//!
//! Idempotent at the platform: the Orders API does not show tracking numbers, so the
//! `packageReferenceId` is derived from the tracking number ([`package_reference_id`]):
//! confirming the same tracking number again names the same package, which Amazon
//! updates in place (204). Another tracking number on an order whose items already
//! shipped is a new package Amazon refuses (400): `permanent` with Amazon's message.
//! (That Amazon treats a repeated `packageReferenceId` as an update is how its
//! documentation reads; unverified against the live API.)

use serde_json::{json, Value};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Transport;
use wharf_sdk::shipment::tracking_number;
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::{access_token, is_order_id, order_items, GET_ORDER};
use crate::settings::Settings;
use crate::spapi::{self, format_time, Credentials};

pub const CONFIRM_SHIPMENT: &str = "confirmShipment";

/// Canonical Wharf carrier → Amazon `carrierCode`, or `Other:<carrierName>` for a carrier
/// Amazon's list does not name (the Chinese carriers' names are unverified; override with
/// `carrier_codes`).
pub const CARRIERS: &[(&str, &str)] = &[
    ("UPS", "UPS"),
    ("USPS", "USPS"),
    ("FEDEX", "FedEx"),
    ("DHL", "DHL"),
    ("SF", "Other:SF Express"),
    ("YTO", "Other:YTO Express"),
    ("ZTO", "Other:ZTO Express"),
    ("STO", "Other:STO Express"),
    ("YUNDA", "Other:Yunda Express"),
    ("JD", "Other:JD Logistics"),
    ("EMS", "Other:China Post EMS"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("Amazon", CARRIERS).with_overrides(overrides)
}

/// Statuses in which an order cannot ship.
const CANNOT_SHIP: [&str; 5] = [
    "Canceled",
    "Pending",
    "PendingAvailability",
    "Unfulfillable",
    "InvoiceUnconfirmed",
];

/// A positive number (1 … 999,999,999) fixed by the tracking number (FNV-1a), so the
/// same tracking number always names the same package of an order.
pub fn package_reference_id(tracking: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tracking.trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 999_999_999 + 1).to_string()
}

fn quantity(item: &Value, key: &str) -> i64 {
    match &item[key] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Report a shipment to Amazon (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    s: &Shipment,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let id = s.external_order_id.trim();
    if !is_order_id(id) {
        return Err(ConnectorError::InvalidInput(format!(
            "{id:?} is not an Amazon order id (NNN-NNNNNNN-NNNNNNN)"
        )));
    }
    let tracking = tracking_number("Amazon", s)?;
    let (carrier_code, carrier_name) = match carriers.code(&s.carrier)?.split_once(':') {
        Some((code, name)) => (code.to_string(), Some(name.to_string())),
        None => (carriers.code(&s.carrier)?.to_string(), None),
    };
    let token = access_token(settings, creds, send)?;
    let url = format!("{}/orders/v0/orders/{id}", settings.endpoint);
    let resp = send(spapi::request("GET", url.clone(), &token))?;
    if spapi::is_not_found(&resp) {
        return Err(ConnectorError::InvalidInput(format!(
            "Amazon order {id} does not exist"
        )));
    }
    let mut body = spapi::read(GET_ORDER, resp)?;
    let order = body["payload"].take();
    let status = order["OrderStatus"].as_str().unwrap_or("").to_string();
    if CANNOT_SHIP.contains(&status.as_str()) {
        return Err(ConnectorError::InvalidInput(format!(
            "Amazon order {id} is {status}: it cannot ship"
        )));
    }
    let marketplace = order["MarketplaceId"].as_str().unwrap_or("").to_string();
    let items = order_items(settings, &token, id, send)?;
    let item_id = |i: &Value| i["OrderItemId"].as_str().unwrap_or("").to_string();
    let named: Vec<&Value> = if s.line_ids.is_empty() {
        items.iter().collect()
    } else {
        let mut picked = Vec::new();
        for l in &s.line_ids {
            match items.iter().find(|i| item_id(i) == l.trim()) {
                Some(i) => picked.push(i),
                None => {
                    return Err(ConnectorError::InvalidInput(format!(
                        "Amazon order {id} has no OrderItemId {l:?}"
                    )))
                }
            }
        }
        picked
    };
    let unshipped: Vec<(String, i64)> = named
        .iter()
        .map(|i| {
            (
                item_id(i),
                quantity(i, "QuantityOrdered") - quantity(i, "QuantityShipped"),
            )
        })
        .filter(|(_, q)| *q > 0)
        .collect();
    let package_items: Vec<Value> = if unshipped.is_empty() {
        named
            .iter()
            .map(|i| json!({"orderItemId": item_id(i), "quantity": quantity(i, "QuantityOrdered")}))
            .collect()
    } else {
        unshipped
            .iter()
            .map(|(i, q)| json!({"orderItemId": i, "quantity": q}))
            .collect()
    };
    let mut package = json!({
        "packageReferenceId": package_reference_id(tracking),
        "carrierCode": carrier_code,
        "trackingNumber": tracking,
        "shipDate": format_time(s.shipped_at),
        "orderItems": package_items,
    });
    if let Some(name) = carrier_name {
        package["carrierName"] = json!(name);
    }
    let body = json!({"marketplaceId": marketplace, "packageDetail": package});
    let mut req = spapi::request("POST", format!("{url}/shipmentConfirmation"), &token)
        .header("content-type", "application/json");
    req.body = body.to_string().into_bytes();
    let resp = send(req)?;
    if (200..300).contains(&resp.status) {
        return Ok(());
    }
    match spapi::read(CONFIRM_SHIPMENT, resp) {
        Err(ConnectorError::InvalidInput(m))
            if matches!(status.as_str(), "Shipped" | "PartiallyShipped") =>
        {
            Err(ConnectorError::Permanent(format!(
                "Amazon order {id} is {status} and refused package {tracking:?}: {m}"
            )))
        }
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The package reference is positive, fixed by the tracking number, and differs
    // between numbers.
    #[test]
    fn package_references_follow_the_tracking_number() {
        let a = package_reference_id("1Z999AA10123456784");
        assert_eq!(a, package_reference_id(" 1Z999AA10123456784 "));
        assert_ne!(a, package_reference_id("1Z999AA10123456785"));
        let n: u64 = a.parse().unwrap();
        assert!((1..=999_999_999).contains(&n));
    }
}
