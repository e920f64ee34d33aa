//! The shop's orders and the listing engine behind `order.searchList`: an update-time
//! window, ordered by `update_time` (newest first unless `order_asc`), 0-based pages;
//! and the last stock set per SKU by `sku.syncStock`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::SimError;

/// One stored order with its sort keys parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    pub update_time: i64,
    pub create_time: i64,
}

/// An order's `order_id` (doudian sends it as a string of digits).
pub(crate) fn order_id_of(json: &Value) -> Option<u64> {
    match json.get("order_id")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

impl Stored {
    pub(crate) fn from_json(json: Value) -> Result<(u64, Stored), SimError> {
        let id = order_id_of(&json).ok_or_else(|| {
            SimError::InvalidOrder("`order_id` must be a positive integer string".into())
        })?;
        let secs = |k: &str| {
            json.get(k).and_then(Value::as_i64).ok_or_else(|| {
                SimError::InvalidOrder(format!("order {id}: `{k}` must be Unix seconds"))
            })
        };
        let (update_time, create_time) = (secs("update_time")?, secs("create_time")?);
        Ok((
            id,
            Stored {
                json,
                update_time,
                create_time,
            },
        ))
    }
}

/// One page of a window listing.
#[derive(Debug)]
pub(crate) struct Listed {
    pub orders: Vec<Value>,
    /// Orders in the whole window.
    pub total: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: BTreeMap<u64, Stored>,
    /// Last `stock_num` set per `sku_id`.
    stock: BTreeMap<u64, i64>,
    /// Merchant code (`code`) → `sku_id`, for SKUs the shop sells.
    codes: BTreeMap<String, u64>,
}

/// Which time a listing filters and orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderBy {
    UpdateTime,
    CreateTime,
}

impl Store {
    pub(crate) fn upsert(&mut self, json: Value) -> Result<u64, SimError> {
        let (id, stored) = Stored::from_json(json)?;
        if let Some(skus) = stored.json.get("sku_order_list").and_then(Value::as_array) {
            for s in skus {
                if let Some(sku) = s.get("sku_id").and_then(Value::as_u64) {
                    self.stock.entry(sku).or_insert(0);
                    if let Some(code) = s.get("code").and_then(Value::as_str) {
                        self.codes.insert(code.to_string(), sku);
                    }
                }
            }
        }
        self.orders.insert(id, stored);
        Ok(id)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Stored> {
        self.orders.get(&id)
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.orders.values().map(|o| o.json.clone()).collect()
    }

    pub(crate) fn add_sku(&mut self, sku_id: u64, code: &str) {
        self.stock.entry(sku_id).or_insert(0);
        if !code.is_empty() {
            self.codes.insert(code.to_string(), sku_id);
        }
    }

    /// The SKU a `sku.syncStock` names, by `sku_id` or merchant `code`.
    pub(crate) fn resolve_sku(&self, sku_id: Option<u64>, code: Option<&str>) -> Option<u64> {
        match (sku_id, code) {
            (Some(id), _) => self.stock.contains_key(&id).then_some(id),
            (None, Some(c)) => self.codes.get(c).copied(),
            (None, None) => None,
        }
    }

    pub(crate) fn set_stock(&mut self, sku_id: u64, n: i64) {
        self.stock.insert(sku_id, n);
    }

    pub(crate) fn stock(&self, sku_id: u64) -> Option<i64> {
        self.stock.get(&sku_id).copied()
    }

    /// Orders with `start ≤ t ≤ end` (Unix seconds, both ends inclusive), ordered by `t`
    /// (ties: by order id the same way), newest first unless `asc`, page `page` (0-based)
    /// of `size`.
    pub(crate) fn list(
        &self,
        by: OrderBy,
        (start, end): (i64, i64),
        asc: bool,
        page: usize,
        size: usize,
    ) -> Listed {
        let key = |o: &Stored| match by {
            OrderBy::UpdateTime => o.update_time,
            OrderBy::CreateTime => o.create_time,
        };
        let mut hits: Vec<(u64, &Stored)> = self
            .orders
            .iter()
            .filter(|(_, o)| (start..=end).contains(&key(o)))
            .map(|(id, o)| (*id, o))
            .collect();
        hits.sort_by_key(|(id, o)| (key(o), *id));
        if !asc {
            hits.reverse();
        }
        let total = hits.len();
        let orders = hits
            .iter()
            .skip(page.saturating_mul(size))
            .take(size)
            .map(|(_, o)| o.json.clone())
            .collect();
        Listed { orders, total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: u64, update: i64) -> Value {
        json!({"order_id": id.to_string(), "update_time": update, "create_time": 1})
    }

    // Windows include both ends, list newest first by default and number pages from 0.
    #[test]
    fn lists_a_window_newest_first() {
        let mut s = Store::default();
        for (id, t) in [(1, 100), (2, 130), (3, 160), (4, 160), (5, 161)] {
            s.upsert(order(id, t)).unwrap();
        }
        let ids = |l: &Listed| {
            l.orders
                .iter()
                .map(|o| order_id_of(o).unwrap())
                .collect::<Vec<_>>()
        };
        let p0 = s.list(OrderBy::UpdateTime, (100, 160), false, 0, 3);
        assert_eq!((ids(&p0), p0.total), (vec![4, 3, 2], 4));
        let p1 = s.list(OrderBy::UpdateTime, (100, 160), false, 1, 3);
        assert_eq!(ids(&p1), vec![1]);
        let asc = s.list(OrderBy::UpdateTime, (100, 160), true, 0, 3);
        assert_eq!(ids(&asc), vec![1, 2, 3]);
        assert!(s
            .list(OrderBy::UpdateTime, (100, 160), false, 2, 3)
            .orders
            .is_empty());
    }

    // An order without an id or Unix-second times is refused.
    #[test]
    fn refuses_malformed_orders() {
        let mut s = Store::default();
        assert!(s
            .upsert(json!({"update_time": 1, "create_time": 1}))
            .is_err());
        assert!(s
            .upsert(json!({"order_id": "7", "update_time": "2024-04-01", "create_time": 1}))
            .is_err());
    }
}
