//! `confirm-shipment` on WooCommerce. Core WooCommerce has no tracking field; the
//! convention used is the WooCommerce Shipment Tracking extension's REST API:
//!
//! 1. `GET /wp-json/wc/v3/orders/{id}` and
//!    `GET /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`, decided by
//!    `wharf_sdk::shipment::decide` (completed with this tracking number → ok, nothing
//!    sent; completed with another or none → `permanent`; pending, on-hold, cancelled,
//!    failed, refunded → `invalid-input`; whole orders only);
//! 2. for a `processing` order: `POST …/shipment-trackings {tracking_provider,
//!    tracking_number, date_shipped}` unless the order already carries this number (a
//!    retry after step 3 failed), then `PUT /wp-json/wc/v3/orders/{id} {"status":
//!    "completed"}`.
//!
//! A store without the extension answers 404 `rest_no_route` to the tracking calls:
//! `permanent`, naming the extension.

use serde::Deserialize;
use serde_json::json;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Response;
use wharf_sdk::shipment::{self, Decision};
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::{call, call_url, Transport};
use crate::auth::{self, Credentials, WcError};
use crate::mapping;
use crate::settings::Settings;

/// The Shipment Tracking extension's REST namespace.
pub const TRACKING_NAMESPACE: &str = "/wp-json/wc-shipment-tracking/v3";

/// Canonical Wharf carrier → the extension's `tracking_provider` name (its built-in
/// provider names for UPS, USPS, FedEx, DHL; the others are sent as names the extension
/// shows without a link; unverified, override with `carrier_codes`).
pub const CARRIERS: &[(&str, &str)] = &[
    ("UPS", "UPS"),
    ("USPS", "USPS"),
    ("FEDEX", "Fedex"),
    ("DHL", "DHL US"),
    ("SF", "SF Express"),
    ("YTO", "YTO Express"),
    ("ZTO", "ZTO Express"),
    ("STO", "STO Express"),
    ("YUNDA", "Yunda Express"),
    ("JD", "JD Logistics"),
    ("EMS", "China EMS"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("WooCommerce", CARRIERS).with_overrides(overrides)
}

#[derive(Deserialize)]
struct Tracking {
    #[serde(default)]
    tracking_number: String,
}

fn tracking_url(settings: &Settings, id: &str) -> String {
    format!(
        "{}{TRACKING_NAMESPACE}/orders/{id}/shipment-trackings",
        settings.site_url
    )
}

/// A tracking call's answer, with the missing extension named.
fn tracking_answer(resp: Response) -> Result<Response, ConnectorError> {
    if resp.status == 404 && WcError::of(&resp).is_some_and(|e| e.code == "rest_no_route") {
        return Err(ConnectorError::Permanent(
            "the store has no WooCommerce Shipment Tracking extension \
             (/wp-json/wc-shipment-tracking/v3 is not routed): install it to report \
             tracking numbers"
                .into(),
        ));
    }
    auth::check(resp)
}

/// Report a shipment to WooCommerce (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let id = s.external_order_id.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{id:?} is not a WooCommerce order id (digits only)"
        )));
    }
    let tracking = shipment::tracking_number("WooCommerce", s)?;
    let provider = carriers.code(&s.carrier)?;
    let path = format!("/orders/{id}");
    let resp = call(settings, creds, "GET", &path, &[], None, now_ms, send)?;
    if resp.status == 404 {
        return Err(ConnectorError::InvalidInput(format!(
            "WooCommerce order {id} does not exist"
        )));
    }
    let resp = auth::check(resp)?;
    let text = std::str::from_utf8(&resp.body)
        .map_err(|e| ConnectorError::InvalidInput(format!("order {id}: {e}")))?;
    let order = mapping::order_from_str(text)?;
    let url = tracking_url(settings, id);
    let resp = tracking_answer(call_url(creds, "GET", &url, &[], None, now_ms, send)?)?;
    let items: Vec<Tracking> = serde_json::from_slice(&resp.body).map_err(|e| {
        ConnectorError::InvalidInput(format!("{url}: not a list of tracking items: {e}"))
    })?;
    let shipped_with: Vec<String> = items.into_iter().map(|t| t.tracking_number).collect();
    if shipment::decide("WooCommerce", &order, &shipped_with, s)? == Decision::Done {
        return Ok(());
    }
    if !shipped_with.iter().any(|t| t.trim() == tracking) {
        let body = json!({
            "tracking_provider": provider,
            "tracking_number": tracking,
            "date_shipped": s.shipped_at.div_euclid(1000).to_string(),
        });
        let bytes = Some(body.to_string().into_bytes());
        tracking_answer(call_url(creds, "POST", &url, &[], bytes, now_ms, send)?)?;
    }
    let body = Some(json!({"status": "completed"}).to_string().into_bytes());
    let resp = call(settings, creds, "PUT", &path, &[], body, now_ms, send)?;
    match resp.status {
        200..=299 => Ok(()),
        400 | 409 => Err(ConnectorError::InvalidInput(format!(
            "WooCommerce refused to complete order {id}: {}",
            WcError::of(&resp)
                .map(|e| format!("{}: {}", e.code, e.message))
                .unwrap_or_else(|| format!("HTTP {}", resp.status))
        ))),
        _ => auth::check(resp).map(|_| ()),
    }
}
