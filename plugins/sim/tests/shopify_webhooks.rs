//! Simulated Shopify webhook deliveries to a real receiver: headers, signature, retries,
//! and the demo traffic stream.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wharf_sim::shopify::{Attempt, RetryPolicy, ShopifySim, ShopifySimConfig};

#[derive(Clone, Default)]
struct Receiver {
    /// Statuses to answer with, in order; 200 once exhausted.
    answers: Arc<Mutex<VecDeque<u16>>>,
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let code = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(code).unwrap()
}

/// Start a receiver answering `answers` first; its URL.
async fn receiver(answers: &[u16]) -> (Receiver, String) {
    let r = Receiver::default();
    r.answers.lock().unwrap().extend(answers);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hooks", post(hook))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

fn verifies(secret: &str, body: &[u8], sig: &str) -> bool {
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .unwrap()
}

// A delivery carries Shopify's headers, and its HMAC verifies with the client secret
// (and not with another key).
#[tokio::test]
async fn webhook_signature_verifies_with_the_client_secret() {
    let sim = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let (rx, url) = receiver(&[]).await;
    let order = sim.generate_order(3);
    let status = sim
        .send_webhook(&url, "orders/create", &order)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let got = rx.got.lock().unwrap();
    let (headers, body) = &got[0];
    let sig = h(headers, "x-shopify-hmac-sha256");
    assert!(verifies(&sim.config().client_secret, body, sig));
    assert!(!verifies("another secret", body, sig));
    assert_eq!(sig, sim.sign(body));
    assert_eq!(h(headers, "x-shopify-topic"), "orders/create");
    assert_eq!(h(headers, "x-shopify-shop-domain"), "demo.myshopify.com");
    assert_eq!(h(headers, "x-shopify-api-version"), "2024-04");
    assert_eq!(h(headers, "content-type"), "application/json");
    assert!(wharf_sim::time::parse(h(headers, "x-shopify-triggered-at")).is_some());
    assert_eq!(h(headers, "x-shopify-webhook-id").len(), 36);
    let sent: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(sent, order, "the body is the order itself");
}

// Failed deliveries are retried with the same webhook id and body until one gets a 2xx.
#[tokio::test]
async fn retry_delivers_after_injected_failures() {
    let sim = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let (rx, url) = receiver(&[500, 503]).await;
    let order = sim.generate_order(8);
    let report = sim
        .deliver(&url, "orders/updated", &order, RetryPolicy::fast(5))
        .await;
    assert!(report.delivered);
    assert_eq!(
        report.attempts,
        [
            Attempt::Status(500),
            Attempt::Status(503),
            Attempt::Status(200)
        ]
    );
    let got = rx.got.lock().unwrap();
    assert_eq!(got.len(), 3);
    let ids: HashSet<&str> = got
        .iter()
        .map(|(hd, _)| h(hd, "x-shopify-webhook-id"))
        .collect();
    assert_eq!(
        ids,
        HashSet::from([report.webhook_id.as_str()]),
        "one id across redeliveries"
    );
    assert!(got.iter().all(|(_, b)| b == &got[0].1), "identical bodies");
}

// When every attempt fails the report says so, attempt by attempt, including transport errors.
#[tokio::test]
async fn exhausted_retries_are_reported() {
    let sim = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let (_rx, url) = receiver(&[500, 500, 500]).await;
    let order = sim.generate_order(2);
    let report = sim
        .deliver(&url, "orders/create", &order, RetryPolicy::fast(3))
        .await;
    assert!(!report.delivered);
    assert_eq!(report.attempts, vec![Attempt::Status(500); 3]);
    // Nobody listens on port 9 of loopback: a transport error, retried too.
    let report = sim
        .deliver(
            "http://127.0.0.1:9/hooks",
            "orders/create",
            &order,
            RetryPolicy::fast(2),
        )
        .await;
    assert!(!report.delivered);
    assert_eq!(report.attempts.len(), 2);
    assert!(matches!(report.attempts[0], Attempt::Error(_)));
}

// Demo traffic: signed deliveries of new and changed orders, including a redelivered
// (duplicate) event and an orders/updated that arrives before its orders/create.
#[tokio::test]
async fn traffic_streams_signed_events_with_duplicates_and_disorder() {
    let sim = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let (rx, url) = receiver(&[]).await;
    let task = sim.spawn_traffic(url, Duration::from_millis(2));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (dup, early_update) = {
            let got = rx.got.lock().unwrap();
            let mut ids = HashSet::new();
            let mut created = HashSet::new();
            let (mut dup, mut early) = (false, false);
            for (hd, body) in got.iter() {
                assert!(verifies(
                    &sim.config().client_secret,
                    body,
                    h(hd, "x-shopify-hmac-sha256")
                ));
                dup |= !ids.insert(h(hd, "x-shopify-webhook-id").to_string());
                let id = serde_json::from_slice::<serde_json::Value>(body).unwrap()["id"]
                    .as_u64()
                    .unwrap();
                match h(hd, "x-shopify-topic") {
                    "orders/create" => {
                        created.insert(id);
                    }
                    "orders/updated" => early |= !created.contains(&id),
                    other => panic!("unexpected topic {other}"),
                }
            }
            (dup, early)
        };
        if dup && early_update {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "traffic showed no duplicate / early update"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    assert!(!sim.orders().is_empty());
}
