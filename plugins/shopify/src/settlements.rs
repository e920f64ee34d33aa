//! `fetch-settlements` over Shopify Payments: the payouts dated in the period
//! (`shopify_payments/payouts.json?date_min=&date_max=`), then each payout's balance
//! transactions (`shopify_payments/balance/transactions.json?payout_id=`), both paged
//! with the `Link` header. One call reads one page of either, so a period of any size is
//! imported page by page and resumes from the cursor after a failure.
//!
//! Mapping (one balance transaction → at most one settlement line; see the README):
//! - `charge` → `sale`: gross = `amount`, fee = `fee` (the processing fee), net = `net`;
//! - `refund` → `refund` (negative amount as Shopify writes it);
//! - `payout` rows are the payout itself, not lines (skipped);
//! - `test: true` rows are test-mode money, never paid out (skipped);
//! - every other type (`adjustment`, `dispute`, `reserve`, `application_fee_refund`, …)
//!   → `adjustment`.
//!
//! Amounts are taken verbatim (decimal strings → minor units with the currency's
//! exponent); a row whose net ≠ amount − fee, or a payout that does not add up, is passed
//! through unchanged for the host to report. A line's `settled-at` is its payout's date
//! (00:00 UTC of the payout's `date`), so a day's import and that day's report cover the
//! same money; `processed_at` only validates the row.
//!
//! Cursor (plugin-owned JSON): `{"payouts_next": URL?, "queue": [payout id…],
//! "tx_next": URL?, "started": true}` — the next payouts page, the payouts of the current
//! page whose transactions are still to read (the first one possibly half-read at
//! `tx_next`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wharf_sdk::http::{Request, Transport};
use wharf_sdk::money;
use wharf_sdk::time::{format_rfc3339, parse_rfc3339_ms};
use wharf_sdk::types::{ConnectorError, Payout, SettlementKind, SettlementLine, SettlementPage};

use crate::settings::Settings;

/// Where a settlement import stands between calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The payouts listing's `rel="next"` link; `None` once the listing is exhausted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payouts_next: Option<String>,
    /// Payouts whose transactions are still to read, in order.
    #[serde(default)]
    pub queue: Vec<QueuedPayout>,
    /// The transactions listing's next link for `queue[0]`, while it is half-read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_next: Option<String>,
    /// The first payouts page has been read.
    pub started: bool,
}

/// A queued payout: its id and the `settled-at` its lines get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedPayout {
    pub id: String,
    pub paid_at: i64,
}

