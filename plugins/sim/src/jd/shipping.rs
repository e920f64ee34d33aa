//! `jingdong.pop.order.shipment` (SOP 出库发货): `orderId`, `logiCoprId` (JD's numeric
//! carrier id), `logiNo` (the waybill number). An order in `WAIT_SELLER_STOCK_OUT`
//! becomes `WAIT_GOODS_RECEIVE_CONFIRM` with `waybill` and `logisticsId`, and its
//! `modified` is bumped so the next search sees it. The answer is
//! `{"code": "0", "sopjosshipment_result": {success, englishErrCode, chineseErrCode,
//! errorCode}}` (the result's name as public SDKs show it; the refusal codes below are
//! the simulator's own, unverified): 10400001 unknown order, 10400101 the order is not
//! awaiting stock-out (already shipped, cancelled, locked …; the message names the
//! state), 10400102 unknown `logiCoprId`; missing parameters 10100001.

use serde_json::{json, Map, Value};

use super::JdSim;

pub(crate) const SHIPMENT: &str = "jingdong.pop.order.shipment";

/// The `logiCoprId`s the simulated shop has signed, with names.
pub const CARRIERS: &[(&str, &str)] = &[
    ("467", "顺丰速运"),
    ("463", "圆通速递"),
    ("1499", "中通快递"),
    ("470", "申通快递"),
    ("1327", "韵达快递"),
    ("2087", "京东快递"),
    ("465", "邮政EMS"),
    ("3046", "德邦快递"),
];

/// One accepted `jingdong.pop.order.shipment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdShipped {
    pub order_id: u64,
    pub logi_copr_id: String,
    pub logi_no: String,
}

fn result(success: bool, code: u32, english: &str, chinese: &str) -> Value {
    json!({"code": "0", "sopjosshipment_result": {
        "success": success, "errorCode": code.to_string(),
        "englishErrCode": english, "chineseErrCode": chinese}})
}

fn text(b: &Map<String, Value>, key: &str) -> Option<String> {
    match b.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn shipment(sim: &JdSim, business: Option<&Map<String, Value>>) -> Value {
    let Some(b) = business else {
        return result(
            false,
            10_100_001,
            "360buy_param_json is not a JSON object",
            "业务参数格式错误",
        );
    };
    let (Some(order_id), Some(copr), Some(no)) =
        (text(b, "orderId"), text(b, "logiCoprId"), text(b, "logiNo"))
    else {
        return result(
            false,
            10_100_001,
            "orderId, logiCoprId and logiNo are required",
            "参数缺失",
        );
    };
    if no.len() > 32 || !no.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return result(
            false,
            10_100_001,
            "logiNo is not a waybill number",
            "运单号格式错误",
        );
    }
    if !CARRIERS.iter().any(|(id, _)| *id == copr) {
        return result(
            false,
            10_400_102,
            "logiCoprId not exist",
            "物流公司不存在或未签约",
        );
    }
    let Some(id) = order_id
        .parse::<u64>()
        .ok()
        .filter(|id| sim.order(*id).is_some())
    else {
        return result(false, 10_400_001, "order not exist", "订单不存在");
    };
    let state = sim.order(id).expect("checked above")["orderState"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if state != "WAIT_SELLER_STOCK_OUT" {
        return result(
            false,
            10_400_101,
            &format!("order state {state} can not ship"),
            &format!("订单状态{state}不允许出库"),
        );
    }
    sim.update_order(id, |o| {
        o["orderState"] = json!("WAIT_GOODS_RECEIVE_CONFIRM");
        o["orderStateRemark"] = json!("等待确认收货");
        o["waybill"] = json!(no);
        o["logisticsId"] = json!(copr);
    });
    sim.state().shipments.push(JdShipped {
        order_id: id,
        logi_copr_id: copr,
        logi_no: no,
    });
    result(true, 0, "success", "成功")
}

impl JdSim {
    /// The shipments accepted so far, oldest first.
    pub fn shipments(&self) -> Vec<JdShipped> {
        self.state().shipments.clone()
    }
}
