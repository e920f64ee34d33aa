//! Group commit: several batches in one transaction, each isolated in its own savepoint;
//! concurrent grouped ingests acknowledged only once committed.

mod common;

use common::{installation, order, plugin, world};
use wharf_domain::fulfillment::SlaStep;
use wharf_domain::fulfillment::TaskStatus;
use wharf_domain::ChannelStatus::{Cancelled, Paid, Shipped};
use wharf_domain::Order;
use wharf_store::group_commit::Batch;
use wharf_store::sla::SlaRule;
use wharf_store::{IngestSource, Store, StoreError};

/// An order's event log as `kind from>to` lines, oldest first.
fn history(detail: &wharf_store::OrderDetail) -> Vec<String> {
    let state = |s: &Option<String>| s.clone().unwrap_or_default();
    detail
        .events
        .iter()
        .map(|e| {
            format!(
                "{} {}>{}",
                e.kind,
                state(&e.from_status),
                state(&e.to_status)
            )
        })
        .collect()
}

/// One installation's webhook batch.
fn batch(inst: &wharf_store::Installation, orders: Vec<Order>, delivery: &str) -> Batch {
    Batch {
        inst: inst.clone(),
        orders,
        source: webhook(delivery),
    }
}

fn webhook(delivery: &str) -> IngestSource {
    IngestSource::Webhook {
        delivery_id: Some(delivery.into()),
        topic: "orders/create".into(),
    }
}

// A batch refused mid-group (an order with two lines of one line id) fails
// alone with the same error as a lone ingest; the batches before and after it in the
// same group are committed, and none of the bad batch's rows or counters remain.
#[tokio::test]
async fn a_bad_batch_fails_alone_and_the_rest_of_its_group_commits() {
    let w = world().await;
    let mut broken = order("7002", Paid, 10);
    broken.lines.push(broken.lines[0].clone());
    let batch = |orders, delivery: &str| batch(&w.inst, orders, delivery);
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
    let batch = |inst, id: &str, delivery: &str| batch(inst, vec![three_lines(id)], delivery);
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
        assert_eq!(
            history(&detail),
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

// An order created and then changed within one group (its rows held back until the
// commit): the second version replaces the first's lines, cancels it and its pick task,
// and its history reads in the order things happened; a delivery stored before the group
// is reported as a redelivery, a new one in the same group is not.
#[tokio::test]
async fn an_order_created_and_cancelled_in_one_group_ends_cancelled_with_one_history() {
    let w = world().await;
    w.store
        .ingest(&w.inst, &[order("6101", Paid, 10)], webhook("h0"))
        .await
        .unwrap();
    let mut first = order("6102", Paid, 10);
    let mut second_line = first.lines[0].clone();
    second_line.line_id = "l2".into();
    second_line.sku = "SKU-2".into();
    first.total_paid.minor +=
        i64::from(second_line.quantity) * second_line.unit_price.minor - second_line.discount.minor;
    first.lines.push(second_line);
    let mut cancelled = order("6102", Cancelled, 20);
    cancelled.lines[0].sku = "SKU-9".into();
    let batch = |orders, delivery: &str| batch(&w.inst, orders, delivery);
    let results = w
        .store
        .ingest_group(vec![
            batch(vec![first], "h1"),
            batch(vec![order("6101", Paid, 10)], "h0"),
            batch(vec![cancelled], "h2"),
        ])
        .await;
    let r: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!((r[0].created, r[0].duplicate_delivery), (1, false));
    assert_eq!((r[1].unchanged, r[1].duplicate_delivery), (1, true));
    assert_eq!((r[2].updated, r[2].duplicate_delivery), (1, false));
    let id = r[0].order_ids[0];
    let detail = w.store.get_order(w.merchant_id, id).await.unwrap().unwrap();
    let skus: Vec<_> = detail.order.lines.iter().map(|l| l.sku.as_str()).collect();
    assert_eq!(skus, ["SKU-9"], "only the second version's lines");
    assert_eq!(
        history(&detail),
        [
            "created >paid",
            "state received>ready",
            "state ready>allocated",
            "task >",
            "updated paid>cancelled",
            "state allocated>cancelled",
            "task >"
        ]
    );
    let f = w.store.fulfillment(w.merchant_id, id).await.unwrap();
    assert_eq!(f.state, "cancelled");
    let tasks: Vec<_> = f.tasks.iter().map(|t| t.status).collect();
    assert_eq!(tasks, [TaskStatus::Cancelled]);
}

// A new paid order its anomaly rules flag, in a group: inserted `received` with its ship
// clock running, no pick task until the merchant approves it; the clean order beside it
// goes to the warehouse.
#[tokio::test]
async fn a_flagged_order_in_a_group_waits_for_review_and_its_neighbour_does_not() {
    let w = world().await;
    let mut flagged = order("6201", Paid, 10);
    flagged.total_paid.minor += 1;
    let batch = |o, delivery: &str| batch(&w.inst, vec![o], delivery);
    let results = w
        .store
        .ingest_group(vec![
            batch(flagged, "k1"),
            batch(order("6202", Paid, 10), "k2"),
        ])
        .await;
    let ids: Vec<i64> = results
        .iter()
        .map(|r| r.as_ref().unwrap().order_ids[0])
        .collect();
    let held = w.store.fulfillment(w.merchant_id, ids[0]).await.unwrap();
    assert_eq!(held.state, "received");
    assert!(held.paid_at.is_some(), "the ship clock runs while it waits");
    assert!(held.tasks.is_empty());
    let detail = w
        .store
        .get_order(w.merchant_id, ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(history(&detail), ["created >paid"]);
    let clean = w.store.fulfillment(w.merchant_id, ids[1]).await.unwrap();
    assert_eq!((clean.state.as_str(), clean.tasks.len()), ("allocated", 1));
}
