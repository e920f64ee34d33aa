//! The plugin-owned pull cursor and the window arithmetic. Pure.
//!
//! A pull walks modification-time windows `[start, end]` forward from the look-back, each
//! no longer than `window_minutes` (this plugin refuses windows over 30 days, the span the
//! simulator enforces for `jingdong.pop.order.search`) and never past the *horizon*,
//! now − [`SAFETY_LAG_MS`] rounded down to the second, so a window is closed before it is
//! read. The next window starts at the previous window's `end`: the boundary second
//! belongs to both (`start_date` / `end_date` are whole seconds, both inclusive), so
//! there is never a gap, and an order modified exactly at a boundary is read twice and
//! deduplicated by the host.
//!
//! Inside a window the search lists orders newest-modified first (`sortType=1`). An
//! order modified while the window is being paged leaves the window (its new `modified`
//! is after the horizon) and every older order shifts one place towards page 1. Paging
//! from the LAST page back to page 1 means such a shift only moves an already-read order
//! onto the next page to read (read twice, deduplicated), never an unread one onto a page
//! already read. The order that changed is read again in a later window. Page 1 is
//! always read last; if the window then holds more orders than when paging began (a late
//! arrival), the window is paged again from its new last page.
//!
//! Shapes (JSON, opaque to the host; times are Unix ms on whole seconds):
//! - between windows: `{"start": S}`: the next window starts at `S`;
//! - paging a window: `{"start": S, "end": E, "page": P, "total": T}`: `P` is the next
//!   page to read (counting down to 1), `T` the order count when paging began.

use serde::{Deserialize, Serialize};
use wharf_sdk::types::ConnectorError;

/// How far behind now a window must end: orders still being written are left for the
/// next pull.
pub const SAFETY_LAG_MS: i64 = 60_000;
/// The longest search window: 30 days.
pub const MAX_WINDOW_MS: i64 = 30 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

