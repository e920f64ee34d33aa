//! The seller's orders and the listing engine behind `getOrders`: a `LastUpdateDate`
//! range (both ends inclusive), ascending by `LastUpdateDate` (ties by `AmazonOrderId`),
//! continued after a key (what a `NextToken` remembers), plus the token bucket the rate
//! limits are made of.

use std::collections::BTreeMap;

use serde_json::Value;

use super::config::Limit;
use crate::SimError;

/// One stored order with its items and its sort key parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub order: Value,
    pub items: Vec<Value>,
    pub updated_ms: i64,
    pub marketplace: String,
}

/// The position of an order in the listing order.
pub(crate) type Key = (i64, String);

#[derive(Debug, Default)]
pub(crate) struct Store {
    orders: BTreeMap<String, Stored>,
}

/// One page of a listing: the orders, and the key of the last one when more follow.
#[derive(Debug)]
pub(crate) struct Listed {
    pub orders: Vec<Value>,
    pub more_after: Option<Key>,
}

impl Store {
    pub(crate) fn upsert(&mut self, order: Value, items: Vec<Value>) -> Result<String, SimError> {
        let id = order
            .get("AmazonOrderId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SimError::InvalidOrder("`AmazonOrderId` is required".into()))?
            .to_string();
        let updated_ms = order
            .get("LastUpdateDate")
            .and_then(Value::as_str)
            .and_then(crate::time::parse)
            .ok_or_else(|| {
                SimError::InvalidOrder(format!("order {id}: `LastUpdateDate` must be ISO 8601"))
            })?;
        let marketplace = order
            .get("MarketplaceId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SimError::InvalidOrder(format!("order {id}: `MarketplaceId` is required"))
            })?
            .to_string();
        self.orders.insert(
            id.clone(),
            Stored {
                order,
                items,
                updated_ms,
                marketplace,
            },
        );
        Ok(id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Stored> {
        self.orders.get(id)
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.orders.values().map(|s| s.order.clone()).collect()
    }

    /// Orders of `markets` with `after ≤ LastUpdateDate ≤ before`, ascending, strictly
    /// after `from` when given, at most `size`.
    pub(crate) fn list(
        &self,
        markets: &[String],
        (after, before): (i64, i64),
        from: Option<&Key>,
        size: usize,
    ) -> Listed {
        let mut hits: Vec<(Key, &Stored)> = self
            .orders
            .iter()
            .filter(|(_, s)| {
                markets.contains(&s.marketplace) && after <= s.updated_ms && s.updated_ms <= before
            })
            .map(|(id, s)| ((s.updated_ms, id.clone()), s))
            .filter(|(k, _)| from.is_none_or(|f| k > f))
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0));
        let more = hits.len() > size;
        hits.truncate(size);
        Listed {
            more_after: if more {
                hits.last().map(|(k, _)| k.clone())
            } else {
                None
            },
            orders: hits.into_iter().map(|(_, s)| s.order.clone()).collect(),
        }
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl Bucket {
    pub(crate) fn full(limit: Limit, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(limit.burst),
            at_ms: now_ms,
        }
    }

    /// Take one token if there is one.
    pub(crate) fn take(&mut self, limit: Limit, now_ms: i64) -> bool {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * limit.rate).min(f64::from(limit.burst));
        self.at_ms = now_ms;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: &str, at: &str, mkt: &str) -> Value {
        json!({"AmazonOrderId": id, "LastUpdateDate": at, "MarketplaceId": mkt})
    }

    // Listings are ascending by LastUpdateDate then id, inclusive at both ends, filtered
    // by marketplace, and continue strictly after the key of the previous page.
    #[test]
    fn lists_ascending_and_continues_after_a_key() {
        let mut s = Store::default();
        for (id, at) in [
            ("302-0000005-0000000", "2024-04-01T10:00:00Z"),
            ("302-0000004-0000000", "2024-04-01T10:30:00Z"),
            ("302-0000003-0000000", "2024-04-01T11:00:00Z"),
            ("302-0000002-0000000", "2024-04-01T11:00:00Z"),
            ("302-0000001-0000000", "2024-04-01T11:00:01Z"),
        ] {
            s.upsert(order(id, at, "M"), vec![]).unwrap();
        }
        s.upsert(
            order("302-0000009-0000000", "2024-04-01T10:40:00Z", "OTHER"),
            vec![],
        )
        .unwrap();
        let w = (
            crate::time::parse("2024-04-01T10:00:00Z").unwrap(),
            crate::time::parse("2024-04-01T11:00:00Z").unwrap(),
        );
        let ids = |l: &Listed| {
            l.orders
                .iter()
                .map(|o| o["AmazonOrderId"].as_str().unwrap()[4..11].to_string())
                .collect::<Vec<_>>()
        };
        let m = ["M".to_string()];
        let p1 = s.list(&m, w, None, 3);
        assert_eq!(ids(&p1), ["0000005", "0000004", "0000002"]);
        let key = p1.more_after.clone().expect("more follow");
        let p2 = s.list(&m, w, Some(&key), 3);
        assert_eq!(ids(&p2), ["0000003"]);
        assert!(p2.more_after.is_none());
    }

    // A bucket serves its burst at once, then one request per 1/rate seconds.
    #[test]
    fn buckets_refill_at_their_rate() {
        let limit = Limit {
            rate: 0.5,
            burst: 3,
        };
        let mut b = Bucket::full(limit, 0);
        assert!((0..3).all(|_| b.take(limit, 0)));
        assert!(!b.take(limit, 1000));
        assert!(b.take(limit, 2000));
        assert!(!b.take(limit, 2000));
    }

    // An order without id, timestamp or marketplace is refused.
    #[test]
    fn refuses_malformed_orders() {
        let mut s = Store::default();
        assert!(s
            .upsert(json!({"LastUpdateDate": "2024-04-01T10:00:00Z"}), vec![])
            .is_err());
        assert!(s.upsert(order("1", "yesterday", "M"), vec![]).is_err());
        assert!(s
            .upsert(
                json!({"AmazonOrderId": "1", "LastUpdateDate": "2024-04-01T10:00:00Z"}),
                vec![]
            )
            .is_err());
    }
}
