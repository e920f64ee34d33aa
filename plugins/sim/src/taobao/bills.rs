//! The seller's bills (账单): `taobao.bill.accounts.get` (the 费用科目 list) and
//! `taobao.bill.bills.get` (账单明细 by `pay_time` or `biz_time`, at most one day per
//! request, numbered pages of 40–100, newest first).
//!
//! [`TaobaoSim::record_bills`] bills every finished (`TRADE_FINISHED`) or refunded
//! (`TRADE_CLOSED` after payment) trade once: the income (交易收款, `payment`), the
//! category commission (5 %, half up), a 淘宝客 commission (2 %) on every third trade, a
//! platform subsidy (3.00) on every fourth and a refund (−`payment`) for closed ones.
//! Amounts are integer fen, expenses positive on their expense accounts (unverified
//! convention, see the plugin README). [`TaobaoSim::corrupt_bill_amount`] changes a
//! bill's amount after the fact, as restated bills do.

use serde_json::{json, Value};
use wharf_domain::money::parse_money;

use super::api::Params;
use super::top::{self, TopError};
use super::TaobaoSim;

pub(crate) const BILLS_GET: &str = "taobao.bill.bills.get";
pub(crate) const ACCOUNTS_GET: &str = "taobao.bill.accounts.get";
const FIRST_BID: u64 = 2_024_000_000_001;
const DAY_MS: i64 = 86_400_000;

/// The 费用科目 the simulated seller has: (id, code, name, type, order-related).
/// Types: 1 virtual account, 2 trade, 3 trade commission, 4 service fee, 5 Tmall
/// points, 6 other.
pub const ACCOUNTS: [(u64, &str, &str, u32, bool); 8] = [
    (10_001, "trade_income", "交易收款", 2, true),
    (10_002, "trade_refund", "交易退款", 2, true),
    (
        20_001,
        "category_commission",
        "天猫佣金(类目技术服务费)",
        3,
        true,
    ),
    (20_002, "taoke_commission", "淘宝客佣金", 3, true),
    (30_001, "credit_card_fee", "信用卡支付服务费", 4, true),
    (40_001, "tmall_points", "天猫积分", 5, true),
    (50_001, "platform_subsidy", "平台补贴(官方立减)", 6, true),
    (60_001, "manual_adjustment", "其他调账", 6, false),
];

#[derive(Default)]
pub(crate) struct Bills {
    bills: Vec<Value>,
    billed: std::collections::BTreeSet<u64>,
}

fn fen(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| parse_money(s, "CNY").ok())
        .map(|m| m.minor)
        .unwrap_or(0)
}

impl TaobaoSim {
    /// Bill every finished or refunded trade not billed yet, `pay_time`s spread one
    /// second apart from `pay_ms`. Returns the bills added.
    pub fn record_bills(&self, pay_ms: i64) -> Vec<Value> {
        let trades = self.trades();
        let mut st = self.state();
        let b = &mut st.bills;
        let mut added = Vec::new();
        for t in &trades {
            let Some(tid) = t["tid"].as_u64() else {
                continue;
            };
            let status = t["status"].as_str().unwrap_or("");
            let paid = t.get("pay_time").is_some_and(|p| !p.is_null());
            if !(status == "TRADE_FINISHED" || (status == "TRADE_CLOSED" && paid)) {
                continue;
            }
            if !b.billed.insert(tid) {
                continue;
            }
            let payment = fen(&t["payment"]);
            let n = b.billed.len() as i64;
            let mut entries = vec![(10_001, payment), (20_001, (payment * 5 + 50) / 100)];
            if n % 3 == 0 {
                entries.push((20_002, (payment * 2 + 50) / 100));
            }
            if n % 4 == 0 {
                entries.push((50_001, 300));
            }
            if status == "TRADE_CLOSED" {
                entries.push((10_002, -payment));
            }
            for (account, amount) in entries {
                let bid = FIRST_BID + b.bills.len() as u64;
                let at = pay_ms + b.bills.len() as i64 * 1000;
                let bill = json!({
                    "bid": bid, "account_id": account, "trade_id": tid.to_string(),
                    "order_id": tid.to_string(), "total_amount": payment, "amount": amount,
                    "book_time": top::format_time(at), "biz_time": top::format_time(at),
                    "pay_time": top::format_time(at), "alipay_mail": "seller@example.com",
                    "alipay_outno": format!("T200P{tid}"), "alipay_notice": "",
                    "status": 1, "num_iid": t["orders"]["order"][0]["num_iid"],
                    "gmt_create": top::format_time(at), "gmt_modified": top::format_time(at),
                });
                added.push(bill.clone());
                b.bills.push(bill);
            }
        }
        added
    }