fn floor_sec(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// The latest instant a window may end at: now − the safety lag, on a whole second.
pub fn horizon(now_ms: i64) -> i64 {
    floor_sec(now_ms - SAFETY_LAG_MS)
}

/// Where the first pull starts: now − `lookback_days`, on a whole second.
pub fn initial_start(now_ms: i64, lookback_days: u32) -> i64 {
    floor_sec(now_ms - i64::from(lookback_days) * DAY_MS)
}

/// The end of the window starting at `start`: `start + window_ms`, capped at the horizon.
/// `None` when the horizon has not passed `start` yet (nothing to read).
pub fn window_end(start: i64, window_ms: i64, now_ms: i64) -> Option<i64> {
    let end = (start + window_ms.clamp(1000, MAX_WINDOW_MS)).min(horizon(now_ms));
    (end > start).then_some(end)
}

/// Pages of `page_size` needed for `total` orders (at least 1).
pub fn pages(total: u64, page_size: u32) -> u32 {
    let size = u64::from(page_size.max(1));
    u32::try_from(total.div_ceil(size).max(1)).unwrap_or(u32::MAX)
}

/// The paging state of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub end: i64,
    /// The next page to read, counting down to 1.
    pub page: u32,
    /// Orders in the window when paging began.
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// Start of the current (or next) window, Unix ms.
    pub start: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl Cursor {
    /// Between windows: the next one starts at `start`.
    pub fn at(start: i64) -> Cursor {
        Cursor {
            start,
            end: None,
            page: None,
            total: None,
        }
    }

    /// Paging the window `[start, end]`: `page` is next.
    pub fn paging(start: i64, end: i64, page: u32, total: u64) -> Cursor {
        Cursor {
            start,
            end: Some(end),
            page: Some(page),
            total: Some(total),
        }
    }

    /// The window being paged, if any.
    pub fn window(&self) -> Option<Paging> {
        match (self.end, self.page, self.total) {
            (Some(end), Some(page), Some(total)) => Some(Paging { end, page, total }),
            _ => None,
        }
    }

    /// Decode a stored cursor. Anything but a cursor this plugin wrote is `invalid-input`.
    pub fn decode(raw: &str) -> Result<Cursor, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if c.start <= 0 || c.start % 1000 != 0 {
            return Err(bad("start must be a positive whole second".into()));
        }
        match (c.end, c.page, c.total) {
            (None, None, None) => {}
            (Some(end), Some(page), Some(total)) => {
                if end <= c.start || end - c.start > MAX_WINDOW_MS || end % 1000 != 0 {
                    return Err(bad(
                        "end must be a whole second after start, at most 30 days later".into(),
                    ));
                }
                if page == 0 || u64::from(page) > total.max(1) {
                    return Err(bad("page must be from 1 to the window's order count".into()));
                }
            }
            _ => return Err(bad("end, page and total come together".into())),
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

    // Both shapes round-trip and the idle shape carries only `start`.
    #[test]
    fn round_trips() {
        let c = Cursor::at(NOW - 3_600_000);
        assert_eq!(c.encode(), format!("{{\"start\":{}}}", NOW - 3_600_000));
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(c.window(), None);
        let p = Cursor::paging(NOW - 3_600_000, NOW - 1_800_000, 3, 250);
        assert_eq!(Cursor::decode(&p.encode()).unwrap(), p);
        assert_eq!(
            p.window(),
            Some(Paging {
                end: NOW - 1_800_000,
                page: 3,
                total: 250
            })
        );
    }

    // Garbage, partial paging state, over-long or backwards windows are invalid-input.
    #[test]
    fn garbage_is_invalid_input() {
        let s = NOW - 3_600_000;
        for raw in [
            "".to_string(),
            "not json".into(),
            "{}".into(),
            r#"{"start": "yesterday"}"#.into(),
            format!(r#"{{"start": {}}}"#, s + 1),
            format!(r#"{{"start": {s}, "extra": 1}}"#),
            format!(r#"{{"start": {s}, "end": {}}}"#, s + 1000),
            format!(r#"{{"start": {s}, "end": {s}, "page": 1, "total": 1}}"#),
            format!(
                r#"{{"start": {s}, "end": {}, "page": 1, "total": 1}}"#,
                s + MAX_WINDOW_MS + 1000
            ),
            format!(
                r#"{{"start": {s}, "end": {}, "page": 0, "total": 5}}"#,
                s + 1000
            ),
            format!(
                r#"{{"start": {s}, "end": {}, "page": 6, "total": 5}}"#,
                s + 1000
            ),
        ] {
            assert!(
                matches!(Cursor::decode(&raw), Err(ConnectorError::InvalidInput(_))),
                "{raw:?} should be refused"
            );
        }
    }

    // Windows are window_ms long, capped at now − 60 s on a whole second, and
    // absent when the horizon has not passed the start.
    #[test]
    fn windows_stop_at_the_horizon() {
        let h = horizon(NOW + 999);
        assert_eq!(h, NOW - 60_000, "lag, then down to the second");
        let thirty = 1_800_000;
        assert_eq!(
            window_end(NOW - 7_200_000, thirty, NOW),
            Some(NOW - 5_400_000)
        );
        assert_eq!(
            window_end(NOW - 600_000, thirty, NOW),
            Some(NOW - 60_000),
            "capped"
        );
        assert_eq!(
            window_end(NOW - 60_000, thirty, NOW),
            None,
            "at the horizon"
        );
        assert_eq!(window_end(NOW - 59_000, thirty, NOW), None, "past it");
        assert_eq!(
            window_end(NOW - 61_000, thirty, NOW),
            Some(NOW - 60_000),
            "one second"
        );
        assert_eq!(
            window_end(NOW - 40 * DAY_MS, 40 * DAY_MS, NOW),
            Some(NOW - 10 * DAY_MS),
            "never longer than 30 days"
        );
        assert_eq!(initial_start(NOW + 500, 7), NOW - 7 * DAY_MS);
    }

    // Consecutive windows share their boundary second (no gap) and tile the range up to
    // the horizon, each at most window_ms long.
    #[test]
    fn consecutive_windows_tile_without_gaps() {
        let window = 1_800_000;
        let mut start = initial_start(NOW, 1);
        let mut windows = Vec::new();
        while let Some(end) = window_end(start, window, NOW) {
            windows.push((start, end));
            start = end;
        }
        assert_eq!(
            windows.len(),
            48,
            "a day of 30-minute windows (the last one 1 min short)"
        );
        assert_eq!(windows[0].0, NOW - DAY_MS);
        assert_eq!(windows.last().unwrap().1, horizon(NOW));
        for w in windows.windows(2) {
            assert_eq!(
                w[0].1, w[1].0,
                "the next window starts where the last ended"
            );
        }
        assert!(windows.iter().all(|(s, e)| e > s && e - s <= window));
    }

    // Page counts round up and are never zero.
    #[test]
    fn page_counts() {
        assert_eq!(pages(0, 100), 1);
        assert_eq!(pages(100, 100), 1);
        assert_eq!(pages(101, 100), 2);
        assert_eq!(pages(250, 20), 13);
    }
}
