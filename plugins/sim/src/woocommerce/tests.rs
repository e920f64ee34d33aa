//! The simulated store over real HTTP: WooCommerce's authentication, the listing's
//! filters and headers, errors, injected faults, stock updates and webhook deliveries.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::oauth::signed_query;
use super::{Fault, WooSim, WooSimConfig};
use crate::time;

const HOUR: i64 = 3_600_000;

async fn sim() -> WooSim {
    WooSim::start(WooSimConfig::default()).await.unwrap()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// A signed request for `path` with `params`, signed with `secret` at `ts` with `nonce`.
#[allow(clippy::too_many_arguments)]
async fn call_with(
    sim: &WooSim,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    secret: &str,
    ts: i64,
    nonce: &str,
    body: Option<Value>,
) -> Answer {
    let url = format!("{}/wp-json/wc/v3{path}", sim.base_url());
    let q = signed_query(
        method,
        &url,
        params,
        &sim.config().consumer_key,
        secret,
        ts,
        nonce,
    );
    let mut b = reqwest::Client::new().request(method.parse().unwrap(), format!("{url}?{q}"));
    if let Some(body) = body {
        b = b.json(&body);
    }
    let r = b.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn call(
    sim: &WooSim,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nonce = format!("n{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let secret = sim.config().consumer_secret.clone();
    call_with(
        sim,
        method,
        path,
        params,
        &secret,
        time::now_ms() / 1000,
        &nonce,
        body,
    )
    .await
}

fn code(a: &Answer) -> &str {
    a.body["code"].as_str().unwrap_or("")
}

// OAuth 1.0a requests signed by WooCommerce's recipe are admitted; a wrong secret, a
// replayed nonce, a stale timestamp, missing parameters, no credentials at all and Basic
// auth over plain HTTP are refused with WooCommerce's 401 codes.
#[tokio::test]
async fn oauth_is_verified_like_woocommerce() {
    let sim = sim().await;
    let now = time::now_ms() / 1000;
    let ok = call_with(
        &sim,
        "GET",
        "/orders",
        &[("status", "any")],
        &sim.config().consumer_secret,
        now,
        "a1",
        None,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let replay = call_with(
        &sim,
        "GET",
        "/orders",
        &[("status", "any")],
        &sim.config().consumer_secret,
        now,
        "a1",
        None,
    )
    .await;
    assert_eq!(
        (replay.status, code(&replay)),
        (401, "woocommerce_rest_authentication_error")
    );
    assert!(replay.body["message"].as_str().unwrap().contains("nonce"));
    let wrong = call_with(&sim, "GET", "/orders", &[], "cs_wrong", now, "a2", None).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.body["message"],
        "Invalid signature - provided signature does not match."
    );
    assert_eq!(wrong.body["data"]["status"], 401);
    let stale = call_with(
        &sim,
        "GET",
        "/orders",
        &[],
        &sim.config().consumer_secret,
        now - 16 * 60,
        "a3",
        None,
    )
    .await;
    assert_eq!(
        (stale.status, stale.body["message"].as_str()),
        (401, Some("Invalid timestamp."))
    );
    let url = format!("{}/wp-json/wc/v3/orders", sim.base_url());
    let http = reqwest::Client::new();
    let none = http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_cannot_view");
    let basic = http
        .get(&url)
        .basic_auth(
            &sim.config().consumer_key,
            Some(&sim.config().consumer_secret),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "Basic auth is refused over plain HTTP");
    let partial = http
        .get(format!("{url}?oauth_consumer_key=x"))
        .send()
        .await
        .unwrap();
    let body: Value = partial.json().await.unwrap();
    assert_eq!(
        body["code"],
        "woocommerce_rest_authentication_missing_parameter"
    );
    assert_eq!(sim.calls().len(), 1, "only the good request was admitted");
}

// Behind TLS the store takes Basic auth; a wrong secret is "Consumer secret is invalid.".
#[tokio::test]
async fn basic_auth_behind_tls() {
    let sim = WooSim::start(WooSimConfig {
        behind_tls: true,
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let url = format!("{}/wp-json/wc/v3/orders", sim.base_url());
    let http = reqwest::Client::new();
    let key = sim.config().consumer_key.clone();
    let ok = http
        .get(&url)
        .basic_auth(&key, Some(&sim.config().consumer_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let bad = http
        .get(&url)
        .basic_auth(&key, Some("cs_nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["message"], "Consumer secret is invalid.");
}

// The listing filters on GMT modified times only with dates_are_gmt=true, sorts by
// modified, pages with X-WP-Total, X-WP-TotalPages and a Link header, and refuses
// per_page over 100.
#[tokio::test]
async fn listing_filters_pages_and_links() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(7, 1, now - 3 * HOUR, now - HOUR);
    let after = super::generate::naive(now - 4 * HOUR, 0);
    let params = [
        ("modified_after", after.as_str()),
        ("dates_are_gmt", "true"),
        ("orderby", "modified"),
        ("order", "asc"),
        ("per_page", "3"),
        ("page", "2"),
    ];
    let a = call(&sim, "GET", "/orders", &params, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["x-wp-total"], "7");
    assert_eq!(a.headers["x-wp-totalpages"], "3");
    let link = a.headers["link"].to_str().unwrap();
    assert!(
        link.contains("page=1>; rel=\"prev\"") && link.contains("page=3>; rel=\"next\""),
        "{link}"
    );
    assert!(!link.contains("oauth_"), "{link}");
    let ids: Vec<u64> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    let want: Vec<u64> = made[3..6]
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, want);
    // The same instant read as store-local time (+02:00) is two hours later in GMT.
    let local = call(
        &sim,
        "GET",
        "/orders",
        &[(
            "modified_after",
            &super::generate::naive(now - 2 * HOUR - 1000, 0),
        )],
        None,
    )
    .await;
    let gmt = call(
        &sim,
        "GET",
        "/orders",
        &[
            (
                "modified_after",
                &super::generate::naive(now - 2 * HOUR - 1000, 0),
            ),
            ("dates_are_gmt", "true"),
        ],
        None,
    )
    .await;
    assert_eq!(
        local.headers["x-wp-total"], "7",
        "local time is 2 h earlier in GMT"
    );
    assert_eq!(gmt.headers["x-wp-total"], "4");
    let big = call(&sim, "GET", "/orders", &[("per_page", "101")], None).await;
    assert_eq!((big.status, code(&big)), (400, "rest_invalid_param"));
    assert!(big.body["data"]["params"]["per_page"]
        .as_str()
        .unwrap()
        .contains("100"));
    let bad = call(&sim, "GET", "/orders", &[("orderby", "total")], None).await;
    assert_eq!(bad.status, 400);
}

// status=any hides trash; exclude drops ids; a single unknown order is WooCommerce's 404.
#[tokio::test]
async fn trash_exclude_and_not_found() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(3, 2, now - 3 * HOUR, now - HOUR);
    let id = made[0]["id"].as_u64().unwrap();
    sim.set_status(id, "trash").unwrap();
    let any = call(&sim, "GET", "/orders", &[("status", "any")], None).await;
    assert_eq!(any.headers["x-wp-total"], "2");
    let trash = call(&sim, "GET", "/orders", &[("status", "trash")], None).await;
    assert_eq!(trash.headers["x-wp-total"], "1");
    let second = made[1]["id"].to_string();
    let ex = call(
        &sim,
        "GET",
        "/orders",
        &[("exclude", second.as_str())],
        None,
    )
    .await;
    assert_eq!(ex.headers["x-wp-total"], "1");
    let one = call(&sim, "GET", &format!("/orders/{id}"), &[], None).await;
    assert_eq!(
        (one.status, one.body["status"].as_str()),
        (200, Some("trash"))
    );
    let missing = call(&sim, "GET", "/orders/999999", &[], None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}})
    );
}

// Injected faults answer before authentication, in WooCommerce's (or its host's) shapes.
#[tokio::test]
async fn injected_faults() {
    let sim = sim().await;
    sim.fail_next(1, Fault::Unauthorized);
    sim.fail_next(1, Fault::RateLimited(7));
    sim.fail_next(1, Fault::Status(500));
    sim.fail_next(1, Fault::Status(503));
    let a = call(&sim, "GET", "/orders", &[], None).await;
    assert_eq!(
        (a.status, code(&a)),
        (401, "woocommerce_rest_authentication_error")
    );
    let a = call(&sim, "GET", "/orders", &[], None).await;
    assert_eq!(
        (a.status, a.headers["retry-after"].to_str().unwrap()),
        (429, "7")
    );
    let a = call(&sim, "GET", "/orders", &[], None).await;
    assert_eq!((a.status, code(&a)), (500, "internal_server_error"));
    let a = call(&sim, "GET", "/orders", &[], None).await;
    assert_eq!(a.status, 503);
    assert_eq!(call(&sim, "GET", "/orders", &[], None).await.status, 200);
    assert_eq!(sim.requests(), 5);
}

// PUT /products/{id} and /products/{id}/variations/{vid} store the quantity; unknown ids
// are WooCommerce's 404 codes; a non-integer quantity is rest_invalid_param.
#[tokio::test]
async fn stock_updates_are_stored() {
    let sim = sim().await;
    let body = json!({"manage_stock": true, "stock_quantity": 12});
    let a = call(&sim, "PUT", "/products/93", &[], Some(body.clone())).await;
    assert_eq!(
        (a.status, a.body["stock_quantity"].as_i64()),
        (200, Some(12))
    );
    let v = call(
        &sim,
        "PUT",
        "/products/22/variations/23",
        &[],
        Some(json!({"manage_stock": true, "stock_quantity": 0})),
    )
    .await;
    assert_eq!(
        (v.status, v.body["stock_status"].as_str()),
        (200, Some("outofstock"))
    );
    assert_eq!(sim.stock(93, None).unwrap().stock_quantity, Some(12));
    assert_eq!(sim.stock(22, Some(23)).unwrap().stock_quantity, Some(0));
    assert_eq!(sim.stock(22, Some(24)).unwrap().stock_quantity, None);
    let p = call(&sim, "PUT", "/products/5", &[], Some(body.clone())).await;
    assert_eq!(
        (p.status, code(&p)),
        (404, "woocommerce_rest_product_invalid_id")
    );
    let pv = call(&sim, "PUT", "/products/22/variations/99", &[], Some(body)).await;
    assert_eq!(
        (pv.status, code(&pv)),
        (404, "woocommerce_rest_product_variation_invalid_id")
    );
    let bad = call(
        &sim,
        "PUT",
        "/products/93",
        &[],
        Some(json!({"stock_quantity": "many"})),
    )
    .await;
    assert_eq!((bad.status, code(&bad)), (400, "rest_invalid_param"));
    assert_eq!(
        sim.stock_updates(),
        [(93, None, Some(12)), (22, Some(23), Some(0))]
    );
}

type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let s = s.clone();
                async move {
                    s.lock().unwrap().push((headers, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

// Deliveries carry WooCommerce's headers and a signature over the raw body; the bad
// variant's signature does not match; order.deleted carries only the id; the ping is an
// unsigned webhook_id form body; delivery ids collide within one second, as WooCommerce's do.
#[tokio::test]
async fn webhook_deliveries() {
    let sim = sim().await;
    let (url, seen) = receiver().await;
    let order = sim.generate_order(4, time::now_ms());
    assert_eq!(
        sim.send_webhook(&url, "order.created", &order)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        sim.send_bad_signature(&url, "order.updated", &order)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        sim.send_webhook(&url, "order.deleted", &order)
            .await
            .unwrap(),
        200
    );
    assert_eq!(sim.send_ping(&url).await.unwrap(), 200);
    let seen = seen.lock().unwrap().clone();
    let h = |i: usize, k: &str| seen[i].0.get(k).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(h(0, "x-wc-webhook-topic").as_deref(), Some("order.created"));
    assert_eq!(h(0, "x-wc-webhook-resource").as_deref(), Some("order"));
    assert_eq!(h(0, "x-wc-webhook-event").as_deref(), Some("created"));
    assert_eq!(h(0, "x-wc-webhook-id").as_deref(), Some("7"));
    assert_eq!(h(0, "x-wc-webhook-signature"), Some(sim.sign(&seen[0].1)));
    assert_eq!(serde_json::from_slice::<Value>(&seen[0].1).unwrap(), order);
    assert_ne!(h(1, "x-wc-webhook-signature"), Some(sim.sign(&seen[1].1)));
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[2].1).unwrap(),
        json!({"id": order["id"]})
    );
    assert_eq!(seen[3].1, b"webhook_id=7");
    assert!(h(3, "x-wc-webhook-signature").is_none());
    let a = super::webhook::delivery_id(7, 1_712_000_000);
    assert_eq!(
        a,
        super::webhook::delivery_id(7, 1_712_000_000),
        "same webhook, same second"
    );
    assert_ne!(a, super::webhook::delivery_id(7, 1_712_000_001));
}