impl Cursor {
    /// Decode a cursor this module wrote; links must point into the configured shop.
    pub fn decode(raw: &str, api_base: &str) -> Result<Cursor, ConnectorError> {
        let bad =
            |why: String| ConnectorError::InvalidInput(format!("settlement cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let under = |link: &Option<String>, path: &str| match link {
            Some(l) if !l.starts_with(&format!("{api_base}/{path}?")) => {
                Err(bad(format!("link is not under {api_base}/{path}")))
            }
            _ => Ok(()),
        };
        under(&c.payouts_next, PAYOUTS)?;
        under(&c.tx_next, TRANSACTIONS)?;
        if c.tx_next.is_some() && c.queue.is_empty() {
            return Err(bad("a transactions link without its payout".into()));
        }
        Ok(c)
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor always serialises")
    }

    /// Another call has something to read.
    fn more(&self) -> bool {
        !self.queue.is_empty() || self.payouts_next.is_some()
    }
}

const PAYOUTS: &str = "shopify_payments/payouts.json";
const TRANSACTIONS: &str = "shopify_payments/balance/transactions.json";

#[derive(Deserialize)]
struct PayoutsBody {
    payouts: Vec<PayoutRow>,
}

#[derive(Deserialize)]
struct PayoutRow {
    id: Value,
    status: String,
    date: String,
    currency: String,
    amount: String,
}

#[derive(Deserialize)]
struct TransactionsBody {
    transactions: Vec<TransactionRow>,
}

#[derive(Deserialize)]
struct TransactionRow {
    id: Value,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    test: bool,
    #[serde(default)]
    payout_id: Option<Value>,
    currency: String,
    amount: String,
    fee: String,
    net: String,
    #[serde(default)]
    source_order_id: Option<Value>,
    processed_at: String,
}

/// Shopify ids are JSON numbers (sometimes strings): their decimal text.
fn id_text(field: &str, v: &Value) -> Result<String, ConnectorError> {
    match v {
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        other => Err(ConnectorError::InvalidInput(format!(
            "{field}: {other} is not a Shopify id"
        ))),
    }
}

/// The settlement kind of a balance transaction type; `None`: not a line.
pub fn kind_of(tx_type: &str) -> Option<SettlementKind> {
    match tx_type {
        "charge" => Some(SettlementKind::Sale),
        "refund" => Some(SettlementKind::Refund),
        "payout" => None,
        _ => Some(SettlementKind::Adjustment),
    }
}

/// `2024-03-15` → 00:00 UTC of that day, Unix ms.
fn date_ms(date: &str) -> Result<i64, ConnectorError> {
    parse_rfc3339_ms("payout date", &format!("{date}T00:00:00Z"))
}

/// Map one balance transaction; `Ok(None)` for rows that are not settlement lines.
fn line_from(
    row: &TransactionRow,
    payout: &QueuedPayout,
) -> Result<Option<SettlementLine>, ConnectorError> {
    let Some(kind) = kind_of(&row.kind) else {
        return Ok(None);
    };
    if row.test {
        return Ok(None);
    }
    let id = id_text("balance transaction id", &row.id)?;
    parse_rfc3339_ms("processed_at", &row.processed_at)?;
    let cur = &row.currency;
    let field = |name: &str| format!("transaction {id} {name}");
    Ok(Some(SettlementLine {
        line_id: id.clone(),
        order_external_id: row
            .source_order_id
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| id_text("source_order_id", v))
            .transpose()?,
        kind,
        gross: money::parse(&field("amount"), &row.amount, cur)?,
        fee: money::parse(&field("fee"), &row.fee, cur)?,
        net: money::parse(&field("net"), &row.net, cur)?,
        settled_at: payout.paid_at,
        payout_id: match &row.payout_id {
            Some(v) if !v.is_null() => Some(id_text("payout_id", v)?),
            _ => Some(payout.id.clone()),
        },
    }))
}

fn authed(req: Request, token: &str) -> Request {
    req.header("X-Shopify-Access-Token", token)
        .header("Accept", "application/json")
}

