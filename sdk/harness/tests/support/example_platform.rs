//! The example platform the scaffolded plugin talks to (see the template's README): a tiny
//! REST API on `127.0.0.1:0` with deterministic orders, and its signed webhook deliveries.
//! The scaffold's fixtures are recorded from it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use wharf_harness::clock::{format_clock, parse_clock};

pub const HOST: &str = "api.example.com";
pub const API_KEY: &str = "example_api_key";
pub const WEBHOOK_SECRET: &str = "example_webhook_secret";
/// 2024-04-01T00:00:00Z: the first order's update time.
const BASE_MS: i64 = 1_711_929_600_000;
const HOUR_MS: i64 = 3_600_000;

/// Decimal string of integer minor units (2 digits), built from integers only.
fn amount(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// Order `i`: deterministic; orders 2k and 2k+1 share one `updated_at`, so page
/// boundaries fall inside groups of equal timestamps.
pub fn order(i: i64) -> Value {
    let qty = 1 + i % 3;
    let price = 1000 + i * 125;
    let shipping = 500;
    let statuses = [
        "paid",
        "pending",
        "shipped",
        "completed",
        "paid",
        "cancelled",
    ];
    json!({
        "id": format!("{}", 1001 + i),
        "number": format!("#{}", 1001 + i),
        "status": statuses[(i % 6) as usize],
        "currency": "USD",
        "created_at": format_clock(BASE_MS - 24 * HOUR_MS + i * HOUR_MS),
        "updated_at": format_clock(BASE_MS + (i / 2) * 3 * HOUR_MS),
        "lines": [{"id": format!("{}-1", 1001 + i), "sku": format!("SKU-{}", i % 4),
                   "title": format!("Widget {}", i % 4), "quantity": qty, "price": amount(price)}],
        "shipping": amount(shipping),
        "discount": "0.00",
        "tax": "0.00",
        "total": amount(price * qty + shipping),
    })
}

#[derive(Clone)]
struct Platform {
    orders: Arc<Vec<Value>>,
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {API_KEY}"))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "invalid api key"})),
    )
        .into_response()
}

async fn list(
    State(p): State<Platform>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 250);
    // Page tokens carry the filter and the offset: "{since_ms}.{offset}".
    let (since, offset) = match (q.get("page"), q.get("updated_since")) {
        (Some(tok), _) => match tok
            .split_once('.')
            .and_then(|(s, o)| Some((s.parse().ok()?, o.parse().ok()?)))
        {
            Some(t) => t,
            None => {
                return (StatusCode::BAD_REQUEST, Json(json!({"error": "bad page"})))
                    .into_response()
            }
        },
        (None, Some(s)) => match parse_clock(s) {
            Ok(ms) => (ms, 0usize),
            Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response(),
        },
        (None, None) => (i64::MIN, 0),
    };
    let mut matching: Vec<&Value> = p
        .orders
        .iter()
        .filter(|o| parse_clock(o["updated_at"].as_str().unwrap()).unwrap() >= since)
        .collect();
    matching.sort_by_key(|o| {
        (
            o["updated_at"].as_str().unwrap().to_string(),
            o["id"].as_str().unwrap().to_string(),
        )
    });
    let page: Vec<&Value> = matching.iter().skip(offset).take(limit).copied().collect();
    let next = (offset + limit < matching.len()).then(|| format!("{since}.{}", offset + limit));
    Json(json!({"orders": page, "next_page": next})).into_response()
}

async fn one(State(p): State<Platform>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    match p.orders.iter().find(|o| o["id"] == id.as_str()) {
        Some(o) => Json(json!({"order": o})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))).into_response(),
    }
}

/// A running example platform with orders `0..n`.
pub async fn start(n: i64) -> SocketAddr {
    let platform = Platform {
        orders: Arc::new((0..n).map(order).collect()),
    };
    let app = Router::new()
        .route("/v1/orders", get(list))
        .route("/v1/orders/{id}", get(one))
        .with_state(platform);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The platform's webhook delivery of `order`: headers and raw body.
pub fn delivery(order: &Value, delivery_id: &str) -> (Vec<(String, String)>, String) {
    let body = serde_json::to_string(order).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let sig = STANDARD.encode(mac.finalize().into_bytes());
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-example-signature".to_string(), sig),
        ("x-example-topic".to_string(), "order.updated".to_string()),
        ("x-example-delivery".to_string(), delivery_id.to_string()),
    ];
    (headers, body)
}
