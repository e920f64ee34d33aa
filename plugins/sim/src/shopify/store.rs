//! The shop's orders and the query engine behind `orders.json` and `count.json`:
//! filters, ordering and keyset pages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time;
use crate::SimError;

/// One stored order with its sort keys parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub json: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Stored {
    pub(crate) fn from_json(json: Value) -> Result<(u64, Stored), SimError> {
        let id = json
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| SimError::InvalidOrder("`id` must be a positive integer".into()))?;
        let ts = |field: &str| {
            json.get(field)
                .and_then(Value::as_str)
                .and_then(time::parse)
                .ok_or_else(|| {
                    SimError::InvalidOrder(format!("order {id}: `{field}` must be RFC 3339"))
                })
        };
        let (created_ms, updated_ms) = (ts("created_at")?, ts("updated_at")?);
        Ok((
            id,
            Stored {
                json,
                created_ms,
                updated_ms,
            },
        ))
    }
}

/// Which orders `status=` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StatusFilter {
    Open,
    Closed,
    Cancelled,
    Any,
}

impl StatusFilter {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "closed" => Self::Closed,
            "cancelled" => Self::Cancelled,
            "any" => Self::Any,
            _ => return None,
        })
    }

    fn matches(self, o: &Value) -> bool {
        let set = |k: &str| o.get(k).is_some_and(|v| !v.is_null());
        match self {
            Self::Any => true,
            Self::Cancelled => set("cancelled_at"),
            Self::Closed => set("closed_at"),
            Self::Open => !set("cancelled_at") && !set("closed_at"),
        }
    }
}

/// Filters of a listing; carried inside `page_info` tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Filters {
    pub status: StatusFilter,
    pub created_min: Option<i64>,
    pub created_max: Option<i64>,
    pub updated_min: Option<i64>,
    pub updated_max: Option<i64>,
    pub since_id: Option<u64>,
    pub financial_status: Option<String>,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            status: StatusFilter::Open,
            created_min: None,
            created_max: None,
            updated_min: None,
            updated_max: None,
            since_id: None,
            financial_status: None,
        }
    }
}

