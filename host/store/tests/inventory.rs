//! Inventory: reservations by status, atomic holds under concurrency (no oversell on
//! SQLite or PostgreSQL), unmapped lines, audited stock changes, CSV import, sync rules
//! and coalesced push state.

mod common;

use common::{installation, order, world, World};
use wharf_domain::inventory::{parse_stock_csv, ReduceStockAt, RuleScope, SyncRule};
use wharf_domain::ChannelStatus::{Cancelled, Paid, PendingPayment, Shipped};
use wharf_domain::Order;
use wharf_store::inventory::{NewListing, NewSku, StockChange};
use wharf_store::stock_sync::{push_key, PushOutcome};
use wharf_store::{IngestSource, StoreError};

fn sku(code: &str) -> NewSku {
    NewSku {
        code: code.into(),
        product_code: "MUGS".into(),
        title: format!("{code} title"),
    }
}

/// An order of `qty` × SKU-1 (mapped by its outer code, the common order's line sku).
fn mug_order(id: &str, status: wharf_domain::ChannelStatus, updated_at: i64, qty: u32) -> Order {
    let mut o = order(id, status, updated_at);
    o.lines[0].quantity = qty;
    o
}

async fn stocked(on_hand: i64) -> World {
    let w = world().await;
    w.store
        .create_sku(w.merchant_id, &sku("SKU-1"))
        .await
        .unwrap();
    w.store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Set(on_hand),
            "api",
            "count",
        )
        .await
        .unwrap();
    w
}

async fn ingest(w: &World, o: Order) -> i64 {
    w.store
        .ingest(&w.inst, &[o], IngestSource::Verify)
        .await
        .unwrap()
        .order_ids[0]
}

async fn levels(w: &World) -> (i64, i64) {
    let s = w
        .store
        .get_sku(w.merchant_id, "SKU-1")
        .await
        .unwrap()
        .unwrap();
    (s.on_hand, s.reserved)
}

async fn flags(w: &World, id: i64) -> (Vec<String>, String) {
    let d = w.store.get_order(w.merchant_id, id).await.unwrap().unwrap();
    let codes = d.summary.flags.iter().map(|f| f.code.clone()).collect();
    (codes, d.summary.state.clone())
}

/// A paid order holds its quantity; cancelling it gives the units back.
#[tokio::test]
async fn paid_holds_and_cancel_releases() {
    let w = stocked(5).await;
    let id = ingest(&w, mug_order("A", Paid, 10, 2)).await;
    assert_eq!(levels(&w).await, (5, 2));
    ingest(&w, mug_order("A", Cancelled, 20, 2)).await;
    assert_eq!(levels(&w).await, (5, 0));
    let r = w.store.reservations(id).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].state, "released");
}

/// Shipping consumes the held units: on-hand and reserved both drop.
#[tokio::test]
async fn shipped_consumes() {
    let w = stocked(5).await;
    ingest(&w, mug_order("A", Paid, 10, 2)).await;
    ingest(&w, mug_order("A", Shipped, 20, 2)).await;
    assert_eq!(levels(&w).await, (3, 0));
}

/// Awaiting payment holds nothing on a pay-to-reduce channel and holds on an
/// order-to-reduce one.
#[tokio::test]
async fn reduction_mode_decides_when_pending_holds() {
    let w = stocked(5).await;
    ingest(&w, mug_order("A", PendingPayment, 10, 1)).await;
    assert_eq!(levels(&w).await, (5, 0));
    w.store
        .set_reduce_stock_at(w.merchant_id, w.inst.id, ReduceStockAt::Order)
        .await
        .unwrap();
    ingest(&w, mug_order("B", PendingPayment, 10, 1)).await;
    assert_eq!(levels(&w).await, (5, 1));
    // Paying an order that already holds takes nothing more.
    ingest(&w, mug_order("B", Paid, 20, 1)).await;
    assert_eq!(levels(&w).await, (5, 1));
}

