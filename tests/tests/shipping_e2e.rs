//! Shipping end to end over the real `wharf` binary, the real Shopify plugin and its
//! simulator, and the courier-fake plugin: a webhook-paid order is picked and packed,
//! the waybill job runs the carrier rules (cheapest quote, recorded on the shipment), the
//! label downloads, shipping confirms the fulfillment on Shopify (after a 5xx, retried)
//! and tracking moves the order to delivered; a refused delivery ends in exception; a
//! refund webhook opens an after-sales ticket; courier installations are never pulled and
//! refuse webhooks.

use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::shopify::{couriers, pick_and_pack, post_200, setup, wait_first_sync, Ctx};
use wharf_tests::{eventually, Api};

const VARIANT: u64 = 44_000_000_303;

/// A clean (no anomaly flags) paid order of one 10.00 USD mug plus 5.00 shipping.
fn paid_order(ctx: &Ctx, seed: u64) -> Value {
    let o = ctx.sim.generate_order(seed);
    let id = o["id"].as_u64().unwrap();
    ctx.sim
        .update_order(id, |o| {
            o["financial_status"] = json!("paid");
            o["fulfillment_status"] = Value::Null;
            o["cancelled_at"] = Value::Null;
            o["closed_at"] = Value::Null;
            o["currency"] = json!("USD");
            o["presentment_currency"] = json!("USD");
            o["taxes_included"] = json!(false);
            let mut line = o["line_items"][0].clone();
            line["sku"] = json!("MUG-1");
            line["variant_id"] = json!(VARIANT);
            line["quantity"] = json!(1);
            line["price"] = json!("10.00");
            line["discount_allocations"] = json!([]);
            line["requires_shipping"] = json!(true);
            line["fulfillment_status"] = Value::Null;
            o["line_items"] = json!([line]);
            o["shipping_lines"] = json!([{"id": id * 10 + 9, "title": "Standard",
                "code": "STANDARD", "source": "shopify", "price": "5.00",
                "discounted_price": "5.00", "discount_allocations": []}]);
            o["shipping_address"] = o["billing_address"].clone();
            o["total_line_items_price"] = json!("10.00");
            o["subtotal_price"] = json!("10.00");
            o["total_discounts"] = json!("0.00");
            o["total_tax"] = json!("0.00");
            o["total_price"] = json!("15.00");
            o["current_total_price"] = json!("15.00");
            o["discount_applications"] = json!([]);
        })
        .unwrap()
}

async fn send(ctx: &Ctx, topic: &str, order: &Value) {
    let status = ctx
        .sim
        .send_webhook(&ctx.webhook_url, topic, order)
        .await
        .unwrap();
    assert_eq!(status, 200, "webhook {topic} acknowledged");
}

async fn order_id(api: &Api, shopify: &Value) -> i64 {
    let ext = shopify["id"].to_string();
    let orders = api.all_orders("").await;
    orders
        .iter()
        .find(|o| o["external_id"] == ext.as_str())
        .unwrap_or_else(|| panic!("order {ext} stored: {orders:?}"))["id"]
        .as_i64()
        .unwrap()
}

async fn state(api: &Api, order: i64) -> String {
    let (_, f) = api.get(&format!("/v1/orders/{order}/fulfillment")).await;
    f["state"].as_str().unwrap_or_default().to_string()
}

async fn wait_state(api: &Api, order: i64, want: &str) {
    let got = eventually(Duration::from_secs(30), || async {
        (state(api, order).await == want).then_some(())
    })
    .await;
    assert!(
        got.is_some(),
        "order {order} never became {want}; it is {}",
        state(api, order).await
    );
}

async fn live_shipment(api: &Api, order: i64) -> Value {
    eventually(Duration::from_secs(30), || async {
        let (_, list) = api.get(&format!("/v1/orders/{order}/shipments")).await;
        list.as_array()?
            .iter()
            .find(|s| s["state"] != "cancelled")
            .cloned()
    })
    .await
    .unwrap_or_else(|| panic!("order {order} got no shipment"))
}