impl Filters {
    fn matches(&self, id: u64, o: &Stored) -> bool {
        let within = |v: i64, min: Option<i64>, max: Option<i64>| {
            min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
        };
        self.status.matches(&o.json)
            && within(o.created_ms, self.created_min, self.created_max)
            && within(o.updated_ms, self.updated_min, self.updated_max)
            && self.since_id.is_none_or(|s| id > s)
            && self.financial_status.as_deref().is_none_or(|f| {
                f == "any" || o.json.get("financial_status").and_then(Value::as_str) == Some(f)
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SortField {
    UpdatedAt,
    CreatedAt,
    Id,
}

/// `order=` of a listing: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sort {
    pub field: SortField,
    pub desc: bool,
}

impl Sort {
    /// `updated_at asc`, `created_at DESC`, `id desc` …
    pub(crate) fn parse(s: &str) -> Option<Sort> {
        let mut it = s.split_whitespace();
        let field = match it.next()? {
            "updated_at" => SortField::UpdatedAt,
            "created_at" | "processed_at" => SortField::CreatedAt,
            "id" => SortField::Id,
            _ => return None,
        };
        let desc = match it.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            _ => return None,
        };
        it.next().is_none().then_some(Sort { field, desc })
    }

    /// The keyset position of an order: (time or 0, id), compared in ascending order.
    fn key(&self, id: u64, o: &Stored) -> Key {
        let t = match self.field {
            SortField::UpdatedAt => o.updated_ms,
            SortField::CreatedAt => o.created_ms,
            SortField::Id => 0,
        };
        (t, id)
    }
}

/// Keyset position: (sort time, id).
pub(crate) type Key = (i64, u64);

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Position {
    /// The first page.
    First,
    /// The page after the order at this key (a `rel="next"` link).
    After(Key),
    /// The page before the order at this key (a `rel="previous"` link).
    Before(Key),
}

/// One page of a listing and the keys its links continue from.
#[derive(Debug)]
pub(crate) struct Listed {
    pub orders: Vec<Value>,
    /// Key of the last order, when more orders follow it.
    pub next: Option<Key>,
    /// Key of the first order, when orders precede it.
    pub previous: Option<Key>,
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

    pub(crate) fn ids(&self) -> Vec<u64> {
        self.orders.keys().copied().collect()
    }

    pub(crate) fn count(&self, f: &Filters) -> usize {
        self.orders
            .iter()
            .filter(|(id, o)| f.matches(**id, o))
            .count()
    }

    /// A page of `limit` orders matching `f` in `sort` order, starting at `from`.
    pub(crate) fn list(&self, f: &Filters, sort: Sort, from: Position, limit: usize) -> Listed {
        let mut seq: Vec<(Key, &Stored)> = self
            .orders
            .iter()
            .filter(|(id, o)| f.matches(**id, o))
            .map(|(id, o)| (sort.key(*id, o), o))
            .collect();
        seq.sort_by_key(|(k, _)| *k);
        if sort.desc {
            seq.reverse();
        }
        // `before(a, b)`: a comes before b in the listing's order.
        let before = |a: &Key, b: &Key| if sort.desc { a > b } else { a < b };
        let (start, end) = match from {
            Position::First => (0, limit.min(seq.len())),
            Position::After(k) => {
                let s = seq
                    .iter()
                    .position(|(x, _)| before(&k, x))
                    .unwrap_or(seq.len());
                (s, (s + limit).min(seq.len()))
            }
            Position::Before(k) => {
                let e = seq
                    .iter()
                    .position(|(x, _)| !before(x, &k))
                    .unwrap_or(seq.len());
                (e.saturating_sub(limit), e)
            }
        };
        let page = &seq[start..end];
        Listed {
            orders: page.iter().map(|(_, o)| o.json.clone()).collect(),
            next: (end < seq.len() && !page.is_empty()).then(|| page[page.len() - 1].0),
            previous: (start > 0 && !page.is_empty()).then(|| page[0].0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(n: u64) -> Store {
        let mut s = Store::default();
        for id in 1..=n {
            // Pairs of orders share an updated_at, to exercise the id tie-break.
            let t = 1_700_000_000_000 + ((id / 2) as i64) * 1000;
            s.upsert(json!({"id": id, "created_at": time::format_offset(t, 0),
                "updated_at": time::format_offset(t, 60), "cancelled_at": null}))
                .unwrap();
        }
        s
    }

    fn ids(l: &Listed) -> Vec<u64> {
        l.orders.iter().map(|o| o["id"].as_u64().unwrap()).collect()
    }

    // Walking next links visits every order once in keyset order; previous walks back.
    #[test]
    fn keyset_pages_forward_and_back() {
        let s = store(7);
        let f = Filters::default();
        let sort = Sort::parse("updated_at asc").unwrap();
        let p1 = s.list(&f, sort, Position::First, 3);
        assert_eq!(ids(&p1), [1, 2, 3]);
        assert!(p1.previous.is_none());
        let p2 = s.list(&f, sort, Position::After(p1.next.unwrap()), 3);
        assert_eq!(ids(&p2), [4, 5, 6]);
        let p3 = s.list(&f, sort, Position::After(p2.next.unwrap()), 3);
        assert_eq!(ids(&p3), [7]);
        assert!(p3.next.is_none());
        let back = s.list(&f, sort, Position::Before(p3.previous.unwrap()), 3);
        assert_eq!(ids(&back), [4, 5, 6]);
        let desc = s.list(
            &f,
            Sort::parse("updated_at DESC").unwrap(),
            Position::First,
            3,
        );
        assert_eq!(ids(&desc), [7, 6, 5]);
    }

    // Unknown sort orders are refused.
    #[test]
    fn sort_parsing() {
        assert!(Sort::parse("updated_at sideways").is_none());
        assert!(Sort::parse("price asc").is_none());
        assert_eq!(Sort::parse("id").unwrap().field, SortField::Id);
    }

    // Orders without a parseable id or timestamps are refused with the reason.
    #[test]
    fn invalid_orders_are_refused() {
        let mut s = Store::default();
        assert!(s.upsert(json!({"id": "x"})).is_err());
        let err = s
            .upsert(json!({"id": 1, "created_at": "2024-04-01T00:00:00Z", "updated_at": "now"}))
            .unwrap_err();
        assert!(err.to_string().contains("updated_at"));
    }
}
