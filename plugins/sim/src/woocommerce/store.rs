//! The store's orders and products, and the listing engine behind `GET /orders`:
//! WordPress-style filters (`modified_after` / `modified_before` / `after` / `before`
//! exclusive, whole seconds), `status`, `include` / `exclude`, `orderby`, `order`, and
//! numbered pages.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{time, SimError};

/// One stored order with its sort keys parsed once (Unix ms, whole seconds).
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    pub modified_ms: i64,
    pub created_ms: i64,
}

/// Parse a naive WooCommerce GMT date (`2024-04-01T10:00:00`).
pub(crate) fn parse_gmt(s: &str) -> Option<i64> {
    time::parse(&format!("{s}Z"))
}

impl Stored {
    fn from_json(json: Value) -> Result<(u64, Stored), SimError> {
        let id = json
            .get("id")
            .and_then(Value::as_u64)
            .filter(|i| *i > 0)
            .ok_or_else(|| SimError::InvalidOrder("`id` must be a positive integer".into()))?;
        let date = |k: &str| {
            json.get(k)
                .and_then(Value::as_str)
                .and_then(parse_gmt)
                .ok_or_else(|| {
                    SimError::InvalidOrder(format!(
                        "order {id}: `{k}` must be \"YYYY-MM-DDTHH:MM:SS\""
                    ))
                })
        };
        let modified_ms = date("date_modified_gmt")?;
        let created_ms = date("date_created_gmt")?;
        Ok((
            id,
            Stored {
                json,
                modified_ms,
                created_ms,
            },
        ))
    }
}

/// `orderby` values WooCommerce accepts for orders.
pub(crate) const ORDERBY: [&str; 6] = ["date", "id", "include", "title", "slug", "modified"];

/// A listing request, validated.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    /// `None` = `any` (every status but trash).
    pub statuses: Option<Vec<String>>,
    pub modified_after: Option<i64>,
    pub modified_before: Option<i64>,
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub include: BTreeSet<u64>,
    pub exclude: BTreeSet<u64>,
    pub orderby: String,
    pub asc: bool,
    pub page: usize,
    pub per_page: usize,
    pub offset: Option<usize>,
}

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Listed {
    pub orders: Vec<Value>,
    /// Orders matching the filters (`X-WP-Total`).
    pub total: usize,
}

/// A product (or variation) stock record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub name: String,
    pub sku: String,
    pub stock: Stock,
    pub variations: BTreeMap<u64, (String, Stock)>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: BTreeMap<u64, Stored>,
    pub products: BTreeMap<u64, Product>,
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

    pub(crate) fn list(&self, q: &Query) -> Listed {
        let sec = |ms: i64| ms.div_euclid(1000) * 1000;
        let mut hits: Vec<(&u64, &Stored)> = self
            .orders
            .iter()
            .filter(|(id, o)| {
                let status = o.json["status"].as_str().unwrap_or("");
                let status_ok = match &q.statuses {
                    None => status != "trash",
                    Some(list) => list.iter().any(|s| s == status),
                };
                let (m, c) = (sec(o.modified_ms), sec(o.created_ms));
                status_ok
                    && q.modified_after.is_none_or(|a| m > a)
                    && q.modified_before.is_none_or(|b| m < b)
                    && q.after.is_none_or(|a| c > a)
                    && q.before.is_none_or(|b| c < b)
                    && (q.include.is_empty() || q.include.contains(id))
                    && !q.exclude.contains(id)
            })
            .collect();
        // MySQL leaves ties of a single ORDER BY column unordered; the simulator breaks
        // `modified` ties against the id order so no client can lean on one.
        hits.sort_by(|a, b| {
            let ord = match q.orderby.as_str() {
                "modified" => a.1.modified_ms.cmp(&b.1.modified_ms).then(b.0.cmp(a.0)),
                "date" => a.1.created_ms.cmp(&b.1.created_ms).then(a.0.cmp(b.0)),
                _ => a.0.cmp(b.0),
            };
            if q.asc {
                ord
            } else {
                ord.reverse()
            }
        });
        let total = hits.len();
        let from = q
            .offset
            .unwrap_or_else(|| (q.page - 1).saturating_mul(q.per_page));
        let orders = hits
            .iter()
            .skip(from)
            .take(q.per_page)
            .map(|(_, o)| o.json.clone())
            .collect();
        Listed { orders, total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: u64, modified: &str, status: &str) -> Value {
        json!({"id": id, "status": status, "date_created_gmt": "2024-04-01T00:00:00",
               "date_modified_gmt": modified})
    }

    fn query() -> Query {
        Query {
            statuses: None,
            modified_after: None,
            modified_before: None,
            after: None,
            before: None,
            include: BTreeSet::new(),
            exclude: BTreeSet::new(),
            orderby: "modified".into(),
            asc: true,
            page: 1,
            per_page: 10,
            offset: None,
        }
    }

    fn ids(l: &Listed) -> Vec<u64> {
        l.orders.iter().map(|o| o["id"].as_u64().unwrap()).collect()
    }

    // modified_after / before are exclusive; any hides trash; exclude drops ids; pages count from 1.
    #[test]
    fn filters_and_pages_like_wordpress() {
        let mut s = Store::default();
        for (id, m, st) in [
            (1, "2024-04-01T10:00:00", "processing"),
            (2, "2024-04-01T10:00:01", "completed"),
            (3, "2024-04-01T10:00:02", "trash"),
            (4, "2024-04-01T10:00:02", "pending"),
            (5, "2024-04-01T10:00:03", "pending"),
        ] {
            s.upsert(order(id, m, st)).unwrap();
        }
        let t = |v: &str| parse_gmt(v).unwrap();
        let mut q = query();
        q.modified_after = Some(t("2024-04-01T10:00:00"));
        q.modified_before = Some(t("2024-04-01T10:00:03"));
        let l = s.list(&q);
        assert_eq!((ids(&l), l.total), (vec![2, 4], 2));
        q.statuses = Some(vec!["trash".into(), "pending".into()]);
        assert_eq!(
            ids(&s.list(&q)),
            [4, 3],
            "ties on modified: against id order"
        );
        let mut q = query();
        q.exclude = [2, 5].into();
        q.per_page = 2;
        q.page = 2;
        let l = s.list(&q);
        assert_eq!((ids(&l), l.total), (vec![], 2));
        q.page = 1;
        q.asc = false;
        assert_eq!(ids(&s.list(&q)), [4, 1]);
    }
}
