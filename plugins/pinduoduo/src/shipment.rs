//! `confirm-shipment` on PDD: `pdd.logistics.online.send` (`order_sn`, `logistics_id` =
//! PDD's numeric company id, `tracking_number`). PDD ships whole orders: `line-ids` must
//! be empty or name every line.
//!
//! Idempotent at the platform: the order is read first (`pdd.order.information.get`),
//! mapped, and decided by `wharf_sdk::shipment::decide` against its `tracking_number`
//! (same number → ok without a send; another → `permanent`; awaiting payment, cancelled
//! or refunded → `invalid-input` naming PDD's codes). If PDD refuses the send with a
//! business error (shipped meanwhile), the order is read again and decided once more.

use serde_json::Value;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::shipment::{self, Decision};
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::{self, is_order_sn};
use crate::mapping;
use crate::router::{self, Credentials, Transport};
use crate::settings::Settings;

pub const SEND_API: &str = "pdd.logistics.online.send";
const SEND_KEY: &str = "logistics_online_send_response";

/// Canonical Wharf carrier → PDD `logistics_id` (from `pdd.logistics.companies.get`;
/// unverified against the live list: check yours and override with `carrier_codes`).
/// PDD is a domestic platform: international carriers have no entry.
pub const CARRIERS: &[(&str, &str)] = &[
    ("STO", "1"),
    ("BEST", "3"),
    ("SF", "44"),
    ("YTO", "85"),
    ("ZTO", "115"),
    ("EMS", "118"),
    ("JD", "120"),
    ("YUNDA", "121"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("PDD", CARRIERS).with_overrides(overrides)
}

/// Read the order and decide; an unknown order is `invalid-input`.
fn read_and_decide(
    settings: &Settings,
    creds: &Credentials,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Decision, ConnectorError> {
    let sn = s.external_order_id.trim();
    let text = api::order_info_text(settings, creds, sn, now_ms, send)?
        .ok_or_else(|| ConnectorError::InvalidInput(format!("PDD order {sn} does not exist")))?;
    let order = mapping::order_from_str(&text)?;
    let raw: Value = serde_json::from_str(&text)
        .map_err(|e| ConnectorError::InvalidInput(format!("PDD order {sn}: {e}")))?;
    let shipped_with: Vec<String> = raw
        .get("tracking_number")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(|t| vec![t.to_string()])
        .unwrap_or_default();
    shipment::decide("PDD", &order, &shipped_with, s)
}

/// Report a shipment to PDD (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let sn = s.external_order_id.trim();
    if !is_order_sn(sn) {
        return Err(ConnectorError::InvalidInput(format!(
            "{sn:?} is not a PDD order number (YYMMDD-digits)"
        )));
    }
    let tracking = shipment::tracking_number("PDD", s)?;
    let logistics_id = carriers.code(&s.carrier)?;
    shipment::confirm_once(
        send,
        |send| read_and_decide(settings, creds, s, now_ms, send),
        |send| {
            let params = [
                ("order_sn", sn.to_string()),
                ("logistics_id", logistics_id.to_string()),
                ("tracking_number", tracking.to_string()),
            ];
            let now_s = now_ms.div_euclid(1000);
            let body = router::call(&settings.api_url, creds, SEND_API, &params, now_s, send)?;
            let part = router::response_part(&body, SEND_KEY)?;
            let v: Value = serde_json::from_str(part.get())
                .map_err(|e| ConnectorError::InvalidInput(format!("{SEND_API} response: {e}")))?;
            if v["is_success"] == Value::Bool(true) {
                Ok(())
            } else {
                Err(ConnectorError::Permanent(format!(
                    "{SEND_API} for order {sn} did not succeed: {v}"
                )))
            }
        },
    )
}
