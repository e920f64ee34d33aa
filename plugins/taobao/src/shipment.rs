//! `confirm-shipment` on TOP: `taobao.logistics.offline.send` (the seller ships with a
//! carrier of their own: `tid`, `out_sid` = tracking number, `company_code`), split per
//! sub-order with `is_split=1` + `sub_tid` when the shipment names some of the trade's
//! sub-orders.
//!
//! Idempotent at the platform: the trade is read first (`taobao.trade.fullinfo.get`) and
//! [`decide`] compares it with the shipment. Sub-orders already shipped with the same
//! tracking number (`orders.order[].invoice_no`) are done; with another number the call
//! is `permanent`; a trade that cannot ship (unpaid, closed, refunded sub-order) is
//! `invalid-input` naming the tid and TOP's status. When TOP still refuses the send with
//! `isv.logistics-offline-service-error:B04` (the trade shipped or closed meanwhile), the
//! trade is read again and decided once more.

use serde_json::Value;
use wharf_sdk::carrier::Carriers;
use wharf_sdk::http::Transport;
use wharf_sdk::types::{ConnectorError, Shipment};

use crate::api::FULLINFO_GET;
use crate::settings::Settings;
use crate::top::{self, Answer, Credentials};

pub const OFFLINE_SEND: &str = "taobao.logistics.offline.send";
/// TOP's answer to a send for a trade that already shipped or is closed.
pub const ALREADY_SHIPPED: &str = "isv.logistics-offline-service-error:B04";
/// The trade fields the decision reads.
const FIELDS: &str = "tid,status,orders";

/// Canonical Wharf carrier → TOP `company_code` (from `taobao.logistics.companies.get`;
/// the international codes are unverified).
pub const CARRIERS: &[(&str, &str)] = &[
    ("SF", "SF"),
    ("YTO", "YTO"),
    ("ZTO", "ZTO"),
    ("STO", "STO"),
    ("YUNDA", "YUNDA"),
    ("JD", "JD"),
    ("EMS", "EMS"),
    ("BEST", "HTKY"),
    ("UPS", "UPS"),
    ("FEDEX", "FEDEX"),
    ("DHL", "DHL"),
    ("USPS", "USPS"),
];

/// The carrier table with the installation's `carrier_codes` override.
pub fn carriers(overrides: Option<&str>) -> Result<Carriers, ConnectorError> {
    Carriers::new("Taobao", CARRIERS).with_overrides(overrides)
}

/// Trade statuses that can take a shipment.
const SHIPPABLE: [&str; 2] = ["WAIT_SELLER_SEND_GOODS", "SELLER_CONSIGNED_PART"];
/// Sub-order statuses that mean the sub-order left the warehouse.
const SHIPPED: [&str; 3] = [
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
];

