//! Shopify Payments: balance transactions for the shop's orders and the payouts that
//! carry them, served as `shopify_payments/payouts.json` and
//! `shopify_payments/balance/transactions.json` behind the same gate (token, API
//! version, leaky bucket, injected failures) and `Link` paging as `orders.json`.
//!
//! - [`ShopifySim::record_payments`]: a `charge` per paid order (fee 2.9 % + 30 minor
//!   units, rounded half up), and a `refund` for refunded (whole total) and partially
//!   refunded (half, rounded down) orders; `processed_at` is the order's `created_at`.
//! - [`ShopifySim::pay_out`] / [`ShopifySim::pay_out_by_day`]: group unpaid
//!   transactions per currency (and per processing day) into payouts whose amount is
//!   Σ net, with a `payout` row and a `summary`, as Shopify does.
//! - [`ShopifySim::corrupt_transaction_net`] / [`ShopifySim::corrupt_payout_amount`]: the
//!   imperfections real exports show (net ≠ amount − fee; a payout ≠ Σ its rows).
//!
//! Listings are newest first (id descending), `limit` 1..=`max_limit` (default 50), and
//! `page_info` may only be combined with `limit`.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wharf_domain::money::{format_minor, minor_digits, parse_money};

use super::api::{bad, gate, param, respond, Params};
use super::ShopifySim;
use crate::{time, SimError};

const FIRST_TRANSACTION_ID: u64 = 699_519_475;
const FIRST_PAYOUT_ID: u64 = 623_721_858;
const DEFAULT_LIMIT: usize = 50;
const DAY_MS: i64 = 86_400_000;

/// The simulated Shopify Payments account.
#[derive(Default)]
pub(crate) struct Payments {
    /// Balance transactions, ids ascending.
    transactions: Vec<Value>,
    /// Payouts, ids ascending.
    payouts: Vec<Value>,
    charged: BTreeSet<u64>,
    refunded: BTreeSet<u64>,
    next_transaction: u64,
    next_payout: u64,
}

/// The processing fee of a charge: 2.9 % (half up) + 30 minor units.
pub fn fee_for(amount_minor: i64) -> i64 {
    (amount_minor * 29 + 500) / 1000 + 30
}

fn minor(v: &Value, currency: &str) -> i64 {
    v.as_str()
        .and_then(|s| parse_money(s, currency).ok())
        .map(|m| m.minor)
        .unwrap_or(0)
}

fn amount(minor: i64, currency: &str) -> Value {
    Value::String(format_minor(
        minor,
        minor_digits(currency).expect("a known currency"),
    ))
}

impl Payments {
    fn next_transaction_id(&mut self) -> u64 {
        if self.next_transaction == 0 {
            self.next_transaction = FIRST_TRANSACTION_ID;
        }
        self.next_transaction += 1;
        self.next_transaction
    }

    fn next_payout_id(&mut self) -> u64 {
        if self.next_payout == 0 {
            self.next_payout = FIRST_PAYOUT_ID;
        }
        self.next_payout += 1;
        self.next_payout
    }

    fn push(&mut self, kind: &str, order: &Value, gross: i64, fee: i64) {
        let id = self.next_transaction_id();
        let cur = order["currency"].as_str().unwrap_or("USD").to_string();
        self.transactions.push(json!({
            "id": id,
            "type": kind,
            "test": false,
            "payout_id": null,
            "payout_status": "pending",
            "currency": cur,
            "amount": amount(gross, &cur),
            "fee": amount(fee, &cur),
            "net": amount(gross - fee, &cur),
            "source_id": id + 1_000_000,
            "source_type": kind,
            "source_order_id": order["id"],
            "source_order_transaction_id": id + 2_000_000,
            "processed_at": order["created_at"],
        }));
    }

    /// Put the unpaid transactions into payouts, one per `key(tx)` group, dated
    /// `date_of(key)`.
    fn pay_out(&mut self, status: &str, key: impl Fn(&Value) -> (String, String)) -> Vec<Value> {
        let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, tx) in self.transactions.iter().enumerate() {
            if tx["payout_id"].is_null() {
                groups.entry(key(tx)).or_default().push(i);
            }
        }
        let mut made = Vec::new();
        for ((date, cur), members) in groups {
            let id = self.next_payout_id();
            let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            let mut total = 0;
            for &i in &members {
                let tx = &mut self.transactions[i];
                tx["payout_id"] = json!(id);
                tx["payout_status"] = json!(status);
                let kind = match tx["type"].as_str() {
                    Some("charge") => "charges",
                    Some("refund") => "refunds",
                    _ => "adjustments",
                };
                let e = sums.entry(kind).or_default();
                e.0 += minor(&tx["amount"], &cur);
                e.1 += minor(&tx["fee"], &cur);
                total += minor(&tx["net"], &cur);
            }
            let mut summary = serde_json::Map::new();
            for kind in [
                "adjustments",
                "charges",
                "refunds",
                "reserved_funds",
                "retried_payouts",
            ] {
                let (g, f) = sums.get(kind).copied().unwrap_or_default();
                summary.insert(format!("{kind}_gross_amount"), amount(g, &cur));
                summary.insert(format!("{kind}_fee_amount"), amount(f, &cur));
            }
            let payout = json!({"id": id, "status": status, "date": date, "currency": cur,
                                "amount": amount(total, &cur), "summary": summary});
            // The payout's own balance row moves the money out of the balance.
            let row_id = self.next_transaction_id();
            self.transactions.push(json!({
                "id": row_id, "type": "payout", "test": false, "payout_id": id,
                "payout_status": status, "currency": cur, "amount": amount(-total, &cur),
                "fee": amount(0, &cur), "net": amount(-total, &cur), "source_id": id,
                "source_type": "payout", "source_order_id": null,
                "source_order_transaction_id": null,
                "processed_at": format!("{date}T00:00:00Z"),
            }));
            self.payouts.push(payout.clone());
            made.push(payout);
        }
        made
    }
}

