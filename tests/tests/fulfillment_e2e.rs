//! Fulfillment end to end over the real `wharf` binary, the real Shopify plugin and its
//! simulator: a paid order's pick task exists the moment its webhook is acknowledged,
//! illegal transitions are refused with the reason, pick → pack → label → ship is audited
//! and consumes stock, cancellation releases it, and an SLA breach is escalated and
//! notified (signed) exactly once — also across restarts of `wharf serve`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wharf_tests::shopify::{clean_paid_order, resolve_arg, setup, Ctx};
use wharf_tests::{eventually, Api, Wharf};

const VARIANT: u64 = 44_000_000_202;
const SECRET: &str = "notify-secret-0123456789";

/// A simulated order made into a clean (no anomaly flags) paid order of `qty` × MUG-1 at
/// 10.00 USD plus 5.00 shipping; returns the stored Shopify JSON.
fn paid_mug_order(ctx: &Ctx, seed: u64, qty: u64) -> Value {
    clean_paid_order(&ctx.sim, seed, "MUG-1", VARIANT, qty)
}

async fn send(ctx: &Ctx, topic: &str, order: &Value) {
    let status = ctx
        .sim
        .send_webhook(&ctx.webhook_url, topic, order)
        .await
        .unwrap();
    assert_eq!(status, 200, "webhook {topic} acknowledged");
}

/// The store id of the Shopify order (one GET, no polling: ingest committed before 2xx).
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

