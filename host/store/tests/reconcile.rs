//! Settlements and reconciliation on the real database (SQLite, or PostgreSQL with
//! `WHARF_TEST_DATABASE_URL`): idempotent import, rules, reports, revenue.

mod common;

use common::{installation, order, plugin, usd, world};
use wharf_domain::reconcile::{NetRule, Sign};
use wharf_domain::settlement::{Payout, SettlementKind, SettlementLine, SettlementPage};
use wharf_domain::ChannelStatus::{Paid, Shipped};
use wharf_store::reconcile::{ReconcileSink, Record, RevenueGroup};
use wharf_store::settlements::{ReconciliationSettings, SkuCost};
use wharf_store::{IngestSource, StoreError};

const DAY: i64 = 86_400_000;
/// 2024-01-10T00:00Z.
const START: i64 = 1_704_067_200_000 + 9 * DAY;

fn line(
    id: &str,
    order: Option<&str>,
    kind: SettlementKind,
    gross: i64,
    fee: i64,
    net: i64,
) -> SettlementLine {
    SettlementLine {
        line_id: id.into(),
        order_external_id: order.map(Into::into),
        kind,
        gross: usd(gross),
        fee: usd(fee),
        net: usd(net),
        settled_at: START + 3_600_000,
        payout_id: Some("P1".into()),
    }
}

fn page(lines: Vec<SettlementLine>, payouts: Vec<Payout>) -> SettlementPage {
    SettlementPage {
        lines,
        payouts,
        cursor: None,
        more: false,
    }
}

fn payout(amount: i64) -> Payout {
    Payout {
        payout_id: "P1".into(),
        amount: usd(amount),
        paid_at: START + 7_200_000,
        status: "paid".into(),
    }
}

/// Importing the same page twice changes nothing the second time; a restated line is
/// updated and counted; rows stay keyed by (installation, line id).
#[tokio::test]
async fn import_is_idempotent_per_platform_id() {
    let w = world().await;
    let s = &w.store;
    let lines: Vec<_> = (0..450)
        .map(|i| {
            line(
                &format!("L{i}"),
                Some("o1"),
                SettlementKind::Sale,
                1000,
                30,
                970,
            )
        })
        .collect();
    let p = page(lines, vec![payout(436_500)]);
    let first = s
        .import_settlements(w.merchant_id, w.inst.id, &p)
        .await
        .unwrap();
    assert_eq!((first.lines_changed, first.lines_unchanged), (450, 0));
    assert_eq!((first.payouts_changed, first.payouts_unchanged), (1, 0));
    let again = s
        .import_settlements(w.merchant_id, w.inst.id, &p)
        .await
        .unwrap();
    assert_eq!((again.lines_changed, again.lines_unchanged), (0, 450));
    assert_eq!((again.payouts_changed, again.payouts_unchanged), (0, 1));
    let mut restated = p.clone();
    restated.lines[7].fee = usd(31);
    restated.lines[7].net = usd(969);
    restated.lines[8].payout_id = None;
    let third = s
        .import_settlements(w.merchant_id, w.inst.id, &restated)
        .await
        .unwrap();
    assert_eq!((third.lines_changed, third.lines_unchanged), (2, 448));
    let report = s
        .reconciliation(w.merchant_id, START, START + DAY, None, START + 30 * DAY)
        .await
        .unwrap();
    assert_eq!(
        report.unmatched.len(),
        450,
        "no order o1 exists: every line is unmatched"
    );
    assert_eq!(report.payouts.len(), 1);
}

