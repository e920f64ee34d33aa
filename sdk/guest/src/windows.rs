//! The modified-time window walk with backward paging, for platforms that list one time
//! window at a time, newest-modified first, with the window's total count (Taobao TOP,
//! JD JOS, doudian). The plugin supplies the limits ([`Walk`]) and a closure that reads one
//! page; this module owns the cursor and decides what to read next.
//!
//! A pull walks windows `[start, end]` forward from the look-back, each no longer than
//! `window_ms` (and the platform's `max_window_ms`) and never past the *horizon*,
//! now − [`SAFETY_LAG_MS`] rounded down to the second, so a window is closed before it is
//! read. The next window starts at the previous window's `end`: the boundary second
//! belongs to both (the platforms compare whole seconds, both ends inclusive), so there
//! is never a gap, and an order modified exactly at a boundary is read twice and
//! deduplicated by the host.
//!
//! Inside a window the platform lists orders newest-modified first. An order modified
//! while the window is being paged leaves the window (its new modification time is after
//! the horizon) and every older order shifts one place towards the first page. Paging
//! from the LAST page back to the first means such a shift only moves an already-read
//! order onto the next page to read (read twice, deduplicated), never an unread one onto
//! a page already read. The order that changed is read again in a later window. The first
//! page is always read last; if the window then holds more orders than when paging began
//! (a late arrival), the window is paged again from its new last page.
//!
//! Cursor shapes (JSON, opaque to the host; times are Unix ms on whole seconds):
//! - between windows: `{"start": S}`: the next window starts at `S`;
//! - paging a window: `{"start": S, "end": E, "page": P, "total": T}`: `P` is the next
//!   page to read (counting down to [`Walk::first_page`]), `T` the order count when
//!   paging began.
//!
//! ```
//! use wharf_sdk::windows::{Listing, Walk};
//! # fn demo() -> Result<(), wharf_sdk::types::ConnectorError> {
//! let walk = Walk {
//!     max_window_ms: 86_400_000, // the platform's longest window: one day
//!     first_page: 1,             // pages count from 1
//!     window_ms: 30 * 60_000,
//!     page_size: 100,
//!     lookback_days: 7,
//! };
//! let now_ms = 1_712_707_200_000;
//! let page = walk.pull(None, now_ms, |(start, end), page_no| {
//!     // one signed request for page `page_no` of [start, end], mapped to orders
//!     # let _ = (start, end, page_no);
//!     Ok(Listing { total: 0, orders: Vec::new() })
//! })?;
//! assert!(page.cursor.is_some());
//! # Ok(())
//! # }
//! # demo().unwrap();
//! ```

use serde::{Deserialize, Serialize};

use crate::types::{ConnectorError, Order, Page};

/// How far behind now a window must end: orders still being written are left for the
/// next pull.
pub const SAFETY_LAG_MS: i64 = 60_000;
/// Requests one pull call may make while it skips empty windows (a call stays well inside
/// the host's time limit; the next call continues from the cursor).
pub const MAX_REQUESTS_PER_CALL: usize = 24;
const DAY_MS: i64 = 86_400_000;

fn floor_sec(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// The latest instant a window may end at: now − the safety lag, on a whole second.
pub fn horizon(now_ms: i64) -> i64 {
    floor_sec(now_ms - SAFETY_LAG_MS)
}

/// Pages of `page_size` needed for `total` orders (at least 1: an empty window is still
/// one page).
pub fn page_count(total: u64, page_size: u32) -> u32 {
    let size = u64::from(page_size.max(1));
    u32::try_from(total.div_ceil(size).max(1)).unwrap_or(u32::MAX)
}

/// A platform's window limits and an installation's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// The longest window the platform serves, in ms; longer `window_ms` are clamped and
    /// a cursor with a longer window is refused.
    pub max_window_ms: i64,
    /// The number of the first page: 1 (TOP, JOS) or 0 (doudian).
    pub first_page: u32,
    /// The configured window length, in ms.
    pub window_ms: i64,
    /// Orders per page.
    pub page_size: u32,
    /// How far back the first pull reaches, in days.
    pub lookback_days: u32,
}

