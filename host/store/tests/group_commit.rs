//! Group commit: several batches in one transaction, each isolated in its own savepoint;
//! concurrent grouped ingests acknowledged only once committed.

mod common;

use common::{installation, order, plugin, world};
use wharf_domain::fulfillment::SlaStep;
use wharf_domain::ChannelStatus::{Paid, Shipped};
use wharf_store::group_commit::Batch;
use wharf_store::sla::SlaRule;
use wharf_store::{IngestSource, Store, StoreError};

fn webhook(delivery: &str) -> IngestSource {
    IngestSource::Webhook {
        delivery_id: Some(delivery.into()),
        topic: "orders/create".into(),
    }
}

// A batch refused by a store constraint mid-group (two lines with one line id) fails
// alone with the same error as a lone ingest; the batches before and after it in the
// same group are committed, and none of the bad batch's rows or counters remain.
#[tokio::test]
async fn a_bad_batch_fails_alone_and_the_rest_of_its_group_commits() {
    let w = world().await;
    let mut broken = order("7002", Paid, 10);
    broken.lines.push(broken.lines[0].clone());
    let batch = |orders, delivery: &str| Batch {
        inst: w.inst.clone(),
        orders,
        source: webhook(delivery),
    };
    let results = w
        .store
        .ingest_group(vec![
            batch(vec![order("7001", Paid, 10)], "d1"),
            batch(vec![order("7003", Paid, 10), broken], "d2"),
            batch(vec![order("7004", Paid, 10)], "d3"),
        ])
        .await;
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().created, 1);
    assert!(
        matches!(&results[1], Err(StoreError::InvalidInput(m)) if m.contains("7002")),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().unwrap().created, 1);
    // 7003 was in the bad batch: rolled back with it.
    assert_eq!(w.store.count_orders(w.merchant_id).await.unwrap(), 2);
    let inst = w
        .store
        .get_installation(w.merchant_id, w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inst.counters.orders_created, 2);
    assert_eq!(inst.counters.webhooks_accepted, 2);
    // The bad batch's delivery was not recorded: a corrected redelivery is not a duplicate.
    let again = w
        .store
        .ingest(&w.inst, &[order("7003", Paid, 10)], webhook("d2"))
        .await
        .unwrap();
    assert!(!again.duplicate_delivery);
}

// Within one group, later batches see earlier ones: the same order twice (paid, then
// shipped) is one row, updated by the second batch; a repeated delivery id is reported
// as a duplicate; batches of two installations keep their own counters.
#[tokio::test]
async fn batches_of_one_group_apply_in_order_per_installation() {
    let w = world().await;
    let other = installation(&w.store, w.plugin.id, w.merchant_id, "other.myshopify.com").await;
    let results = w
        .store
        .ingest_group(vec![
            Batch {
                inst: w.inst.clone(),
                orders: vec![order("8001", Paid, 10)],
                source: webhook("e1"),
            },
            Batch {
                inst: other.clone(),
                orders: vec![order("8001", Paid, 10)],
                source: webhook("e1"),
            },
            Batch {
                inst: w.inst.clone(),
                orders: vec![order("8001", Shipped, 20)],
                source: webhook("e1"),
            },
        ])
        .await;
    let r: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!((r[0].created, r[0].duplicate_delivery), (1, false));
    assert_eq!((r[1].created, r[1].duplicate_delivery), (1, false));
    assert_eq!((r[2].updated, r[2].duplicate_delivery), (1, true));
    assert_eq!(r[0].order_ids, r[2].order_ids);
    assert_ne!(r[0].order_ids, r[1].order_ids, "another shop's order");
    let detail = w
        .store
        .get_order(w.merchant_id, r[0].order_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.order.status, Shipped);
}

