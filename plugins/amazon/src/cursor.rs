//! The plugin-owned pull cursor. Pure.
//!
//! A pull reads `LastUpdateDate` windows `[after, before]` (both ends inclusive, as
//! Amazon documents `LastUpdatedAfter` / `LastUpdatedBefore`). A window's `before` is
//! pinned when it opens, at the *horizon*: now − [`LAG_MS`] (two minutes, Amazon's own
//! data lag and the latest `LastUpdatedBefore` it accepts) rounded down to the second.
//! The next window starts at the previous one's `before`, so there is never a gap; an
//! order updated exactly on that second is read twice and deduplicated by the host.
//!
//! Inside a window `getOrders` pages by `NextToken`, ascending by `LastUpdateDate`. An
//! order updated while its window is paged gets a `LastUpdateDate` after `before` and so
//! leaves the window (it is read again, at its new version, by a later window); the
//! pinned filter keeps every other order where it was. The cursor also remembers the
//! *mark* — the `LastUpdateDate` of the last order delivered — and the ids delivered at
//! that second (`seen`). Because the listing is ascending, every order of the window
//! before the mark has been delivered, so whenever the `NextToken` cannot be used (it
//! expired, or a page was only partly delivered because its items were rate-limited)
//! the window is re-queried from the mark (`LastUpdatedAfter = mark`), skipping the
//! `seen` ids. The cursor thus never moves past an order not yet delivered.
//!
//! Shapes (JSON, opaque to the host; times are Unix ms on whole seconds):
//! - between windows: `{"after": A}`: the next window starts at `A`;
//! - paging: `{"after": A, "before": B, "next": "…", "mark": M, "seen": ["…"]}`: `A`
//!   and `B` are the filter the `next` token belongs to; without `next` the next call
//!   re-queries `[M, B]` (or `[A, B]` before any order was delivered).

use serde::{Deserialize, Serialize};
use wharf_sdk::types::ConnectorError;

/// How far behind now a window must end: Amazon refuses a `LastUpdatedBefore` later
/// than two minutes ago, and its order data lags about that much.
pub const LAG_MS: i64 = 120_000;
const DAY_MS: i64 = 86_400_000;

