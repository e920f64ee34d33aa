//! Passive + active: a dropped payment callback leaves an order "pending payment" in
//! Wharf; the verification sweep re-reads it through get-order and repairs it.

use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::eventually;
use wharf_tests::shopify::{setup, wait_first_sync};

/// The exact failure story: the order arrives unpaid by webhook, the buyer pays, the
/// payment webhook is lost, no pull runs (hourly) — and the sweep repairs the order, and
/// fulfillment starts (a pick task exists).
#[tokio::test]
async fn a_dropped_payment_callback_is_repaired_by_the_verification_sweep() {
    let ctx = setup(
        &[
            "--verify-interval-secs",
            "1",
            "--verify-stale-after-secs",
            "0",
        ],
        0,
    )
    .await;
    // The installation's first (hourly) pull is over: from here on only webhooks and the
    // sweep can bring changes in.
    wait_first_sync(&ctx).await;
    let mut order = ctx.sim.generate_order(11);
    let id = order["id"].as_u64().unwrap();
    order = ctx
        .sim
        .update_order(id, |o| {
            o["financial_status"] = json!("pending");
            o["fulfillment_status"] = Value::Null;
            o["cancelled_at"] = Value::Null;
        })
        .unwrap();
    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/create", &order)
            .await
            .unwrap(),
        200
    );
    let stored = ctx.merchant.all_orders("").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["status"], "pending_payment");
    let order_id = stored[0]["id"].as_i64().unwrap();

    // The buyer pays; Shopify's orders/paid webhook never reaches Wharf.
    ctx.sim
        .update_order(id, |o| o["financial_status"] = json!("paid"))
        .unwrap();

    let repaired = eventually(Duration::from_secs(30), || async {
        let (_, detail) = ctx.merchant.get(&format!("/v1/orders/{order_id}")).await;
        (detail["summary"]["status"] == "paid").then_some(detail)
    })
    .await
    .expect("the sweep repaired the order within 30 s");
    let events = repaired["events"].as_array().unwrap();
    let repair = events
        .iter()
        .find(|e| e["kind"] == "updated")
        .expect("an update event");
    assert_eq!(repair["source"], "verify", "{repair}");
    assert_eq!(repair["from_status"], "pending_payment");
    assert_eq!(repair["to_status"], "paid");
    // Fulfillment starts: the repaired (paid) order was allocated with a pick task in
    // the same transaction as the repair.
    assert_eq!(repaired["summary"]["state"], "allocated", "{repaired}");
    let (_, tasks) = ctx
        .merchant
        .get(&format!("/v1/tasks?order_id={order_id}&kind=pick"))
        .await;
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
    let (_, jobs) = ctx.merchant.get("/v1/jobs?state=done").await;
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "verify"),
        "{jobs}"
    );
}

/// Final orders are never re-read: a cancelled order stays untouched by sweeps.
#[tokio::test]
async fn sweeps_leave_final_orders_alone() {
    let ctx = setup(
        &[
            "--verify-interval-secs",
            "1",
            "--verify-stale-after-secs",
            "0",
        ],
        0,
    )
    .await;
    wait_first_sync(&ctx).await;
    let order = ctx.sim.generate_order(12);
    let id = order["id"].as_u64().unwrap();
    let cancelled = ctx
        .sim
        .update_order(id, |o| {
            o["financial_status"] = json!("voided");
            o["cancelled_at"] = o["updated_at"].clone();
        })
        .unwrap();
    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/cancelled", &cancelled)
            .await
            .unwrap(),
        200
    );
    let before = ctx.sim.requests();
    // Wait for at least two sweeps to have run.
    let swept = eventually(Duration::from_secs(20), || async {
        let (_, jobs) = ctx.merchant.get("/v1/jobs?state=done").await;
        let n = jobs
            .as_array()?
            .iter()
            .filter(|j| j["kind"] == "verify")
            .count();
        (n >= 2).then_some(n)
    })
    .await;
    let (_, all_jobs) = ctx.merchant.get("/v1/jobs").await;
    assert!(swept.is_some(), "sweeps ran: {all_jobs}");
    assert_eq!(
        ctx.sim.requests(),
        before,
        "no get-order call for a final order"
    );
}
