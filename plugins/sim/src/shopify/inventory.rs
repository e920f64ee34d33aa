//! Variants and inventory levels: `GET variants/{id}.json` (the variant's
//! `inventory_item_id`) and `POST inventory_levels/set.json` (set `available` of an
//! inventory item at a location), as Shopify's REST Admin API serves them. Every set is
//! logged so tests can count pushes and read the last value.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::api::{gate, respond};
use super::ShopifySim;
use crate::{time, SimError};

/// One `inventory_levels/set.json` call the shop accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventorySet {
    pub inventory_item_id: u64,
    pub location_id: u64,
    pub available: i64,
    pub at_ms: i64,
}

/// The shop's variants, locations and levels.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    /// variant id → (sku, inventory item id)
    variants: BTreeMap<u64, (String, u64)>,
    /// (inventory item id, location id) → available
    levels: BTreeMap<(u64, u64), i64>,
    sets: Vec<InventorySet>,
}

/// Inventory item ids are unrelated to variant ids, as on Shopify.
const FIRST_ITEM_ID: u64 = 42_000_000_001;

impl ShopifySim {
    /// Add a variant with `sku`; returns its inventory item id.
    pub fn add_variant(&self, variant_id: u64, sku: &str) -> u64 {
        let mut st = self.state();
        let item = FIRST_ITEM_ID + st.inventory.variants.len() as u64 * 7;
        st.inventory
            .variants
            .insert(variant_id, (sku.to_string(), item));
        item
    }

    /// The `available` of a variant at the shop's location, if it was ever set.
    pub fn available(&self, variant_id: u64) -> Option<i64> {
        let st = self.state();
        let (_, item) = st.inventory.variants.get(&variant_id)?;
        st.inventory
            .levels
            .get(&(*item, self.config().location_id))
            .copied()
    }

    /// Every accepted `inventory_levels/set.json` call, in order.
    pub fn inventory_sets(&self) -> Vec<InventorySet> {
        self.state().inventory.sets.clone()
    }
}

pub(crate) async fn get_variant(
    State(sim): State<ShopifySim>,
    Path((version, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, SimError> {
    let limit = gate(&sim, &version, &headers)?;
    let id = file
        .strip_suffix(".json")
        .and_then(|i| i.parse::<u64>().ok())
        .ok_or(SimError::NotFound)?;
    let (sku, item) = sim
        .state()
        .inventory
        .variants
        .get(&id)
        .cloned()
        .ok_or(SimError::NotFound)?;
    let body = json!({"variant": {
        "id": id, "sku": sku, "inventory_item_id": item,
        "inventory_management": "shopify", "inventory_policy": "deny",
    }});
    Ok(respond(&sim, &limit, body, None))
}

fn unprocessable(msg: &str) -> SimError {
    SimError::Unprocessable(json!([msg]))
}

pub(crate) async fn set_level(
    State(sim): State<ShopifySim>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, SimError> {
    let limit = gate(&sim, &version, &headers)?;
    let Json(body) = body.map_err(|_| SimError::BadRequest(json!({"errors": "Bad Request"})))?;
    let field = |k: &str| body.get(k).and_then(Value::as_u64);
    let (Some(item), Some(location)) = (field("inventory_item_id"), field("location_id")) else {
        return Err(SimError::BadRequest(
            json!({"errors": {"inventory_item_id": ["is required"], "location_id": ["is required"]}}),
        ));
    };
    let Some(available) = body.get("available").and_then(Value::as_i64) else {
        return Err(SimError::BadRequest(
            json!({"errors": {"available": ["is required"]}}),
        ));
    };
    if location != sim.config().location_id {
        return Err(unprocessable("Location not found"));
    }
    let now = time::now_ms();
    let mut st = sim.state();
    if !st.inventory.variants.values().any(|(_, i)| *i == item) {
        return Err(unprocessable("Inventory item does not exist"));
    }
    st.inventory.levels.insert((item, location), available);
    st.inventory.sets.push(InventorySet {
        inventory_item_id: item,
        location_id: location,
        available,
        at_ms: now,
    });
    drop(st);
    let body = json!({"inventory_level": {
        "inventory_item_id": item, "location_id": location, "available": available,
        "updated_at": time::format_offset(now, sim.config().utc_offset_minutes),
    }});
    Ok(respond(&sim, &limit, body, None))
}