fn floor_sec(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// The latest instant a window may end at: now − two minutes, on a whole second.
pub fn horizon(now_ms: i64) -> i64 {
    floor_sec(now_ms - LAG_MS)
}

/// Where the first pull starts: now − `lookback_days`, on a whole second.
pub fn initial_after(now_ms: i64, lookback_days: u32) -> i64 {
    floor_sec(now_ms - i64::from(lookback_days) * DAY_MS)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// `LastUpdatedAfter` of the current (or next) query.
    pub after: i64,
    /// `LastUpdatedBefore` of the window being paged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// The `NextToken` continuing the query `[after, before]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// `LastUpdateDate` of the last order delivered in this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<i64>,
    /// Order ids delivered whose `LastUpdateDate` is the mark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

impl Cursor {
    /// Between windows: the next one starts at `after`.
    pub fn at(after: i64) -> Cursor {
        Cursor {
            after,
            before: None,
            next: None,
            mark: None,
            seen: Vec::new(),
        }
    }

    /// Open the window `[after, before]`.
    pub fn window(after: i64, before: i64) -> Cursor {
        Cursor {
            before: Some(before),
            ..Cursor::at(after)
        }
    }

    /// Drop the `NextToken` and re-query from the mark (if any order was delivered).
    pub fn resume_from_mark(&mut self) {
        self.next = None;
        if let Some(m) = self.mark {
            self.after = m;
        }
    }

    /// Was this order (id, `LastUpdateDate`) delivered already in this window?
    pub fn delivered(&self, id: &str, updated: i64) -> bool {
        self.mark == Some(updated) && self.seen.iter().any(|s| s == id)
    }

    /// Record an order as delivered. The mark only moves forward.
    pub fn record(&mut self, id: &str, updated: i64) {
        match self.mark {
            Some(m) if updated < m => {}
            Some(m) if updated == m => {
                if !self.seen.iter().any(|s| s == id) {
                    self.seen.push(id.to_string());
                }
            }
            _ => {
                self.mark = Some(updated);
                self.seen = vec![id.to_string()];
            }
        }
    }

    /// Decode a stored cursor. Anything but a cursor this plugin wrote is `invalid-input`.
    pub fn decode(raw: &str) -> Result<Cursor, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let whole = |t: i64| t > 0 && t % 1000 == 0;
        if !whole(c.after) {
            return Err(bad("after must be a positive whole second".into()));
        }
        match c.before {
            None if c.next.is_some() || c.mark.is_some() || !c.seen.is_empty() => {
                return Err(bad("next, mark and seen need a window (before)".into()))
            }
            None => {}
            Some(b) if !whole(b) || b < c.after => {
                return Err(bad("before must be a whole second, not before after".into()))
            }
            Some(b) => {
                if let Some(m) = c.mark {
                    if !whole(m) || m > b {
                        return Err(bad("mark must be a whole second inside the window".into()));
                    }
                } else if !c.seen.is_empty() {
                    return Err(bad("seen needs a mark".into()));
                }
                if c.next
                    .as_deref()
                    .is_some_and(|n| n.is_empty() || n.len() > 4096)
                {
                    return Err(bad("next must be a NextToken".into()));
                }
            }
        }
        Ok(c)
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-04-10T00:00:00Z
    const NOW: i64 = 1_712_707_200_000;

    // Both shapes round-trip; the idle shape carries only `after`.
    #[test]
    fn round_trips() {
        let c = Cursor::at(NOW - 3_600_000);
        assert_eq!(c.encode(), format!("{{\"after\":{}}}", NOW - 3_600_000));
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let mut p = Cursor::window(NOW - 3_600_000, NOW - 120_000);
        p.next = Some("Y3Vyc29y".into());
        p.record("302-1-1", NOW - 1_800_000);
        assert_eq!(Cursor::decode(&p.encode()).unwrap(), p);
    }

    // Garbage, partial or inconsistent shapes are invalid-input.
    #[test]
    fn garbage_is_invalid_input() {
        let a = NOW - 3_600_000;
        for raw in [
            "".to_string(),
            "not json".into(),
            "{}".into(),
            format!(r#"{{"after": {}}}"#, a + 1),
            format!(r#"{{"after": {a}, "extra": 1}}"#),
            format!(r#"{{"after": {a}, "next": "t"}}"#),
            format!(r#"{{"after": {a}, "mark": {a}}}"#),
            format!(r#"{{"after": {a}, "before": {}}}"#, a - 1000),
            format!(
                r#"{{"after": {a}, "before": {}, "mark": {}}}"#,
                a + 1000,
                a + 2000
            ),
            format!(r#"{{"after": {a}, "before": {}, "seen": ["x"]}}"#, a + 1000),
            format!(r#"{{"after": {a}, "before": {}, "next": ""}}"#, a + 1000),
        ] {
            assert!(
                matches!(Cursor::decode(&raw), Err(ConnectorError::InvalidInput(_))),
                "{raw:?} should be refused"
            );
        }
    }

    // The horizon is now − 2 min on a whole second; the look-back starts on a second.
    #[test]
    fn the_horizon_lags_two_minutes() {
        assert_eq!(horizon(NOW + 999), NOW - 120_000);
        assert_eq!(initial_after(NOW + 500, 7), NOW - 7 * DAY_MS);
    }

    // The mark only moves forward; ids at the mark accumulate and are recognised;
    // resuming drops the token and restarts the query at the mark.
    #[test]
    fn the_mark_tracks_delivered_orders() {
        let mut c = Cursor::window(NOW - 10_000, NOW);
        c.next = Some("t".into());
        c.resume_from_mark();
        assert_eq!(
            (c.after, c.next.as_deref()),
            (NOW - 10_000, None),
            "no mark yet"
        );
        c.record("a", NOW - 5000);
        c.record("b", NOW - 5000);
        c.record("z", NOW - 6000);
        assert_eq!(
            (c.mark, c.seen.clone()),
            (Some(NOW - 5000), vec!["a".to_string(), "b".into()])
        );
        assert!(
            c.delivered("a", NOW - 5000)
                && !c.delivered("a", NOW - 4000)
                && !c.delivered("c", NOW - 5000)
        );
        c.record("c", NOW - 4000);
        assert_eq!(
            (c.mark, c.seen.clone()),
            (Some(NOW - 4000), vec!["c".to_string()])
        );
        c.next = Some("t".into());
        c.resume_from_mark();
        assert_eq!(
            (c.after, c.before, c.next.as_deref()),
            (NOW - 4000, Some(NOW), None)
        );
    }
}
