//! `confirm-shipment` on JOS: `jingdong.pop.order.shipment` (SOP stock-out: `orderId`,
//! `logiCoprId` = JD's numeric carrier id, `logiNo` = the waybill number) for the whole
//! order. JD ships whole orders: `line-ids` must be empty or name every line.
//!
//! Idempotent at the platform: the order is read first (`jingdong.pop.order.get` with
//! `waybill`) and decided by `wharf_sdk::shipment::decide`; an order JD holds (`LOCKED`,
//! `PAUSE`, `POP_ORDER_PAUSE`) is `invalid-input`. If JD refuses the send
//! (`sopjosshipment_result.success` false), the order is read again: shipped with this
//! number meanwhile → ok, otherwise JD's refusal is `permanent`.

use serde_json::{json, Value};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Transport;
use wharf_sdk::shipment::{self, Decision};
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::{self, map_checked};
use crate::jos::{self, text_of, Credentials};
use crate::mapping::ORDER_FIELDS;
use crate::settings::Settings;

pub const SHIPMENT: &str = "jingdong.pop.order.shipment";

/// Canonical Wharf carrier → JD `logiCoprId` (as integrators list them; unverified: a
/// shop can only use the carriers it signed, see 京麦 我的配送, and override with
/// `carrier_codes`).
pub const CARRIERS: &[(&str, &str)] = &[
    ("SF", "467"),
    ("YTO", "463"),
    ("ZTO", "1499"),
    ("STO", "470"),
    ("YUNDA", "1327"),
    ("JD", "2087"),
    ("EMS", "465"),
    ("DBL", "3046"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("JD", CARRIERS).with_overrides(overrides)
}

/// JD states in which an order is held and cannot ship.
const HELD: [&str; 3] = ["LOCKED", "PAUSE", "POP_ORDER_PAUSE"];

fn read_and_decide(
    settings: &Settings,
    creds: &Credentials,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Decision, ConnectorError> {
    let id = s.external_order_id.trim();
    let fields = format!("{ORDER_FIELDS},waybill,logisticsId");
    let info = api::order_info(settings, creds, id, &fields, now_ms, send)?
        .ok_or_else(|| ConnectorError::InvalidInput(format!("JD order {id} does not exist")))?;
    let order = map_checked(settings, &info)?;
    if HELD.contains(&order.raw_status.as_str()) {
        return Err(ConnectorError::InvalidInput(format!(
            "JD order {id} is held by JD ({}): it cannot ship",
            order.raw_status
        )));
    }
    let shipped_with: Vec<String> = info
        .get("waybill")
        .and_then(text_of)
        .map(|w| w.split([',', ';']).map(|t| t.trim().to_string()).collect())
        .unwrap_or_default();
    shipment::decide("JD", &order, &shipped_with, s)
}

/// Report a shipment to JD (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let id = s.external_order_id.trim();
    let tracking = shipment::tracking_number("JD", s)?;
    let copr = carriers.code(&s.carrier)?;
    shipment::confirm_once(
        send,
        |send| read_and_decide(settings, creds, s, now_ms, send),
        |send| {
            let req = jos::request(
                &settings.api_url,
                creds,
                SHIPMENT,
                &json!({"orderId": id, "logiCoprId": copr, "logiNo": tracking}),
                now_ms,
            );
            let body = jos::read_response(SHIPMENT, send(req)?)?;
            let result = &body["sopjosshipment_result"];
            let ok = match result.get("success") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s == "true",
                _ => false,
            };
            if ok {
                return Ok(());
            }
            let field = |k: &str| result.get(k).and_then(text_of).unwrap_or_default();
            Err(ConnectorError::Permanent(format!(
                "{SHIPMENT} refused order {id}: {} {} ({})",
                field("errorCode"),
                field("englishErrCode"),
                field("chineseErrCode")
            )))
        },
    )
}