/// Concurrent orders for the last unit: exactly one holds it, every other is flagged
/// oversold and put on hold, and reserved never exceeds on-hand (SQLite and PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_for_the_last_unit_never_oversell() {
    let w = stocked(1).await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        let store = w.store.clone();
        let inst = w.inst.clone();
        tasks.push(tokio::spawn(async move {
            store
                .ingest(
                    &inst,
                    &[mug_order(&format!("R{n}"), Paid, 10, 1)],
                    IngestSource::Verify,
                )
                .await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().expect("every ingest succeeds").order_ids[0]);
    }
    assert_eq!(levels(&w).await, (1, 1));
    let mut held = 0;
    let mut oversold = 0;
    for id in ids {
        let r = w.store.reservations(id).await.unwrap();
        match r[0].state.as_str() {
            "held" => held += 1,
            "short" => {
                oversold += 1;
                let (codes, state) = flags(&w, id).await;
                assert!(codes.contains(&"oversold".to_string()), "{codes:?}");
                assert_eq!(state, "on_hold");
            }
            other => panic!("unexpected reservation state {other}"),
        }
    }
    assert_eq!((held, oversold), (1, 11));
    let queue = w
        .store
        .inventory_queue(w.merchant_id, "oversold", 100)
        .await
        .unwrap();
    assert_eq!(queue.len(), 11);
}

/// An oversold order is held; when stock arrives and the order is updated, it takes
/// the stock and the hold is released.
#[tokio::test]
async fn restock_then_update_clears_oversold() {
    let w = stocked(0).await;
    let id = ingest(&w, mug_order("A", Paid, 10, 2)).await;
    assert_eq!(flags(&w, id).await.1, "on_hold");
    w.store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Adjust(3),
            "api",
            "delivery",
        )
        .await
        .unwrap();
    let mut o = mug_order("A", Paid, 20, 2);
    o.tags.push("updated".into());
    ingest(&w, o).await;
    let (codes, state) = flags(&w, id).await;
    assert!(!codes.contains(&"oversold".to_string()), "{codes:?}");
    // Hold released (on_hold → received), then the paid order allocates (fulfillment).
    assert_eq!(state, "allocated");
    assert_eq!(levels(&w).await, (3, 2));
}

/// A line that maps to no SKU flags the order unmapped and holds nothing for it.
#[tokio::test]
async fn unmapped_line_flags_the_order() {
    let w = stocked(5).await;
    let mut o = mug_order("A", Paid, 10, 1);
    o.lines[0].sku = "NOPE".into();
    o.lines[0].channel_sku = "v-unknown".into();
    let id = ingest(&w, o).await;
    assert!(flags(&w, id).await.0.contains(&"unmapped_sku".to_string()));
    assert_eq!(levels(&w).await, (5, 0));
    let q = w
        .store
        .inventory_queue(w.merchant_id, "unmapped_sku", 10)
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].order_id, id);
}

/// A listing maps a channel SKU id to the internal SKU even when the outer code differs.
#[tokio::test]
async fn listing_maps_channel_sku() {
    let w = stocked(5).await;
    w.store
        .create_listing(
            w.merchant_id,
            &NewListing {
                installation_id: w.inst.id,
                sku: "SKU-1".into(),
                channel_sku: "v-777".into(),
                outer_code: String::new(),
            },
        )
        .await
        .unwrap();
    let mut o = mug_order("A", Paid, 10, 1);
    o.lines[0].sku = String::new();
    o.lines[0].channel_sku = "v-777".into();
    let id = ingest(&w, o).await;
    let (codes, _) = flags(&w, id).await;
    assert!(!codes.contains(&"unmapped_sku".to_string()), "{codes:?}");
    assert_eq!(levels(&w).await, (5, 1));
}

