//! `fetch-settlements` run natively against the simulated doudian settle bills over real
//! HTTP: every call signed (the simulator recomputes the HMAC over the canonical
//! `param_json`), `next_start_index` / `next_start_time` paging to `is_end`, cursor
//! resumption, exact fen, the README's row mapping, doudian error codes and an imperfect
//! row passed through unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wharf_plugin_douyin::doudian::Credentials;
use wharf_plugin_douyin::settings::Settings;
use wharf_plugin_douyin::settlements;
use wharf_sdk::types::{ConnectorError, SettlementKind, SettlementLine, SettlementPage};
use wharf_sim::douyin::{DoudianError, DouyinSim, DouyinSimConfig, Fault};
use wharf_sim::native::{self, kind_name, Transport};
use wharf_sim::time::now_ms;

/// 2024-03-15T00:00:00Z; the period is one day.
const START: i64 = 1_710_460_800_000;
const DAY: i64 = 86_400_000;

struct Harness {
    net: Transport,
    sim: DouyinSim,
    settings: Settings,
}

impl Harness {
    fn new(page_size: u32) -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(DouyinSim::start(DouyinSimConfig::default()))
            .unwrap();
        sim.generate_orders(150, 3, START - DAY, START);
        let rows = sim.record_settlements(START + 3_600_000);
        assert!(
            rows.len() > 20,
            "enough rows for several pages: {}",
            rows.len()
        );
        let settings = Settings {
            api_url: sim.base_url(),
            window_minutes: 30,
            page_size,
            lookback_days: 1,
        };
        Harness { net, sim, settings }
    }

    fn creds(&self) -> Credentials {
        let c = self.sim.config();
        Credentials {
            app_key: c.app_key.clone(),
            app_secret: c.app_secret.clone(),
            access_token: c.access_token.clone(),
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
            (START, START + DAY),
            cursor,
            now_ms(),
            &mut |r| self.net.send(r),
        )
    }

    fn all(&self, cursor: Option<String>) -> (Vec<SettlementLine>, usize) {
        let pages = native::settlement_round(|c| self.fetch_with(&self.creds(), c), cursor);
        assert!(
            pages.iter().all(|p| p.payouts.is_empty()),
            "doudian settles per order"
        );
        let n = pages.len();
        (pages.into_iter().flat_map(|p| p.lines).collect(), n)
    }
}

fn fen(row: &Value, key: &str) -> i64 {
    row[key].as_i64().unwrap()
}

// Paging reaches is_end with every row exactly once; each row maps to the README's lines
// (sale gross = real_pay_amount, fee = the fee fields, platform coupon → platform-discount,
// author coupon → adjustment, refund flows → refund) and Σ net per row = settle_amount.
#[test]
fn pages_to_the_end_with_rows_mapped_exactly() {
    let h = Harness::new(7);
    let (lines, pages) = h.all(None);
    let rows = h.sim.settle_rows();
    assert!(pages > 3, "several pages: {pages}");
    let ids: BTreeSet<&String> = lines.iter().map(|l| &l.line_id).collect();
    assert_eq!(ids.len(), lines.len(), "no line twice");
    let mut by_row: BTreeMap<String, Vec<&SettlementLine>> = BTreeMap::new();
    for l in &lines {
        let row = l.line_id.split(':').next().unwrap().to_string();
        by_row.entry(row).or_default().push(l);
    }
    assert_eq!(by_row.len(), rows.len(), "every row once");
    let mut kinds = BTreeSet::new();
    for row in &rows {
        let ls = &by_row[row["request_no"].as_str().unwrap()];
        assert_eq!(
            ls.iter().map(|l| l.net.minor).sum::<i64>(),
            fen(row, "settle_amount")
        );
        for l in ls {
            assert_eq!(
                l.order_external_id.as_deref(),
                row["shop_order_id"].as_str()
            );
            assert_eq!(l.gross.currency, "CNY");
            kinds.insert(kind_name(l.kind).to_string());
            let field = l.line_id.split_once(':').map(|(_, f)| f);
            match (fen(row, "trade_type"), field) {
                (0, None) => {
                    assert_eq!(l.kind, SettlementKind::Sale);
                    assert_eq!(l.gross.minor, fen(row, "real_pay_amount"));
                    assert_eq!(
                        l.fee.minor,
                        fen(row, "platform_service_fee") + fen(row, "commission")
                    );
                    assert_eq!(
                        l.net.minor,
                        l.gross.minor - l.fee.minor,
                        "the simulator's rows add up"
                    );
                }
                (0, Some("platform_coupon")) => {
                    assert_eq!(
                        (l.kind, l.gross.minor),
                        (
                            SettlementKind::PlatformDiscount,
                            fen(row, "platform_coupon")
                        )
                    );
                }
                (0, Some("author_coupon")) => {
                    assert_eq!(
                        (l.kind, l.gross.minor),
                        (SettlementKind::Adjustment, fen(row, "author_coupon"))
                    );
                }
                (1, None) => assert_eq!(
                    (l.kind, l.net.minor),
                    (SettlementKind::Refund, fen(row, "settle_amount"))
                ),
                other => panic!("unexpected line {other:?}: {l:?}"),
            }
        }
    }
    for k in ["sale", "refund", "platform-discount"] {
        assert!(kinds.contains(k), "{k} appears: {kinds:?}");
    }
}