    /// Set a stored bill's `amount` (a restated or inconsistent bill).
    pub fn corrupt_bill_amount(&self, bid: u64, amount: i64) -> bool {
        let mut st = self.state();
        match st.bills.bills.iter_mut().find(|b| b["bid"] == bid) {
            Some(b) => {
                b["amount"] = json!(amount);
                true
            }
            None => false,
        }
    }

    /// Every bill, by `bid`.
    pub fn bills(&self) -> Vec<Value> {
        self.state().bills.bills.clone()
    }
}

/// A parameter, absent when empty.
fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    super::api::param(params, key).filter(|v| !v.is_empty())
}

/// `taobao.bill.accounts.get`: every account, or those named in `aids`.
pub(crate) fn accounts_get(params: &Params, request_id: &str) -> Result<Value, TopError> {
    if param(params, "fields").is_none() {
        return Err(TopError::missing("fields"));
    }
    let wanted: Option<Vec<u64>> = param(params, "aids")
        .map(|a| a.split(',').map(|x| x.trim().parse::<u64>()).collect())
        .transpose()
        .map_err(|_| TopError::invalid("aids"))?;
    let accounts: Vec<Value> = ACCOUNTS
        .iter()
        .filter(|a| wanted.as_ref().is_none_or(|w| w.contains(&a.0)))
        .map(|&(id, code, name, kind, related)| {
            json!({"account_id": id, "account_code": code, "account_name": name,
                   "account_type": kind, "related_order": u8::from(related), "status": 1,
                   "gmt_create": "2020-01-01 00:00:00", "gmt_modified": "2020-01-01 00:00:00"})
        })
        .collect();
    Ok(json!({"bill_accounts_get_response": {
        "accounts": {"account": accounts}, "request_id": request_id}}))
}

/// `taobao.bill.bills.get`: bills whose `pay_time` (time_type 2, default) or `biz_time`
/// (1) is within `[start_time, end_time]`, at most one day apart.
pub(crate) fn bills_get(
    sim: &TaobaoSim,
    params: &Params,
    request_id: &str,
) -> Result<Value, TopError> {
    if param(params, "fields").is_none() {
        return Err(TopError::missing("fields"));
    }
    let time = |key: &str| {
        let v = param(params, key).ok_or_else(|| TopError::missing(key))?;
        top::parse_time(v).ok_or_else(|| TopError::invalid(key))
    };
    let (start, end) = (time("start_time")?, time("end_time")?);
    if end < start {
        return Err(TopError::invalid_parameter(
            "end_time must not be before start_time",
        ));
    }
    if end - start > DAY_MS {
        return Err(TopError::invalid_parameter(
            "结束时间-开始时间不能大于1天: end_time - start_time must not exceed one day",
        ));
    }
    let num = |key: &str, default: u64| match param(params, key) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| TopError::invalid(key)),
    };
    let time_key = match num("time_type", 2)? {
        1 => "biz_time",
        2 => "pay_time",
        _ => return Err(TopError::invalid("time_type")),
    };
    let page_no = num("page_no", 1)?.max(1);
    let page_size = num("page_size", 40)?;
    if !(40..=100).contains(&page_size) {
        return Err(TopError::invalid_parameter(
            "page_size must be from 40 to 100",
        ));
    }
    let account = num("account_id", 0)?;
    let mut hits: Vec<Value> = sim
        .bills()
        .into_iter()
        .filter(|b| {
            let at = b[time_key]
                .as_str()
                .and_then(top::parse_time)
                .unwrap_or(i64::MIN);
            at >= start && at <= end && (account == 0 || b["account_id"] == account)
        })
        .collect();
    hits.sort_by_key(|b| {
        std::cmp::Reverse((b[time_key].as_str().map(str::to_string), b["bid"].as_u64()))
    });
    let total = hits.len() as u64;
    let from = ((page_no - 1) * page_size) as usize;
    let page: Vec<Value> = hits
        .into_iter()
        .skip(from)
        .take(page_size as usize)
        .collect();
    let has_next = (from as u64 + page.len() as u64) < total;
    let mut body = json!({"total_results": total, "has_next": has_next, "request_id": request_id});
    if !page.is_empty() {
        body["bills"] = json!({ "bill": page });
    }
    Ok(json!({ "bill_bills_get_response": body }))
}