/// Stock cannot be set below what open orders hold, nor negative; every change is
/// audited with its reason.
#[tokio::test]
async fn stock_changes_are_checked_and_audited() {
    let w = stocked(5).await;
    ingest(&w, mug_order("A", Paid, 10, 3)).await;
    let e = w
        .store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Set(2),
            "api",
            "count",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(ref m) if m.contains("3 units reserved")),
        "{e}"
    );
    let e = w
        .store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Adjust(-9),
            "api",
            "x",
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidInput(_)), "{e}");
    let e = w
        .store
        .change_stock(
            w.merchant_id,
            "SKU-1",
            "main",
            StockChange::Adjust(1),
            "api",
            " ",
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("reason"));
    let events = w
        .store
        .stock_events(w.merchant_id, "SKU-1", None, 10)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["reserve", "set"]);
    assert!(events[0].order_id.is_some());
    assert_eq!((events[0].on_hand_after, events[0].reserved_after), (5, 3));
    assert_eq!(events[1].reason, "count");
}

/// A CSV import sets stock and creates SKUs in one transaction; a row that would break
/// a rule refuses the whole file.
#[tokio::test]
async fn csv_import_is_all_or_nothing() {
    let w = stocked(5).await;
    ingest(&w, mug_order("A", Paid, 10, 4)).await;
    let rows = parse_stock_csv("sku,warehouse,on_hand\nNEW-1,main,7\nSKU-1,main,2\n").unwrap();
    let e = w
        .store
        .import_stock(w.merchant_id, &rows, "count")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("line 3"), "{e}");
    assert!(w
        .store
        .get_sku(w.merchant_id, "NEW-1")
        .await
        .unwrap()
        .is_none());
    let rows = parse_stock_csv("sku,warehouse,on_hand\nNEW-1,main,7\nSKU-1,east,2\n").unwrap();
    let r = w
        .store
        .import_stock(w.merchant_id, &rows, "count")
        .await
        .unwrap();
    assert_eq!((r.rows, r.skus_created, r.changed), (2, 1, 2));
    assert_eq!(levels(&w).await, (7, 4));
}

