//! `confirm-shipment` on doudian: `order.logisticsAdd` (`order_id` = the shop order,
//! `company_code` = doudian's company code, `logistics_code` = the tracking number) for
//! the whole order. Split shipments (`order.logisticsAddMultiPack`) are not sent: a
//! shipment naming some sku orders only is `invalid-input`.
//!
//! Idempotent at the platform: the order is read first (`order.orderDetail`) and decided
//! by `wharf_sdk::shipment::decide` against its `logistics_info[].tracking_no`. If
//! doudian refuses the send with a business failure (shipped meanwhile), the order is read
//! again and decided once more.

use serde_json::{json, Value};
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Transport;
use wharf_sdk::shipment::{self, Decision};
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::ORDER_DETAIL;
use crate::doudian::{self, Answer, Credentials};
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
    let req = doudian::request(
        &settings.api_url,
        creds,
        ORDER_DETAIL,
        &json!({ "shop_order_id": id }),
        now_ms,
    );
    let detail = match doudian::read_answer(ORDER_DETAIL, send(req)?)? {
        Answer::Err(e) if e.is_not_found() => {
            return Err(ConnectorError::InvalidInput(format!(
                "Douyin order {id} does not exist"
            )))
        }
        Answer::Err(e) => return Err(e.to_connector_error()),
        Answer::Ok(mut data) => match data.get_mut("shop_order_detail").map(Value::take) {
            Some(o) if o.is_object() => o,
            _ => {
                return Err(ConnectorError::InvalidInput(format!(
                    "{ORDER_DETAIL}: the answer has no shop_order_detail"
                )))
            }
        },
    };
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
    if id.is_empty() || id.len() > 24 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{id:?} is not a doudian order id (digits only)"
        )));
    }
    let tracking = shipment::tracking_number("Douyin", s)?;
    let company = carriers.code(&s.carrier)?;
    if read_and_decide(settings, creds, s, now_ms, send)? == Decision::Done {
        return Ok(());
    }
    let params = json!({"order_id": id, "company_code": company, "logistics_code": tracking});
    let req = doudian::request(&settings.api_url, creds, LOGISTICS_ADD, &params, now_ms);
    match doudian::read_answer(LOGISTICS_ADD, send(req)?)? {
        Answer::Ok(_) => Ok(()),
        Answer::Err(e) => match e.to_connector_error() {
            ConnectorError::Permanent(why) => {
                match read_and_decide(settings, creds, s, now_ms, send)? {
                    Decision::Done => Ok(()),
                    Decision::Send => Err(ConnectorError::Permanent(why)),
                }
            }
            other => Err(other),
        },
    }
}
