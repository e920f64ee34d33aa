//! `fetch-settlements` over doudian's settle bills (`order.getSettleBillDetailV3`, by
//! `settle_time`, `time_type` 0): one call reads one page; the next page starts at
//! `next_start_time` with `start_index = next_start_index`, until `is_end = 1`.
//!
//! Mapping of one settle row (a settled sku order, every amount in fen; table in the
//! README), line ids `{request_no}` and `{request_no}:{field}`:
//! - `trade_type` 0 (已结算) → a `sale` line: gross = `real_pay_amount` (what the buyer
//!   paid), fee = `platform_service_fee + commission + good_learn_channel_fee +
//!   colonel_service_fee + channel_promotion_fee + other_sharing_amount`, net =
//!   `settle_amount` − the subsidy lines below (so Σ net of the row's lines is exactly
//!   what doudian settled, and a row that does not add up shows as the sale line's
//!   net ≠ gross − fee: reported by the host, never corrected);
//!   plus one `platform-discount` line per non-zero `platform_coupon`,
//!   `zt_pay_promotion`, `zr_pay_promotion` (platform-funded) and an `adjustment` line
//!   for a non-zero `author_coupon` (the influencer funds it, not the platform);
//! - `trade_type` 1 / 3 (结算后退款) → a `refund` line: net = `settle_amount`, fee = the
//!   fee fields (usually 0), gross = net + fee;
//! - `trade_type` 2 (保证金退款) and anything else → an `adjustment` line of
//!   `settle_amount`.
//!
//! `order-external-id` is `shop_order_id`; `settled-at` is `settle_time` (GMT+8).
//! doudian settles into the shop's account per order: there are no payouts.
//!
//! Cursor: `{"start_time": "yyyy-MM-dd HH:mm:ss", "start_index": "…"}`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wharf_sdk::http::Transport;
use wharf_sdk::time::{format_local, parse_local_ms};
use wharf_sdk::types::{ConnectorError, Money, SettlementKind, SettlementLine, SettlementPage};

use crate::doudian::{self, Credentials};
use crate::mapping::{int_opt, CURRENCY};
use crate::settings::Settings;

pub const SETTLE_BILL_DETAIL: &str = "order.getSettleBillDetailV3";
const GMT8: i64 = 8;
/// The fee fields of a settle row (支出).
pub const FEE_FIELDS: [&str; 6] = [
    "platform_service_fee",
    "commission",
    "good_learn_channel_fee",
    "colonel_service_fee",
    "channel_promotion_fee",
    "other_sharing_amount",
];
/// Subsidy fields → their kind.
pub const SUBSIDY_FIELDS: [(&str, SettlementKind); 4] = [
    ("platform_coupon", SettlementKind::PlatformDiscount),
    ("zt_pay_promotion", SettlementKind::PlatformDiscount),
    ("zr_pay_promotion", SettlementKind::PlatformDiscount),
    ("author_coupon", SettlementKind::Adjustment),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub start_time: String,
    #[serde(default)]
    pub start_index: String,
}

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: CURRENCY.into(),
    }
}

/// The lines of one settle row.
pub fn lines_from_row(row: &Value) -> Result<Vec<SettlementLine>, ConnectorError> {
    let id = row["request_no"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| row["request_no"].as_u64().map(|n| n.to_string()))
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!("settle row without request_no: {row}"))
        })?;
    let fen = |key: &str| -> Result<i64, ConnectorError> {
        Ok(int_opt(row, key, &format!("settle row {id} {key}"))?.unwrap_or(0))
    };
    let settled_at = parse_local_ms(
        &format!("settle row {id} settle_time"),
        row["settle_time"].as_str().unwrap_or_default(),
        GMT8,
    )?;
    let order = row["shop_order_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let line = |line_id: String, kind, gross: i64, fee: i64, net: i64| SettlementLine {
        line_id,
        order_external_id: order.clone(),
        kind,
        gross: cny(gross),
        fee: cny(fee),
        net: cny(net),
        settled_at,
        payout_id: None,
    };
    let settle = fen("settle_amount")?;
    let mut fee = 0;
    for f in FEE_FIELDS {
        fee += fen(f)?;
    }
    let trade_type = int_opt(row, "trade_type", "trade_type")?.unwrap_or(0);
    Ok(match trade_type {
        0 => {
            let mut out = Vec::new();
            let mut subsidies = 0;
            for (field, kind) in SUBSIDY_FIELDS {
                let v = fen(field)?;
                if v != 0 {
                    subsidies += v;
                    out.push(line(format!("{id}:{field}"), kind, v, 0, v));
                }
            }
            let sale = line(
                id.clone(),
                SettlementKind::Sale,
                fen("real_pay_amount")?,
                fee,
                settle - subsidies,
            );
            out.insert(0, sale);
            out
        }
        1 | 3 => vec![line(id, SettlementKind::Refund, settle + fee, fee, settle)],
        _ => vec![line(id, SettlementKind::Adjustment, settle, 0, settle)],
    })
}

