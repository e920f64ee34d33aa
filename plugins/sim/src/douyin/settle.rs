//! The shop's settle bills (商家结算账单): `order.getSettleBillDetailV3`, one row per
//! settled sku order, listed by `settle_time` (time_type 0, default) or `order_time` (1)
//! in `[start_time, end_time]`, `size` 1–100, paged with `start_index` /
//! `next_start_index` and `start_time` / `next_start_time` until `is_end = 1`.
//!
//! [`DouyinSim::record_settlements`] settles every completed order (status 5) and every
//! order refunded after shipment (22, 39) once: per sku order `real_pay_amount` =
//! its `pay_amount` (+ the order's postage on the first), `platform_coupon` /
//! `author_coupon` = the platform's / influencer's discounts, a platform service fee of
//! 5 % (half up) of `total_income`, a 10 % influencer `commission` on every third order
//! (精选联盟), `settle_amount = total_income − total_outcome`; a refunded order also gets
//! a `trade_type` 1 row (结算后退款-原路退回) of −its `pay_amount`. All in fen.
//! [`DouyinSim::corrupt_settle_amount`] makes a row's `settle_amount` disagree with its
//! parts, as real exports sometimes do.

use serde_json::{json, Value};

use super::protocol::DoudianError;
use super::DouyinSim;
use crate::common::{format_gmt8, parse_gmt8};

pub(crate) const SETTLE_BILL_DETAIL: &str = "order.getSettleBillDetailV3";
const FIRST_REQUEST_NO: u64 = 7_300_000_000_000_000_001;

#[derive(Default)]
pub(crate) struct Settlements {
    rows: Vec<Value>,
    settled: std::collections::BTreeSet<String>,
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

impl DouyinSim {
    /// Settle every completed or refunded-after-shipment order not settled yet, the rows'
    /// `settle_time`s one second apart from `settle_ms`. Returns the rows added.
    pub fn record_settlements(&self, settle_ms: i64) -> Vec<Value> {
        let orders = self.orders();
        let mut st = self.state();
        let s = &mut st.settlements;
        let mut added = Vec::new();
        for o in &orders {
            let status = int(&o["order_status"]);
            let shop_order = o["order_id"].as_str().unwrap_or("").to_string();
            if !matches!(status, 5 | 22 | 39) || !s.settled.insert(shop_order.clone()) {
                continue;
            }
            let n = s.settled.len();
            let selected = n % 3 == 0;
            let skus = o["sku_order_list"].as_array().cloned().unwrap_or_default();
            let mut rows = Vec::new();
            for (i, sku) in skus.iter().enumerate() {
                let post = if i == 0 { int(&o["post_amount"]) } else { 0 };
                let real_pay = int(&sku["pay_amount"]) + post;
                let platform = int(&sku["promotion_platform_amount"]);
                let author = int(&sku["promotion_talent_amount"]);
                let income = real_pay + platform + author;
                let service = (income * 5 + 50) / 100;
                let commission = if selected {
                    (income * 10 + 50) / 100
                } else {
                    0
                };
                let outcome = service + commission;
                rows.push(json!({
                    "shop_order_id": shop_order, "order_id": sku["order_id"],
                    "trade_type": 0, "is_contains_refund_before_settle": 0,
                    "order_time": format_gmt8(int(&o["create_time"]) * 1000),
                    "product_id": sku["product_id"].to_string(), "goods_count": sku["item_num"],
                    "flow_type_desc": if selected { "精选联盟" } else { "小店自卖" },
                    "order_type": "普通订单", "pay_type_desc": "聚合账户",
                    "total_amount": int(&sku["origin_amount"]) + post,
                    "total_goods_amount": int(&sku["origin_amount"]), "post_amount": post,
                    "shop_coupon": int(&sku["promotion_shop_amount"]), "refund_before_settle": 0,
                    "platform_coupon": platform, "author_coupon": author,
                    "zt_pay_promotion": 0, "zr_pay_promotion": 0, "real_pay_amount": real_pay,
                    "total_income": income, "platform_service_fee": service,
                    "commission": commission, "good_learn_channel_fee": 0,
                    "colonel_service_fee": 0, "channel_promotion_fee": 0,
                    "other_sharing_amount": 0, "total_outcome": outcome,
                    "settle_amount": income - outcome, "remark": "",
                }));
            }
            if status != 5 {
                let refund = int(&o["pay_amount"]);
                let first = skus
                    .first()
                    .map(|s| s["order_id"].clone())
                    .unwrap_or(Value::Null);
                rows.push(json!({
                    "shop_order_id": shop_order, "order_id": first, "trade_type": 1,
                    "is_contains_refund_before_settle": 0, "flow_type_desc": "小店自卖",
                    "order_type": "普通订单", "pay_type_desc": "聚合账户",
                    "order_time": format_gmt8(int(&o["create_time"]) * 1000),
                    "total_amount": 0, "total_goods_amount": 0, "post_amount": 0,
                    "shop_coupon": 0, "refund_before_settle": 0, "platform_coupon": 0,
                    "author_coupon": 0, "zt_pay_promotion": 0, "zr_pay_promotion": 0,
                    "real_pay_amount": 0, "total_income": 0, "platform_service_fee": 0,
                    "commission": 0, "good_learn_channel_fee": 0, "colonel_service_fee": 0,
                    "channel_promotion_fee": 0, "other_sharing_amount": 0,
                    "total_outcome": 0, "settle_amount": -refund, "remark": "结算后退款-原路退回",
                }));
            }
            for mut row in rows {
                let k = s.rows.len();
                row["request_no"] = json!((FIRST_REQUEST_NO + k as u64).to_string());
                row["settle_time"] = json!(format_gmt8(settle_ms + k as i64 * 1000));
                added.push(row.clone());
                s.rows.push(row);
            }
        }
        added
    }