/// Rules resolve SKU > product > shop per installation, and available-to-sell shows on
/// each listing.
#[tokio::test]
async fn listing_shows_ats_by_the_most_specific_rule() {
    let w = stocked(10).await;
    let other = installation(&w.store, w.plugin.id, w.merchant_id, "b.myshopify.com").await;
    for (inst, ch) in [(w.inst.id, "v1"), (other.id, "w1")] {
        w.store
            .create_listing(
                w.merchant_id,
                &NewListing {
                    installation_id: inst,
                    sku: "SKU-1".into(),
                    channel_sku: ch.into(),
                    outer_code: String::new(),
                },
            )
            .await
            .unwrap();
    }
    let put = |inst: i64, scope, target: &'static str, safety, ratio| {
        let store = w.store.clone();
        let m = w.merchant_id;
        async move {
            store
                .put_sync_rule(
                    m,
                    inst,
                    scope,
                    target,
                    SyncRule {
                        safety_stock: safety,
                        ratio_bp: ratio,
                    },
                )
                .await
                .unwrap()
        }
    };
    put(w.inst.id, RuleScope::Shop, "", 0, 5_000).await;
    put(w.inst.id, RuleScope::Product, "MUGS", 2, 5_000).await;
    put(other.id, RuleScope::Shop, "", 1, 10_000).await;
    ingest(&w, mug_order("A", Paid, 10, 1)).await;
    let d = w
        .store
        .sku_detail(w.merchant_id, "SKU-1")
        .await
        .unwrap()
        .unwrap();
    let ats: Vec<(i64, i64)> = d
        .listings
        .iter()
        .map(|l| (l.installation_id, l.available_to_sell))
        .collect();
    // (10 − 1 − 2) × 50 % = 3.5 → 3 on the first (product rule); 10 − 1 − 1 = 8 on the other.
    assert_eq!(ats, vec![(w.inst.id, 3), (other.id, 8)]);
    put(w.inst.id, RuleScope::Sku, "SKU-1", 0, 10_000).await;
    let d = w
        .store
        .sku_detail(w.merchant_id, "SKU-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.listings[0].available_to_sell, 9);
    let e = w
        .store
        .put_sync_rule(
            w.merchant_id,
            w.inst.id,
            RuleScope::Shop,
            "",
            SyncRule {
                safety_stock: 0,
                ratio_bp: 20_000,
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ratio_bp"));
}

/// A burst of stock changes leaves ONE push job per installation; a push that raced a
/// newer change keeps the listing dirty; a clean push records value and time.
#[tokio::test]
async fn pushes_coalesce_and_track_changes() {
    let w = stocked(10).await;
    w.store
        .create_listing(
            w.merchant_id,
            &NewListing {
                installation_id: w.inst.id,
                sku: "SKU-1".into(),
                channel_sku: "v1".into(),
                outer_code: String::new(),
            },
        )
        .await
        .unwrap();
    for n in 0..20 {
        ingest(&w, mug_order(&format!("B{n}"), Paid, 10, 1)).await;
    }
    let jobs = w
        .store
        .list_jobs(w.merchant_id, Some("queued"), 100)
        .await
        .unwrap();
    let pushes: Vec<_> = jobs
        .iter()
        .filter(|j| j.unique_key.as_deref() == Some(push_key(w.inst.id).as_str()))
        .collect();
    assert_eq!(pushes.len(), 1, "one coalesced push job");
    let pending = w.store.pending_pushes(w.inst.id, 50).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].level.available, 0, "10 on hand − 10 reserved");
    // A change lands while the push is in flight: the listing must stay dirty.
    ingest(&w, mug_order("B0", Cancelled, 20, 1)).await;
    w.store
        .record_pushes(&[(pending[0].clone(), PushOutcome::Pushed)])
        .await
        .unwrap();
    let again = w.store.pending_pushes(w.inst.id, 50).await.unwrap();
    assert_eq!(again.len(), 1, "the newer change is still waiting");
    assert_eq!(again[0].level.available, 1);
    w.store
        .record_pushes(&[(again[0].clone(), PushOutcome::Pushed)])
        .await
        .unwrap();
    assert!(w
        .store
        .pending_pushes(w.inst.id, 50)
        .await
        .unwrap()
        .is_empty());
    let d = w
        .store
        .sku_detail(w.merchant_id, "SKU-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.listings[0].last_pushed_available, Some(1));
    assert!(d.listings[0].last_pushed_at.is_some());
    assert!(!d.listings[0].dirty);
}

/// An order that announces its own reduction mode (Douyin's `reduce_stock_type=1`) holds
/// stock while awaiting payment even on a pay-to-reduce installation.
#[tokio::test]
async fn the_order_own_reduction_mode_wins() {
    let w = stocked(5).await;
    let mut o = mug_order("A", PendingPayment, 10, 2);
    o.tags.push("reduce_stock_type=1".into());
    ingest(&w, o).await;
    assert_eq!(levels(&w).await, (5, 2));
    let mut o = mug_order("B", PendingPayment, 10, 1);
    o.tags.push("reduce_stock_type=2".into());
    ingest(&w, o).await;
    assert_eq!(levels(&w).await, (5, 2));
}

/// Two channels ingesting at once, their orders' SKU listed on both: every ingest commits
/// (on PostgreSQL a channel's lock on its installation must not block the other channel's
/// push job that references it — that was a deadlock).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_channels_with_shared_listings_all_commit() {
    let w = stocked(100).await;
    let other = installation(&w.store, w.plugin.id, w.merchant_id, "b.myshopify.com").await;
    for (inst, ch) in [(w.inst.id, "v1"), (other.id, "w1")] {
        let listing = NewListing {
            installation_id: inst,
            sku: "SKU-1".into(),
            channel_sku: ch.into(),
            outer_code: String::new(),
        };
        w.store
            .create_listing(w.merchant_id, &listing)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = w.store.clone();
        let inst = if n % 2 == 0 {
            w.inst.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let o = mug_order(&format!("C{n}"), Paid, 10, 1);
            store.ingest(&inst, &[o], IngestSource::Verify).await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every concurrent ingest commits");
    }
    assert_eq!(levels(&w).await, (100, 40));
}
