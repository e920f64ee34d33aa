//! Inventory end to end over the real `wharf` binary, the real Shopify plugin and its
//! simulator: orders arriving by webhook hold and release stock, available-to-sell is
//! pushed to the shop (coalesced, retried), oversold and unmapped orders land in their
//! review queues, and the admin API refuses bad input with a reason.

use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::eventually;
use wharf_tests::shopify::{paid_order, setup, Ctx};

const VARIANT: u64 = 44_000_000_101;

/// A paid order of `qty` × MUG-1 (variant [`VARIANT`]).
fn mug_order(ctx: &Ctx, seed: u64, qty: u64) -> Value {
    paid_order(&ctx.sim, seed, "MUG-1", VARIANT, qty)
}

fn cancel(ctx: &Ctx, order: &Value) -> Value {
    let id = order["id"].as_u64().unwrap();
    ctx.sim
        .update_order(id, |o| {
            o["cancelled_at"] = o["updated_at"].clone();
            o["financial_status"] = json!("voided");
        })
        .unwrap()
}

/// A merchant with SKU MUG-1 holding `on_hand` units in `main`, listed on the shop as
/// [`VARIANT`].
async fn stocked(args: &[&str], on_hand: i64) -> Ctx {
    let ctx = setup(args, 0).await;
    ctx.sim.add_variant(VARIANT, "MUG-1");
    let (s, sku) = ctx
        .merchant
        .post(
            "/v1/skus",
            json!({"code": "MUG-1", "product_code": "MUGS", "title": "Mug"}),
        )
        .await;
    assert_eq!(s, 201, "{sku}");
    let (s, body) = ctx
        .merchant
        .put(
            "/v1/skus/MUG-1/stock/main",
            json!({"on_hand": on_hand, "reason": "opening count"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = ctx
        .merchant
        .post(
            "/v1/listings",
            json!({"installation_id": ctx.installation, "sku": "MUG-1",
                   "channel_sku": VARIANT.to_string()}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    ctx
}

async fn send(ctx: &Ctx, topic: &str, order: &Value) {
    let status = ctx
        .sim
        .send_webhook(&ctx.webhook_url, topic, order)
        .await
        .unwrap();
    assert_eq!(status, 200, "webhook acknowledged");
}

/// Wait until the shop shows `n` available for the variant.
async fn shop_shows(ctx: &Ctx, n: i64) {
    let got = eventually(Duration::from_secs(20), || async {
        (ctx.sim.available(VARIANT) == Some(n)).then_some(())
    })
    .await;
    assert!(
        got.is_some(),
        "the shop shows {:?}, expected {n}",
        ctx.sim.available(VARIANT)
    );
}

async fn sku(ctx: &Ctx) -> Value {
    let (s, body) = ctx.merchant.get("/v1/skus/MUG-1").await;
    assert_eq!(s, 200, "{body}");
    body
}

/// Paid orders hold stock and the shop's available drops; a burst of orders is pushed
/// coalesced; cancelling gives the unit back and the shop shows it; the SKU shows the
/// last pushed value and time, and the audit trail every change.
#[tokio::test]
async fn orders_move_stock_and_the_shop_follows() {
    let ctx = stocked(&["--stock-push-delay-ms", "400"], 5).await;
    shop_shows(&ctx, 5).await;
    let before = ctx.sim.inventory_sets().len();
    let orders: Vec<Value> = (0..3).map(|n| mug_order(&ctx, 100 + n, 1)).collect();
    tokio::join!(
        send(&ctx, "orders/create", &orders[0]),
        send(&ctx, "orders/create", &orders[1]),
        send(&ctx, "orders/create", &orders[2]),
    );
    shop_shows(&ctx, 2).await;
    // Let a straggling push run if there were to be one, then count.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let burst_pushes = ctx.sim.inventory_sets().len() - before;
    assert!(
        (1..=2).contains(&burst_pushes),
        "3 orders within the coalescing window made {burst_pushes} pushes"
    );

    send(&ctx, "orders/cancelled", &cancel(&ctx, &orders[0])).await;
    shop_shows(&ctx, 3).await;

    let detail = sku(&ctx).await;
    assert_eq!(detail["sku"]["on_hand"], 5);
    assert_eq!(detail["sku"]["reserved"], 2);
    let listing = &detail["listings"][0];
    assert_eq!(listing["available_to_sell"], 3);
    let pushed = eventually(Duration::from_secs(10), || async {
        let d = sku(&ctx).await;
        let l = d["listings"][0].clone();
        (l["last_pushed_available"] == 3 && l["dirty"] == false).then_some(l)
    })
    .await
    .expect("the listing records the last push");
    assert!(pushed["last_pushed_at"].as_i64().unwrap() > 0);
    assert!(pushed["last_push_error"].is_null());

    let (_, events) = ctx.merchant.get("/v1/skus/MUG-1/events").await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["release", "reserve", "reserve", "reserve", "set"]);
}

/// Two webhooks racing for the last unit: one order holds it, the other is flagged
/// oversold, held, and listed in the oversold queue; the shop is told 0.
#[tokio::test]
async fn the_last_unit_is_sold_once() {
    let ctx = stocked(&["--stock-push-delay-ms", "200"], 1).await;
    let a = mug_order(&ctx, 7, 1);
    let b = mug_order(&ctx, 8, 1);
    tokio::join!(
        send(&ctx, "orders/create", &a),
        send(&ctx, "orders/create", &b)
    );
    let detail = sku(&ctx).await;
    assert_eq!(
        (
            detail["sku"]["on_hand"].clone(),
            detail["sku"]["reserved"].clone()
        ),
        (json!(1), json!(1))
    );
    let (s, queue) = ctx.merchant.get("/v1/inventory/oversold").await;
    assert_eq!(s, 200);
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["state"], "on_hold");
    assert_eq!(queue[0]["reservations"][0]["state"], "short");
    let loser = queue[0]["external_id"].as_str().unwrap().to_string();
    assert!([a["id"].to_string(), b["id"].to_string()].contains(&loser));
    shop_shows(&ctx, 0).await;
}

/// A line with an unknown SKU flags the order into the unmapped queue and holds nothing.
#[tokio::test]
async fn unmapped_lines_are_queued() {
    let ctx = stocked(&[], 4).await;
    let o = ctx.sim.generate_order(55);
    let id = o["id"].as_u64().unwrap();
    let o = ctx
        .sim
        .update_order(id, |o| {
            o["financial_status"] = json!("paid");
            o["cancelled_at"] = Value::Null;
            o["line_items"][0]["sku"] = json!("NOT-A-SKU");
            o["line_items"][0]["variant_id"] = json!(1);
        })
        .unwrap();
    send(&ctx, "orders/create", &o).await;
    let (_, queue) = ctx.merchant.get("/v1/inventory/unmapped").await;
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1);
    assert!(queue[0]["flags"].to_string().contains("NOT-A-SKU"));
    assert_eq!(sku(&ctx).await["sku"]["reserved"], 0);
}

/// A failed push (the shop answers 503) is retried by the job queue until the shop shows
/// the value; a sync rule (50 %, safety stock 1) changes what is pushed.
#[tokio::test]
async fn failed_pushes_retry_and_rules_apply() {
    let ctx = stocked(
        &["--stock-push-delay-ms", "100", "--retry-delays-secs", "1,1"],
        9,
    )
    .await;
    shop_shows(&ctx, 9).await;
    ctx.sim.fail_next(1, 503);
    let (s, _) = ctx
        .merchant
        .post(
            "/v1/skus/MUG-1/stock/main/adjust",
            json!({"delta": 2, "reason": "delivery"}),
        )
        .await;
    assert_eq!(s, 200);
    shop_shows(&ctx, 11).await;
    let (s, rule) = ctx
        .merchant
        .put(
            "/v1/sync-rules",
            json!({"installation_id": ctx.installation, "scope": "product", "target": "MUGS",
                   "safety_stock": 1, "ratio_bp": 5000}),
        )
        .await;
    assert_eq!(s, 200, "{rule}");
    shop_shows(&ctx, 5).await; // floor((11 − 0 − 1) × 50 %)
}

/// Bad input is refused with the reason and changes nothing; another merchant sees none
/// of it.
#[tokio::test]
async fn admin_api_refuses_bad_input_and_is_scoped() {
    let ctx = stocked(&[], 3).await;
    let o = mug_order(&ctx, 9, 2);
    send(&ctx, "orders/create", &o).await;

    let (s, body) = ctx
        .merchant
        .put(
            "/v1/skus/MUG-1/stock/main",
            json!({"on_hand": 1, "reason": "count"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.to_string().contains("2 units reserved"), "{body}");

    let (s, body) = ctx
        .merchant
        .post_body(
            "/v1/stock/import?reason=count",
            "text/csv",
            b"sku,warehouse,on_hand\nNEW-1,main,4\nBAD,main,-3\nNEW-2,main,x\n".to_vec(),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let lines: Vec<i64> = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    let (s, _) = ctx.merchant.get("/v1/skus/NEW-1").await;
    assert_eq!(s, 404, "nothing of a refused file is imported");

    let (s, body) = ctx
        .merchant
        .post_body(
            "/v1/stock/import?reason=count",
            "text/csv",
            b"sku,warehouse,on_hand,title\nNEW-1,main,4,New one\nMUG-1,east,6,\n".to_vec(),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["skus_created"], 1);
    assert_eq!(sku(&ctx).await["sku"]["on_hand"], 9);

    let (s, body) = ctx
        .merchant
        .put(
            "/v1/sync-rules",
            json!({"installation_id": ctx.installation, "scope": "shop", "ratio_bp": 12000}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = ctx
        .merchant
        .post("/v1/skus", json!({"code": "MUG-1"}))
        .await;
    assert_eq!(s, 409, "a SKU code is unique per merchant");

    let (s, _) = ctx.other_merchant.get("/v1/skus/MUG-1").await;
    assert_eq!(s, 404, "another merchant cannot see the SKU");
    let (s, _) = ctx
        .other_merchant
        .post(
            "/v1/listings",
            json!({"installation_id": ctx.installation, "sku": "MUG-1", "channel_sku": "1"}),
        )
        .await;
    assert_eq!(s, 404, "nor map listings on this merchant's installation");
    let (_, skus) = ctx.other_merchant.get("/v1/skus").await;
    assert_eq!(skus, json!([]));
    let (s, _) = ctx.merchant.get("/v1/inventory/oversold").await;
    assert_eq!(s, 200);
}
