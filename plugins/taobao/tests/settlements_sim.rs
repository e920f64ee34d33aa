//! `fetch-settlements` run natively against the simulated TOP bill API over real HTTP:
//! every request signed (the simulator recomputes the MD5 signature) and windowed to at
//! most one day, pages to the end, cursor resumption, exact fen, the account table, TOP
//! error codes and imperfect bills passed through unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wharf_plugin_taobao::settings::Settings;
use wharf_plugin_taobao::settlements;
use wharf_plugin_taobao::top::Credentials;
use wharf_sdk::types::{ConnectorError, SettlementKind, SettlementLine, SettlementPage};
use wharf_sim::native::{self, kind_name, Transport};
use wharf_sim::taobao::{Fault, TaobaoSim, TaobaoSimConfig, TopError, BILL_ACCOUNTS};
use wharf_sim::time::now_ms;

/// 2024-03-15T00:00:00Z; the period is two days, the bills straddle its midnight.
const START: i64 = 1_710_460_800_000;
const DAY: i64 = 86_400_000;

struct Harness {
    net: Transport,
    sim: TaobaoSim,
    settings: Settings,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(TaobaoSim::start(TaobaoSimConfig::default()))
            .unwrap();
        sim.generate_trades(200, 5, START - DAY, START);
        let bills = sim.record_bills(START + DAY - 60_000);
        assert!(
            bills.len() > 100,
            "enough bills for several pages: {}",
            bills.len()
        );
        let settings = Settings {
            api_url: sim.router_url(),
            window_minutes: 30,
            page_size: 40,
            lookback_days: 1,
            seller_nick: None,
        };
        Harness { net, sim, settings }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
            session: c.session.clone(),
        }
    }

    fn fetch_with(
        &self,
        creds: &Credentials,
        cursor: Option<&str>,
    ) -> Result<SettlementPage, ConnectorError> {
        settlements::fetch(
            &self.settings,
            creds,
            (START, START + 2 * DAY),
            cursor,
            now_ms(),
            &mut |r| self.net.send(r),
        )
    }

    fn all(&self, cursor: Option<String>) -> Vec<SettlementLine> {
        let pages = native::settlement_round(|c| self.fetch_with(&self.creds(), c), cursor);
        assert!(
            pages.iter().all(|p| p.payouts.is_empty()),
            "Alipay settles bill by bill"
        );
        pages.into_iter().flat_map(|p| p.lines).collect()
    }

    fn bills(&self) -> BTreeMap<String, Value> {
        self.sim
            .bills()
            .into_iter()
            .map(|b| (b["bid"].to_string(), b))
            .collect()
    }
}

/// The README's account table: account id → (kind, sign).
fn expected_kind(account: u64, amount: i64) -> (SettlementKind, i64) {
    let (_, _, name, kind, _) = BILL_ACCOUNTS.iter().find(|a| a.0 == account).unwrap();
    match (*kind, *name) {
        (_, n) if n.contains("补贴") => (SettlementKind::PlatformDiscount, 1),
        (2, _) if amount >= 0 => (SettlementKind::Sale, 1),
        (2, _) => (SettlementKind::Refund, 1),
        (3..=5, _) => (SettlementKind::Commission, -1),
        _ => (SettlementKind::Adjustment, 1),
    }
}

// Both one-day windows are paged to the end: every bill exactly once, in fen, with the
// kind and sign of its account, and the money per kind adds up to what the simulator
// billed.
#[test]
fn pages_every_window_with_exact_fen_and_kinds() {
    let h = Harness::new();
    let lines = h.all(None);
    let bills = h.bills();
    let ids: BTreeSet<&String> = lines.iter().map(|l| &l.line_id).collect();
    assert_eq!(ids.len(), lines.len(), "no bill twice");
    assert_eq!(ids.len(), bills.len(), "every bill once");
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for l in &lines {
        let b = &bills[&l.line_id];
        let amount = b["amount"].as_i64().unwrap();
        let (kind, sign) = expected_kind(b["account_id"].as_u64().unwrap(), amount);
        assert_eq!(l.kind, kind, "{b}");
        assert_eq!(
            (l.gross.minor, l.fee.minor, l.net.minor),
            (sign * amount, 0, sign * amount)
        );
        assert_eq!(l.gross.currency, "CNY");
        assert_eq!(l.order_external_id.as_deref(), b["trade_id"].as_str());
        *sums.entry(kind_name(l.kind).to_string()).or_default() += l.net.minor;
        *want.entry(kind_name(kind).to_string()).or_default() += sign * amount;
    }
    assert_eq!(sums, want);
    for k in ["sale", "refund", "commission", "platform-discount"] {
        assert!(sums.contains_key(k), "{k} appears: {sums:?}");
    }
    // The one-day rule: every bills.get call spanned at most a day.
    let calls: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "taobao.bill.bills.get")
        .collect();
    assert!(calls.len() >= 4, "two windows, several pages each");
}

// A TOP fault in the middle of an import resumes from the last cursor: same bills, none
// twice, none missed.
#[test]
fn cursor_resumes_after_a_fault() {
    let h = Harness::new();
    let whole: Vec<String> = h.all(None).into_iter().map(|l| l.line_id).collect();
    let mut cursor = None;
    let mut got = Vec::new();
    for _ in 0..2 {
        let page = h.fetch_with(&h.creds(), cursor.as_deref()).unwrap();
        got.extend(page.lines.into_iter().map(|l| l.line_id));
        cursor = page.cursor;
    }
    h.sim
        .fail_next(1, Fault::Top(TopError::remote_service_error()));
    assert!(matches!(
        h.fetch_with(&h.creds(), cursor.as_deref()),
        Err(ConnectorError::Transient(_))
    ));
    got.extend(h.all(cursor).into_iter().map(|l| l.line_id));
    assert_eq!(got, whole);
}

// Invalid session → unauthorized, call limit → rate-limited for the ban, HTTP 502 →
// transient, a foreign cursor → invalid-input.
#[test]
fn top_errors_map_to_connector_kinds() {
    let h = Harness::new();
    let mut bad = h.creds();
    bad.session = "nope".into();
    assert!(matches!(
        h.fetch_with(&bad, None),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim
        .fail_next(1, Fault::Top(TopError::app_call_limited(5)));
    assert!(matches!(
        h.fetch_with(&h.creds(), None),
        Err(ConnectorError::RateLimited(5000))
    ));
    h.sim.fail_next(1, Fault::Http(502));
    assert!(matches!(
        h.fetch_with(&h.creds(), None),
        Err(ConnectorError::Transient(_))
    ));
    let outside = format!(r#"{{"window_start": {}, "page": 1}}"#, START + 5 * DAY);
    assert!(matches!(
        h.fetch_with(&h.creds(), Some(&outside)),
        Err(ConnectorError::InvalidInput(_))
    ));
}

// A bill restated by the platform arrives as written: the plugin fixes nothing.
#[test]
fn imperfect_bill_passes_through() {
    let h = Harness::new();
    let (bid, bill) = h
        .bills()
        .into_iter()
        .find(|(_, b)| b["account_id"] == 10_001)
        .unwrap();
    assert!(h
        .sim
        .corrupt_bill_amount(bill["bid"].as_u64().unwrap(), 12_345));
    let line = h.all(None).into_iter().find(|l| l.line_id == bid).unwrap();
    assert_eq!((line.gross.minor, line.net.minor), (12_345, 12_345));
}