// Forty concurrent grouped webhooks (one of them bad) are each answered; every
// acknowledged order is visible to a separate connection opened afterwards, and the
// counters count exactly the acknowledged ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_grouped_ingests_are_each_acknowledged_after_commit() {
    let url = wharf_store::testing::fresh_url().await;
    let store = Store::connect(&url).await.unwrap();
    let merchant = store.create_merchant("Acme").await.unwrap();
    let plugin = plugin(&store, "shopify").await;
    let inst = installation(&store, plugin.id, merchant.id, "acme.myshopify.com").await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let (store, inst) = (store.clone(), inst.clone());
        tasks.push(tokio::spawn(async move {
            let mut o = order(&format!("9{n:03}"), Paid, 10);
            if n == 17 {
                o.external_id = String::new();
            }
            store
                .ingest_grouped(&inst, vec![o], webhook(&format!("f{n}")))
                .await
        }));
    }
    let mut acked = 0;
    for (n, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.created, 1, "delivery {n}");
                acked += 1;
            }
            Err(e) => {
                assert_eq!(n, 17, "only the bad delivery fails: {e:?}");
                assert!(matches!(e, StoreError::InvalidInput(_)), "{e:?}");
            }
        }
    }
    assert_eq!(acked, 39);
    let fresh = Store::connect(&url).await.unwrap();
    assert_eq!(fresh.count_orders(merchant.id).await.unwrap(), 39);
    let inst = fresh
        .get_installation(merchant.id, inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inst.counters.orders_created, 39);
    assert_eq!(inst.counters.webhooks_accepted, 39);
}

// A group that applies cleanly (no savepoints, shared reads, one counter update per
// installation) leaves each new paid order exactly as a lone ingest would: every line
// stored, the ship clock started from the merchant's SLA, allocated with a pick task, and
// the event log in the order things happened; the counters count every batch.
#[tokio::test]
async fn a_clean_group_stores_each_order_as_a_lone_ingest_would() {
    let w = world().await;
    w.store
        .put_sla_rules(
            w.merchant_id,
            &[SlaRule {
                step: SlaStep::Ship,
                limit_secs: 3600,
            }],
        )
        .await
        .unwrap();
    let other = installation(&w.store, w.plugin.id, w.merchant_id, "other.myshopify.com").await;
    let three_lines = |id: &str| {
        let mut o = order(id, Paid, 10);
        for n in 2..=3 {
            let mut l = o.lines[0].clone();
            l.line_id = format!("l{n}");
            l.sku = format!("SKU-{n}");
            // Totals that add up: an anomaly flag would hold the order for review.
            o.total_paid.minor += i64::from(l.quantity) * l.unit_price.minor - l.discount.minor;
            o.lines.push(l);
        }
        o
    };
    let batch = |inst: &wharf_store::Installation, id: &str, delivery: &str| Batch {
        inst: inst.clone(),
        orders: vec![three_lines(id)],
        source: webhook(delivery),
    };
    let results = w
        .store
        .ingest_group(vec![
            batch(&w.inst, "6001", "g1"),
            batch(&other, "6002", "g2"),
            batch(&w.inst, "6003", "g3"),
        ])
        .await;
    for r in &results {
        assert_eq!(r.as_ref().unwrap().created, 1, "{r:?}");
    }
    for r in &results {
        let id = r.as_ref().unwrap().order_ids[0];
        let detail = w.store.get_order(w.merchant_id, id).await.unwrap().unwrap();
        let skus: Vec<_> = detail.order.lines.iter().map(|l| l.sku.as_str()).collect();
        assert_eq!(skus, ["SKU-1", "SKU-2", "SKU-3"]);
        let log: Vec<_> = detail
            .events
            .iter()
            .map(|e| {
                let state = |s: &Option<String>| s.clone().unwrap_or_default();
                format!(
                    "{} {}>{}",
                    e.kind,
                    state(&e.from_status),
                    state(&e.to_status)
                )
            })
            .collect();
        assert_eq!(
            log,
            [
                "created >paid",
                "state received>ready",
                "state ready>allocated",
                "task >"
            ],
            "order {id}"
        );
        let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
        assert_eq!(f.state, "allocated");
        assert_eq!(f.tasks.len(), 1);
        let paid_at = f.paid_at.expect("the ship clock started");
        assert_eq!(f.ship_due_at, Some(paid_at + 3_600_000));
    }
    for (inst, created) in [(&w.inst, 2), (&other, 1)] {
        let c = w
            .store
            .get_installation(w.merchant_id, inst.id)
            .await
            .unwrap()
            .unwrap()
            .counters;
        assert_eq!((c.orders_created, c.webhooks_accepted), (created, created));
    }
}
