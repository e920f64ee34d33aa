//! Ingest: dedup, concurrency, out-of-order updates, webhook deliveries, pull cursors.

mod common;

use common::{order, world};
use wharf_domain::ChannelStatus::{Paid, PendingPayment, Shipped};
use wharf_store::{IngestSource, OrderFilter, StoreError};

fn pull(cursor: &str) -> IngestSource {
    IngestSource::Pull {
        cursor: Some(cursor.into()),
    }
}

fn verify() -> IngestSource {
    IngestSource::Verify
}

/// The channel's events of an order (`created` / `updated`), without the fulfillment
/// state machine's audit rows.
fn channel_events(events: &[wharf_store::OrderEvent]) -> Vec<&wharf_store::OrderEvent> {
    events
        .iter()
        .filter(|e| e.kind == "created" || e.kind == "updated")
        .collect()
}

// The same order ingested twice is stored once, with one "created" event and the second
// call reported as unchanged.
#[tokio::test]
async fn same_order_twice_is_one_row_and_one_event() {
    let w = world().await;
    let o = order("1001", Paid, 10);
    let first = w
        .store
        .ingest(&w.inst, std::slice::from_ref(&o), verify())
        .await
        .unwrap();
    let second = w.store.ingest(&w.inst, &[o], verify()).await.unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (1, 0, 0));
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 1)
    );
    assert_eq!(first.order_ids, second.order_ids);
    assert_eq!(w.store.count_orders(w.merchant_id).await.unwrap(), 1);
    let detail = w
        .store
        .get_order(w.merchant_id, first.order_ids[0])
        .await
        .unwrap()
        .unwrap();
    // Channel events only: the paid order's fulfillment rows (state, task) come after.
    let channel = channel_events(&detail.events);
    assert_eq!(channel.len(), 1);
    assert_eq!(channel[0].kind, "created");
}

// Twenty tokio tasks ingesting the same order at once leave exactly one row and one
// "created" event, and none of them fails (no SQLITE_BUSY, no unique violation).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_ingests_of_one_order_make_one_row() {
    let w = world().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = w.store.clone();
        let inst = w.inst.clone();
        tasks.push(tokio::spawn(async move {
            store
                .ingest(
                    &inst,
                    &[order("2002", Paid, 10)],
                    IngestSource::Webhook {
                        delivery_id: None,
                        topic: "orders/create".into(),
                    },
                )
                .await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let report = t.await.unwrap().expect("every concurrent ingest succeeds");
        created += report.created;
    }
    assert_eq!(created, 1, "exactly one ingest created the order");
    assert_eq!(w.store.count_orders(w.merchant_id).await.unwrap(), 1);
    let page = w
        .store
        .list_orders(w.merchant_id, &OrderFilter::default(), 10, None)
        .await
        .unwrap();
    let detail = w
        .store
        .get_order(w.merchant_id, page.orders[0].id)
        .await
        .unwrap()
        .unwrap();
    let created_events = detail.events.iter().filter(|e| e.kind == "created").count();
    assert_eq!(created_events, 1);
    assert_eq!(
        channel_events(&detail.events).len(),
        1,
        "identical redeliveries append nothing"
    );
    let inst = w
        .store
        .get_installation(w.merchant_id, w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inst.counters.webhooks_accepted, 20);
    assert_eq!(inst.counters.orders_created, 1);
}

// An update with an older platform updated_at, or the same updated_at and a lower status
// rank, never regresses the stored order; a newer one applies and records a→b.
#[tokio::test]
async fn out_of_order_updates_never_regress() {
    let w = world().await;
    let s = &w.store;
    let id = s
        .ingest(&w.inst, &[order("3003", Shipped, 20)], verify())
        .await
        .unwrap()
        .order_ids[0];

    let older = s
        .ingest(&w.inst, &[order("3003", Paid, 10)], verify())
        .await
        .unwrap();
    assert_eq!(older.unchanged, 1, "older updated_at is ignored");
    let same_time_lower = s
        .ingest(&w.inst, &[order("3003", Paid, 20)], verify())
        .await
        .unwrap();
    assert_eq!(
        same_time_lower.unchanged, 1,
        "same time, lower rank is ignored"
    );
    let d = s.get_order(w.merchant_id, id).await.unwrap().unwrap();
    assert_eq!(d.summary.status, Shipped);
    assert_eq!(d.summary.updated_at, 20);

    // A newer version applies even with a lower status, and changes content.
    let mut newer = order("3003", PendingPayment, 30);
    newer.tags = vec!["changed".into()];
    let r = s.ingest(&w.inst, &[newer.clone()], verify()).await.unwrap();
    assert_eq!(r.updated, 1);
    let d = s.get_order(w.merchant_id, id).await.unwrap().unwrap();
    assert_eq!(d.order, newer, "the stored order round-trips exactly");
    assert_eq!(d.events.len(), 2);
    let ev = &d.events[1];
    assert_eq!(ev.kind, "updated");
    assert_eq!(ev.from_status.as_deref(), Some("shipped"));
    assert_eq!(ev.to_status.as_deref(), Some("pending_payment"));
}

// Same updated_at with a further status applies (a later webhook for the same moment).
#[tokio::test]
async fn same_time_higher_rank_applies() {
    let w = world().await;
    let s = &w.store;
    s.ingest(&w.inst, &[order("3100", Paid, 20)], verify())
        .await
        .unwrap();
    let r = s
        .ingest(&w.inst, &[order("3100", Shipped, 20)], verify())
        .await
        .unwrap();
    assert_eq!(r.updated, 1);
    let d = s
        .get_order(w.merchant_id, r.order_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.summary.status, Shipped);
}

// A webhook delivery id is recorded: a redelivery is recognised as duplicate but still
// applies idempotently (no new order, no new event).
#[tokio::test]
async fn webhook_delivery_ids_are_recorded() {
    let w = world().await;
    let hook = |id: &str| IngestSource::Webhook {
        delivery_id: Some(id.into()),
        topic: "orders/create".into(),
    };
    let o = order("4004", Paid, 10);
    let first = w
        .store
        .ingest(&w.inst, std::slice::from_ref(&o), hook("d-1"))
        .await
        .unwrap();
    assert!(!first.duplicate_delivery);
    let again = w
        .store
        .ingest(&w.inst, std::slice::from_ref(&o), hook("d-1"))
        .await
        .unwrap();
    assert!(
        again.duplicate_delivery,
        "the same delivery id is recognised"
    );
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 1));
    let other = w.store.ingest(&w.inst, &[o], hook("d-2")).await.unwrap();
    assert!(!other.duplicate_delivery, "a different delivery id is new");
    let d = w
        .store
        .get_order(w.merchant_id, first.order_ids[0])
        .await
        .unwrap()
        .unwrap();
    let channel = channel_events(&d.events);
    assert_eq!(channel.len(), 1);
    assert_eq!(channel[0].source, "webhook:orders/create");
}

