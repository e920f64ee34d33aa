//! `fetch-settlements` over the TOP bill API: `taobao.bill.accounts.get` (the seller's
//! 费用科目, read on every call to classify bills) and `taobao.bill.bills.get` (账单明细
//! by `pay_time`, `time_type=2`), walked in windows of at most one day (TOP refuses
//! longer spans) and numbered pages of 40–100. One call reads one page.
//!
//! Mapping (one bill → one line; table in the README): the account decides the kind —
//! a name with 运费 and 补贴 → `shipping-subsidy`, any other 补贴 → `platform-discount`,
//! type 2 (交易) → `sale` (amount ≥ 0) or `refund` (< 0), types 3/4/5 (交易佣金, 服务费,
//! 天猫积分) → `commission`, anything else → `adjustment`. Each bill is one money
//! movement: gross = net = its signed amount for the seller (expense accounts' positive
//! amounts become negative), fee = 0. `order-external-id` is `trade_id` on
//! order-related accounts; `settled-at` is `pay_time`. Alipay settles each bill on its
//! own: there are no payouts.
//!
//! Cursor: `{"window_start": ms, "page": n}` — the next page to read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wharf_sdk::http::Transport;
use wharf_sdk::money;
use wharf_sdk::types::{ConnectorError, Money, SettlementKind, SettlementLine, SettlementPage};

use crate::settings::Settings;
use crate::top::{self, Credentials};

pub const BILLS_GET: &str = "taobao.bill.bills.get";
pub const ACCOUNTS_GET: &str = "taobao.bill.accounts.get";
pub const BILL_FIELDS: &str =
    "bid,account_id,trade_id,order_id,total_amount,amount,book_time,biz_time,pay_time";
const ACCOUNT_FIELDS: &str =
    "account_id,account_code,account_name,account_type,related_order,status";
/// TOP's limit on `end_time − start_time`.
const MAX_WINDOW_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub window_start: i64,
    pub page: u32,
}

/// One 费用科目.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub account_id: i64,
    #[serde(default)]
    pub account_name: String,
    #[serde(default)]
    pub account_type: i64,
    #[serde(default)]
    pub related_order: i64,
}

/// The kind of a bill on `account` with `amount` (fen, as TOP wrote it), and the sign
/// that turns the amount into money in (+) or out (−) for the seller.
pub fn classify(account: Option<&Account>, amount: i64) -> (SettlementKind, i64) {
    let Some(a) = account else {
        return (SettlementKind::Adjustment, 1);
    };
    let name = a.account_name.as_str();
    if name.contains("补贴") {
        if name.contains("运费") {
            return (SettlementKind::ShippingSubsidy, 1);
        }
        return (SettlementKind::PlatformDiscount, 1);
    }
    match a.account_type {
        2 if amount >= 0 => (SettlementKind::Sale, 1),
        2 => (SettlementKind::Refund, 1),
        3..=5 => (SettlementKind::Commission, -1),
        _ => (SettlementKind::Adjustment, 1),
    }
}

/// A bill amount: an integer is fen; a decimal string is yuan.
fn amount_fen(bid: &str, v: &Value) -> Result<i64, ConnectorError> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            ConnectorError::InvalidInput(format!("bill {bid}: amount {n} is not whole fen"))
        }),
        Value::String(s) => {
            money::parse_with(|| format!("bill {bid} amount"), s, "CNY").map(|m| m.minor)
        }
        other => Err(ConnectorError::InvalidInput(format!(
            "bill {bid}: amount {other} is not a number"
        ))),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Map one bill with the seller's accounts.
pub fn line_from_bill(
    bill: &Value,
    accounts: &[Account],
) -> Result<SettlementLine, ConnectorError> {
    let bid = text(&bill["bid"])
        .ok_or_else(|| ConnectorError::InvalidInput(format!("bill without bid: {bill}")))?;
    let account = bill["account_id"]
        .as_i64()
        .and_then(|id| accounts.iter().find(|a| a.account_id == id));
    let amount = amount_fen(&bid, &bill["amount"])?;
    let (kind, sign) = classify(account, amount);
    let pay_time = bill["pay_time"].as_str().unwrap_or_default();
    let cny = |minor: i64| Money {
        minor,
        currency: "CNY".into(),
    };
    Ok(SettlementLine {
        line_id: bid.clone(),
        order_external_id: if account.is_none_or(|a| a.related_order == 1) {
            text(&bill["trade_id"])
        } else {
            None
        },
        kind,
        gross: cny(sign * amount),
        fee: cny(0),
        net: cny(sign * amount),
        settled_at: top::parse_time(&format!("bill {bid} pay_time"), pay_time)?,
        payout_id: None,
    })
}

