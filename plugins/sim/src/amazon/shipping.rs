//! `POST /orders/v0/orders/{orderId}/shipmentConfirmation` (Orders v0 `confirmShipment`):
//! `marketplaceId` (the order's) and `packageDetail {packageReferenceId (positive
//! digits), carrierCode, carrierName (when `Other`), trackingNumber, shipDate (ISO 8601),
//! orderItems[{orderItemId, quantity}]}`. Answers 204 No Content.
//!
//! - A package reference already confirmed on the order is updated in place (the same
//!   tracking number changes nothing; another replaces it), as Amazon's documentation
//!   reads for a repeated `packageReferenceId` (unverified).
//! - A new package adds its quantities to the items' `QuantityShipped`; more than is
//!   unshipped is 400 `InvalidInput`. The order becomes `Shipped` when every item is
//!   shipped, else `PartiallyShipped`; `NumberOfItemsShipped/Unshipped` follow and
//!   `LastUpdateDate` is bumped so the next pull sees it.
//! - `Canceled`, `Pending`, `PendingAvailability`, `Unfulfillable`, `InvoiceUnconfirmed`
//!   orders are 400 `InvalidInput` naming the status; an unknown order is 404 `NotFound`.
//!
//! The operation runs through the same gate (access token, faults, rate limit) as every
//! other route.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{check_order_id, query_map, serve, ApiError};
use super::AmazonSim;

pub(crate) const CONFIRM_SHIPMENT: &str = "confirmShipment";

/// One accepted package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmazonPackage {
    pub order_id: String,
    pub package_reference_id: String,
    pub carrier_code: String,
    pub carrier_name: Option<String>,
    pub tracking_number: String,
    /// (orderItemId, quantity)
    pub items: Vec<(String, i64)>,
}

fn qty(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn confirm(sim: &AmazonSim, id: &str, body: &Bytes) -> Result<(), ApiError> {
    check_order_id(id)?;
    let order = sim
        .order(id)
        .ok_or_else(|| ApiError::not_found(format!("Order {id} not found.")))?;
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
    if doc["marketplaceId"] != order["MarketplaceId"] {
        return Err(ApiError::invalid(format!(
            "marketplaceId {} is not the order's marketplace.",
            doc["marketplaceId"]
        )));
    }
    let p = &doc["packageDetail"];
    let text = |k: &str| p[k].as_str().map(str::trim).unwrap_or("").to_string();
    let reference = text("packageReferenceId");
    if reference.is_empty() || !reference.bytes().all(|b| b.is_ascii_digit()) || reference == "0" {
        return Err(ApiError::invalid(
            "packageReferenceId must be a positive number.",
        ));
    }
    let (carrier, tracking) = (text("carrierCode"), text("trackingNumber"));
    if carrier.is_empty() || tracking.is_empty() {
        return Err(ApiError::invalid(
            "carrierCode and trackingNumber are required.",
        ));
    }
    if carrier == "Other" && text("carrierName").is_empty() {
        return Err(ApiError::invalid(
            "carrierName is required when carrierCode is Other.",
        ));
    }
    if text("shipDate").is_empty() {
        return Err(ApiError::invalid("shipDate is required."));
    }
    let wanted: Vec<(String, i64)> = p["orderItems"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid("orderItems is required."))?
        .iter()
        .map(|i| {
            (
                i["orderItemId"].as_str().unwrap_or("").to_string(),
                qty(&i["quantity"]),
            )
        })
        .collect();
    let status = order["OrderStatus"].as_str().unwrap_or("");
    if [
        "Canceled",
        "Pending",
        "PendingAvailability",
        "Unfulfillable",
        "InvoiceUnconfirmed",
    ]
    .contains(&status)
    {
        return Err(ApiError::invalid(format!(
            "Order {id} is {status} and cannot be shipped."
        )));
    }
    let package = AmazonPackage {
        order_id: id.to_string(),
        package_reference_id: reference.clone(),
        carrier_code: carrier,
        carrier_name: Some(text("carrierName")).filter(|n| !n.is_empty()),
        tracking_number: tracking,
        items: wanted.clone(),
    };
    {
        let mut st = sim.state();
        if let Some(known) = st
            .packages
            .iter_mut()
            .find(|k| k.order_id == id && k.package_reference_id == reference)
        {
            // An update of a confirmed package: its contents stay, the details follow.
            known.carrier_code = package.carrier_code;
            known.carrier_name = package.carrier_name;
            known.tracking_number = package.tracking_number;
            return Ok(());
        }
    }
    let items = sim.items(id).unwrap_or_default();
    for (item_id, q) in &wanted {
        let item = items
            .iter()
            .find(|i| i["OrderItemId"] == *item_id)
            .ok_or_else(|| ApiError::invalid(format!("Invalid orderItemId: {item_id}")))?;
        let left = qty(&item["QuantityOrdered"]) - qty(&item["QuantityShipped"]);
        if *q < 1 || *q > left {
            return Err(ApiError::invalid(format!(
                "The quantity {q} of orderItemId {item_id} exceeds its unshipped quantity {left}."
            )));
        }
    }
    sim.update_order(id, |o, items| {
        for (item_id, q) in &wanted {
            if let Some(i) = items.iter_mut().find(|i| i["OrderItemId"] == *item_id) {
                i["QuantityShipped"] = json!(qty(&i["QuantityShipped"]) + q);
            }
        }
        let shipped: i64 = items.iter().map(|i| qty(&i["QuantityShipped"])).sum();
        let ordered: i64 = items.iter().map(|i| qty(&i["QuantityOrdered"])).sum();
        o["NumberOfItemsShipped"] = json!(shipped);
        o["NumberOfItemsUnshipped"] = json!(ordered - shipped);
        o["OrderStatus"] = json!(if shipped >= ordered {
            "Shipped"
        } else {
            "PartiallyShipped"
        });
    });
    sim.state().packages.push(package);
    Ok(())
}

/// The route handler: the shared gate, then [`confirm`]; 204 on success.
pub(crate) async fn shipment_confirmation(
    State(sim): State<AmazonSim>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = query_map(raw.as_deref());
    let path = format!("/orders/v0/orders/{id}/shipmentConfirmation");
    let mut r = serve(&sim, CONFIRM_SHIPMENT, path, &q, &headers, |sim| {
        confirm(sim, &id, &body).map(|()| Value::Null)
    });
    if r.status() == StatusCode::OK {
        *r.status_mut() = StatusCode::NO_CONTENT;
        *r.body_mut() = Body::empty();
        r.headers_mut().remove("content-type");
    }
    r
}

impl AmazonSim {
    /// The packages confirmed so far, oldest first (updates change them in place).
    pub fn packages(&self) -> Vec<AmazonPackage> {
        self.state().packages.clone()
    }
}