/// The merchant's jobs of one kind.
async fn jobs(api: &Api, kind: &str) -> Vec<Value> {
    let (_, all) = api.get("/v1/jobs?limit=500").await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == kind)
        .cloned()
        .collect()
}

/// Paid by webhook → pick → pack → waybill job through the cheapest courier (rule and
/// reason on the shipment) → label download → ship → Shopify shows the fulfillment with
/// the tracking number (the first confirm attempt hits a 503 and is retried) → tracking
/// delivers the order. Couriers are never pulled, refuse webhooks, and another merchant
/// sees nothing.
#[tokio::test]
async fn webhook_to_delivered_through_waybill_confirmation_and_tracking() {
    let ctx = setup(
        &[
            "--track-interval-secs",
            "1",
            "--retry-policy",
            "confirm_shipment=1,1,1",
        ],
        0,
    )
    .await;
    wait_first_sync(&ctx).await;
    let api = &ctx.merchant;
    let ids = couriers(
        &ctx,
        &[
            json!({"carrier": "sf", "price_per_kg": 1500}),
            json!({"carrier": "zto", "price_per_kg": 1200}),
        ],
    )
    .await;
    let (sf, zto) = (ids[0], ids[1]);

    // Invalid rules are 422 with the reason.
    let (s, err) = api
        .put("/v1/carrier-rules", json!({"rules": [{"name": "x", "pick": {"kind": "fixed", "installation_id": ctx.installation}}]}))
        .await;
    assert_eq!(s, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a courier"),
        "{err}"
    );
    let (s, err) = api
        .put(
            "/v1/carrier-rules",
            json!({"rules": [{"name": "x", "weight": {"min_g": 900, "max_g": 100},
            "pick": {"kind": "fixed", "installation_id": sf}}]}),
        )
        .await;
    assert_eq!(s, 422, "{err}");
    let rules = json!({"rules": [{"name": "cn-south",
            "region": {"country": "CN", "province": "广东", "mode": "prefix"},
            "pick": {"kind": "fixed", "installation_id": sf}}],
        "default": {"kind": "cheapest", "installation_ids": [sf, zto]}});
    let (s, v) = api.put("/v1/carrier-rules", rules).await;
    assert_eq!(s, 200, "{v}");

    let shopify = paid_order(&ctx, 31);
    send(&ctx, "orders/paid", &shopify).await;
    let id = order_id(api, &shopify).await;
    assert_eq!(state(api, id).await, "allocated");
    pick_and_pack(api, id).await;

    let shipment = live_shipment(api, id).await;
    assert_eq!(shipment["installation_id"], zto, "{shipment}");
    assert_eq!(shipment["carrier"], "zto");
    assert_eq!(shipment["rule"], "default");
    let reason = shipment["rule_reason"].as_str().unwrap();
    assert!(
        reason.contains("cheapest of 4 quotes: 12.00 CNY"),
        "{reason}"
    );
    assert_eq!(shipment["service_code"], "standard");
    let tracking = shipment["tracking_number"].as_str().unwrap().to_string();
    assert_eq!(tracking, format!("FAKE-order-{id}"));
    wait_state(api, id, "labelled").await;

    // The label, as the warehouse page prints it.
    let r = api
        .http
        .get(format!("{}/v1/orders/{id}/label", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(cd.contains(".zpl"), "{cd}");
    assert!(r.bytes().await.unwrap().starts_with(b"^XA"));

    // Ship: Shopify answers the first call with a 503, the job retries.
    ctx.sim.fail_next(1, 503);
    let f = post_200(api, &format!("/v1/orders/{id}/ship"), json!({})).await;
    assert_eq!(f["state"], "shipped");
    let ext: u64 = shopify["id"].as_u64().unwrap();
    let fulfilled = eventually(Duration::from_secs(30), || async {
        ctx.sim
            .fulfillments()
            .into_iter()
            .find(|f| f["order_id"] == ext)
    })
    .await
    .expect("the fulfillment reached Shopify");
    assert_eq!(fulfilled["tracking_number"], tracking.as_str());
    assert_eq!(fulfilled["tracking_company"], "zto");
    assert_eq!(
        ctx.sim.order(ext).unwrap()["fulfillment_status"],
        "fulfilled"
    );
    let confirmed = eventually(Duration::from_secs(30), || async {
        let s = live_shipment(api, id).await;
        s["confirmed_at"].as_i64().map(|_| s)
    })
    .await
    .expect("confirmation recorded on the shipment");
    assert!(confirmed["confirm_error"].is_null());
    // The job is recorded done just after it records the confirmation on the shipment.
    let confirm = eventually(Duration::from_secs(30), || async {
        let c = jobs(api, "confirm_shipment").await;
        c.iter().all(|j| j["state"] == "done").then_some(c)
    })
    .await
    .expect("the confirm_shipment job is done");
    assert_eq!(confirm.len(), 1, "{confirm:?}");
    assert_eq!(
        confirm[0]["attempts"], 1,
        "one failed attempt before success"
    );

    // Tracking delivers it.
    wait_state(api, id, "delivered").await;
    let (_, events) = api.get(&format!("/v1/orders/{id}/tracking")).await;
    let raws: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["raw_status"].as_str().unwrap())
        .collect();
    assert_eq!(raws, ["CREATED", "PICKED_UP", "SIGNED"]);
    let (_, f) = api.get(&format!("/v1/orders/{id}/fulfillment")).await;
    let last = f["transitions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["to"].as_str(), last["actor"].as_str()),
        (Some("delivered"), Some("tracking"))
    );

    // Couriers are never pulled, and refuse webhooks with a clear 4xx.
    let pulls: Vec<Value> = jobs(api, "pull")
        .await
        .into_iter()
        .filter(|j| j["installation_id"] == sf || j["installation_id"] == zto)
        .collect();
    assert!(
        pulls.is_empty(),
        "courier installations were pulled: {pulls:?}"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/{sf}", ctx.wharf.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("courier"));

    // Another merchant sees none of it.
    let other = &ctx.other_merchant;
    for path in ["shipments", "label", "tracking"] {
        let (s, _) = other.get(&format!("/v1/orders/{id}/{path}")).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = other
        .post(&format!("/v1/orders/{id}/waybill"), json!({}))
        .await;
    assert_eq!(s, 404);
}

/// A waybill re-created on demand with another courier cancels the first one; tracking
/// that ends refused moves the shipped order to exception; cancelling after shipping is
/// refused; a refund webhook opens a refund ticket worked through the ticket table.
#[tokio::test]
async fn refused_delivery_and_refund_ticket() {
    let ctx = setup(&["--track-interval-secs", "1"], 0).await;
    wait_first_sync(&ctx).await;
    let api = &ctx.merchant;
    let ids = couriers(
        &ctx,
        &[
            json!({"carrier": "sf", "track_outcome": "refused"}),
            json!({"carrier": "yto", "track_outcome": "refused", "label_format": "pdf"}),
        ],
    )
    .await;
    let rules = json!({"rules": [], "default": {"kind": "fixed", "installation_id": ids[0], "service_code": "express"}});
    let (s, v) = api.put("/v1/carrier-rules", rules).await;
    assert_eq!(s, 200, "{v}");
    let shopify = paid_order(&ctx, 32);
    send(&ctx, "orders/paid", &shopify).await;
    let id = order_id(api, &shopify).await;
    pick_and_pack(api, id).await;
    let first = live_shipment(api, id).await;
    assert_eq!(
        (
            first["installation_id"].as_i64(),
            first["service_code"].as_str()
        ),
        (Some(ids[0]), Some("express"))
    );
    assert_eq!(first["rule"], "default");
    wait_state(api, id, "labelled").await;

    // Re-create with the other courier: the first waybill is cancelled.
    let second = post_200(
        api,
        &format!("/v1/orders/{id}/waybill"),
        json!({"installation_id": ids[1]}),
    )
    .await;
    assert_eq!(second["installation_id"], ids[1]);
    assert_eq!(second["rule"], "manual");
    assert_eq!(second["tracking_number"], format!("FAKE-order-{id}-2"));
    let (_, all) = api.get(&format!("/v1/orders/{id}/shipments")).await;
    let states: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["cancelled", "labelled"]);
    let r = api
        .http
        .get(format!("{}/v1/orders/{id}/label", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");

    // Shipping by the transition API also confirms and tracks.
    post_200(
        api,
        &format!("/v1/orders/{id}/transitions"),
        json!({"to": "shipped", "reason": "collected"}),
    )
    .await;
    let (s, err) = api
        .post(&format!("/v1/orders/{id}/waybill/cancel"), json!({}))
        .await;
    assert_eq!(s, 409, "{err}");
    wait_state(api, id, "exception").await;
    let ext = shopify["id"].as_u64().unwrap();
    eventually(Duration::from_secs(30), || async {
        (ctx.sim.order(ext)?["fulfillment_status"] == "fulfilled").then_some(())
    })
    .await
    .expect("Shopify got the fulfillment");

    // A refund webhook opens a ticket in the customer-service queue.
    let refunded = ctx
        .sim
        .update_order(ext, |o| o["financial_status"] = json!("refunded"))
        .unwrap();
    send(&ctx, "orders/updated", &refunded).await;
    send(&ctx, "orders/updated", &refunded).await;
    let (s, tickets) = api
        .get("/v1/after-sales?status=open&queue=customer_service")
        .await;
    assert_eq!(s, 200, "{tickets}");
    let tickets: Vec<&Value> = tickets
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["order_id"] == id)
        .collect();
    assert_eq!(
        tickets.len(),
        1,
        "one ticket despite the redelivery: {tickets:?}"
    );
    assert_eq!(tickets[0]["kind"], "refund");
    let t = tickets[0]["id"].as_i64().unwrap();
    post_200(
        api,
        &format!("/v1/after-sales/{t}/assign"),
        json!({"assignee": "carol"}),
    )
    .await;
    post_200(api, &format!("/v1/after-sales/{t}/start"), json!({})).await;
    let (s, err) = api
        .post(&format!("/v1/after-sales/{t}/start"), json!({}))
        .await;
    assert_eq!(s, 409, "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("in_progress"));
    post_200(
        api,
        &format!("/v1/after-sales/{t}/note"),
        json!({"body": "parcel back at the warehouse"}),
    )
    .await;
    let done = post_200(
        api,
        &format!("/v1/after-sales/{t}/resolve"),
        json!({"note": "refund confirmed"}),
    )
    .await;
    assert_eq!(done["status"], "resolved");
    let notes: Vec<&str> = done["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "assigned to carol in customer_service",
            "parcel back at the warehouse",
            "refund confirmed"
        ]
    );
    let (s, _) = ctx
        .other_merchant
        .get(&format!("/v1/after-sales/{t}"))
        .await;
    assert_eq!(s, 404);
    let (_, mine) = api.get("/v1/after-sales?assignee=carol").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);

    // Every new endpoint is in the OpenAPI document.
    let (_, openapi) = api.get("/v1/openapi.json").await;
    for p in [
        "/v1/carrier-rules",
        "/v1/shipping-settings",
        "/v1/orders/{id}/waybill",
        "/v1/orders/{id}/waybill/cancel",
        "/v1/orders/{id}/label",
        "/v1/orders/{id}/shipments",
        "/v1/orders/{id}/ship",
        "/v1/orders/{id}/tracking",
        "/v1/after-sales",
        "/v1/after-sales/{id}/resolve",
    ] {
        assert!(openapi["paths"][p].is_object(), "{p} documented");
    }
}