impl ShopifySim {
    /// Create the balance transactions of every order not yet charged or refunded: a
    /// `charge` for each paid, partially refunded or refunded order, a `refund` for the
    /// refunded ones. Returns how many transactions were added.
    pub fn record_payments(&self) -> usize {
        let mut st = self.state();
        let orders = st.store.all();
        let pay = &mut st.payments;
        let before = pay.transactions.len();
        for o in &orders {
            let (Some(id), Some(cur)) = (o["id"].as_u64(), o["currency"].as_str()) else {
                continue;
            };
            let fin = o["financial_status"].as_str().unwrap_or("");
            if !matches!(fin, "paid" | "partially_refunded" | "refunded") {
                continue;
            }
            let total = minor(&o["total_price"], cur);
            if pay.charged.insert(id) {
                pay.push("charge", o, total, fee_for(total));
            }
            let refund = match fin {
                "refunded" => total,
                "partially_refunded" => total / 2,
                _ => 0,
            };
            if refund > 0 && pay.refunded.insert(id) {
                pay.push("refund", o, -refund, 0);
            }
        }
        pay.transactions.len() - before
    }

    /// Pay every unpaid transaction out on `date` (`YYYY-MM-DD`), one payout per
    /// currency, with `status` (scheduled, in_transit, paid, failed, canceled).
    pub fn pay_out(&self, date: &str, status: &str) -> Vec<Value> {
        self.state().payments.pay_out(status, |tx| {
            (
                date.to_string(),
                tx["currency"].as_str().unwrap_or("").to_string(),
            )
        })
    }

    /// Pay unpaid transactions out per processing day (UTC) and currency, each payout
    /// dated `delay_days` after the day its transactions were processed.
    pub fn pay_out_by_day(&self, delay_days: i64, status: &str) -> Vec<Value> {
        self.state().payments.pay_out(status, |tx| {
            let at = tx["processed_at"]
                .as_str()
                .and_then(time::parse)
                .unwrap_or(0);
            let day = at.div_euclid(DAY_MS) + delay_days;
            let date = time::format_utc_millis(day * DAY_MS)[..10].to_string();
            (date, tx["currency"].as_str().unwrap_or("").to_string())
        })
    }

    /// Make a transaction's `net` differ from `amount − fee` by `delta` minor units.
    pub fn corrupt_transaction_net(&self, id: u64, delta: i64) -> bool {
        let mut st = self.state();
        let Some(tx) = st.payments.transactions.iter_mut().find(|t| t["id"] == id) else {
            return false;
        };
        let cur = tx["currency"].as_str().unwrap_or("USD").to_string();
        tx["net"] = amount(minor(&tx["net"], &cur) + delta, &cur);
        true
    }

    /// Make a payout's `amount` differ from Σ net of its transactions by `delta`.
    pub fn corrupt_payout_amount(&self, id: u64, delta: i64) -> bool {
        let mut st = self.state();
        let Some(p) = st.payments.payouts.iter_mut().find(|p| p["id"] == id) else {
            return false;
        };
        let cur = p["currency"].as_str().unwrap_or("USD").to_string();
        p["amount"] = amount(minor(&p["amount"], &cur) + delta, &cur);
        true
    }

    /// Every balance transaction (payout rows included), ids ascending.
    pub fn balance_transactions(&self) -> Vec<Value> {
        self.state().payments.transactions.clone()
    }

    /// Every payout, ids ascending.
    pub fn payouts(&self) -> Vec<Value> {
        self.state().payments.payouts.clone()
    }
}

/// The opaque `page_info` of the two listings: their filters and the last id served.
#[derive(Serialize, Deserialize)]
struct Token {
    filters: Params,
    below: u64,
}

fn is_date(s: &str) -> bool {
    time::parse(&format!("{s}T00:00:00Z")).is_some() && s.len() == 10
}

