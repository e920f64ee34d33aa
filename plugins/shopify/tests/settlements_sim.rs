//! `fetch-settlements` run natively against the simulated Shopify Payments account over
//! real HTTP: paging across payouts and transaction pages, cursor resumption, exact
//! amounts, the kind table, error kinds and imperfect rows passed through unchanged.

use std::collections::BTreeMap;

use serde_json::Value;
use wharf_domain::money::parse_money;
use wharf_plugin_shopify::settings::Settings;
use wharf_plugin_shopify::settlements;
use wharf_sdk::types::{ConnectorError, SettlementKind, SettlementLine, SettlementPage};
use wharf_sim::native::{self, Transport};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};

/// 2024-03-15T00:00:00Z and the next midnight: the period imported.
const START: i64 = 1_710_460_800_000;
const END: i64 = START + 86_400_000;
const DATE: &str = "2024-03-15";

struct Harness {
    net: Transport,
    sim: ShopifySim,
    settings: Settings,
}

impl Harness {
    /// A shop with `orders` orders, their payments recorded and paid out on 2024-03-15.
    fn new(orders: usize, page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(ShopifySim::start(ShopifySimConfig::default()))
            .unwrap();
        sim.generate_orders(orders, 7);
        assert!(sim.record_payments() > 0, "some orders are paid");
        assert!(!sim.pay_out(DATE, "paid").is_empty());
        let settings = Settings {
            shop_url: sim.base_url(),
            api_version: "2024-04".into(),
            page_size,
            lookback_days: 30,
            location_id: None,
        };
        Harness { net, sim, settings }
    }

    fn fetch(&self, token: &str, cursor: Option<&str>) -> Result<SettlementPage, ConnectorError> {
        settlements::fetch(&self.settings, token, START, END, cursor, &mut |r| {
            self.net.send(r)
        })
    }

    /// Every page until `more` is false, from `cursor`.
    fn all(&self, cursor: Option<String>) -> Vec<SettlementPage> {
        let token = self.sim.config().access_token.clone();
        native::settlement_round(|c| self.fetch(&token, c), cursor)
    }

    /// The simulator's non-payout rows by id.
    fn rows(&self) -> BTreeMap<String, Value> {
        self.sim
            .balance_transactions()
            .into_iter()
            .filter(|t| t["type"] != "payout")
            .map(|t| (t["id"].to_string(), t))
            .collect()
    }
}

fn minor(v: &Value, cur: &str) -> i64 {
    parse_money(v.as_str().unwrap(), cur).unwrap().minor
}

fn lines(pages: &[SettlementPage]) -> Vec<SettlementLine> {
    pages.iter().flat_map(|p| p.lines.clone()).collect()
}

// Paging visits every payout and every transaction exactly once, payout rows are not
// lines, and each line's gross/fee/net are the row's amount/fee/net in minor units.
#[test]
fn pages_to_the_end_with_exact_amounts() {
    let h = Harness::new(40, 4);
    let pages = h.all(None);
    assert!(pages.len() > 3, "several pages: {}", pages.len());
    let rows = h.rows();
    let got = lines(&pages);
    let ids: std::collections::BTreeSet<&String> = got.iter().map(|l| &l.line_id).collect();
    assert_eq!(ids.len(), got.len(), "no line twice");
    assert_eq!(ids.len(), rows.len(), "every transaction once");
    let mut sums: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for l in &got {
        let row = &rows[&l.line_id];
        let cur = row["currency"].as_str().unwrap();
        assert_eq!(l.gross.minor, minor(&row["amount"], cur));
        assert_eq!(l.fee.minor, minor(&row["fee"], cur));
        assert_eq!(l.net.minor, minor(&row["net"], cur));
        assert_eq!(l.gross.currency, cur);
        assert_eq!(
            l.order_external_id,
            Some(row["source_order_id"].to_string())
        );
        assert_eq!(l.payout_id, Some(row["payout_id"].to_string()));
        assert_eq!(l.settled_at, START, "settled on the payout's date");
        let e = sums.entry(cur.to_string()).or_default();
        e.0 += l.gross.minor;
        e.1 += l.fee.minor;
        e.2 += l.net.minor;
    }
    // Σ net of the lines of each currency is what the simulator paid out in it.
    let payouts: Vec<_> = pages.iter().flat_map(|p| p.payouts.clone()).collect();
    assert_eq!(payouts.len(), h.sim.payouts().len());
    for p in &payouts {
        assert_eq!(
            sums[&p.amount.currency].2, p.amount.minor,
            "{}",
            p.payout_id
        );
        assert_eq!(p.status, "paid");
        assert_eq!(p.paid_at, START);
    }
}

