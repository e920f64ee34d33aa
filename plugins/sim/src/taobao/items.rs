//! The seller's items, their SKUs and quantities, behind `taobao.item.quantity.update`.
//!
//! Items come from the trades the simulator stores (every sub-order's `num_iid`, with its
//! `sku_id` when it has one) or from [`TaobaoSim::add_item`]; each starts with
//! [`INITIAL_QUANTITY`]. Every accepted update is logged ([`TaobaoSim::quantity_updates`])
//! so tests can count pushes and read the last value ([`TaobaoSim::quantity`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::top::{self, TopError};
use super::TaobaoSim;

/// The quantity a listed item (or SKU) has before any update.
pub const INITIAL_QUANTITY: i64 = 100;

/// One `taobao.item.quantity.update` call the gateway accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityUpdate {
    pub num_iid: u64,
    /// The SKU updated; `None` for an item without SKUs.
    pub sku_id: Option<u64>,
    /// `type`: 1 full (set), 2 incremental (add).
    pub update_type: u8,
    /// The `quantity` parameter as sent.
    pub requested: i64,
    /// The quantity after the update.
    pub quantity: i64,
    pub at_ms: i64,
}

#[derive(Debug, Clone)]
struct Sku {
    outer_id: String,
    quantity: i64,
    modified_ms: i64,
}

#[derive(Debug, Clone)]
struct Item {
    outer_id: String,
    /// The item's own quantity; with SKUs, the item's quantity is their sum instead.
    quantity: i64,
    skus: BTreeMap<u64, Sku>,
    modified_ms: i64,
}

impl Item {
    fn total(&self) -> i64 {
        if self.skus.is_empty() {
            self.quantity
        } else {
            self.skus.values().map(|s| s.quantity).sum()
        }
    }
}

/// What an update targets after resolving `sku_id` / `outer_id`.
enum Target {
    Item,
    Sku(u64),
}

/// The items and the log of accepted updates.
#[derive(Debug, Default)]
pub(crate) struct Items {
    items: BTreeMap<u64, Item>,
    updates: Vec<QuantityUpdate>,
}

/// TOP's answer for an unknown `num_iid`.
fn item_not_exist(num_iid: u64) -> TopError {
    TopError::new(15, "Remote service error").sub(
        "isv.item-not-exist",
        format!("商品不存在 (num_iid {num_iid})"),
    )
}

/// TOP's answer for a SKU that is not one of the item's.
fn sku_not_exist(num_iid: u64, sku: &str) -> TopError {
    TopError::new(15, "Remote service error").sub(
        "isv.item-is-delete:invalid-numIid-or-skuId",
        format!("商品或SKU不存在 (num_iid {num_iid}, sku {sku})"),
    )
}

impl Items {
    /// List `num_iid` (and its `sku_id`) if not listed yet; a listed one keeps its
    /// quantity.
    pub(crate) fn add(&mut self, num_iid: u64, sku_id: Option<u64>, outer_id: &str, now: i64) {
        let item = self.items.entry(num_iid).or_insert_with(|| Item {
            outer_id: if sku_id.is_none() {
                outer_id.to_string()
            } else {
                String::new()
            },
            quantity: INITIAL_QUANTITY,
            skus: BTreeMap::new(),
            modified_ms: now,
        });
        if let Some(sku) = sku_id {
            item.skus.entry(sku).or_insert_with(|| Sku {
                outer_id: outer_id.to_string(),
                quantity: INITIAL_QUANTITY,
                modified_ms: now,
            });
        }
    }

    /// List the items of a trade's sub-orders (`orders.order[]`).
    pub(crate) fn add_from_trade(&mut self, trade: &Value, now: i64) {
        let Some(orders) = trade["orders"]["order"].as_array() else {
            return;
        };
        for o in orders {
            let Some(num_iid) = o["num_iid"].as_u64() else {
                continue;
            };
            let sku_id = match &o["sku_id"] {
                Value::String(s) => s.parse::<u64>().ok(),
                v => v.as_u64(),
            };
            let outer = if sku_id.is_some() {
                o["outer_sku_id"].as_str()
            } else {
                o["outer_iid"].as_str()
            };
            self.add(num_iid, sku_id, outer.unwrap_or(""), now);
        }
    }

