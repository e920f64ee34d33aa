//! Fulfillment orders and fulfillments of the simulated shop (Admin REST 2024-04):
//!
//! - `GET /orders/{id}/fulfillment_orders.json`: one fulfillment order per order, made
//!   on first read from the order's unfulfilled shipping lines (`status: open`);
//! - `POST /fulfillments.json` with `line_items_by_fulfillment_order` and
//!   `tracking_info {number, company}`: 201 with the fulfillment; the fulfillment order
//!   closes when nothing is left, and the order's `fulfillment_status` becomes
//!   `fulfilled` (or `partial`), its line items' too, `fulfillments` lists it, and
//!   `updated_at` moves on. A fulfillment order that is closed or cancelled is refused
//!   with 422 `{"errors": ["Fulfillment order <id> has an unfulfillable status= <s>."]}`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::api::{gate, respond};
use super::ShopifySim;
use crate::{time, SimError};

const FIRST_FO_ID: u64 = 6_100_000_000_001;

#[derive(Debug, Clone)]
struct FoLine {
    id: u64,
    line_item_id: u64,
    quantity: u64,
    remaining: u64,
}

#[derive(Debug, Clone)]
struct FulfillmentOrder {
    id: u64,
    order_id: u64,
    status: String,
    lines: Vec<FoLine>,
}

#[derive(Debug, Default)]
pub(crate) struct Fulfillments {
    by_order: BTreeMap<u64, FulfillmentOrder>,
    created: Vec<Value>,
    next_id: u64,
}

impl FulfillmentOrder {
    fn json(&self, location: u64) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({"id": l.id, "fulfillment_order_id": self.id, "line_item_id": l.line_item_id,
                       "quantity": l.quantity, "fulfillable_quantity": l.remaining})
            })
            .collect();
        let actions = if matches!(self.status.as_str(), "open" | "in_progress") {
            json!(["create_fulfillment", "hold", "move"])
        } else {
            json!([])
        };
        json!({"id": self.id, "order_id": self.order_id, "assigned_location_id": location,
               "request_status": "unsubmitted", "status": self.status,
               "supported_actions": actions, "line_items": lines})
    }
}

impl ShopifySim {
    /// The order's fulfillment order (created on first use), or `None` for an unknown order.
    fn fulfillment_order(&self, order_id: u64) -> Option<FulfillmentOrder> {
        let order = self.order(order_id)?;
        let mut st = self.state();
        let f = &mut st.fulfillment;
        if f.next_id == 0 {
            f.next_id = FIRST_FO_ID;
        }
        if let Some(fo) = f.by_order.get(&order_id) {
            return Some(fo.clone());
        }
        let id = f.next_id;
        f.next_id += 1000;
        let mut lines = Vec::new();
        for (i, li) in order["line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let shipped = li["fulfillment_status"].as_str() == Some("fulfilled");
            let ships = li["requires_shipping"].as_bool().unwrap_or(true);
            let qty = li["quantity"].as_u64().unwrap_or(0);
            if ships && !shipped && qty > 0 {
                lines.push(FoLine {
                    id: id + 1 + i as u64,
                    line_item_id: li["id"].as_u64().unwrap_or(0),
                    quantity: qty,
                    remaining: qty,
                });
            }
        }
        let cancelled = !order["cancelled_at"].is_null();
        let status = if cancelled {
            "cancelled"
        } else if lines.is_empty() {
            "closed"
        } else {
            "open"
        };
        let fo = FulfillmentOrder {
            id,
            order_id,
            status: status.into(),
            lines,
        };
        f.by_order.insert(order_id, fo.clone());
        Some(fo)
    }

    /// The order's fulfillment orders as the API shows them.
    pub fn fulfillment_orders(&self, order_id: u64) -> Vec<Value> {
        let location = self.config().location_id;
        self.fulfillment_order(order_id)
            .map(|fo| vec![fo.json(location)])
            .unwrap_or_default()
    }

    /// Set an order's fulfillment order status (e.g. `cancelled`, `closed`, `on_hold`).
    pub fn set_fulfillment_order_status(&self, order_id: u64, status: &str) -> bool {
        if self.fulfillment_order(order_id).is_none() {
            return false;
        }
        let mut st = self.state();
        match st.fulfillment.by_order.get_mut(&order_id) {
            Some(fo) => {
                fo.status = status.to_string();
                true
            }
            None => false,
        }
    }

    /// Every fulfillment created through the API, in order.
    pub fn fulfillments(&self) -> Vec<Value> {
        self.state().fulfillment.created.clone()
    }
}

fn unfulfillable(id: u64, status: &str) -> SimError {
    SimError::Unprocessable(json!([format!(
        "Fulfillment order {id} has an unfulfillable status= {status}."
    )]))
}

