//! The shop's orders by `order_sn`, and the increment listing behind
//! `pdd.order.number.list.increment.get`: orders whose `updated_at` lies in
//! `[start, end]` (Unix seconds, both inclusive), newest first (ties by `order_sn`,
//! descending), filtered by order and refund status, one page at a time.

use std::collections::BTreeMap;

use serde_json::Value;

use super::parse_time;
use crate::SimError;

/// One stored order with its sort key parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    /// `updated_at`, Unix seconds.
    pub updated_s: i64,
}

/// The filters and page of one listing request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query {
    pub start: i64,
    pub end: i64,
    /// 1, 2, 3, or 5 for all.
    pub order_status: i64,
    /// 1, 2, 3, 4, or 5 for all.
    pub refund_status: i64,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug)]
pub(crate) struct Listed {
    pub total: usize,
    pub orders: Vec<Value>,
    pub has_next: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: BTreeMap<String, Stored>,
}

fn int(json: &Value, field: &str) -> i64 {
    json.get(field).and_then(Value::as_i64).unwrap_or(-1)
}

impl Store {
    /// Insert or replace by `order_sn`. The order needs a string `order_sn`, an
    /// `updated_at` in China time and integer `order_status` / `refund_status`.
    pub(crate) fn upsert(&mut self, json: Value) -> Result<String, SimError> {
        let sn = json
            .get("order_sn")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SimError::InvalidOrder("`order_sn` must be a string".into()))?
            .to_string();
        let updated_ms = json
            .get("updated_at")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .ok_or_else(|| {
                SimError::InvalidOrder(format!(
                    "order {sn}: `updated_at` must be YYYY-MM-DD HH:MM:SS"
                ))
            })?;
        for field in ["order_status", "refund_status"] {
            if int(&json, field) < 1 {
                return Err(SimError::InvalidOrder(format!(
                    "order {sn}: `{field}` must be a positive integer"
                )));
            }
        }
        self.orders.insert(
            sn.clone(),
            Stored {
                json,
                updated_s: updated_ms.div_euclid(1000),
            },
        );
        Ok(sn)
    }

    pub(crate) fn get(&self, sn: &str) -> Option<&Stored> {
        self.orders.get(sn)
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.orders.values().map(|o| o.json.clone()).collect()
    }

    pub(crate) fn list(&self, q: &Query) -> Listed {
        let mut hits: Vec<(&String, &Stored)> = self
            .orders
            .iter()
            .filter(|(_, o)| {
                (q.start..=q.end).contains(&o.updated_s)
                    && (q.order_status == 5 || int(&o.json, "order_status") == q.order_status)
                    && (q.refund_status == 5 || int(&o.json, "refund_status") == q.refund_status)
            })
            .collect();
        hits.sort_by(|a, b| (b.1.updated_s, b.0).cmp(&(a.1.updated_s, a.0)));
        let size = q.page_size as usize;
        let start = (q.page as usize - 1).saturating_mul(size);
        let orders: Vec<Value> = hits
            .iter()
            .skip(start)
            .take(size)
            .map(|(_, o)| o.json.clone())
            .collect();
        Listed {
            total: hits.len(),
            has_next: start.saturating_add(size) < hits.len(),
            orders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinduoduo::format_time;
    use serde_json::json;

    const T0: i64 = 1_712_000_000;

    fn store() -> Store {
        let mut s = Store::default();
        for i in 0..7i64 {
            // Orders 2i and 2i+1 share a second, to exercise the tie-break.
            let t = (T0 + i / 2 * 60) * 1000;
            s.upsert(
                json!({"order_sn": format!("240401-{i}"), "order_status": 1 + i % 3,
                "refund_status": 1, "updated_at": format_time(t)}),
            )
            .unwrap();
        }
        s
    }

    fn sns(l: &Listed) -> Vec<String> {
        l.orders
            .iter()
            .map(|o| o["order_sn"].as_str().unwrap().to_string())
            .collect()
    }

    fn q(start: i64, end: i64, page: u32, page_size: u32) -> Query {
        Query {
            start,
            end,
            order_status: 5,
            refund_status: 5,
            page,
            page_size,
        }
    }

    // Listing is newest first, ties by order_sn descending; pages slice that sequence.
    #[test]
    fn newest_first_pages() {
        let s = store();
        let p1 = s.list(&q(T0, T0 + 3600, 1, 3));
        assert_eq!(sns(&p1), ["240401-6", "240401-5", "240401-4"]);
        assert_eq!((p1.total, p1.has_next), (7, true));
        let p3 = s.list(&q(T0, T0 + 3600, 3, 3));
        assert_eq!(sns(&p3), ["240401-0"]);
        assert!(!p3.has_next);
        assert!(s.list(&q(T0, T0 + 3600, 4, 3)).orders.is_empty());
    }

    // Both window bounds are inclusive; the status filter selects exactly.
    #[test]
    fn window_bounds_and_filters() {
        let s = store();
        assert_eq!(
            sns(&s.list(&q(T0 + 60, T0 + 120, 1, 10))),
            ["240401-5", "240401-4", "240401-3", "240401-2"]
        );
        let mut only_shipped = q(T0, T0 + 3600, 1, 10);
        only_shipped.order_status = 2;
        assert!(s
            .list(&only_shipped)
            .orders
            .iter()
            .all(|o| o["order_status"] == 2));
        assert_eq!(s.list(&only_shipped).total, 2);
    }

    // Orders without an order_sn or a China-time updated_at are refused with the reason.
    #[test]
    fn invalid_orders_are_refused() {
        let mut s = Store::default();
        assert!(s.upsert(json!({"order_sn": 5})).is_err());
        let e = s
            .upsert(
                json!({"order_sn": "1-1", "order_status": 1, "refund_status": 1,
                           "updated_at": "2024-04-01T10:00:00Z"}),
            )
            .unwrap_err();
        assert!(e.to_string().contains("updated_at"));
    }
}
