//! `pdd.logistics.online.send` (`order_sn`, `logistics_id`, `tracking_number`): an order
//! awaiting shipment (`order_status` 1, confirmed, not refunded) becomes `order_status` 2
//! with `tracking_number`, `logistics_id` and `shipping_time`, and its `updated_at` is
//! bumped so the next increment pull sees it. Answer:
//! `logistics_online_send_response.is_success`.
//!
//! Refusals are business errors (the simulator's codes; PDD's real ones are unverified):
//! 60010 the order is not awaiting shipment (already shipped, cancelled, refunded), 60011
//! unknown order, 60012 unknown `logistics_id`; malformed parameters are 10000.

use serde_json::{json, Value};

use super::error::PddError;
use super::{format_time, PddSim};
use crate::time;

pub const SEND_API: &str = "pdd.logistics.online.send";

/// The `logistics_id`s the simulated `pdd.logistics.companies.get` knows, with names.
pub const COMPANIES: &[(i64, &str)] = &[
    (1, "申通快递"),
    (3, "百世快递"),
    (44, "顺丰快递"),
    (85, "圆通快递"),
    (115, "中通快递"),
    (118, "邮政EMS"),
    (120, "京东配送"),
    (121, "韵达快递"),
    (384, "极兔速递"),
];

/// One accepted `pdd.logistics.online.send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PddShipped {
    pub order_sn: String,
    pub logistics_id: i64,
    pub tracking_number: String,
}

/// Ship an order (see the module doc).
pub(crate) fn send(
    sim: &PddSim,
    order_sn: &str,
    logistics_id: i64,
    tracking_number: &str,
) -> Result<Value, PddError> {
    if tracking_number.is_empty()
        || tracking_number.len() > 32
        || !tracking_number.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(PddError::InvalidParam(format!(
            "tracking_number {tracking_number:?} must be 1-32 letters or digits"
        )));
    }
    if !COMPANIES.iter().any(|(id, _)| *id == logistics_id) {
        return Err(PddError::Business(
            60012,
            format!("logistics_id {logistics_id} 快递公司不存在"),
        ));
    }
    let order = sim
        .order(order_sn)
        .ok_or_else(|| PddError::Business(60011, format!("订单 {order_sn} 不存在")))?;
    let code = |k: &str| order.get(k).and_then(Value::as_i64).unwrap_or(0);
    let why = if code("confirm_status") == 2 {
        Some("订单已取消")
    } else if code("refund_status") == 4 || code("after_sales_status") == 10 {
        Some("订单已退款")
    } else if code("order_status") != 1 {
        Some("订单已发货")
    } else if code("confirm_status") == 0 {
        Some("订单未成团")
    } else {
        None
    };
    if let Some(why) = why {
        return Err(PddError::Business(
            60010,
            format!("{why}，不能发货: {order_sn}"),
        ));
    }
    let now = time::now_ms();
    sim.update_order(order_sn, |o| {
        o["order_status"] = json!(2);
        o["tracking_number"] = json!(tracking_number);
        o["logistics_id"] = json!(logistics_id);
        o["shipping_time"] = json!(format_time(now));
    });
    sim.state().shipments.push(PddShipped {
        order_sn: order_sn.to_string(),
        logistics_id,
        tracking_number: tracking_number.to_string(),
    });
    Ok(json!({"logistics_online_send_response": {"is_success": true}}))
}

impl PddSim {
    /// The shipments accepted so far, oldest first.
    pub fn shipments(&self) -> Vec<PddShipped> {
        self.state().shipments.clone()
    }
}