// Kinds follow the README table row by row: charge → sale, refund → refund, and the
// charge's fee is 2.9 % + 30 minor units of its amount.
#[test]
fn kinds_follow_the_readme_table() {
    let h = Harness::new(60, 50);
    let rows = h.rows();
    let got = lines(&h.all(None));
    let mut seen = BTreeMap::new();
    for l in &got {
        let t = rows[&l.line_id]["type"].as_str().unwrap().to_string();
        let want = match t.as_str() {
            "charge" => SettlementKind::Sale,
            "refund" => SettlementKind::Refund,
            _ => SettlementKind::Adjustment,
        };
        assert_eq!(l.kind, want, "{t}");
        if l.kind == SettlementKind::Sale {
            assert_eq!(l.fee.minor, wharf_sim::shopify::fee_for(l.gross.minor));
        } else {
            assert!(l.gross.minor < 0, "refunds are negative");
        }
        *seen.entry(t).or_insert(0) += 1;
    }
    assert!(
        seen.contains_key("charge") && seen.contains_key("refund"),
        "{seen:?}"
    );
}

// A failure in the middle of an import resumes from the last cursor: the same lines,
// none twice, none missed.
#[test]
fn cursor_resumes_after_a_failure() {
    let h = Harness::new(30, 3);
    let whole: Vec<String> = lines(&h.all(None)).into_iter().map(|l| l.line_id).collect();
    let token = h.sim.config().access_token.clone();
    let mut cursor = None;
    let mut got = Vec::new();
    for _ in 0..3 {
        let page = h.fetch(&token, cursor.as_deref()).unwrap();
        got.extend(page.lines.into_iter().map(|l| l.line_id));
        cursor = page.cursor;
    }
    h.sim.fail_next(1, 503);
    assert!(matches!(
        h.fetch(&token, cursor.as_deref()),
        Err(ConnectorError::Transient(_))
    ));
    let rest = h.all(cursor);
    got.extend(lines(&rest).into_iter().map(|l| l.line_id));
    assert_eq!(got, whole);
}

// 401, 429 and 5xx become unauthorized, rate-limited (Retry-After) and transient.
#[test]
fn errors_map_to_connector_kinds() {
    let h = Harness::new(10, 5);
    assert!(matches!(
        h.fetch("wrong-token", None),
        Err(ConnectorError::Unauthorized(_))
    ));
    let token = h.sim.config().access_token.clone();
    h.sim.fail_next(1, 429);
    assert!(matches!(
        h.fetch(&token, None),
        Err(ConnectorError::RateLimited(1000))
    ));
    h.sim.fail_next(1, 500);
    assert!(matches!(
        h.fetch(&token, None),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        h.fetch(&token, Some("not a cursor")),
        Err(ConnectorError::InvalidInput(_))
    ));
}

// A row whose net ≠ amount − fee and a payout ≠ Σ its rows arrive exactly as Shopify
// wrote them: the plugin fixes nothing.
#[test]
fn imperfect_rows_pass_through_unchanged() {
    let h = Harness::new(10, 50);
    let charge = h
        .sim
        .balance_transactions()
        .into_iter()
        .find(|t| t["type"] == "charge")
        .unwrap();
    let payout_id = charge["payout_id"].as_u64().unwrap();
    assert!(h
        .sim
        .corrupt_transaction_net(charge["id"].as_u64().unwrap(), -7));
    assert!(h.sim.corrupt_payout_amount(payout_id, 11));
    let pages = h.all(None);
    let line = lines(&pages)
        .into_iter()
        .find(|l| l.line_id == charge["id"].to_string())
        .unwrap();
    assert_eq!(line.net.minor, line.gross.minor - line.fee.minor - 7);
    let payout = pages
        .iter()
        .flat_map(|p| p.payouts.clone())
        .find(|p| p.payout_id == payout_id.to_string())
        .unwrap();
    let stored = h
        .sim
        .payouts()
        .into_iter()
        .find(|p| p["id"] == payout_id)
        .unwrap();
    let cur = stored["currency"].as_str().unwrap();
    assert_eq!(payout.amount.minor, minor(&stored["amount"], cur));
}

// Payouts dated outside the period are not read.
#[test]
fn other_days_are_not_imported() {
    let h = Harness::new(10, 50);
    h.sim.generate_orders(20, 99);
    h.sim.record_payments();
    let later = h.sim.pay_out("2024-03-16", "in_transit");
    assert!(!later.is_empty());
    let pages = h.all(None);
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.payouts.iter().map(|p| p.payout_id.clone()))
        .collect();
    for p in later {
        assert!(!ids.contains(&p["id"].to_string()));
    }
    assert!(lines(&pages).iter().all(|l| l.settled_at == START));
}
