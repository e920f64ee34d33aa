//! Shipping on WooCommerce: core has no tracking field, so the simulator serves the
//! WooCommerce Shipment Tracking extension's REST API next to core's order update.
//!
//! - `GET /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`: the order's
//!   tracking items (`tracking_id`, `tracking_provider`, `tracking_number`,
//!   `date_shipped` as a Unix-seconds string, `tracking_link`).
//! - `POST` the same path with `{tracking_provider, tracking_number, date_shipped}` (or
//!   `custom_tracking_provider`): 201 and the item. A missing number or provider is 400
//!   `woocommerce_shipment_tracking_invalid_param` (the extension's own code name is
//!   unverified), an unknown order 404 `woocommerce_rest_shop_order_invalid_id`.
//! - `PUT`/`POST /wp-json/wc/v3/orders/{id}` with `{"status": …}`: core's order update.
//!   The status must be one of WooCommerce's; `completed` sets `date_completed(_gmt)`;
//!   `date_modified` is bumped so the next pull sees the change. A status change out of
//!   `cancelled`, `refunded`, `failed` or `trash` is refused (409
//!   `woocommerce_rest_invalid_status_transition`; core itself would allow it, a
//!   simulator rule so a cancelled order cannot be shipped by mistake).
//!
//! Both go through the same gate (faults, OAuth 1.0a / Basic authentication) as every
//! other route.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::api::{gate, WooError};
use super::{generate, WooSim};
use crate::time;

/// WooCommerce's order statuses.
const STATUSES: [&str; 8] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
];

fn invalid_id() -> WooError {
    WooError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

fn order_id(sim: &WooSim, id: &str) -> Result<u64, WooError> {
    id.parse::<u64>()
        .ok()
        .filter(|id| sim.order(*id).is_some())
        .ok_or_else(invalid_id)
}

/// The gate, then the order id of the path (404 when unknown).
#[allow(clippy::result_large_err)]
fn admit(
    sim: &WooSim,
    method: &Method,
    uri: &Uri,
    query: Option<&str>,
    headers: &HeaderMap,
    id: &str,
) -> Result<u64, Response> {
    gate(sim, method, uri, query, headers)?;
    order_id(sim, id).map_err(IntoResponse::into_response)
}

fn json_body(body: &Bytes) -> Result<Value, WooError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| WooError::new(400, "rest_invalid_json", "Invalid JSON body passed."))
}

pub(crate) async fn trackings(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match admit(&sim, &method, &uri, query.as_deref(), &headers, &id) {
        Ok(id) => id,
        Err(resp) => return resp,
    };
    if method == Method::GET {
        let items = sim.state().trackings.get(&id).cloned().unwrap_or_default();
        return Json(Value::Array(items)).into_response();
    }
    let b = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let field = |k: &str| {
        b.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
    };
    let number = field("tracking_number");
    let provider = match field("tracking_provider") {
        "" => field("custom_tracking_provider"),
        p => p,
    };
    if number.is_empty() || provider.is_empty() {
        return WooError::new(
            400,
            "woocommerce_shipment_tracking_invalid_param",
            "tracking_number and tracking_provider (or custom_tracking_provider) are required.",
        )
        .into_response();
    }
    let shipped = match b.get("date_shipped") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => (time::now_ms() / 1000).to_string(),
    };
    let mut st = sim.state();
    let items = st.trackings.entry(id).or_default();
    let item = json!({
        "tracking_id": format!("{id:x}{:04x}", items.len() + 1),
        "tracking_provider": provider,
        "custom_tracking_provider": field("custom_tracking_provider"),
        "tracking_number": number,
        "date_shipped": shipped,
        "tracking_link": "",
    });
    items.push(item.clone());
    (StatusCode::CREATED, Json(item)).into_response()
}

pub(crate) async fn update_order(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match admit(&sim, &method, &uri, query.as_deref(), &headers, &id) {
        Ok(id) => id,
        Err(resp) => return resp,
    };
    let b = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let current = sim.order(id).expect("checked above");
    let from = current["status"].as_str().unwrap_or("").to_string();
    if let Some(to) = b.get("status") {
        let Some(to) = to.as_str().filter(|s| STATUSES.contains(s)) else {
            return WooError::new(400, "rest_invalid_param", "Invalid parameter(s): status")
                .into_response();
        };
        if to != from && matches!(from.as_str(), "cancelled" | "refunded" | "failed" | "trash") {
            return WooError::new(
                409,
                "woocommerce_rest_invalid_status_transition",
                &format!("Order {id} is {from} and cannot become {to}."),
            )
            .into_response();
        }
        let offset = sim.config().utc_offset_minutes;
        let now = time::now_ms();
        let updated = sim.update_order(id, |o| {
            o["status"] = json!(to);
            if to == "completed" {
                o["date_completed_gmt"] = json!(generate::naive(now, 0));
                o["date_completed"] = json!(generate::naive(now, offset));
            }
        });
        return Json(updated.unwrap_or(current)).into_response();
    }
    Json(current).into_response()
}

impl WooSim {
    /// The Shipment Tracking items of an order, oldest first.
    pub fn trackings(&self, id: u64) -> Vec<Value> {
        self.state().trackings.get(&id).cloned().unwrap_or_default()
    }
}