/// What to do with a shipment, given the trade as TOP has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Everything named already shipped with this tracking number.
    Done,
    /// Send these sub-orders; `split` when they are not the whole trade.
    Send { oids: Vec<String>, split: bool },
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Compare the shipment with the trade (see the module doc).
pub fn decide(trade: &Value, shipment: &Shipment) -> Result<Decision, ConnectorError> {
    let tid = &shipment.external_order_id;
    let status = text(&trade["status"]);
    let subs: Vec<&Value> = trade["orders"]["order"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let oid = |o: &Value| text(&o["oid"]);
    let targets: Vec<&Value> = if shipment.line_ids.is_empty() {
        subs.clone()
    } else {
        let mut picked = Vec::new();
        for id in &shipment.line_ids {
            let id = id.trim();
            match subs.iter().find(|o| oid(o) == id) {
                Some(o) => picked.push(*o),
                None => {
                    return Err(ConnectorError::InvalidInput(format!(
                        "Taobao trade {tid} has no sub-order (oid) {id:?}"
                    )))
                }
            }
        }
        picked
    };
    let mut pending = Vec::new();
    for o in &targets {
        let sub_status = text(&o["status"]);
        let invoice = text(&o["invoice_no"]);
        if SHIPPED.contains(&sub_status.as_str()) || !invoice.is_empty() {
            if invoice != shipment.tracking_number.trim() {
                return Err(ConnectorError::Permanent(format!(
                    "Taobao trade {tid} sub-order {} already shipped ({sub_status}) with \
                     tracking number {invoice:?}, not {:?}",
                    oid(o),
                    shipment.tracking_number
                )));
            }
        } else if sub_status.starts_with("TRADE_CLOSED") {
            return Err(ConnectorError::InvalidInput(format!(
                "Taobao trade {tid} sub-order {} is {sub_status} (refund {}): it cannot ship",
                oid(o),
                text(&o["refund_status"])
            )));
        } else {
            pending.push(oid(o));
        }
    }
    if pending.is_empty() && !targets.is_empty() {
        return Ok(Decision::Done);
    }
    if !SHIPPABLE.contains(&status.as_str()) {
        return Err(ConnectorError::InvalidInput(format!(
            "Taobao trade {tid} is {status}: it cannot ship"
        )));
    }
    let split = pending.len() < subs.len();
    Ok(Decision::Send {
        oids: pending,
        split,
    })
}

fn read_trade(
    settings: &Settings,
    creds: &Credentials,
    tid: &str,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<Value, ConnectorError> {
    let req = top::request(
        &settings.api_url,
        creds,
        FULLINFO_GET,
        &[("fields", FIELDS), ("tid", tid)],
        now_ms,
    );
    match top::read_answer(FULLINFO_GET, send(req)?)? {
        Answer::Err(e) if e.sub_code.as_deref() == Some("isv.trade-not-exist") => Err(
            ConnectorError::InvalidInput(format!("Taobao trade {tid} does not exist")),
        ),
        Answer::Err(e) => Err(e.to_connector_error()),
        Answer::Ok(mut body) => match body.get_mut("trade").map(Value::take) {
            Some(t) if t.is_object() => Ok(t),
            _ => Err(ConnectorError::InvalidInput(format!(
                "{FULLINFO_GET}: the answer has no trade"
            ))),
        },
    }
}

/// Report a shipment to Taobao (see the module doc).
pub fn confirm_shipment(
    settings: &Settings,
    creds: &Credentials,
    carriers: &Carriers,
    shipment: &Shipment,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<(), ConnectorError> {
    let tid = shipment.external_order_id.trim();
    if tid.is_empty() || tid.len() > 20 || !tid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::InvalidInput(format!(
            "{tid:?} is not a Taobao tid (digits only)"
        )));
    }
    let tracking = shipment.tracking_number.trim();
    if tracking.is_empty() {
        return Err(ConnectorError::InvalidInput(format!(
            "Taobao trade {tid}: the tracking number is empty"
        )));
    }
    let company = carriers.code(&shipment.carrier)?;
    let trade = read_trade(settings, creds, tid, now_ms, send)?;
    let Decision::Send { oids, split } = decide(&trade, shipment)? else {
        return Ok(());
    };
    let sub_tid = oids.join(",");
    let mut params = vec![
        ("tid", tid),
        ("out_sid", tracking),
        ("company_code", company),
    ];
    if split {
        params.extend([("is_split", "1"), ("sub_tid", sub_tid.as_str())]);
    }
    let req = top::request(&settings.api_url, creds, OFFLINE_SEND, &params, now_ms);
    match top::read_answer(OFFLINE_SEND, send(req)?)? {
        Answer::Ok(body) if body["shipping"]["is_success"] == Value::Bool(true) => Ok(()),
        Answer::Ok(body) => Err(ConnectorError::Permanent(format!(
            "{OFFLINE_SEND} for trade {tid} did not succeed: {body}"
        ))),
        Answer::Err(e) if e.sub_code.as_deref() == Some(ALREADY_SHIPPED) => {
            // Shipped or closed since we read it: decide on what TOP has now.
            let trade = read_trade(settings, creds, tid, now_ms, send)?;
            match decide(&trade, shipment)? {
                Decision::Done => Ok(()),
                Decision::Send { .. } => Err(e.to_connector_error()),
            }
        }
        Answer::Err(e) => Err(e.to_connector_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shipment(lines: &[&str], tracking: &str) -> Shipment {
        Shipment {
            external_order_id: "7".into(),
            line_ids: lines.iter().map(|s| s.to_string()).collect(),
            carrier: "SF".into(),
            tracking_number: tracking.into(),
            shipped_at: 0,
        }
    }

    fn trade(status: &str, subs: Value) -> Value {
        json!({"tid": 7, "status": status, "orders": {"order": subs}})
    }

    // A paid trade sends every sub-order unsplit, or the named ones split.
    #[test]
    fn a_paid_trade_is_sent_whole_or_split() {
        let t = trade(
            "WAIT_SELLER_SEND_GOODS",
            json!([{"oid": 71, "status": "WAIT_SELLER_SEND_GOODS"},
                   {"oid": "72", "status": "WAIT_SELLER_SEND_GOODS"}]),
        );
        assert_eq!(
            decide(&t, &shipment(&[], "SF1")).unwrap(),
            Decision::Send {
                oids: vec!["71".into(), "72".into()],
                split: false
            }
        );
        assert_eq!(
            decide(&t, &shipment(&["72"], "SF1")).unwrap(),
            Decision::Send {
                oids: vec!["72".into()],
                split: true
            }
        );
        assert!(matches!(decide(&t, &shipment(&["99"], "SF1")),
            Err(ConnectorError::InvalidInput(m)) if m.contains("99")));
    }

    // Shipped with the same number is done; another number is permanent; the rest of a
    // partly shipped trade is sent split.
    #[test]
    fn shipped_sub_orders_compare_tracking_numbers() {
        let t = trade(
            "SELLER_CONSIGNED_PART",
            json!([{"oid": 71, "status": "WAIT_BUYER_CONFIRM_GOODS", "invoice_no": "SF1"},
                   {"oid": 72, "status": "WAIT_SELLER_SEND_GOODS"}]),
        );
        assert_eq!(
            decide(&t, &shipment(&["71"], "SF1")).unwrap(),
            Decision::Done
        );
        assert!(matches!(decide(&t, &shipment(&["71"], "SF2")),
            Err(ConnectorError::Permanent(m)) if m.contains("SF1") && m.contains("SF2")));
        assert_eq!(
            decide(&t, &shipment(&[], "SF1")).unwrap(),
            Decision::Send {
                oids: vec!["72".into()],
                split: true
            }
        );
    }

    // A closed or unpaid trade cannot ship: invalid-input naming the tid and status.
    #[test]
    fn closed_trades_cannot_ship() {
        for (status, sub) in [
            ("TRADE_CLOSED", "TRADE_CLOSED"),
            ("TRADE_CLOSED_BY_TAOBAO", "TRADE_CLOSED_BY_TAOBAO"),
            ("WAIT_BUYER_PAY", "WAIT_BUYER_PAY"),
        ] {
            let t = trade(status, json!([{"oid": 71, "status": sub}]));
            assert!(
                matches!(decide(&t, &shipment(&[], "SF1")),
                    Err(ConnectorError::InvalidInput(m)) if m.contains('7') && m.contains(sub)),
                "{status}"
            );
        }
    }
}
