//! `taobao.logistics.offline.send` (the seller ships with a carrier of their own): `tid`,
//! `out_sid` (tracking number), `company_code`, and for a split shipment `is_split=1` +
//! `sub_tid` (comma-separated oids). The sent sub-orders get status
//! WAIT_BUYER_CONFIRM_GOODS, `invoice_no` = `out_sid`, `logistics_company` and
//! `consign_time`; the trade becomes WAIT_BUYER_CONFIRM_GOODS when no sub-order is left
//! to ship, else SELLER_CONSIGNED_PART; `modified` is bumped so the next pull sees it.
//!
//! Errors, code 15 with TOP's logistics sub-codes: `…:B01` unknown trade, `…:B04` the
//! trade (or a named sub-order) already shipped or is closed, `…:P38` a `sub_tid` not of
//! the trade, `…:B60` a malformed tracking number; an unknown `company_code` is
//! `isv.invalid-parameter:company_code`. (B01/B04/B60/P38 are as integrators report
//! them; the company-code sub-code is unverified.)

use serde_json::{json, Value};

use super::api::{param, required, Params};
use super::top::{self, TopError};
use super::TaobaoSim;
use crate::time;

pub(crate) const OFFLINE_SEND: &str = "taobao.logistics.offline.send";

/// The company codes the simulated `taobao.logistics.companies.get` knows, with names.
pub const COMPANIES: &[(&str, &str)] = &[
    ("SF", "顺丰速运"),
    ("YTO", "圆通速递"),
    ("ZTO", "中通快递"),
    ("STO", "申通快递"),
    ("YUNDA", "韵达快递"),
    ("JD", "京东物流"),
    ("EMS", "EMS"),
    ("POSTB", "邮政快递包裹"),
    ("HTKY", "百世快递"),
    ("UPS", "UPS"),
    ("FEDEX", "FedEx"),
    ("DHL", "DHL"),
    ("USPS", "USPS"),
];

fn logistics_error(code: &str, msg: &str) -> TopError {
    TopError::new(15, "Remote service error")
        .sub(&format!("isv.logistics-offline-service-error:{code}"), msg)
}

const SHIPPED: [&str; 3] = [
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
];

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(crate) fn offline_send(
    sim: &TaobaoSim,
    params: &Params,
    request_id: &str,
) -> Result<Value, TopError> {
    let tid = required(params, "tid")?
        .parse::<u64>()
        .map_err(|_| TopError::invalid("tid"))?;
    let out_sid = required(params, "out_sid")?;
    let company = required(params, "company_code")?;
    let split = match param(params, "is_split") {
        None | Some("") | Some("0") => false,
        Some("1") => true,
        Some(_) => return Err(TopError::invalid("is_split")),
    };
    let sub_tids: Vec<String> = match param(params, "sub_tid") {
        Some(s) if split && !s.is_empty() => s.split(',').map(|p| p.trim().to_string()).collect(),
        _ if split => return Err(TopError::missing("sub_tid")),
        _ => Vec::new(),
    };
    let Some((_, company_name)) = COMPANIES.iter().find(|(c, _)| *c == company) else {
        return Err(TopError::new(15, "Remote service error").sub(
            "isv.invalid-parameter:company_code",
            format!("物流公司编码不存在: {company}"),
        ));
    };
    if out_sid.len() > 32 || !out_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(logistics_error("B60", "运单号不符合规则或已经被使用"));
    }
    let mut trade = sim
        .trade(tid)
        .ok_or_else(|| logistics_error("B01", "订单不存在"))?;
    let already = || {
        logistics_error(
            "B04",
            "订单状态不对该物流订单已经发货或者已关闭，不能重复发货",
        )
    };
    let status = text(&trade["status"]);
    if !matches!(
        status.as_str(),
        "WAIT_SELLER_SEND_GOODS" | "SELLER_CONSIGNED_PART"
    ) {
        return Err(already());
    }
    let now = time::now_ms();
    let subs = trade["orders"]["order"]
        .as_array_mut()
        .ok_or_else(already)?;
    for id in &sub_tids {
        let o = subs
            .iter()
            .find(|o| text(&o["oid"]) == *id)
            .ok_or_else(|| logistics_error("P38", "拆单校验未通过: 子订单不属于该交易"))?;
        if text(&o["status"]) != "WAIT_SELLER_SEND_GOODS" {
            return Err(already());
        }
    }
    for o in subs.iter_mut() {
        let named = !split || sub_tids.contains(&text(&o["oid"]));
        if named && text(&o["status"]) == "WAIT_SELLER_SEND_GOODS" {
            o["status"] = json!("WAIT_BUYER_CONFIRM_GOODS");
            o["invoice_no"] = json!(out_sid);
            o["logistics_company"] = json!(company_name);
            o["consign_time"] = json!(top::format_time(now));
        }
    }
    let left = subs
        .iter()
        .any(|o| text(&o["status"]) == "WAIT_SELLER_SEND_GOODS");
    let all_shipped = subs.iter().all(|o| {
        SHIPPED.contains(&text(&o["status"]).as_str())
            || text(&o["status"]).starts_with("TRADE_CLOSED")
    });
    trade["status"] = json!(if left || !all_shipped {
        "SELLER_CONSIGNED_PART"
    } else {
        "WAIT_BUYER_CONFIRM_GOODS"
    });
    trade["consign_time"] = json!(top::format_time(now));
    sim.update_trade(tid, |t| *t = trade);
    sim.state().shipments.push(Shipped {
        tid,
        out_sid: out_sid.to_string(),
        company_code: company.to_string(),
        sub_tids,
    });
    Ok(json!({"logistics_offline_send_response": {
        "shipping": {"is_success": true},
        "request_id": request_id,
    }}))
}

/// One accepted `taobao.logistics.offline.send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipped {
    pub tid: u64,
    pub out_sid: String,
    pub company_code: String,
    /// The `sub_tid`s of a split shipment; empty for the whole trade.
    pub sub_tids: Vec<String>,
}

impl TaobaoSim {
    /// The shipments accepted so far, oldest first.
    pub fn shipments(&self) -> Vec<Shipped> {
        self.state().shipments.clone()
    }

    /// Set one sub-order's `refund_status` (an after-sales case) and bump `modified`.
    /// `None` for an unknown tid.
    pub fn set_refund_status(&self, tid: u64, oid: u64, refund_status: &str) -> Option<Value> {
        self.update_trade(tid, |t| {
            if let Some(subs) = t["orders"]["order"].as_array_mut() {
                for o in subs.iter_mut().filter(|o| o["oid"].as_u64() == Some(oid)) {
                    o["refund_status"] = json!(refund_status);
                }
            }
        })
    }
}