pub(crate) async fn list_fulfillment_orders(
    State(sim): State<ShopifySim>,
    Path((version, order, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, SimError> {
    let limit = gate(&sim, &version, &headers)?;
    if file != "fulfillment_orders.json" {
        return Err(SimError::NotFound);
    }
    let id = order.parse::<u64>().map_err(|_| SimError::NotFound)?;
    sim.order(id).ok_or(SimError::NotFound)?;
    let body = json!({"fulfillment_orders": sim.fulfillment_orders(id)});
    Ok(respond(&sim, &limit, body, None))
}

pub(crate) async fn create_fulfillment(
    State(sim): State<ShopifySim>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, SimError> {
    let limit = gate(&sim, &version, &headers)?;
    let Json(body) = body.map_err(|_| SimError::BadRequest(json!("Bad Request")))?;
    let f = &body["fulfillment"];
    let Some(groups) = f["line_items_by_fulfillment_order"]
        .as_array()
        .filter(|g| !g.is_empty())
    else {
        return Err(SimError::BadRequest(
            json!({"line_items_by_fulfillment_order": ["is required"]}),
        ));
    };
    // Resolve every group against the stored fulfillment orders before changing any.
    let mut plan: Vec<(u64, Vec<(u64, u64)>)> = Vec::new();
    let mut order_id = None;
    {
        let st = sim.state();
        for g in groups {
            let fo_id = g["fulfillment_order_id"].as_u64().ok_or_else(|| {
                SimError::BadRequest(json!({"fulfillment_order_id": ["is required"]}))
            })?;
            let fo = st
                .fulfillment
                .by_order
                .values()
                .find(|fo| fo.id == fo_id)
                .ok_or(SimError::NotFound)?;
            if !matches!(fo.status.as_str(), "open" | "in_progress") {
                return Err(unfulfillable(fo.id, &fo.status));
            }
            if order_id.is_some_and(|o| o != fo.order_id) {
                return Err(SimError::Unprocessable(json!([
                    "All fulfillment orders must belong to the same order."
                ])));
            }
            order_id = Some(fo.order_id);
            let items = match g["fulfillment_order_line_items"].as_array() {
                None => fo.lines.iter().map(|l| (l.id, l.remaining)).collect(),
                Some(items) => {
                    let mut v = Vec::new();
                    for it in items {
                        let (Some(id), Some(q)) = (it["id"].as_u64(), it["quantity"].as_u64())
                        else {
                            return Err(SimError::BadRequest(
                                json!({"fulfillment_order_line_items": ["id and quantity are required"]}),
                            ));
                        };
                        let line = fo.lines.iter().find(|l| l.id == id).ok_or_else(|| {
                            SimError::Unprocessable(json!([format!(
                                "Fulfillment order line item {id} does not belong to fulfillment order {fo_id}."
                            )]))
                        })?;
                        if q == 0 || q > line.remaining {
                            return Err(SimError::Unprocessable(json!([format!(
                                "Invalid quantity {q} for fulfillment order line item {id}: {} left.",
                                line.remaining
                            )])));
                        }
                        v.push((id, q));
                    }
                    v
                }
            };
            plan.push((fo_id, items));
        }
    }
    let order_id = order_id.expect("at least one group");
    let now = time::now_ms();
    let number = f["tracking_info"]["number"].as_str().map(str::to_string);
    let company = f["tracking_info"]["company"].as_str().map(str::to_string);
    let (fulfillment, all_done, shipped_lines) = {
        let mut st = sim.state();
        let fo = st
            .fulfillment
            .by_order
            .get_mut(&order_id)
            .expect("resolved above");
        let mut line_items = Vec::new();
        let mut shipped_lines = Vec::new();
        for (_, items) in &plan {
            for (id, q) in items {
                let line = fo.lines.iter_mut().find(|l| l.id == *id).expect("resolved");
                line.remaining -= q;
                line_items.push(json!({"id": line.line_item_id, "quantity": q}));
                shipped_lines.push(line.line_item_id);
            }
        }
        let all_done = fo.lines.iter().all(|l| l.remaining == 0);
        if all_done {
            fo.status = "closed".into();
        } else {
            fo.status = "in_progress".into();
        }
        let f = &mut st.fulfillment;
        let id = 4_200_000_000 + f.created.len() as u64 + 1;
        let fulfillment = json!({
            "id": id, "order_id": order_id, "status": "success",
            "created_at": time::format_offset(now, sim.config().utc_offset_minutes),
            "tracking_company": company, "tracking_number": number,
            "tracking_numbers": number.iter().collect::<Vec<_>>(),
            "line_items": line_items,
        });
        f.created.push(fulfillment.clone());
        (fulfillment, all_done, shipped_lines)
    };
    let status = if all_done { "fulfilled" } else { "partial" };
    let stored = fulfillment.clone();
    sim.update_order(order_id, move |o| {
        o["fulfillment_status"] = json!(status);
        if let Some(items) = o["line_items"].as_array_mut() {
            for li in items {
                if li["id"]
                    .as_u64()
                    .is_some_and(|id| shipped_lines.contains(&id))
                {
                    li["fulfillment_status"] = json!("fulfilled");
                }
            }
        }
        match o["fulfillments"].as_array_mut() {
            Some(list) => list.push(stored),
            None => o["fulfillments"] = json!([stored]),
        }
    });
    let mut r = respond(&sim, &limit, json!({"fulfillment": fulfillment}), None);
    *r.status_mut() = StatusCode::CREATED;
    Ok(r.into_response())
}
