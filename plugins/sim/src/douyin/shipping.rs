//! `order.logisticsAdd` (the whole order ships in one parcel): `order_id` (the shop
//! order), `company_code` (doudian's company code, e.g. `shunfeng`), `logistics_code` (the
//! tracking number). An order awaiting shipment (`order_status` 2 备货中, or 105 paid)
//! becomes 3 (已发货) with its sku orders, gains a `logistics_info[]` entry
//! (`tracking_no`, `company`, `company_name`, `ship_time`), and its `update_time` is bumped
//! so the next pull sees it. The answer's `data` is `{}`.
//!
//! Refusals, 50002 business failures (sub-codes are the simulator's own; doudian's exact
//! ones are unverified): `order_not_exist`, `order_status_not_allow_send` (already
//! shipped, cancelled, refunded, awaiting payment; the message names the status),
//! `logistics_company_not_exist`; a malformed parameter is 40002.

use serde_json::{json, Value};

use super::generate::status_desc;
use super::protocol::DoudianError;
use super::DouyinSim;
use crate::time;

pub(crate) const LOGISTICS_ADD: &str = "order.logisticsAdd";

/// The company codes the simulated `order.logisticsCompanyList` knows, with names.
pub const COMPANIES: &[(&str, &str)] = &[
    ("shunfeng", "顺丰速运"),
    ("yuantong", "圆通快递"),
    ("zhongtong", "中通快递"),
    ("shentong", "申通快递"),
    ("yunda", "韵达快递"),
    ("jd", "京东物流"),
    ("ems", "EMS"),
    ("huitongkuaidi", "百世快递"),
    ("jtexpress", "极兔速递"),
];

/// One accepted `order.logisticsAdd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DouyinShipped {
    pub order_id: u64,
    pub company_code: String,
    pub logistics_code: String,
}

fn text(params: &Value, key: &str) -> Result<String, DoudianError> {
    match params.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(DoudianError::missing(key)),
    }
}

pub(crate) fn logistics_add(sim: &DouyinSim, params: &Value) -> Result<Value, DoudianError> {
    let order_id = text(params, "order_id")?;
    let company_code = text(params, "company_code")?;
    let tracking = text(params, "logistics_code")?;
    if tracking.len() > 32 || !tracking.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DoudianError::invalid(format!(
            "logistics_code不合法: {tracking}"
        )));
    }
    let Some((_, company_name)) = COMPANIES.iter().find(|(c, _)| *c == company_code) else {
        return Err(DoudianError::business(
            "logistics_company_not_exist",
            format!("物流公司不存在: {company_code}"),
        ));
    };
    let id = order_id
        .parse::<u64>()
        .ok()
        .filter(|id| sim.order(*id).is_some())
        .ok_or_else(|| DoudianError::business("order_not_exist", "订单不存在"))?;
    let order = sim.order(id).expect("checked above");
    let status = order["order_status"].as_i64().unwrap_or(0);
    if !matches!(status, 2 | 105) {
        return Err(DoudianError::business(
            "order_status_not_allow_send",
            format!("订单当前状态不允许发货: {status} {}", status_desc(status)),
        ));
    }
    let now_s = time::now_ms().div_euclid(1000);
    sim.update_order(id, |o| {
        o["order_status"] = json!(3);
        o["order_status_desc"] = json!(status_desc(3));
        o["ship_time"] = json!(now_s);
        if let Some(skus) = o["sku_order_list"].as_array_mut() {
            for s in skus {
                s["order_status"] = json!(3);
                s["order_status_desc"] = json!(status_desc(3));
            }
        }
        let entry = json!({
            "tracking_no": tracking,
            "company": company_code,
            "company_name": company_name,
            "ship_time": now_s,
        });
        match o["logistics_info"].as_array_mut() {
            Some(list) => list.push(entry),
            None => o["logistics_info"] = json!([entry]),
        }
    });
    sim.state().shipments.push(DouyinShipped {
        order_id: id,
        company_code,
        logistics_code: tracking,
    });
    Ok(json!({}))
}

impl DouyinSim {
    /// The shipments accepted so far, oldest first.
    pub fn shipments(&self) -> Vec<DouyinShipped> {
        self.state().shipments.clone()
    }
}