    /// The quantity of an item without SKUs (`sku_id` none) or of one SKU.
    pub(crate) fn quantity(&self, num_iid: u64, sku_id: Option<u64>) -> Option<i64> {
        let item = self.items.get(&num_iid)?;
        match sku_id {
            None if item.skus.is_empty() => Some(item.quantity),
            None => None,
            Some(sku) => item.skus.get(&sku).map(|s| s.quantity),
        }
    }

    pub(crate) fn updates(&self) -> &[QuantityUpdate] {
        &self.updates
    }

    /// Apply one update (parameters already parsed) and answer the
    /// `item_quantity_update_response.item` object.
    pub(crate) fn update(
        &mut self,
        num_iid: u64,
        sku_id: Option<u64>,
        outer_id: Option<&str>,
        quantity: i64,
        update_type: u8,
        now: i64,
    ) -> Result<Value, TopError> {
        let item = self
            .items
            .get_mut(&num_iid)
            .ok_or_else(|| item_not_exist(num_iid))?;
        let target = match (sku_id, outer_id) {
            (Some(sku), _) if item.skus.contains_key(&sku) => Target::Sku(sku),
            (Some(sku), _) => return Err(sku_not_exist(num_iid, &sku.to_string())),
            (None, Some(outer)) => match item.skus.iter().find(|(_, s)| s.outer_id == outer) {
                Some((sku, _)) => Target::Sku(*sku),
                None if item.skus.is_empty() && item.outer_id == outer => Target::Item,
                None => return Err(sku_not_exist(num_iid, outer)),
            },
            (None, None) if item.skus.is_empty() => Target::Item,
            (None, None) => {
                return Err(TopError::invalid_parameter(format!(
                    "item {num_iid} has SKUs: sku_id or outer_id is required"
                )))
            }
        };
        let slot = match target {
            Target::Item => &mut item.quantity,
            Target::Sku(sku) => &mut item.skus.get_mut(&sku).expect("resolved above").quantity,
        };
        let new = if update_type == 1 {
            quantity
        } else {
            *slot + quantity
        };
        if new < 0 {
            return Err(TopError::invalid_parameter(format!(
                "the quantity would become {new}; it must not be negative"
            )));
        }
        *slot = new;
        item.modified_ms = now;
        let mut body = json!({
            "num_iid": num_iid,
            "quantity": item.total(),
            "modified": top::format_time(now),
        });
        let sku_id = match target {
            Target::Item => None,
            Target::Sku(sku) => {
                let s = item.skus.get_mut(&sku).expect("resolved above");
                s.modified_ms = now;
                body["skus"] = json!({"sku": [{
                    "sku_id": sku,
                    "quantity": s.quantity,
                    "modified": top::format_time(now),
                }]});
                Some(sku)
            }
        };
        self.updates.push(QuantityUpdate {
            num_iid,
            sku_id,
            update_type,
            requested: quantity,
            quantity: new,
            at_ms: now,
        });
        Ok(body)
    }
}

impl TaobaoSim {
    /// List an item for `taobao.item.quantity.update`: `sku_id` one of its SKUs (an item
    /// listed with SKUs needs one to be updated), `outer_id` the merchant code of the SKU
    /// (or of the item, without SKUs). Starts at [`INITIAL_QUANTITY`]; listing it again
    /// keeps its quantity.
    pub fn add_item(&self, num_iid: u64, sku_id: Option<u64>, outer_id: &str) {
        let now = crate::time::now_ms();
        self.state().items.add(num_iid, sku_id, outer_id, now);
    }

    /// The quantity of an item without SKUs (`sku_id` none) or of one of its SKUs; `None`
    /// when not listed.
    pub fn quantity(&self, num_iid: u64, sku_id: Option<u64>) -> Option<i64> {
        self.state().items.quantity(num_iid, sku_id)
    }

    /// Every accepted `taobao.item.quantity.update`, oldest first.
    pub fn quantity_updates(&self) -> Vec<QuantityUpdate> {
        self.state().items.updates().to_vec()
    }
}
