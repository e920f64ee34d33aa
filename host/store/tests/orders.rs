//! Order reads: pagination, filters, anomaly flags, the full order round trip.

mod common;

use std::collections::BTreeSet;

use common::{installation, order, plugin, usd, world};
use wharf_domain::ChannelStatus::{Cancelled, Paid, Shipped};
use wharf_domain::{Buyer, Presale, PresaleStage};
use wharf_store::{IngestSource, OrderFilter, StoreError};

fn verify() -> IngestSource {
    IngestSource::Verify
}

// Paging through 25 orders 7 at a time, while new orders are inserted between pages,
// returns every order exactly once in id order, including the ones inserted meanwhile.
#[tokio::test]
async fn pagination_is_stable_and_complete_under_inserts() {
    let w = world().await;
    let s = &w.store;
    let batch: Vec<_> = (0..25).map(|i| order(&format!("p{i}"), Paid, 1)).collect();
    s.ingest(&w.inst, &batch, verify()).await.unwrap();

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut extra = 0;
    loop {
        let page = s
            .list_orders(w.merchant_id, &OrderFilter::default(), 7, after.as_deref())
            .await
            .unwrap();
        assert!(page.orders.len() <= 7);
        seen.extend(page.orders.iter().map(|o| o.id));
        if extra < 3 {
            extra += 1;
            s.ingest(
                &w.inst,
                &[order(&format!("late{extra}"), Paid, 1)],
                verify(),
            )
            .await
            .unwrap();
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 28, "25 + 3 inserted while paging");
    assert!(
        seen.windows(2).all(|p| p[0] < p[1]),
        "ascending, no repeats"
    );
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 28);
    let err = s
        .list_orders(w.merchant_id, &OrderFilter::default(), 7, Some("garbage"))
        .await;
    assert!(matches!(err, Err(StoreError::InvalidInput(_))));
}

// Every filter narrows the list to exactly the matching orders.
#[tokio::test]
async fn filters_select_the_matching_orders() {
    let w = world().await;
    let s = &w.store;
    let woo = plugin(s, "woo").await;
    let inst2 = installation(s, woo.id, w.merchant_id, "shop.example.com").await;
    let mut a = order("a", Paid, 100);
    a.created_at = 10;
    let mut b = order("b", Shipped, 200);
    b.created_at = 20;
    let mut c = order("c", Cancelled, 300);
    c.created_at = 30;
    c.shipping_address = None; // flagged: missing_address
    s.ingest(&w.inst, &[a, b], verify()).await.unwrap();
    s.ingest(&inst2, &[c], verify()).await.unwrap();

    let ids = |f: OrderFilter| async move {
        let page = s.list_orders(w.merchant_id, &f, 100, None).await.unwrap();
        page.orders
            .into_iter()
            .map(|o| o.external_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(OrderFilter::default()).await, ["a", "b", "c"]);
    assert_eq!(
        ids(OrderFilter {
            installation_id: Some(inst2.id),
            ..Default::default()
        })
        .await,
        ["c"]
    );
    assert_eq!(
        ids(OrderFilter {
            platform: Some("shopify".into()),
            ..Default::default()
        })
        .await,
        ["a", "b"]
    );
    assert_eq!(
        ids(OrderFilter {
            status: Some(Shipped),
            ..Default::default()
        })
        .await,
        ["b"]
    );
    assert_eq!(
        ids(OrderFilter {
            created_from: Some(20),
            ..Default::default()
        })
        .await,
        ["b", "c"]
    );
    assert_eq!(
        ids(OrderFilter {
            created_to: Some(20),
            ..Default::default()
        })
        .await,
        ["a", "b"]
    );
    assert_eq!(
        ids(OrderFilter {
            updated_from: Some(150),
            updated_to: Some(250),
            ..Default::default()
        })
        .await,
        ["b"]
    );
    assert_eq!(
        ids(OrderFilter {
            flagged: Some(true),
            ..Default::default()
        })
        .await,
        ["c"]
    );
    assert_eq!(
        ids(OrderFilter {
            flagged: Some(false),
            ..Default::default()
        })
        .await,
        ["a", "b"]
    );
    assert!(ids(OrderFilter {
        platform: Some("shopify".into()),
        status: Some(Cancelled),
        ..Default::default()
    })
    .await
    .is_empty());
}

// Anomaly flags are stored with the order, filterable, and cleared when a newer
// version fixes the problem.
#[tokio::test]
async fn anomaly_flags_are_stored_and_refreshed() {
    let w = world().await;
    let s = &w.store;
    let mut bad = order("f1", Paid, 1);
    bad.total_paid = usd(9999);
    let id = s.ingest(&w.inst, &[bad], verify()).await.unwrap().order_ids[0];
    let d = s.get_order(w.merchant_id, id).await.unwrap().unwrap();
    assert!(d.summary.flagged);
    assert_eq!(
        d.summary
            .flags
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>(),
        ["total_mismatch"]
    );

    s.ingest(&w.inst, &[order("f1", Paid, 2)], verify())
        .await
        .unwrap();
    let d = s.get_order(w.merchant_id, id).await.unwrap().unwrap();
    assert!(!d.summary.flagged && d.summary.flags.is_empty());
    let flagged = OrderFilter {
        flagged: Some(true),
        ..Default::default()
    };
    assert!(s
        .list_orders(w.merchant_id, &flagged, 10, None)
        .await
        .unwrap()
        .orders
        .is_empty());
}

// Every domain field — buyer, address, lines, amounts in their currencies, presale,
// tags — survives the store unchanged.
#[tokio::test]
async fn the_full_order_round_trips() {
    let w = world().await;
    let mut o = order("rt", Paid, 5);
    o.buyer = Some(Buyer {
        id: Some("c-1".into()),
        name: "Ada Lovelace".into(),
        email: Some("ada@example.com".into()),
        phone: None,
    });
    o.presale = Some(Presale {
        stage: PresaleStage::DepositPaid,
        deposit: Some(usd(500)),
        balance: Some(usd(1700)),
        ship_by: Some(1_800_000_000_000),
    });
    let mut l2 = o.lines[0].clone();
    l2.line_id = "l2".into();
    l2.quantity = 1;
    l2.unit_price = usd(0);
    l2.discount = usd(0);
    o.lines.push(l2);
    o.tax = wharf_domain::Money::new(0, "EUR"); // mixed currency, kept as given
    let r = w
        .store
        .ingest(&w.inst, &[o.clone()], verify())
        .await
        .unwrap();
    let d = w
        .store
        .get_order(w.merchant_id, r.order_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.order, o);
    assert_eq!(d.summary.total_paid_minor, 2200);
    assert_eq!(d.summary.platform, "shopify");
    assert_eq!(d.summary.shop, w.inst.shop);
    assert!(d.summary.flags.iter().any(|f| f.code == "mixed_currency"));
    assert!(w
        .store
        .get_order(w.merchant_id, 9999)
        .await
        .unwrap()
        .is_none());
}
