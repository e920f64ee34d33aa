//! Revenue per SKU on the real database (SQLite, or PostgreSQL with
//! `WHARF_TEST_DATABASE_URL`): settled money split over order lines adds up exactly to
//! the per-channel revenue.

mod common;

use common::{installation, order, plugin, usd, world};
use wharf_domain::settlement::{SettlementKind, SettlementLine, SettlementPage};
use wharf_domain::ChannelStatus::Shipped;
use wharf_domain::Line;
use wharf_store::reconcile::RevenueGroup;
use wharf_store::settlements::SkuCost;
use wharf_store::IngestSource;

const DAY: i64 = 86_400_000;
/// 2024-01-10T00:00Z.
const START: i64 = 1_704_067_200_000 + 9 * DAY;

fn line(
    id: &str,
    order: Option<&str>,
    kind: SettlementKind,
    gross: i64,
    fee: i64,
) -> SettlementLine {
    SettlementLine {
        line_id: id.into(),
        order_external_id: order.map(Into::into),
        kind,
        gross: usd(gross),
        fee: usd(fee),
        net: usd(gross - fee),
        settled_at: START + 3_600_000,
        payout_id: None,
    }
}

fn item(n: u32, sku: &str, quantity: u32, unit: i64, discount: i64) -> Line {
    Line {
        line_id: format!("l{n}"),
        sku: sku.into(),
        channel_sku: format!("v{n}"),
        title: sku.into(),
        quantity,
        unit_price: usd(unit),
        discount: usd(discount),
    }
}

/// Over two channels, orders of three SKUs with odd amounts (sales, commissions,
/// refunds, subsidies, a line naming an unknown order), the per-SKU figures of each
/// channel add up to that channel's revenue row to the minor unit, the unknown order's
/// money stays unattributed, and cost and margin per SKU come from the unit costs.
#[tokio::test]
async fn sku_figures_add_up_to_channel_totals() {
    let w = world().await;
    let s = &w.store;
    let p2 = plugin(s, "taobao").await;
    let inst2 = installation(s, p2.id, w.merchant_id, "second.myshopify.com").await;
    for (inst, prefix) in [(&w.inst, "a"), (&inst2, "b")] {
        let mut orders = Vec::new();
        for k in 0..5i64 {
            let mut o = order(&format!("{prefix}{k}"), Shipped, START);
            o.lines = vec![
                item(1, "MUG", 1 + k as u32, 1_333 + k, 7),
                item(2, "CUP", 3, 999, 0),
                item(3, "PLATE", 2, 101 * (k + 1), 13),
            ];
            o.discount = usd(97 + k);
            o.shipping_fee = usd(0);
            let lines: i64 = o
                .lines
                .iter()
                .map(|l| l.unit_price.minor * i64::from(l.quantity) - l.discount.minor)
                .sum();
            o.total_paid = usd(lines - o.discount.minor);
            orders.push(o);
        }
        s.ingest(inst, &orders, IngestSource::Verify).await.unwrap();
        let mut lines = Vec::new();
        for (k, o) in orders.iter().enumerate() {
            let id = &o.external_id;
            lines.push(line(
                &format!("{id}-s"),
                Some(id),
                SettlementKind::Sale,
                o.total_paid.minor,
                37 + k as i64,
            ));
            lines.push(line(
                &format!("{id}-c"),
                Some(id),
                SettlementKind::Commission,
                -(11 + k as i64),
                0,
            ));
            if k % 2 == 0 {
                lines.push(line(
                    &format!("{id}-r"),
                    Some(id),
                    SettlementKind::Refund,
                    -(333 + k as i64),
                    0,
                ));
                lines.push(line(
                    &format!("{id}-p"),
                    Some(id),
                    SettlementKind::PlatformDiscount,
                    17,
                    0,
                ));
            }
        }
        lines.push(line(
            &format!("{prefix}-x"),
            Some("unknown"),
            SettlementKind::Adjustment,
            -55,
            0,
        ));
        let page = SettlementPage {
            lines,
            payouts: vec![],
            cursor: None,
            more: false,
        };
        s.import_settlements(w.merchant_id, inst.id, &page)
            .await
            .unwrap();
    }
    for sku in ["MUG", "CUP", "PLATE"] {
        s.put_sku_costs(
            w.merchant_id,
            &[SkuCost {
                sku: sku.into(),
                unit_cost_minor: 250,
                currency: "USD".into(),
            }],
        )
        .await
        .unwrap();
    }
    let channels = s
        .revenue(
            w.merchant_id,
            START,
            START + DAY,
            0,
            RevenueGroup {
                channel: true,
                day: false,
            },
        )
        .await
        .unwrap();
    let skus = s
        .revenue_by_sku(w.merchant_id, START, START + DAY, true)
        .await
        .unwrap();
    assert_eq!(channels.len(), 2);
    for c in &channels {
        let mine: Vec<_> = skus
            .iter()
            .filter(|r| r.installation_id == c.installation_id && r.currency == c.currency)
            .collect();
        assert_eq!(
            mine.len(),
            4,
            "three SKUs and the unattributed row: {mine:?}"
        );
        let sum = |f: fn(&wharf_store::revenue_sku::SkuRevenueRow) -> i64| -> i64 {
            mine.iter().map(|r| f(r)).sum()
        };
        assert_eq!(sum(|r| r.gross), c.gross, "gross");
        assert_eq!(sum(|r| r.fees), c.fees, "fees");
        assert_eq!(sum(|r| r.refunds), c.refunds, "refunds");
        assert_eq!(sum(|r| r.other), c.other, "other");
        assert_eq!(sum(|r| r.net), c.net, "net");
        let unattributed = mine.iter().find(|r| r.sku.is_none()).unwrap();
        assert_eq!((unattributed.net, unattributed.other), (-55, -55));
        assert_eq!(unattributed.cost_of_goods, None);
        let mug = mine
            .iter()
            .find(|r| r.sku.as_deref() == Some("MUG"))
            .unwrap();
        assert_eq!(mug.quantity, 1 + 2 + 3 + 4 + 5);
        assert_eq!(mug.cost_of_goods, Some(15 * 250));
        assert_eq!(mug.margin, Some(mug.net - 15 * 250));
        assert_eq!(mug.platform.as_deref(), c.platform.as_deref());
        // Channel cost equals the SKUs' cost.
        assert_eq!(
            c.cost_of_goods,
            Some(mine.iter().filter_map(|r| r.cost_of_goods).sum())
        );
    }
    // Without the channel grouping, one row per SKU over both channels.
    let all = s
        .revenue_by_sku(w.merchant_id, START, START + DAY, false)
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all.iter().map(|r| r.net).sum::<i64>(),
        channels.iter().map(|c| c.net).sum::<i64>()
    );
    assert!(all.iter().all(|r| r.installation_id.is_none()));
    let cup = all
        .iter()
        .find(|r| r.sku.as_deref() == Some("CUP"))
        .unwrap();
    assert_eq!(cup.quantity, 30);
    // Discounts: the line's own plus its share of the order discount, Σ over SKUs =
    // Σ orders' (line discounts + order discount).
    let expected: i64 = 2 * (0..5).map(|k| 7 + 13 + 97 + k).sum::<i64>();
    assert_eq!(all.iter().map(|r| r.discounts).sum::<i64>(), expected);
}