/// One page of a window listing, as the fetch closure of [`Walk::pull`] answers it.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Orders in the whole window (the platform's count for this request).
    pub total: u64,
    /// The page's orders, mapped.
    pub orders: Vec<Order>,
}

/// The paging state of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub end: i64,
    /// The next page to read, counting down to the first page.
    pub page: u32,
    /// Orders in the window when paging began.
    pub total: u64,
}

/// The plugin-owned cursor (see the module docs for its shapes).
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

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor always serialises")
    }
}

/// "one day", "30 days", "90 minutes".
fn span(ms: i64) -> String {
    match ms {
        DAY_MS => "one day".into(),
        ms if ms % DAY_MS == 0 => format!("{} days", ms / DAY_MS),
        ms => format!("{} minutes", ms / 60_000),
    }
}

impl Walk {
    /// Where the first pull starts: now − `lookback_days`, on a whole second.
    pub fn initial_start(&self, now_ms: i64) -> i64 {
        floor_sec(now_ms - i64::from(self.lookback_days) * DAY_MS)
    }

    /// The end of the window starting at `start`: `start + window_ms` (clamped to 1 s ..
    /// `max_window_ms`), capped at the horizon. `None` when the horizon has not passed
    /// `start` yet (nothing to read).
    pub fn window_end(&self, start: i64, now_ms: i64) -> Option<i64> {
        let length = self.window_ms.clamp(1000, self.max_window_ms.max(1000));
        let end = (start + length).min(horizon(now_ms));
        (end > start).then_some(end)
    }

    /// The last page of a window of `total` orders.
    pub fn last_page(&self, total: u64) -> u32 {
        self.first_page
            .saturating_add(page_count(total, self.page_size) - 1)
    }

