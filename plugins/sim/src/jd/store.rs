//! The seller's orders and the listing engine behind `jingdong.pop.order.search`: a time
//! window on modification (or creation) time, a set of order states, newest first by
//! default, numbered pages.

use std::collections::BTreeMap;

use serde_json::Value;

use super::jos;
use crate::SimError;

/// One stored order with its sort keys parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    pub modified_ms: i64,
    pub created_ms: i64,
}

/// An order's `orderId`: JOS sends it as a string of digits (a number is accepted too).
pub(crate) fn order_id_of(json: &Value) -> Option<u64> {
    match json.get("orderId")? {
        Value::String(s) => s.parse::<u64>().ok(),
        v => v.as_u64(),
    }
    .filter(|id| *id > 0)
}

fn time_field(json: &Value, id: u64, key: &str) -> Result<i64, SimError> {
    json.get(key)
        .and_then(Value::as_str)
        .and_then(jos::parse_time)
        .ok_or_else(|| {
            SimError::InvalidOrder(format!(
                "order {id}: `{key}` must be \"yyyy-MM-dd HH:mm:ss\""
            ))
        })
}

impl Stored {
    pub(crate) fn from_json(json: Value) -> Result<(u64, Stored), SimError> {
        let id = order_id_of(&json)
            .ok_or_else(|| SimError::InvalidOrder("`orderId` must be a positive integer".into()))?;
        let modified_ms = time_field(&json, id, "modified")?;
        let created_ms = time_field(&json, id, "orderStartTime")?;
        Ok((
            id,
            Stored {
                json,
                modified_ms,
                created_ms,
            },
        ))
    }

    fn state(&self) -> &str {
        self.json
            .get("orderState")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Which time `start_date` / `end_date` bound (`dateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateType {
    Modified,
    Created,
}

/// A listing query.
#[derive(Debug, Clone)]
pub(crate) struct Query<'a> {
    pub start: i64,
    pub end: i64,
    pub states: &'a [String],
    pub date_type: DateType,
    /// Newest first (`sortType=1`, the default) or oldest first (`sortType=0`).
    pub descending: bool,
    pub page: usize,
    pub page_size: usize,
}

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Listed {
    pub orders: Vec<Value>,
    /// Orders matching the whole query (`orderTotal`).
    pub total: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: BTreeMap<u64, Stored>,
}

impl Store {
    pub(crate) fn upsert(&mut self, json: Value) -> Result<u64, SimError> {
        let (id, stored) = Stored::from_json(json)?;
        self.orders.insert(id, stored);
        Ok(id)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Stored> {
        self.orders.get(&id)
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.orders.values().map(|o| o.json.clone()).collect()
    }

    /// Orders whose chosen time is in `[start, end]` (both inclusive, at one-second
    /// precision) and whose state is listed, sorted by that time (ties: orderId), page
    /// `page` (1-based) of `page_size`.
    pub(crate) fn list(&self, q: &Query<'_>) -> Listed {
        let key = |s: &Stored| match q.date_type {
            DateType::Modified => s.modified_ms,
            DateType::Created => s.created_ms,
        };
        let mut hits: Vec<(&u64, &Stored)> = self
            .orders
            .iter()
            .filter(|(_, o)| {
                let sec = key(o).div_euclid(1000) * 1000;
                q.start <= sec && sec <= q.end && q.states.iter().any(|s| s == o.state())
            })
            .collect();
        hits.sort_by(|a, b| (key(a.1), a.0).cmp(&(key(b.1), b.0)));
        if q.descending {
            hits.reverse();
        }
        let total = hits.len();
        let from = (q.page - 1).saturating_mul(q.page_size);
        let orders = hits
            .iter()
            .skip(from)
            .take(q.page_size)
            .map(|(_, o)| o.json.clone())
            .collect();
        Listed { orders, total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: u64, modified: &str, state: &str) -> Value {
        json!({"orderId": id.to_string(), "modified": modified,
               "orderStartTime": "2024-04-01 09:00:00", "orderState": state})
    }

    // Windows include both ends, filter by state, list newest first and number pages from 1.
    #[test]
    fn lists_a_window_newest_first() {
        let mut s = Store::default();
        for (id, m, st) in [
            (1, "2024-04-01 10:00:00", "WAIT_SELLER_STOCK_OUT"),
            (2, "2024-04-01 10:30:00", "WAIT_SELLER_STOCK_OUT"),
            (3, "2024-04-01 11:00:00", "FINISHED_L"),
            (4, "2024-04-01 11:00:00", "WAIT_SELLER_STOCK_OUT"),
            (5, "2024-04-01 11:00:01", "WAIT_SELLER_STOCK_OUT"),
            (6, "2024-04-01 10:40:00", "LOCKED"),
        ] {
            s.upsert(order(id, m, st)).unwrap();
        }
        let states = vec![
            "WAIT_SELLER_STOCK_OUT".to_string(),
            "FINISHED_L".to_string(),
        ];
        let q = |page, descending| Query {
            start: jos::parse_time("2024-04-01 10:00:00").unwrap(),
            end: jos::parse_time("2024-04-01 11:00:00").unwrap(),
            states: &states,
            date_type: DateType::Modified,
            descending,
            page,
            page_size: 3,
        };
        let ids = |l: &Listed| {
            l.orders
                .iter()
                .map(|o| o["orderId"].as_str().unwrap().parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        };
        let p1 = s.list(&q(1, true));
        assert_eq!((ids(&p1), p1.total), (vec![4, 3, 2], 4));
        assert_eq!(ids(&s.list(&q(2, true))), vec![1]);
        assert!(s.list(&q(3, true)).orders.is_empty());
        assert_eq!(ids(&s.list(&q(1, false))), vec![1, 2, 3]);
    }

    // An order without an id or JOS timestamps is refused.
    #[test]
    fn refuses_malformed_orders() {
        let mut s = Store::default();
        assert!(s
            .upsert(json!({"modified": "2024-04-01 10:00:00"}))
            .is_err());
        assert!(s
            .upsert(order(1, "2024-04-01T10:00:00Z", "LOCKED"))
            .is_err());
    }
}