    /// Shift a row's `settle_amount` by `delta` fen without touching its parts.
    pub fn corrupt_settle_amount(&self, request_no: &str, delta: i64) -> bool {
        let mut st = self.state();
        match st
            .settlements
            .rows
            .iter_mut()
            .find(|r| r["request_no"] == request_no)
        {
            Some(r) => {
                r["settle_amount"] = json!(int(&r["settle_amount"]) + delta);
                true
            }
            None => false,
        }
    }

    /// Every settle row, in `request_no` order.
    pub fn settle_rows(&self) -> Vec<Value> {
        self.state().settlements.rows.clone()
    }
}

/// `order.getSettleBillDetailV3`.
pub(crate) fn settle_bill_detail(sim: &DouyinSim, params: &Value) -> Result<Value, DoudianError> {
    let text = |key: &str| {
        params
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let size = match params.get("size") {
        None | Some(Value::Null) => 20,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| DoudianError::invalid("size必须是整数"))?,
    };
    if !(1..=100).contains(&size) {
        return Err(DoudianError::invalid("size支持范围1~100"));
    }
    let time_key = match text("time_type").unwrap_or("0") {
        "0" => "settle_time",
        "1" => "order_time",
        other => return Err(DoudianError::invalid(format!("time_type不支持: {other}"))),
    };
    let order_ids: Option<Vec<&str>> = text("order_id").map(|s| s.split(',').collect());
    let (start, end) = if order_ids.is_some() {
        (i64::MIN, i64::MAX)
    } else {
        let t = |key: &str| {
            let v = text(key).ok_or_else(|| DoudianError::missing(key))?;
            parse_gmt8(v)
                .ok_or_else(|| DoudianError::invalid(format!("{key}格式应为yyyy-MM-dd HH:mm:ss")))
        };
        (t("start_time")?, t("end_time")?)
    };
    if end < start {
        return Err(DoudianError::invalid("end_time不能早于start_time"));
    }
    let skip = match text("start_index") {
        None => 0,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| DoudianError::invalid("start_index无效"))?,
    };
    let at = |r: &Value| {
        r[time_key]
            .as_str()
            .and_then(parse_gmt8)
            .unwrap_or(i64::MIN)
    };
    let mut hits: Vec<Value> = sim
        .settle_rows()
        .into_iter()
        .filter(|r| {
            let t = at(r);
            t >= start
                && t <= end
                && order_ids
                    .as_ref()
                    .is_none_or(|ids| ids.iter().any(|id| r["order_id"] == *id))
        })
        .collect();
    hits.sort_by_key(|r| (at(r), r["request_no"].as_str().map(str::to_string)));
    let consumed = (skip + size as usize).min(hits.len());
    let page: Vec<Value> = hits[skip.min(consumed)..consumed].to_vec();
    let is_end = consumed >= hits.len();
    // The next call starts at the first row not served; `next_start_index` skips the
    // rows at that same second already served.
    let (next_time, next_index) = match hits.get(consumed) {
        Some(next) => {
            let t = at(next);
            let same = hits[..consumed].iter().filter(|r| at(r) == t).count();
            (format_gmt8(t), same.to_string())
        }
        None => (String::new(), String::new()),
    };
    Ok(json!({
        "code": "100000", "code_msg": "SUCCESS", "data_size": page.len(), "size": size,
        "is_end": u8::from(is_end), "next_start_index": next_index,
        "next_start_time": next_time, "data": page,
    }))
}