    /// Decode a stored cursor. Anything but a cursor this walk wrote is `invalid-input`.
    pub fn decode(&self, raw: &str) -> Result<Cursor, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if c.start <= 0 || c.start % 1000 != 0 {
            return Err(bad("start must be a positive whole second".into()));
        }
        match (c.end, c.page, c.total) {
            (None, None, None) => {}
            (Some(end), Some(page), Some(total)) => {
                if end <= c.start || end - c.start > self.max_window_ms || end % 1000 != 0 {
                    return Err(bad(format!(
                        "end must be a whole second after start, at most {} later",
                        span(self.max_window_ms)
                    )));
                }
                if page < self.first_page || u64::from(page - self.first_page) >= total.max(1) {
                    return Err(bad(format!(
                        "page must be from {} to the window's last page ({total} orders)",
                        self.first_page
                    )));
                }
            }
            _ => return Err(bad("end, page and total come together".into())),
        }
        Ok(c)
    }

    /// One pull call: read one page of orders from the cursor (`None`: from the
    /// look-back) and answer the next cursor.
    ///
    /// `fetch(window, page)` reads page `page` of `window` (`[start, end]`, Unix ms on
    /// whole seconds) and maps its orders. A window's first request reads the first page
    /// with the count; a window that fits one page is done with it, otherwise paging
    /// continues from the last page down to the first, one page per call. Empty windows
    /// are skipped within the call (up to [`MAX_REQUESTS_PER_CALL`] requests). `more` is
    /// true while a window is being paged or the horizon is past the next window's start.
    pub fn pull(
        &self,
        cursor: Option<&str>,
        now_ms: i64,
        mut fetch: impl FnMut((i64, i64), u32) -> Result<Listing, ConnectorError>,
    ) -> Result<Page, ConnectorError> {
        let mut cur = match cursor {
            Some(raw) => self.decode(raw)?,
            None => Cursor::at(self.initial_start(now_ms)),
        };
        let page = |orders: Vec<Order>, next: Cursor| Page {
            orders,
            cursor: Some(next.encode()),
            more: next.window().is_some() || self.window_end(next.start, now_ms).is_some(),
        };
        let mut requests = 0;
        loop {
            if let Some(w) = cur.window() {
                let got = fetch((cur.start, w.end), w.page)?;
                let next = if w.page > self.first_page {
                    Cursor::paging(cur.start, w.end, w.page - 1, w.total)
                } else if got.total > w.total {
                    // Orders arrived in the window while it was paged: page it again.
                    Cursor::paging(cur.start, w.end, self.last_page(got.total), got.total)
                } else {
                    Cursor::at(w.end)
                };
                return Ok(page(got.orders, next));
            }
            let Some(end) = self.window_end(cur.start, now_ms) else {
                // Caught up: nothing closed yet past `start`.
                return Ok(page(Vec::new(), cur));
            };
            let got = fetch((cur.start, end), self.first_page)?;
            requests += 1;
            let last = self.last_page(got.total);
            if last > self.first_page {
                // The first page now (harmless: it is read again last), then from the last
                // page down.
                let next = Cursor::paging(cur.start, end, last, got.total);
                return Ok(page(got.orders, next));
            }
            let next = Cursor::at(end);
            if got.orders.is_empty() && requests < MAX_REQUESTS_PER_CALL {
                cur = next;
                continue;
            }
            return Ok(page(got.orders, next));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-04-10T00:00:00Z
    const NOW: i64 = 1_712_707_200_000;

    fn walk(first_page: u32, max_window_ms: i64) -> Walk {
        Walk {
            max_window_ms,
            first_page,
            window_ms: 1_800_000,
            page_size: 20,
            lookback_days: 1,
        }
    }

    // Both shapes round-trip and the idle shape carries only `start`.
    #[test]
    fn round_trips() {
        let w = walk(1, DAY_MS);
        let c = Cursor::at(NOW - 3_600_000);
        assert_eq!(c.encode(), format!("{{\"start\":{}}}", NOW - 3_600_000));
        assert_eq!(w.decode(&c.encode()).unwrap(), c);
        assert_eq!(c.window(), None);
        let p = Cursor::paging(NOW - 3_600_000, NOW - 1_800_000, 3, 250);
        assert_eq!(w.decode(&p.encode()).unwrap(), p);
        assert_eq!(
            p.window(),
            Some(Paging {
                end: NOW - 1_800_000,
                page: 3,
                total: 250
            })
        );
    }

    // Garbage, partial paging state, over-long or backwards windows and pages outside
    // the window are invalid-input, for 1-based and 0-based pages alike.
    #[test]
    fn garbage_is_invalid_input() {
        let s = NOW - 3_600_000;
        for (first, max) in [(1, DAY_MS), (1, 30 * DAY_MS), (0, DAY_MS)] {
            let w = walk(first, max);
            for raw in [
                "".to_string(),
                "not json".into(),
                "{}".into(),
                r#"{"start": "yesterday"}"#.into(),
                format!(r#"{{"start": {}}}"#, s + 1),
                format!(r#"{{"start": {s}, "extra": 1}}"#),
                format!(r#"{{"start": {s}, "end": {}}}"#, s + 1000),
                format!(r#"{{"start": {s}, "end": {s}, "page": {first}, "total": 1}}"#),
                format!(
                    r#"{{"start": {s}, "end": {}, "page": {first}, "total": 1}}"#,
                    s + max + 1000
                ),
                format!(
                    r#"{{"start": {s}, "end": {}, "page": {}, "total": 5}}"#,
                    s + 1000,
                    first + 5
                ),
                format!(
                    r#"{{"start": {s}, "end": {}, "page": -1, "total": 5}}"#,
                    s + 1000
                ),
            ] {
                assert!(
                    matches!(w.decode(&raw), Err(ConnectorError::InvalidInput(_))),
                    "{raw:?} should be refused (first page {first})"
                );
            }
        }
        let one_based = walk(1, DAY_MS);
        let bad = format!(
            r#"{{"start": {s}, "end": {}, "page": 0, "total": 5}}"#,
            s + 1000
        );
        assert!(one_based.decode(&bad).is_err(), "page 0 of 1-based pages");
        let empty = format!(
            r#"{{"start": {s}, "end": {}, "page": 0, "total": 0}}"#,
            s + 1000
        );
        assert!(
            walk(0, DAY_MS).decode(&empty).is_ok(),
            "page 0 of an empty window"
        );
    }

    // Windows are window_ms long, capped at the platform's maximum and at now − 60 s on
    // a whole second, and absent when the horizon has not passed the start.
    #[test]
    fn windows_stop_at_the_horizon() {
        let w = walk(1, DAY_MS);
        assert_eq!(
            horizon(NOW + 999),
            NOW - 60_000,
            "lag, then down to the second"
        );
        assert_eq!(w.window_end(NOW - 7_200_000, NOW), Some(NOW - 5_400_000));
        assert_eq!(
            w.window_end(NOW - 600_000, NOW),
            Some(NOW - 60_000),
            "capped"
        );
        assert_eq!(w.window_end(NOW - 60_000, NOW), None, "at the horizon");
        assert_eq!(w.window_end(NOW - 59_000, NOW), None, "past it");
        assert_eq!(w.window_end(NOW - 61_000, NOW), Some(NOW - 60_000));
        let long = Walk {
            window_ms: 40 * DAY_MS,
            ..w
        };
        assert_eq!(
            long.window_end(NOW - 10 * DAY_MS, NOW),
            Some(NOW - 9 * DAY_MS),
            "never longer than the platform's maximum"
        );
        let thirty_days = Walk {
            max_window_ms: 30 * DAY_MS,
            ..long
        };
        assert_eq!(
            thirty_days.window_end(NOW - 40 * DAY_MS, NOW),
            Some(NOW - 10 * DAY_MS)
        );
        assert_eq!(
            Walk {
                lookback_days: 7,
                ..w
            }
            .initial_start(NOW + 500),
            NOW - 7 * DAY_MS
        );
    }

    // Consecutive windows share their boundary second (no gap) and tile the range up to
    // the horizon, each at most window_ms long.
    #[test]
    fn consecutive_windows_tile_without_gaps() {
        let w = walk(1, DAY_MS);
        let mut start = w.initial_start(NOW);
        let mut windows = Vec::new();
        while let Some(end) = w.window_end(start, NOW) {
            windows.push((start, end));
            start = end;
        }
        assert_eq!(windows.len(), 48, "a day of 30-minute windows");
        assert_eq!(windows[0].0, NOW - DAY_MS);
        assert_eq!(windows.last().unwrap().1, horizon(NOW));
        assert!(windows.windows(2).all(|p| p[0].1 == p[1].0), "no gap");
        assert!(windows.iter().all(|(s, e)| e > s && e - s <= w.window_ms));
    }

    // Page counts round up and are never zero; the last page follows the first page's
    // number.
    #[test]
    fn page_counts() {
        assert_eq!(page_count(0, 100), 1);
        assert_eq!(page_count(100, 100), 1);
        assert_eq!(page_count(101, 100), 2);
        assert_eq!(page_count(250, 20), 13);
        assert_eq!(walk(1, DAY_MS).last_page(250), 13);
        assert_eq!(walk(0, DAY_MS).last_page(250), 12);
        assert_eq!(walk(0, DAY_MS).last_page(0), 0);
    }

    // A window of 45 orders in pages of 20 is read as page 1, then 3, 2, 1; the next
    // call skips the empty windows up to the horizon.
    #[test]
    fn pages_backwards_then_moves_on() {
        let w = walk(1, DAY_MS);
        let start = NOW - 2 * 3_600_000;
        let end = start + 1_800_000;
        let mut seen = Vec::new();
        let mut cursor = Some(Cursor::at(start).encode());
        for _ in 0..5 {
            let p = w
                .pull(cursor.as_deref(), NOW, |win, page| {
                    seen.push((win, page));
                    Ok(Listing {
                        total: if win.0 == start { 45 } else { 0 },
                        orders: Vec::new(),
                    })
                })
                .unwrap();
            cursor = p.cursor;
        }
        let pages: Vec<u32> = seen.iter().map(|(_, p)| *p).collect();
        assert_eq!(&pages[..4], [1, 3, 2, 1]);
        assert!(seen[..4].iter().all(|(win, _)| *win == (start, end)));
        // The fifth call skipped the empty windows up to the horizon.
        assert!(seen[4..].iter().all(|(_, p)| *p == 1));
        assert_eq!(
            w.decode(cursor.as_deref().unwrap()).unwrap(),
            Cursor::at(horizon(NOW))
        );
    }
}
