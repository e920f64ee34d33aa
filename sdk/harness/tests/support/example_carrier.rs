//! The example carrier and the example ERP the courier and accounting scaffolds talk to
//! (see the templates' READMEs): small REST APIs on `127.0.0.1:0` with bearer auth and
//! idempotency keys. The scaffolds' fixtures are recorded from them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const HOST: &str = "api.example.com";
pub const API_KEY: &str = "example_api_key";

#[derive(Clone, Default)]
struct Books {
    /// Idempotency key → (status of the first answer's id, body).
    by_key: Arc<Mutex<HashMap<String, Value>>>,
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {API_KEY}"))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

fn weight(body: &Value) -> Option<u64> {
    body["parcels"]
        .as_array()
        .filter(|p| !p.is_empty())?
        .iter()
        .map(|p| p["weight_g"].as_u64())
        .sum()
}

async fn rates(headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    let (Some(grams), Some(currency)) =
        (weight(&body), body["declared_value"]["currency"].as_str())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "parcels and declared_value are required",
        );
    };
    // 4.50 + 0.50 per started 500 g (standard); express doubles it.
    let standard = 450 + 50 * grams.div_ceil(500);
    let amount = |minor: u64| format!("{}.{:02}", minor / 100, minor % 100);
    Json(json!({"rates": [
        {"service": "standard", "name": "Example Standard", "amount": amount(standard),
         "currency": currency, "transit_days": 3},
        {"service": "express", "name": "Example Express", "amount": amount(standard * 2),
         "currency": currency, "transit_days": 1}
    ]}))
    .into_response()
}

async fn book(State(b): State<Books>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return error(StatusCode::BAD_REQUEST, "Idempotency-Key is required");
    };
    let mut books = b.by_key.lock().unwrap();
    if let Some(first) = books.get(key) {
        return (StatusCode::OK, Json(first.clone())).into_response();
    }
    let Some(grams) = weight(&body) else {
        return error(StatusCode::BAD_REQUEST, "parcels are required");
    };
    let n = 1001 + books.len();
    let tracking = format!("EX{n:010}");
    let booked = json!({
        "tracking_number": tracking,
        "label_zpl": format!("^XA^FO50,50^A0N,40^FD{tracking}^FS^FO50,120^A0N,30^FD{} g^FS^XZ", grams),
        "amount": "5.50",
        "currency": body["declared_value"]["currency"],
    });
    books.insert(key.to_string(), booked.clone());
    (StatusCode::CREATED, Json(booked)).into_response()
}

async fn events(headers: HeaderMap, Path(tracking): Path<String>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    Json(json!({"events": [
        {"at": "2024-04-09T16:00:00Z", "code": "label_created", "description": format!("Label {tracking} created"), "location": "Oakland"},
        {"at": "2024-04-09T19:30:00Z", "code": "picked_up", "description": "Picked up", "location": "Oakland"},
        {"at": "2024-04-10T07:10:00Z", "code": "out_for_delivery", "description": "Out for delivery", "location": "San Francisco"}
    ]}))
    .into_response()
}

async fn cancel(headers: HeaderMap, Path(_tracking): Path<String>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn voucher(State(b): State<Books>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return error(StatusCode::BAD_REQUEST, "Idempotency-Key is required");
    };
    // The ERP refuses unbalanced vouchers too (decimal strings compared as minor units).
    let cents = |v: &Value| -> Option<i64> {
        let (i, f) = v.as_str()?.split_once('.')?;
        Some(i.parse::<i64>().ok()? * 100 + f.parse::<i64>().ok()?)
    };
    let Some(lines) = body["lines"].as_array() else {
        return error(StatusCode::BAD_REQUEST, "lines are required");
    };
    let (mut debit, mut credit) = (0, 0);
    for l in lines {
        match (cents(&l["debit"]), cents(&l["credit"])) {
            (Some(d), Some(c)) => {
                debit += d;
                credit += c;
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "debit and credit must be decimal strings",
                )
            }
        }
    }
    if debit != credit {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "voucher does not balance");
    }
    let mut books = b.by_key.lock().unwrap();
    if let Some(first) = books.get(key) {
        return (StatusCode::OK, Json(first.clone())).into_response();
    }
    let n = books.len() + 42;
    let created = json!({"id": format!("vch_{n:06}"), "number": format!("GJ-2024-{n:04}")});
    books.insert(key.to_string(), created.clone());
    (StatusCode::CREATED, Json(created)).into_response()
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A running example carrier.
pub async fn start_carrier() -> SocketAddr {
    serve(
        Router::new()
            .route("/v1/rates", post(rates))
            .route("/v1/shipments", post(book))
            .route("/v1/shipments/{tracking}", delete(cancel))
            .route("/v1/shipments/{tracking}/events", get(events))
            .with_state(Books::default()),
    )
    .await
}

/// A running example ERP.
pub async fn start_ledger() -> SocketAddr {
    serve(
        Router::new()
            .route("/v1/vouchers", post(voucher))
            .with_state(Books::default()),
    )
    .await
}
