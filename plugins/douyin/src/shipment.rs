//! `confirm-shipment` on doudian: `order.logisticsAdd` (`order_id` = the shop order,
//! `company_code` = doudian's company code, `logistics_code` = the tracking number) for
//! the whole order. Split shipments (`order.logisticsAddMultiPack`) are not sent: a
//! shipment naming some sku orders only is `invalid-input`.
//!
//! Idempotent at the platform: the order is read first (`order.orderDetail`) and decided
//! by `wharf_sdk::shipment::decide` against its `logistics_info[].tracking_no`. If
//! doudian refuses the send with a business failure (shipped meanwhile), the order is read
//! again and decided once more.

use serde_json::json;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Transport;
use wharf_sdk::shipment::{self, Decision};
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api;
use crate::doudian::{self, Credentials};
use crate::mapping;
use crate::settings::Settings;

pub const LOGISTICS_ADD: &str = "order.logisticsAdd";

/// Canonical Wharf carrier → doudian `company_code` (from `order.logisticsCompanyList`;
/// unverified against the live list: override with `carrier_codes`).
pub const CARRIERS: &[(&str, &str)] = &[
    ("SF", "shunfeng"),
    ("YTO", "yuantong"),
    ("ZTO", "zhongtong"),
    ("STO", "shentong"),
    ("YUNDA", "yunda"),
    ("JD", "jd"),
    ("EMS", "ems"),
    ("BEST", "huitongkuaidi"),
    ("JTSD", "jtexpress"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("Douyin", CARRIERS).with_overrides(overrides)
}

fn read_and_decide(
    settings: &Settings,
    creds: &Credentials,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Decision, ConnectorError> {
    let id = s.external_order_id.trim();
    let detail = api::order_detail(settings, creds, id, now_ms, send)?
        .ok_or_else(|| ConnectorError::InvalidInput(format!("Douyin order {id} does not exist")))?;
    let order = mapping::order_from_json(&detail)?;
    let shipped_with: Vec<String> = detail["logistics_info"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|l| l["tracking_no"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    shipment::decide("Douyin", &order, &shipped_with, s)
}

/// Report a shipment to doudian (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    s: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let id = s.external_order_id.trim();
    let tracking = shipment::tracking_number("Douyin", s)?;
    let company = carriers.code(&s.carrier)?;
    shipment::confirm_once(
        send,
        |send| read_and_decide(settings, creds, s, now_ms, send),
        |send| {
            let params =
                json!({"order_id": id, "company_code": company, "logistics_code": tracking});
            let req = doudian::request(&settings.api_url, creds, LOGISTICS_ADD, &params, now_ms);
            doudian::read_response(LOGISTICS_ADD, send(req)?).map(|_| ())
        },
    )
}