fn list<T: serde::de::DeserializeOwned>(
    body: &Value,
    outer: &str,
    inner: &str,
    method: &str,
) -> Result<Vec<T>, ConnectorError> {
    match body.get(outer).and_then(|o| o.get(inner)) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ConnectorError::InvalidInput(format!("{method}: {outer}.{inner}: {e}"))),
    }
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
            window_start: start,
            page: 1,
        },
        Some(raw) => {
            let c: Cursor = serde_json::from_str(raw).map_err(|e| {
                ConnectorError::InvalidInput(format!("settlement cursor {raw:?}: {e}"))
            })?;
            if c.window_start < start || c.window_start >= end || c.page == 0 {
                return Err(ConnectorError::InvalidInput(format!(
                    "settlement cursor {raw:?} is outside the period"
                )));
            }
            c
        }
    };
    let req = top::request(
        &settings.api_url,
        creds,
        ACCOUNTS_GET,
        &[("fields", ACCOUNT_FIELDS)],
        now_ms,
    );
    let accounts: Vec<Account> = list(
        &top::read_response(ACCOUNTS_GET, send(req)?)?,
        "accounts",
        "account",
        ACCOUNTS_GET,
    )?;
    // `end_time` is inclusive to the second: stop one second before the window's end.
    let window_end = (at.window_start + MAX_WINDOW_MS).min(end);
    let size = settings.page_size.clamp(40, 100);
    let (start_s, end_s) = (
        top::format_time(at.window_start),
        top::format_time(window_end - 1000),
    );
    let (page_s, size_s) = (at.page.to_string(), size.to_string());
    let req = top::request(
        &settings.api_url,
        creds,
        BILLS_GET,
        &[
            ("fields", BILL_FIELDS),
            ("start_time", &start_s),
            ("end_time", &end_s),
            ("time_type", "2"),
            ("page_no", &page_s),
            ("page_size", &size_s),
        ],
        now_ms,
    );
    let body = top::read_response(BILLS_GET, send(req)?)?;
    let bills: Vec<Value> = list(&body, "bills", "bill", BILLS_GET)?;
    let lines = bills
        .iter()
        .map(|b| line_from_bill(b, &accounts))
        .collect::<Result<Vec<_>, _>>()?;
    let has_next = match body.get("has_next").and_then(Value::as_bool) {
        Some(h) => h,
        None => {
            let total = body
                .get("total_results")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            u64::from(at.page) * u64::from(size) < total
        }
    };
    let next = if has_next {
        Some(Cursor {
            window_start: at.window_start,
            page: at.page + 1,
        })
    } else if window_end < end {
        Some(Cursor {
            window_start: window_end,
            page: 1,
        })
    } else {
        None
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
    use serde_json::json;

    fn account(id: i64, name: &str, kind: i64, related: i64) -> Account {
        Account {
            account_id: id,
            account_name: name.into(),
            account_type: kind,
            related_order: related,
        }
    }

    // Every row of the README's account table maps to its kind and sign.
    #[test]
    fn accounts_map_to_kinds() {
        let rows = [
            (account(1, "交易收款", 2, 1), 100, SettlementKind::Sale, 1),
            (
                account(2, "交易退款", 2, 1),
                -100,
                SettlementKind::Refund,
                1,
            ),
            (
                account(3, "天猫佣金(类目技术服务费)", 3, 1),
                5,
                SettlementKind::Commission,
                -1,
            ),
            (
                account(4, "淘宝客佣金", 3, 1),
                2,
                SettlementKind::Commission,
                -1,
            ),
            (
                account(5, "信用卡支付服务费", 4, 1),
                1,
                SettlementKind::Commission,
                -1,
            ),
            (
                account(6, "天猫积分", 5, 1),
                1,
                SettlementKind::Commission,
                -1,
            ),
            (
                account(7, "平台补贴(官方立减)", 6, 1),
                300,
                SettlementKind::PlatformDiscount,
                1,
            ),
            (
                account(8, "运费补贴", 6, 1),
                300,
                SettlementKind::ShippingSubsidy,
                1,
            ),
            (
                account(9, "其他调账", 6, 0),
                1,
                SettlementKind::Adjustment,
                1,
            ),
        ];
        for (a, amount, kind, sign) in rows {
            assert_eq!(
                classify(Some(&a), amount),
                (kind, sign),
                "{}",
                a.account_name
            );
        }
        assert_eq!(classify(None, 5), (SettlementKind::Adjustment, 1));
    }

    // Integer amounts are fen, strings are yuan; a commission becomes money out; an
    // order-unrelated account names no order.
    #[test]
    fn bills_map_to_lines() {
        let accounts = [account(3, "淘宝客佣金", 3, 1), account(9, "其他调账", 6, 0)];
        let b = json!({"bid": 77, "account_id": 3, "trade_id": "123", "amount": 250,
                       "pay_time": "2024-03-15 08:00:00"});
        let l = line_from_bill(&b, &accounts).unwrap();
        assert_eq!((l.gross.minor, l.fee.minor, l.net.minor), (-250, 0, -250));
        assert_eq!(l.order_external_id.as_deref(), Some("123"));
        assert_eq!(l.settled_at, 1_710_460_800_000);
        let b = json!({"bid": 78, "account_id": 9, "trade_id": "123", "amount": "1.50",
                       "pay_time": "2024-03-15 08:00:00"});
        let l = line_from_bill(&b, &accounts).unwrap();
        assert_eq!((l.gross.minor, l.order_external_id), (150, None));
        let bad = json!({"bid": 79, "account_id": 9, "amount": 1.5, "pay_time": "x"});
        assert!(matches!(
            line_from_bill(&bad, &accounts),
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