/// Malformed pages are refused whole, and another merchant's installation is not found.
#[tokio::test]
async fn import_refuses_bad_pages_and_other_merchants() {
    let w = world().await;
    let s = &w.store;
    let other = s.create_merchant("Other").await.unwrap();
    let ok = page(vec![line("A", None, SettlementKind::Sale, 1, 0, 1)], vec![]);
    assert!(matches!(
        s.import_settlements(other.id, w.inst.id, &ok).await,
        Err(StoreError::NotFound(_))
    ));
    let dup = page(
        vec![
            line("A", None, SettlementKind::Sale, 1, 0, 1),
            line("A", None, SettlementKind::Sale, 2, 0, 2),
        ],
        vec![],
    );
    assert!(matches!(
        s.import_settlements(w.merchant_id, w.inst.id, &dup).await,
        Err(StoreError::InvalidInput(_))
    ));
    let mut bad_currency = ok.clone();
    bad_currency.lines[0].fee.currency = "XXX1".into();
    assert!(matches!(
        s.import_settlements(w.merchant_id, w.inst.id, &bad_currency)
            .await,
        Err(StoreError::InvalidInput(_))
    ));
    let empty_id = page(vec![line("", None, SettlementKind::Sale, 1, 0, 1)], vec![]);
    assert!(matches!(
        s.import_settlements(w.merchant_id, w.inst.id, &empty_id)
            .await,
        Err(StoreError::InvalidInput(_))
    ));
    let report = s
        .reconciliation(w.merchant_id, START, START + DAY, None, START + 30 * DAY)
        .await
        .unwrap();
    assert!(report.unmatched.is_empty(), "nothing was stored");
}