// A pull saves its cursor, last_sync_at and pulls_ok with its orders; a failing batch
// (an order violating a constraint) leaves the cursor, counters and earlier orders of
// the batch untouched.
#[tokio::test]
async fn pull_cursor_advances_only_with_its_orders() {
    let w = world().await;
    let s = &w.store;
    s.ingest(&w.inst, &[order("5001", Paid, 10)], pull("c1"))
        .await
        .unwrap();
    let inst = s
        .get_installation(w.merchant_id, w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inst.cursor.as_deref(), Some("c1"));
    assert_eq!(inst.counters.pulls_ok, 1);
    assert!(inst.last_sync_at.is_some());

    // Second batch: a good order, then one with two lines sharing a line id.
    let mut broken = order("5003", Paid, 10);
    broken.lines.push(broken.lines[0].clone());
    let err = s
        .ingest(&w.inst, &[order("5002", Paid, 10), broken], pull("c2"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err:?}");
    let after = s
        .get_installation(w.merchant_id, w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.cursor.as_deref(),
        Some("c1"),
        "cursor did not advance"
    );
    assert_eq!(after.counters.pulls_ok, 1);
    assert_eq!(after.counters.orders_created, 1);
    assert_eq!(
        s.count_orders(w.merchant_id).await.unwrap(),
        1,
        "5002 rolled back too"
    );

    // A pull with no new cursor keeps the old one.
    s.ingest(&w.inst, &[], IngestSource::Pull { cursor: None })
        .await
        .unwrap();
    let kept = s
        .get_installation(w.merchant_id, w.inst.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.cursor.as_deref(), Some("c1"));
    assert_eq!(kept.counters.pulls_ok, 2);
}

// An order with an empty external id is refused with a clear error and stores nothing.
#[tokio::test]
async fn empty_external_id_is_invalid_input() {
    let w = world().await;
    let err = w
        .store
        .ingest(&w.inst, &[order("", Paid, 1)], verify())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("external_id"), "{err}");
    assert_eq!(w.store.count_orders(w.merchant_id).await.unwrap(), 0);
}