async fn stock_sku(api: &Api, on_hand: i64) {
    let (s, body) = api
        .post("/v1/skus", json!({"code": "MUG-1", "title": "Mug"}))
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = api
        .put(
            "/v1/skus/MUG-1/stock/main",
            json!({"on_hand": on_hand, "reason": "opening count"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

async fn levels(api: &Api) -> (i64, i64) {
    let (s, d) = api.get("/v1/skus/MUG-1").await;
    assert_eq!(s, 200, "{d}");
    (
        d["sku"]["on_hand"].as_i64().unwrap(),
        d["sku"]["reserved"].as_i64().unwrap(),
    )
}

async fn task_of(api: &Api, order: i64, kind: &str) -> Value {
    let (s, tasks) = api
        .get(&format!("/v1/tasks?order_id={order}&kind={kind}"))
        .await;
    assert_eq!(s, 200, "{tasks}");
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1, "one {kind} task: {tasks:?}");
    tasks[0].clone()
}

async fn post_ok(api: &Api, path: &str, body: Value) -> Value {
    let (s, v) = api.post(path, body).await;
    assert_eq!(s, 200, "POST {path}: {v}");
    v
}

/// A paid order's pick task is there on the first GET after the webhook's 2xx; an illegal
/// transition is 409 with the reason; pick → pack → label → ship runs through tasks and
/// transitions, each step audited with its actor, and shipping consumes the held stock.
#[tokio::test]
async fn paid_webhook_to_shipped_with_audited_steps() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    stock_sku(api, 5).await;
    let shopify = paid_mug_order(&ctx, 21, 2);
    send(&ctx, "orders/paid", &shopify).await;
    let id = order_id(api, &shopify).await;
    let pick = task_of(api, id, "pick").await;
    assert_eq!(pick["status"], "open");
    let (_, f) = api.get(&format!("/v1/orders/{id}/fulfillment")).await;
    assert_eq!(f["state"], "allocated", "{f}");
    assert_eq!(levels(api).await, (5, 2));

    // Illegal: allocated → shipped.
    let (s, err) = api
        .post(
            &format!("/v1/orders/{id}/transitions"),
            json!({"to": "shipped", "reason": "skip the warehouse"}),
        )
        .await;
    assert_eq!(s, 409, "{err}");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("allocated") && msg.contains("shipped"),
        "{msg}"
    );

    // Another merchant sees none of it.
    let other = &ctx.other_merchant;
    assert_eq!(
        other.get(&format!("/v1/orders/{id}/fulfillment")).await.0,
        404
    );
    let pick_id = pick["id"].as_i64().unwrap();
    let (s, _) = other
        .post(
            &format!("/v1/tasks/{pick_id}/assign"),
            json!({"assignee": "mallory"}),
        )
        .await;
    assert_eq!(s, 404);

    // Pick.
    let t = post_ok(
        api,
        &format!("/v1/tasks/{pick_id}/assign"),
        json!({"assignee": "bob"}),
    )
    .await;
    assert_eq!(t["status"], "assigned");
    let (_, mine) = api.get("/v1/tasks?assignee=bob&status=assigned").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    post_ok(api, &format!("/v1/tasks/{pick_id}/start"), json!({})).await;
    post_ok(api, &format!("/v1/tasks/{pick_id}/complete"), json!({})).await;
    // Pack: the parcel record is required.
    let pack_id = task_of(api, id, "pack").await["id"].as_i64().unwrap();
    post_ok(
        api,
        &format!("/v1/tasks/{pack_id}/assign"),
        json!({"assignee": "eve"}),
    )
    .await;
    post_ok(api, &format!("/v1/tasks/{pack_id}/start"), json!({})).await;
    let (s, err) = api
        .post(&format!("/v1/tasks/{pack_id}/complete"), json!({}))
        .await;
    assert_eq!(s, 400, "{err}");
    let parcel =
        json!({"parcel": {"weight_g": 640, "length_mm": 300, "width_mm": 200, "height_mm": 120}});
    let t = post_ok(api, &format!("/v1/tasks/{pack_id}/complete"), parcel).await;
    assert_eq!(t["parcel"]["weight_g"], 640);
    // Label (needs carrier + tracking), ship.
    let path = format!("/v1/orders/{id}/transitions");
    let (s, err) = api
        .post(&path, json!({"to": "labelled", "reason": "label"}))
        .await;
    assert_eq!(s, 400, "{err}");
    post_ok(
        api,
        &path,
        json!({"to": "labelled", "reason": "label printed", "carrier": "UPS", "tracking_number": "1Z42"}),
    )
    .await;
    let f = post_ok(
        api,
        &path,
        json!({"to": "shipped", "reason": "picked up by UPS"}),
    )
    .await;
    assert_eq!(
        (f["state"].clone(), f["tracking_number"].clone()),
        (json!("shipped"), json!("1Z42"))
    );
    assert_eq!(
        levels(api).await,
        (3, 0),
        "shipping consumed the held units"
    );

    let (s, steps) = api.get(&path).await;
    assert_eq!(s, 200);
    let steps: Vec<(String, String, String)> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["at"].as_i64().unwrap() > 0 && e["reason"].is_string(),
                "{e}"
            );
            (
                e["from"].as_str().unwrap().into(),
                e["to"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    let s = |f: &str, t: &str, a: &str| (f.to_string(), t.to_string(), a.to_string());
    assert_eq!(
        steps,
        vec![
            s("received", "ready", "system"),
            s("ready", "allocated", "system"),
            s("allocated", "picking", "api:cli"),
            s("picking", "packed", "api:cli"),
            s("packed", "labelled", "api:cli"),
            s("labelled", "shipped", "api:cli"),
        ]
    );
    let (_, openapi) = api.get("/v1/openapi.json").await;
    for p in [
        "/v1/orders/{id}/transitions",
        "/v1/tasks/{id}/complete",
        "/v1/sla-rules",
        "/v1/escalations",
        "/v1/notification-settings",
        "/v1/orders/{id}/review",
    ] {
        assert!(openapi["paths"][p].is_object(), "{p} documented");
    }
}

/// Cancelling before shipping releases the held stock (host-side cancel via the API, and
/// a channel cancellation by webhook) and cancels the order's tasks.
#[tokio::test]
async fn cancellation_before_shipping_releases_stock() {
    let ctx = setup(&[], 0).await;
    let api = &ctx.merchant;
    stock_sku(api, 5).await;
    let a = paid_mug_order(&ctx, 31, 2);
    let b = paid_mug_order(&ctx, 32, 1);
    send(&ctx, "orders/paid", &a).await;
    send(&ctx, "orders/paid", &b).await;
    assert_eq!(levels(api).await, (5, 3));
    let id_a = order_id(api, &a).await;
    let f = post_ok(
        api,
        &format!("/v1/orders/{id_a}/transitions"),
        json!({"to": "cancelled", "reason": "buyer phoned to cancel"}),
    )
    .await;
    assert_eq!(f["state"], "cancelled");
    assert_eq!(f["tasks"][0]["status"], "cancelled");
    assert_eq!(levels(api).await, (5, 1));
    let (_, events) = api.get("/v1/skus/MUG-1/events").await;
    assert!(events.to_string().contains("release"), "{events}");

    let b_id = b["id"].as_u64().unwrap();
    let cancelled = ctx
        .sim
        .update_order(b_id, |o| {
            o["cancelled_at"] = o["updated_at"].clone();
            o["financial_status"] = json!("voided");
        })
        .unwrap();
    send(&ctx, "orders/cancelled", &cancelled).await;
    let id_b = order_id(api, &b).await;
    let (_, f) = api.get(&format!("/v1/orders/{id_b}/fulfillment")).await;
    assert_eq!(f["state"], "cancelled", "{f}");
    assert_eq!(
        f["transitions"].as_array().unwrap().last().unwrap()["actor"],
        "channel"
    );
    assert_eq!(levels(api).await, (5, 0));
}

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A local webhook receiver recording (signature header, body) of every POST.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let sig = headers
                        .get("x-wharf-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    sink.lock().unwrap().push((sig, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn valid_signature(sig: &str, body: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// An overdue pick raises exactly one escalation and one signed notification; the
/// deadline is stored, so a breach that falls while `wharf serve` is down is detected
/// after the restart, and further restarts never repeat it.
#[tokio::test]
async fn sla_breach_escalates_and_notifies_exactly_once_across_restarts() {
    let ctx = setup(&[], 0).await;
    let (url, got) = receiver().await;
    let api = ctx.merchant.clone();
    let (s, v) = api
        .put(
            "/v1/notification-settings",
            json!({"url": url, "secret": SECRET}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        !v.to_string().contains(SECRET),
        "the secret is never returned"
    );
    let (_, v) = api.get("/v1/notification-settings").await;
    assert!(
        !v.to_string().contains(SECRET) && v["secret_set"] == true,
        "{v}"
    );
    let (s, v) = api
        .put(
            "/v1/sla-rules",
            json!({"rules": [{"step": "pick", "limit_secs": 2}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    let shopify = paid_mug_order(&ctx, 41, 1);
    send(&ctx, "orders/paid", &shopify).await;
    let id = order_id(&api, &shopify).await;
    let pick = task_of(&api, id, "pick").await["id"].as_i64().unwrap();
    post_ok(
        &api,
        &format!("/v1/tasks/{pick}/assign"),
        json!({"assignee": "bob"}),
    )
    .await;
    let t = post_ok(&api, &format!("/v1/tasks/{pick}/start"), json!({})).await;
    assert!(t["due_at"].as_i64().is_some(), "{t}");

    // The server goes down before the deadline and comes back after it.
    let Ctx {
        sim,
        wharf,
        merchant,
        ..
    } = ctx;
    let db = wharf.db_url.clone();
    assert!(wharf.terminate(), "graceful shutdown");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(got.lock().unwrap().len(), 0);
    let wharf = Wharf::start(&db, &resolve_arg(&sim));
    let api = wharf.api(&merchant.token);
    let escalations = eventually(Duration::from_secs(20), || async {
        let (_, e) = api.get("/v1/escalations").await;
        (!e.as_array()?.is_empty()).then_some(e)
    })
    .await
    .expect("the breach is escalated after the restart");
    let e = &escalations[0];
    assert_eq!(
        (e["step"].clone(), e["task_id"].clone()),
        (json!("pick"), json!(pick))
    );
    eventually(Duration::from_secs(20), || async {
        (!got.lock().unwrap().is_empty()).then_some(())
    })
    .await
    .expect("the notification is delivered");
    {
        let got = got.lock().unwrap();
        let (sig, body) = &got[0];
        assert!(valid_signature(sig, body), "signature {sig} verifies");
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["escalation"]["id"], e["id"]);
    }

    // The notify job records its delivery; a SIGKILL before that record would leave it
    // running under a dead node's lease (retried when the lease expires, with the same
    // delivery id), which is not what this test is about.
    eventually(Duration::from_secs(20), || async {
        let (_, jobs) = api.get("/v1/jobs?state=done").await;
        jobs.as_array()?
            .iter()
            .any(|j| j["kind"] == "notify")
            .then_some(())
    })
    .await
    .expect("the notify job is done");

    // A crash (SIGKILL) and restart, and time for many ticks: still one escalation, one
    // notification.
    wharf.kill();
    let wharf = Wharf::start(&db, &resolve_arg(&sim));
    let api = wharf.api(&merchant.token);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let (_, escalations) = api.get("/v1/escalations").await;
    assert_eq!(escalations.as_array().unwrap().len(), 1, "{escalations}");
    assert_eq!(got.lock().unwrap().len(), 1);
    let (_, jobs) = api.get("/v1/jobs").await;
    let notify: Vec<&Value> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "notify")
        .collect();
    assert_eq!(notify.len(), 1, "{jobs}");
    assert_eq!(notify[0]["state"], "done");
    assert!(!jobs.to_string().contains(SECRET));
}