/// Read the next page of the period `[start, end)`.
pub fn fetch(
    settings: &Settings,
    creds: &Credentials,
    (start, end): (i64, i64),
    cursor: Option<&str>,
    now_ms: i64,
    send: Transport<'_>,
) -> Result<SettlementPage, ConnectorError> {
    if end <= start {
        return Err(ConnectorError::InvalidInput(format!(
            "settlement period [{start}, {end}) is empty"
        )));
    }
    let at = match cursor {
        None => Cursor {
            start_time: format_local(start, GMT8),
            start_index: String::new(),
        },
        Some(raw) => {
            let bad = |why: String| {
                ConnectorError::InvalidInput(format!("settlement cursor {raw:?}: {why}"))
            };
            let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
            let t = parse_local_ms("start_time", &c.start_time, GMT8)
                .map_err(|e| bad(format!("{e:?}")))?;
            if t < start || t >= end {
                return Err(bad("outside the period".into()));
            }
            c
        }
    };
    // `end_time` is inclusive to the second.
    let mut params = json!({
        "size": settings.page_size,
        "start_time": at.start_time,
        "end_time": format_local(end - 1000, GMT8),
        "time_type": "0",
    });
    if !at.start_index.is_empty() {
        params["start_index"] = json!(at.start_index);
    }
    let req = doudian::request(
        &settings.api_url,
        creds,
        SETTLE_BILL_DETAIL,
        &params,
        now_ms,
    );
    let data = doudian::read_response(SETTLE_BILL_DETAIL, send(req)?)?;
    if let Some(code) = data.get("code").and_then(Value::as_str) {
        if code != "100000" {
            let msg = data["code_msg"].as_str().unwrap_or("");
            return Err(ConnectorError::Transient(format!(
                "{SETTLE_BILL_DETAIL}: code {code}: {msg}"
            )));
        }
    }
    let rows = match data.get("data") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(ConnectorError::InvalidInput(format!(
                "{SETTLE_BILL_DETAIL}: data is not a list: {other}"
            )))
        }
    };
    let mut lines = Vec::new();
    for row in &rows {
        lines.extend(lines_from_row(row)?);
    }
    let is_end = int_opt(&data, "is_end", "is_end")?.unwrap_or(1) == 1;
    let next = if is_end {
        None
    } else {
        let start_time = data["next_start_time"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let start_index = match &data["next_start_index"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let c = Cursor {
            start_time,
            start_index,
        };
        if c == at || parse_local_ms("next_start_time", &c.start_time, GMT8).is_err() {
            return Err(ConnectorError::Permanent(format!(
                "{SETTLE_BILL_DETAIL}: is_end = 0 without a usable next_start_time/next_start_index"
            )));
        }
        Some(c)
    };
    Ok(SettlementPage {
        lines,
        payouts: Vec::new(),
        more: next.is_some(),
        cursor: next.map(|c| serde_json::to_string(&c).expect("a cursor serialises")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Value {
        json!({"request_no": "R1", "shop_order_id": "S1", "order_id": "S1-1", "trade_type": 0,
               "settle_time": "2024-03-15 08:00:00", "real_pay_amount": 10_000,
               "platform_coupon": 500, "author_coupon": 200, "zt_pay_promotion": 0,
               "zr_pay_promotion": 0, "platform_service_fee": 535, "commission": 1070,
               "good_learn_channel_fee": 0, "colonel_service_fee": 0,
               "channel_promotion_fee": 0, "other_sharing_amount": 0,
               "settle_amount": 9095})
    }

    // A settled row becomes a sale (fees summed, net = settle − subsidies), a
    // platform-discount line for the platform coupon and an adjustment for the
    // influencer's; the row's nets add up to settle_amount.
    #[test]
    fn settled_row_maps_to_the_table() {
        let lines = lines_from_row(&row()).unwrap();
        let got: Vec<_> = lines
            .iter()
            .map(|l| {
                (
                    l.line_id.as_str(),
                    l.kind,
                    l.gross.minor,
                    l.fee.minor,
                    l.net.minor,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("R1", SettlementKind::Sale, 10_000, 1605, 8395),
                (
                    "R1:platform_coupon",
                    SettlementKind::PlatformDiscount,
                    500,
                    0,
                    500
                ),
                ("R1:author_coupon", SettlementKind::Adjustment, 200, 0, 200),
            ]
        );
        assert_eq!(lines.iter().map(|l| l.net.minor).sum::<i64>(), 9095);
        assert!(lines
            .iter()
            .all(|l| l.order_external_id.as_deref() == Some("S1")));
        assert_eq!(lines[0].settled_at, 1_710_460_800_000);
    }

    // Refund flows become refund lines, deposit refunds adjustments; a row that does not
    // add up keeps doudian's settle_amount (the sale line shows the gap).
    #[test]
    fn refunds_adjustments_and_imperfect_rows() {
        let mut r = row();
        r["trade_type"] = json!(1);
        for f in FEE_FIELDS {
            r[f] = json!(0);
        }
        r["settle_amount"] = json!(-10_000);
        let l = &lines_from_row(&r).unwrap()[0];
        assert_eq!(
            (l.kind, l.gross.minor, l.net.minor),
            (SettlementKind::Refund, -10_000, -10_000)
        );
        r["trade_type"] = json!(2);
        assert_eq!(
            lines_from_row(&r).unwrap()[0].kind,
            SettlementKind::Adjustment
        );
        let mut off = row();
        off["settle_amount"] = json!(9_000);
        let sale = &lines_from_row(&off).unwrap()[0];
        assert_eq!(sale.net.minor, 9_000 - 700);
        assert_ne!(sale.net.minor, sale.gross.minor - sale.fee.minor);
    }
}