// A doudian failure in the middle resumes from the last cursor: same lines, none twice,
// none missed.
#[test]
fn cursor_resumes_after_a_failure() {
    let h = Harness::new(5);
    let whole: Vec<String> = h.all(None).0.into_iter().map(|l| l.line_id).collect();
    let mut cursor = None;
    let mut got = Vec::new();
    for _ in 0..3 {
        let page = h.fetch_with(&h.creds(), cursor.as_deref()).unwrap();
        got.extend(page.lines.into_iter().map(|l| l.line_id));
        cursor = page.cursor;
    }
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::service_unavailable()));
    assert!(matches!(
        h.fetch_with(&h.creds(), cursor.as_deref()),
        Err(ConnectorError::Transient(_))
    ));
    got.extend(h.all(cursor).0.into_iter().map(|l| l.line_id));
    assert_eq!(got, whole);
}

// A bad token → unauthorized, flow control → rate-limited, HTTP 503 → transient, a
// cursor outside the period → invalid-input.
#[test]
fn doudian_errors_map_to_connector_kinds() {
    let h = Harness::new(20);
    let mut bad = h.creds();
    bad.access_token = "nope".into();
    assert!(matches!(
        h.fetch_with(&bad, None),
        Err(ConnectorError::Unauthorized(_))
    ));
    h.sim
        .fail_next(1, Fault::Doudian(DoudianError::flow_limited()));
    assert!(matches!(
        h.fetch_with(&h.creds(), None),
        Err(ConnectorError::RateLimited(_))
    ));
    h.sim.fail_next(1, Fault::Http(503));
    assert!(matches!(
        h.fetch_with(&h.creds(), None),
        Err(ConnectorError::Transient(_))
    ));
    let outside = r#"{"start_time": "2024-04-01 00:00:00", "start_index": ""}"#;
    assert!(matches!(
        h.fetch_with(&h.creds(), Some(outside)),
        Err(ConnectorError::InvalidInput(_))
    ));
}

// A row whose settle_amount disagrees with its parts is passed through: its lines add up
// to doudian's settle_amount and the sale line's net ≠ gross − fee shows the gap.
#[test]
fn imperfect_row_passes_through() {
    let h = Harness::new(100);
    let row = h
        .sim
        .settle_rows()
        .into_iter()
        .find(|r| r["trade_type"] == 0)
        .unwrap();
    let id = row["request_no"].as_str().unwrap().to_string();
    assert!(h.sim.corrupt_settle_amount(&id, -13));
    let lines = h.all(None).0;
    let sale = lines.iter().find(|l| l.line_id == id).unwrap();
    assert_eq!(sale.net.minor, sale.gross.minor - sale.fee.minor - 13);
    let total: i64 = lines
        .iter()
        .filter(|l| l.line_id.split(':').next() == Some(id.as_str()))
        .map(|l| l.net.minor)
        .sum();
    assert_eq!(total, fen(&row, "settle_amount") - 13);
}