/// Rules default per platform, validate on write, and are merchant-scoped; the threshold
/// defaults to 500 and is settable.
#[tokio::test]
async fn rules_and_settings() {
    let w = world().await;
    let s = &w.store;
    let r = s.settlement_rule(w.merchant_id, w.inst.id).await.unwrap();
    assert!(r.is_default);
    assert_eq!(r.rule, NetRule::default_for("shopify"));
    let custom = NetRule {
        commission_rate_bps: Some(290),
        ..NetRule::default_for("shopify")
    };
    let r = s
        .put_settlement_rule(w.merchant_id, w.inst.id, &custom)
        .await
        .unwrap();
    assert!(!r.is_default);
    assert_eq!(r.rule, custom);
    let bad = NetRule {
        refunds: Sign::Plus,
        ..custom.clone()
    };
    assert!(matches!(
        s.put_settlement_rule(w.merchant_id, w.inst.id, &bad).await,
        Err(StoreError::InvalidInput(_))
    ));
    let other = s.create_merchant("Other").await.unwrap();
    assert!(matches!(
        s.settlement_rule(other.id, w.inst.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        s.reconciliation_settings(w.merchant_id)
            .await
            .unwrap()
            .variance_threshold_minor,
        500
    );
    let set = ReconciliationSettings {
        variance_threshold_minor: 100,
    };
    assert_eq!(
        s.put_reconciliation_settings(w.merchant_id, &set)
            .await
            .unwrap(),
        set
    );
    assert!(s
        .put_reconciliation_settings(
            w.merchant_id,
            &ReconciliationSettings {
                variance_threshold_minor: -1
            }
        )
        .await
        .is_err());
    assert_eq!(
        s.reconciliation_settings(other.id)
            .await
            .unwrap()
            .variance_threshold_minor,
        500
    );
}

/// The period report: matched orders with expected vs actual net (red over the
/// threshold), unmatched lines, overdue orders by the cycle, a payout that does not add
/// up and a line whose net ≠ gross − fee — each reported, none corrected; another
/// merchant sees nothing.
#[tokio::test]
async fn period_report() {
    let w = world().await;
    let s = &w.store;
    let shipped_at = START - 3 * DAY + 3_600_000; // due (T+3 from shipment) inside the period
    let orders = vec![
        order("ok", Shipped, shipped_at),
        order("short", Shipped, shipped_at),
        order("late", Shipped, shipped_at),
        order("open", Paid, shipped_at),
    ];
    s.ingest(&w.inst, &orders, IngestSource::Verify)
        .await
        .unwrap();
    // Each order paid 2200 (see common::order).
    let lines = vec![
        line("s-ok", Some("ok"), SettlementKind::Sale, 2200, 66, 2134),
        line(
            "s-short",
            Some("short"),
            SettlementKind::Sale,
            1500,
            45,
            1455,
        ),
        line("bad-net", Some("ok"), SettlementKind::Adjustment, 10, 0, 11),
        line("ghost", Some("nope"), SettlementKind::Sale, 999, 0, 999),
        line("fee", None, SettlementKind::Commission, -50, 0, -50),
    ];
    // Lines net: 2134 + 1455 + 11 + 999 − 50 = 4549; the payout says 4550.
    s.import_settlements(w.merchant_id, w.inst.id, &page(lines, vec![payout(4550)]))
        .await
        .unwrap();
    let r = s
        .reconciliation(w.merchant_id, START, START + DAY, None, START + 30 * DAY)
        .await
        .unwrap();
    assert_eq!(r.variance_threshold_minor, 500);
    assert_eq!(r.orders.len(), 2, "{:?}", r.orders);
    let ok = r.orders.iter().find(|o| o.external_id == "ok").unwrap();
    assert_eq!(ok.expected.total, 2200 - 66 + 10);
    assert_eq!(ok.actual_net, 2134 + 11);
    assert_eq!(ok.variance, 1);
    assert!(!ok.red);
    let short = r.orders.iter().find(|o| o.external_id == "short").unwrap();
    assert_eq!(short.expected.total, 2200 - 45);
    assert_eq!(short.variance, 1455 - 2155);
    assert!(short.red);
    let unmatched: Vec<_> = r
        .unmatched
        .iter()
        .map(|u| u.line.line_id.as_str())
        .collect();
    assert_eq!(unmatched.len(), 2);
    assert!(unmatched.contains(&"ghost") && unmatched.contains(&"fee"));
    let overdue: Vec<_> = r.overdue.iter().map(|o| o.external_id.as_str()).collect();
    assert_eq!(
        overdue,
        vec!["late"],
        "shipped, due in the period, never settled"
    );
    assert_eq!(r.overdue[0].due_at, shipped_at + 3 * DAY);
    assert_eq!(r.payouts.len(), 1);
    assert_eq!(r.payouts[0].check.difference, 1);
    assert!(!r.payouts[0].check.ok);
    let codes: Vec<_> = r
        .data_quality
        .iter()
        .map(|d| (d.issue.code.as_str(), d.issue.reference.as_str()))
        .collect();
    assert!(codes.contains(&("net_mismatch", "bad-net")), "{codes:?}");
    assert!(codes.contains(&("payout_mismatch", "P1")), "{codes:?}");
    assert_eq!(r.summary.len(), 1);
    let sum = &r.summary[0];
    assert_eq!(
        (
            sum.orders,
            sum.red_orders,
            sum.unmatched_lines,
            sum.overdue_orders
        ),
        (2, 1, 2, 1)
    );
    assert_eq!(
        (sum.payouts, sum.payout_mismatches, sum.data_issues),
        (1, 1, 2)
    );
    assert_eq!(sum.variance, 1 + (1455 - 2155));
    // Judged before the cycle elapsed, "late" is not overdue yet.
    let early = s
        .reconciliation(w.merchant_id, START, START + DAY, None, START)
        .await
        .unwrap();
    assert!(early.overdue.is_empty());
    let other = s.create_merchant("Other").await.unwrap();
    let theirs = s
        .reconciliation(other.id, START, START + DAY, None, START + 30 * DAY)
        .await
        .unwrap();
    assert!(
        theirs.orders.is_empty()
            && theirs.unmatched.is_empty()
            && theirs.payouts.is_empty()
            && theirs.overdue.is_empty()
    );
    assert!(matches!(
        s.reconciliation(other.id, START, START + DAY, Some(w.inst.id), START)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// A sink that keeps every record, and can fail at the n-th one.
struct Keep {
    records: Vec<Record>,
    fail_at: Option<usize>,
}

impl ReconcileSink for Keep {
    type Error = StoreError;

    async fn record(&mut self, record: Record) -> Result<(), StoreError> {
        if self.fail_at == Some(self.records.len()) {
            return Err(StoreError::InvalidInput("sink full".into()));
        }
        self.records.push(record);
        Ok(())
    }
}

/// The streamed records are the collected report's, one each: every order judged once
/// after all of its lines (its line count is its lines, across both days), each line's
/// issue before its order, payouts after the lines; the totals are the report's summary;
/// a failing sink stops the stream with its own error and receives nothing more.
#[tokio::test]
async fn stream_is_the_report_record_by_record() {
    let w = world().await;
    let s = &w.store;
    let shipped_at = START - 3 * DAY + 3_600_000;
    let orders: Vec<_> = ["a", "b", "c", "late"]
        .iter()
        .map(|id| order(id, Shipped, shipped_at))
        .collect();
    s.ingest(&w.inst, &orders, IngestSource::Verify)
        .await
        .unwrap();
    let mut lines = vec![
        line("s-a", Some("a"), SettlementKind::Sale, 2200, 66, 2134),
        line("c-a", Some("a"), SettlementKind::Commission, -100, 0, -100),
        line("s-b", Some("b"), SettlementKind::Sale, 2200, 66, 2133),
        line("ghost", Some("zz"), SettlementKind::Sale, 5, 0, 5),
        line("s-c", Some("c"), SettlementKind::Sale, 2200, 66, 2134),
    ];
    lines[1].settled_at = START + 5 * 3_600_000;
    s.import_settlements(w.merchant_id, w.inst.id, &page(lines, vec![payout(1)]))
        .await
        .unwrap();
    let now = START + 30 * DAY;
    let report = s
        .reconciliation(w.merchant_id, START, START + DAY, None, now)
        .await
        .unwrap();
    let plan = s
        .reconcile_plan(w.merchant_id, START, START + DAY, None, now)
        .await
        .unwrap();
    let mut keep = Keep {
        records: Vec::new(),
        fail_at: None,
    };
    let totals = s.reconcile_stream(&plan, &mut keep).await.unwrap();
    assert_eq!(totals.summary, report.summary);
    let mut streamed_orders: Vec<_> = keep
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Order(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    streamed_orders.sort_by_key(|o| o.order_id);
    assert_eq!(streamed_orders, report.orders);
    let a = report.orders.iter().find(|o| o.external_id == "a").unwrap();
    assert_eq!(
        a.line_count, 2,
        "both of a's lines, read before it was judged"
    );
    let count = |f: fn(&Record) -> bool| keep.records.iter().filter(|r| f(r)).count();
    assert_eq!(count(|r| matches!(r, Record::Order(_))), 3);
    assert_eq!(
        count(|r| matches!(r, Record::Unmatched(_))),
        report.unmatched.len()
    );
    assert_eq!(
        count(|r| matches!(r, Record::Issue(_))),
        report.data_quality.len()
    );
    assert_eq!(
        count(|r| matches!(r, Record::Overdue(_))),
        report.overdue.len()
    );
    assert_eq!(report.overdue.len(), 1, "late never settled");
    let pos = |f: &dyn Fn(&Record) -> bool| keep.records.iter().position(|r| f(r)).unwrap();
    let b_issue = pos(&|r| matches!(r, Record::Issue(i) if i.issue.reference == "s-b"));
    let b_order = pos(&|r| matches!(r, Record::Order(o) if o.external_id == "b"));
    let payout_at = pos(&|r| matches!(r, Record::Payout(_)));
    assert!(
        b_issue < b_order,
        "b's net mismatch comes before b is judged"
    );
    assert!(payout_at > b_order, "payouts follow the lines");

    let mut failing = Keep {
        records: Vec::new(),
        fail_at: Some(1),
    };
    let err = s.reconcile_stream(&plan, &mut failing).await.unwrap_err();
    assert!(err.to_string().contains("sink full"), "{err}");
    assert_eq!(failing.records.len(), 1, "nothing after the failure");
}

/// A sale settled one day and its fee the next are judged together once both are in: the
/// second day's report takes the order's earlier lines too.
#[tokio::test]
async fn order_lines_across_periods_are_judged_together() {
    let w = world().await;
    let s = &w.store;
    s.ingest(&w.inst, &[order("o", Shipped, START)], IngestSource::Verify)
        .await
        .unwrap();
    let mut fee = line("fee", Some("o"), SettlementKind::Commission, -66, 0, -66);
    fee.settled_at += DAY;
    let lines = vec![
        line("sale", Some("o"), SettlementKind::Sale, 2200, 0, 2200),
        fee,
    ];
    s.import_settlements(w.merchant_id, w.inst.id, &page(lines, vec![]))
        .await
        .unwrap();
    let day2 = s
        .reconciliation(
            w.merchant_id,
            START + DAY,
            START + 2 * DAY,
            None,
            START + 9 * DAY,
        )
        .await
        .unwrap();
    assert_eq!(day2.orders.len(), 1);
    assert_eq!(day2.orders[0].line_count, 2);
    assert_eq!(day2.orders[0].actual_net, 2134);
    assert_eq!(day2.orders[0].variance, 0);
}

/// Revenue per channel and day: gross, fees, refunds, net; margin from SKU costs, and
/// "unknown" (null) when a SKU has no cost.
#[tokio::test]
async fn revenue_with_and_without_costs() {
    let w = world().await;
    let s = &w.store;
    let p2 = plugin(s, "taobao").await;
    let inst2 = installation(s, p2.id, w.merchant_id, "second.myshopify.com").await;
    s.ingest(&w.inst, &[order("a", Shipped, START)], IngestSource::Verify)
        .await
        .unwrap();
    s.ingest(&inst2, &[order("b", Shipped, START)], IngestSource::Verify)
        .await
        .unwrap();
    s.import_settlements(
        w.merchant_id,
        w.inst.id,
        &page(
            vec![
                line("a1", Some("a"), SettlementKind::Sale, 2200, 66, 2134),
                line("a2", Some("a"), SettlementKind::Refund, -500, 0, -500),
            ],
            vec![],
        ),
    )
    .await
    .unwrap();
    let mut next_day = line("b1", Some("b"), SettlementKind::Sale, 2200, 0, 2200);
    next_day.settled_at += DAY;
    s.import_settlements(w.merchant_id, inst2.id, &page(vec![next_day], vec![]))
        .await
        .unwrap();
    let group = RevenueGroup {
        channel: true,
        day: true,
    };
    let rows = s
        .revenue(w.merchant_id, START, START + 2 * DAY, 0, group)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let a = rows
        .iter()
        .find(|r| r.installation_id == Some(w.inst.id))
        .unwrap();
    assert_eq!(a.day.as_deref(), Some("2024-01-10"));
    assert_eq!(
        (a.gross, a.fees, a.refunds, a.net, a.lines),
        (2200, 66, 500, 1634, 2)
    );
    assert_eq!(
        a.cost_of_goods, None,
        "SKU-1 has no cost yet: unknown, not zero"
    );
    assert_eq!(a.margin, None);
    s.put_sku_costs(
        w.merchant_id,
        &[SkuCost {
            sku: "SKU-1".into(),
            unit_cost_minor: 400,
            currency: "USD".into(),
        }],
    )
    .await
    .unwrap();
    let rows = s
        .revenue(w.merchant_id, START, START + 2 * DAY, 0, group)
        .await
        .unwrap();
    let a = rows
        .iter()
        .find(|r| r.installation_id == Some(w.inst.id))
        .unwrap();
    assert_eq!(a.cost_of_goods, Some(800), "2 × 400");
    assert_eq!(a.margin, Some(1634 - 800));
    let b = rows
        .iter()
        .find(|r| r.installation_id == Some(inst2.id))
        .unwrap();
    assert_eq!(b.day.as_deref(), Some("2024-01-11"));
    let total = s
        .revenue(
            w.merchant_id,
            START,
            START + 2 * DAY,
            0,
            RevenueGroup::default(),
        )
        .await
        .unwrap();
    assert_eq!(total.len(), 1);
    assert_eq!(
        (total[0].net, total[0].cost_of_goods),
        (1634 + 2200, Some(1600))
    );
    assert!(total[0].installation_id.is_none() && total[0].day.is_none());
    let other = s.create_merchant("Other").await.unwrap();
    assert!(s
        .revenue(other.id, START, START + 2 * DAY, 0, group)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .put_sku_costs(
            w.merchant_id,
            &[SkuCost {
                sku: "X".into(),
                unit_cost_minor: -1,
                currency: "USD".into()
            }]
        )
        .await
        .is_err());
}

/// The daily import is due at once for a new installation and not again until
/// rescheduled.
#[tokio::test]
async fn settlement_schedule() {
    let w = world().await;
    let s = &w.store;
    assert_eq!(s.due_settlements(START).await.unwrap(), vec![w.inst.id]);
    s.schedule_next_settlement(w.inst.id, START + DAY)
        .await
        .unwrap();
    assert!(s.due_settlements(START).await.unwrap().is_empty());
    assert_eq!(
        s.due_settlements(START + DAY).await.unwrap(),
        vec![w.inst.id]
    );
}