/// Read `limit`, the filters (from `page_info` or the query) and the keyset position.
fn listing(
    sim: &ShopifySim,
    params: &Params,
    allowed: &[&str],
) -> Result<(usize, Params, u64), SimError> {
    let max = sim.config().max_limit;
    let limit = match param(params, "limit") {
        None => DEFAULT_LIMIT.min(max),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => return Err(bad("limit", format!("must be from 1 to {max}, got {v:?}"))),
        },
    };
    if let Some(token) = param(params, "page_info") {
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| k != "page_info" && k != "limit")
        {
            return Err(bad(
                "page_info",
                format!("cannot be combined with other parameters (only limit): {k}"),
            ));
        }
        let t: Token = URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("page_info", "Invalid value."))?;
        return Ok((limit, t.filters, t.below));
    }
    let filters: Params = params
        .iter()
        .filter(|(k, _)| k != "limit")
        .cloned()
        .collect();
    for (k, v) in &filters {
        if !allowed.contains(&k.as_str()) {
            continue;
        }
        if (k == "date_min" || k == "date_max" || k == "date") && !is_date(v) {
            return Err(bad(k, format!("is invalid: {v:?}")));
        }
    }
    Ok((limit, filters, u64::MAX))
}

/// One page, newest first, with its `Link` header.
fn page(
    sim: &ShopifySim,
    headers: &HeaderMap,
    version: &str,
    path: &str,
    rows: Vec<Value>,
    (limit, filters, below): (usize, Params, u64),
) -> (Vec<Value>, Option<String>) {
    let mut rows: Vec<Value> = rows
        .into_iter()
        .filter(|r| r["id"].as_u64().is_some_and(|id| id < below))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r["id"].as_u64()));
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let origin = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| sim.base_url());
    let link = (has_more).then(|| {
        let last = rows.last().and_then(|r| r["id"].as_u64()).unwrap_or(0);
        let token = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Token {
                filters,
                below: last,
            })
            .expect("a token serialises"),
        );
        format!(
            "<{origin}/admin/api/{version}/{path}?page_info={token}&limit={limit}>; rel=\"next\""
        )
    });
    (rows, link)
}

/// `GET shopify_payments/payouts.json`: `date_min`, `date_max`, `date`, `status`,
/// `since_id`, `last_id`.
pub(crate) async fn list_payouts(
    State(sim): State<ShopifySim>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, SimError> {
    let call_limit = gate(&sim, &version, &headers)?;
    let allowed = [
        "date_min", "date_max", "date", "status", "since_id", "last_id",
    ];
    let l = listing(&sim, &params, &allowed)?;
    let f = &l.1;
    let num = |k: &str| param(f, k).and_then(|v| v.parse::<u64>().ok());
    let rows: Vec<Value> = sim
        .payouts()
        .into_iter()
        .filter(|p| {
            let date = p["date"].as_str().unwrap_or("");
            let id = p["id"].as_u64().unwrap_or(0);
            param(f, "date_min").is_none_or(|d| date >= d)
                && param(f, "date_max").is_none_or(|d| date <= d)
                && param(f, "date").is_none_or(|d| date == d)
                && param(f, "status").is_none_or(|s| p["status"] == s)
                && num("since_id").is_none_or(|s| id > s)
                && num("last_id").is_none_or(|s| id <= s)
        })
        .collect();
    let (rows, link) = page(
        &sim,
        &headers,
        &version,
        "shopify_payments/payouts.json",
        rows,
        l,
    );
    Ok(respond(&sim, &call_limit, json!({ "payouts": rows }), link))
}

/// `GET shopify_payments/balance/transactions.json`: `payout_id`, `payout_status`,
/// `test`, `since_id`, `last_id`.
pub(crate) async fn list_transactions(
    State(sim): State<ShopifySim>,
    Path(version): Path<String>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, SimError> {
    let call_limit = gate(&sim, &version, &headers)?;
    let allowed = ["payout_id", "payout_status", "test", "since_id", "last_id"];
    let l = listing(&sim, &params, &allowed)?;
    let f = &l.1;
    let num = |k: &str| param(f, k).and_then(|v| v.parse::<u64>().ok());
    if param(f, "payout_id").is_some() && num("payout_id").is_none() {
        return Err(bad("payout_id", "must be an integer"));
    }
    let rows: Vec<Value> = sim
        .balance_transactions()
        .into_iter()
        .filter(|t| {
            let id = t["id"].as_u64().unwrap_or(0);
            num("payout_id").is_none_or(|p| t["payout_id"] == p)
                && param(f, "payout_status").is_none_or(|s| t["payout_status"] == s)
                && param(f, "test").is_none_or(|s| t["test"].to_string() == s)
                && num("since_id").is_none_or(|s| id > s)
                && num("last_id").is_none_or(|s| id <= s)
        })
        .collect();
    let path = "shopify_payments/balance/transactions.json";
    let (rows, link) = page(&sim, &headers, &version, path, rows, l);
    Ok(respond(
        &sim,
        &call_limit,
        json!({ "transactions": rows }),
        link,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The fee is 2.9 % rounded half up plus 30 minor units.
    #[test]
    fn fee_is_2_9_percent_plus_30() {
        assert_eq!(fee_for(10_000), 320);
        assert_eq!(fee_for(1_000), 59);
        assert_eq!(fee_for(17), 30);
        assert_eq!(fee_for(5_000), 175);
    }
}