/// Read the next page of the period `[start, end)`: a payouts page, or one page of the
/// first queued payout's transactions.
pub fn fetch(
    settings: &Settings,
    token: &str,
    start: i64,
    end: i64,
    cursor: Option<&str>,
    send: Transport<'_>,
) -> Result<SettlementPage, ConnectorError> {
    if end <= start {
        return Err(ConnectorError::InvalidInput(format!(
            "settlement period [{start}, {end}) is empty"
        )));
    }
    let base = settings.api_base();
    let mut cursor = match cursor {
        Some(raw) => Cursor::decode(raw, &base)?,
        None => Cursor::default(),
    };
    let limit = settings.page_size.to_string();
    let mut page = SettlementPage {
        lines: Vec::new(),
        payouts: Vec::new(),
        cursor: None,
        more: false,
    };
    if let Some(payout) = cursor.queue.first().cloned() {
        let req = match cursor.tx_next.take() {
            Some(next) => Request::get(next),
            None => Request::get(format!("{base}/{TRANSACTIONS}"))
                .query(&[("payout_id", &payout.id), ("limit", &limit)]),
        };
        let resp = send(authed(req, token))?.error_for_status()?;
        let body: TransactionsBody = resp.json()?;
        for row in &body.transactions {
            page.lines.extend(line_from(row, &payout)?);
        }
        cursor.tx_next = resp.next_link();
        if cursor.tx_next.is_none() {
            cursor.queue.remove(0);
        }
    } else if !cursor.started || cursor.payouts_next.is_some() {
        let req = match cursor.payouts_next.take() {
            Some(next) => Request::get(next),
            None => {
                // Payout dates are calendar dates: every date the period touches.
                let date_min = format_rfc3339(start)[..10].to_string();
                let date_max = format_rfc3339(end - 1)[..10].to_string();
                Request::get(format!("{base}/{PAYOUTS}")).query(&[
                    ("date_min", &date_min),
                    ("date_max", &date_max),
                    ("limit", &limit),
                ])
            }
        };
        let resp = send(authed(req, token))?.error_for_status()?;
        let body: PayoutsBody = resp.json()?;
        cursor.started = true;
        for row in &body.payouts {
            let id = id_text("payout id", &row.id)?;
            let paid_at = date_ms(&row.date)?;
            page.payouts.push(Payout {
                payout_id: id.clone(),
                amount: money::parse_with(
                    || format!("payout {id} amount"),
                    &row.amount,
                    &row.currency,
                )?,
                paid_at,
                status: row.status.clone(),
            });
            cursor.queue.push(QueuedPayout { id, paid_at });
        }
        cursor.payouts_next = resp.next_link();
    }
    page.more = cursor.more();
    page.cursor = Some(cursor.encode());
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://a.myshopify.com/admin/api/2024-04";

    // Every documented transaction type maps to the README's kind; payouts are no line.
    #[test]
    fn kinds_follow_the_table() {
        assert_eq!(kind_of("charge"), Some(SettlementKind::Sale));
        assert_eq!(kind_of("refund"), Some(SettlementKind::Refund));
        assert_eq!(kind_of("payout"), None);
        for t in [
            "adjustment",
            "dispute",
            "reserve",
            "application_fee_refund",
            "payment_refund",
        ] {
            assert_eq!(kind_of(t), Some(SettlementKind::Adjustment), "{t}");
        }
    }

    // Cursors round-trip; garbage, foreign links and orphan links are invalid-input.
    #[test]
    fn cursor_round_trips_and_refuses_garbage() {
        let c = Cursor {
            payouts_next: Some(format!("{BASE}/{PAYOUTS}?page_info=x&limit=5")),
            queue: vec![QueuedPayout {
                id: "7".into(),
                paid_at: 5,
            }],
            tx_next: Some(format!("{BASE}/{TRANSACTIONS}?page_info=y&limit=5")),
            started: true,
        };
        assert_eq!(Cursor::decode(&c.encode(), BASE).unwrap(), c);
        for raw in [
            "",
            "{}",
            r#"{"started": true, "payouts_next": "https://evil.example/x"}"#,
            r#"{"started": true, "tx_next": "https://a.myshopify.com/admin/api/2024-04/shopify_payments/balance/transactions.json?x"}"#,
        ] {
            assert!(
                matches!(
                    Cursor::decode(raw, BASE),
                    Err(ConnectorError::InvalidInput(_))
                ),
                "{raw:?} should be refused"
            );
        }
    }

    // A row whose net is not amount − fee keeps its own figures (never "fixed").
    #[test]
    fn imperfect_rows_pass_through() {
        let row: TransactionRow = serde_json::from_value(serde_json::json!({
            "id": 11, "type": "charge", "test": false, "payout_id": 7, "currency": "USD",
            "amount": "10.00", "fee": "0.59", "net": "9.50", "source_order_id": 5,
            "processed_at": "2024-03-14T10:00:00-04:00"}))
        .unwrap();
        let line = line_from(
            &row,
            &QueuedPayout {
                id: "7".into(),
                paid_at: 9,
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (line.gross.minor, line.fee.minor, line.net.minor),
            (1000, 59, 950)
        );
        assert_eq!(line.order_external_id.as_deref(), Some("5"));
        assert_eq!((line.settled_at, line.payout_id.as_deref()), (9, Some("7")));
    }
}
