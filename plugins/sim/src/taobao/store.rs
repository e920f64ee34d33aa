//! The seller's trades and the listing engine behind `taobao.trades.sold.increment.get`:
//! a modified-time window, newest first, numbered pages.

use std::collections::BTreeMap;

use serde_json::Value;

use super::top;
use crate::SimError;

/// One stored trade with its sort key parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    pub modified_ms: i64,
}

/// A trade's `tid`: TOP sends it as a JSON number (and `tid_str` as text).
pub(crate) fn tid_of(json: &Value) -> Option<u64> {
    json.get("tid").and_then(Value::as_u64).filter(|t| *t > 0)
}

impl Stored {
    pub(crate) fn from_json(json: Value) -> Result<(u64, Stored), SimError> {
        let tid = tid_of(&json)
            .ok_or_else(|| SimError::InvalidOrder("`tid` must be a positive integer".into()))?;
        let modified_ms = json
            .get("modified")
            .and_then(Value::as_str)
            .and_then(top::parse_time)
            .ok_or_else(|| {
                SimError::InvalidOrder(format!(
                    "trade {tid}: `modified` must be \"yyyy-MM-dd HH:mm:ss\""
                ))
            })?;
        Ok((tid, Stored { json, modified_ms }))
    }
}

/// One page of a window listing.
#[derive(Debug)]
pub(crate) struct Listed {
    pub trades: Vec<Value>,
    /// Trades in the whole window (`total_results`).
    pub total: usize,
    /// More trades after this page (`has_next`).
    pub has_next: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    trades: BTreeMap<u64, Stored>,
}

impl Store {
    pub(crate) fn upsert(&mut self, json: Value) -> Result<u64, SimError> {
        let (tid, stored) = Stored::from_json(json)?;
        self.trades.insert(tid, stored);
        Ok(tid)
    }

    pub(crate) fn get(&self, tid: u64) -> Option<&Stored> {
        self.trades.get(&tid)
    }

    pub(crate) fn all(&self) -> Vec<Value> {
        self.trades.values().map(|t| t.json.clone()).collect()
    }

    /// Trades with `start ≤ modified ≤ end` (both ends inclusive, at TOP's one-second
    /// precision), newest `modified` first (ties: larger tid first), page `page_no`
    /// (1-based) of `page_size`.
    pub(crate) fn list(&self, start: i64, end: i64, page_no: usize, page_size: usize) -> Listed {
        let mut hits: Vec<(&u64, &Stored)> = self
            .trades
            .iter()
            .filter(|(_, t)| {
                let sec = t.modified_ms.div_euclid(1000) * 1000;
                start <= sec && sec <= end
            })
            .collect();
        hits.sort_by(|a, b| (b.1.modified_ms, b.0).cmp(&(a.1.modified_ms, a.0)));
        let total = hits.len();
        let from = (page_no - 1).saturating_mul(page_size);
        let trades: Vec<Value> = hits
            .iter()
            .skip(from)
            .take(page_size)
            .map(|(_, t)| t.json.clone())
            .collect();
        Listed {
            has_next: from.saturating_add(page_size) < total,
            trades,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trade(tid: u64, modified: &str) -> Value {
        json!({"tid": tid, "modified": modified})
    }

    // Windows include both ends, list newest first and number pages from 1.
    #[test]
    fn lists_a_window_newest_first() {
        let mut s = Store::default();
        for (tid, m) in [
            (1, "2024-04-01 10:00:00"),
            (2, "2024-04-01 10:30:00"),
            (3, "2024-04-01 11:00:00"),
            (4, "2024-04-01 11:00:00"),
            (5, "2024-04-01 11:00:01"),
        ] {
            s.upsert(trade(tid, m)).unwrap();
        }
        let (a, b) = (
            top::parse_time("2024-04-01 10:00:00").unwrap(),
            top::parse_time("2024-04-01 11:00:00").unwrap(),
        );
        let tids = |l: &Listed| {
            l.trades
                .iter()
                .map(|t| t["tid"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        let p1 = s.list(a, b, 1, 3);
        assert_eq!((tids(&p1), p1.total, p1.has_next), (vec![4, 3, 2], 4, true));
        let p2 = s.list(a, b, 2, 3);
        assert_eq!((tids(&p2), p2.has_next), (vec![1], false));
        assert!(s.list(a, b, 3, 3).trades.is_empty());
    }

    // A trade without a tid or a TOP timestamp is refused.
    #[test]
    fn refuses_malformed_trades() {
        let mut s = Store::default();
        assert!(s
            .upsert(json!({"modified": "2024-04-01 10:00:00"}))
            .is_err());
        assert!(s.upsert(trade(1, "2024-04-01T10:00:00Z")).is_err());
    }
}
