//! The pull cursor and the increment-window arithmetic. Pure.
//!
//! PDD serves changed orders per `[start_updated_at, end_updated_at]` window of at most
//! 30 minutes (Unix seconds, both bounds inclusive), newest first. A pull walks windows
//! from the cursor up to `now − SAFETY_LAG_SECS`, and pages each window from its LAST page
//! back to page 1: an order updated mid-pull leaves the window (its `updated_at` is now
//! later than the window's end), which only shifts older orders towards earlier pages,
//! and those pages are read afterwards. Paging forwards would skip them.
//!
//! Cursor JSON (plugin-owned, opaque to the host):
//! - between windows: `{"from": S}`: the next window starts at `S`;
//! - while paging a window: `{"from": S, "to": E, "page": P, "page_size": N}`: page `P`
//!   (counting down to 1) of the window `[S, E]` counted with pages of `N` is next.
//!
//! The next window starts at the previous one's end, so the boundary second is read twice
//! (the host deduplicates) and no second is ever skipped.

use serde::{Deserialize, Serialize};
use wharf_sdk::types::ConnectorError;

use crate::settings::{MAX_PAGE_SIZE, MAX_WINDOW_MINUTES};

/// Orders updated in the last two minutes are left for the next pull: the platform's
/// increment index lags its order store, and a window is read only once it is closed.
pub const SAFETY_LAG_SECS: i64 = 120;
const DAY_SECS: i64 = 86_400;
const MAX_WINDOW_SECS: i64 = MAX_WINDOW_MINUTES as i64 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// Start (Unix seconds) of the next window, or of the window being paged.
    pub from: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

/// Where a pull call starts, decoded from the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// No window open: the next one starts at `from`.
    Between { from: i64 },
    /// Paging `[from, to]` backwards; `page` is next.
    Paging {
        from: i64,
        to: i64,
        page: u32,
        page_size: u32,
    },
}

impl Cursor {
    /// Between windows, the next starting at `from`.
    pub fn at(from: i64) -> Cursor {
        Cursor {
            from,
            to: None,
            page: None,
            page_size: None,
        }
    }

    /// Paging `[from, to]`, `page` next.
    pub fn paging(from: i64, to: i64, page: u32, page_size: u32) -> Cursor {
        Cursor {
            from,
            to: Some(to),
            page: Some(page),
            page_size: Some(page_size),
        }
    }

    /// The first pull's cursor: `lookback_days` before now.
    pub fn initial(now_s: i64, lookback_days: u32) -> Cursor {
        Cursor::at(now_s - i64::from(lookback_days) * DAY_SECS)
    }

    /// Decode a stored cursor. Anything but a cursor this plugin wrote is `invalid-input`.
    pub fn decode(raw: &str) -> Result<Position, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if c.from <= 0 {
            return Err(bad("`from` must be a positive Unix time in seconds".into()));
        }
        match (c.to, c.page, c.page_size) {
            (None, None, None) => Ok(Position::Between { from: c.from }),
            (Some(to), Some(page), Some(page_size)) => {
                if to <= c.from || to - c.from > MAX_WINDOW_SECS {
                    return Err(bad(format!(
                        "window [{}, {to}] must be non-empty and at most {MAX_WINDOW_SECS} s",
                        c.from
                    )));
                }
                if page == 0 || !(1..=MAX_PAGE_SIZE).contains(&page_size) {
                    return Err(bad(format!(
                        "page {page} / page_size {page_size} out of range"
                    )));
                }
                Ok(Position::Paging {
                    from: c.from,
                    to,
                    page,
                    page_size,
                })
            }
            _ => Err(bad(
                "`to`, `page` and `page_size` come together or not at all".into(),
            )),
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor always serialises")
    }
}

/// The latest second a pull may read up to.
pub fn horizon(now_s: i64) -> i64 {
    now_s - SAFETY_LAG_SECS
}

/// The window starting at `from`: at most `window_secs` long and ending no later than the
/// horizon. `None` when the horizon leaves nothing to read yet.
pub fn next_window(from: i64, now_s: i64, window_secs: i64) -> Option<(i64, i64)> {
    let to = (from + window_secs.clamp(1, MAX_WINDOW_SECS)).min(horizon(now_s));
    (to > from).then_some((from, to))
}

/// Pages needed for `total` orders (at least 1: an empty window is still one page).
pub fn page_count(total: u64, page_size: u32) -> u32 {
    let n = total.div_ceil(u64::from(page_size.max(1))).max(1);
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The cursor after window `[_, to]` is fully read, and whether another window is
/// readable now.
pub fn after_window(to: i64, now_s: i64) -> (Cursor, bool) {
    (Cursor::at(to), to < horizon(now_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_712_707_200; // 2024-04-10T00:00:00Z

    // Both cursor shapes round-trip; the between-windows shape omits the paging fields.
    #[test]
    fn cursors_round_trip() {
        let c = Cursor::at(NOW - 3600);
        assert_eq!(c.encode(), format!(r#"{{"from":{}}}"#, NOW - 3600));
        assert_eq!(
            Cursor::decode(&c.encode()).unwrap(),
            Position::Between { from: NOW - 3600 }
        );
        let c = Cursor::paging(NOW - 3600, NOW - 1800, 4, 50);
        assert_eq!(
            Cursor::decode(&c.encode()).unwrap(),
            Position::Paging {
                from: NOW - 3600,
                to: NOW - 1800,
                page: 4,
                page_size: 50
            }
        );
    }

    // Garbage, partial paging state, reversed or over-long windows are invalid-input.
    #[test]
    fn bad_cursors_are_invalid_input() {
        for raw in [
            "",
            "[]",
            r#"{"from": "yesterday"}"#,
            r#"{"from": 0}"#,
            r#"{"from": 100, "extra": 1}"#,
            r#"{"from": 100, "to": 200}"#,
            r#"{"from": 100, "to": 100, "page": 1, "page_size": 10}"#,
            r#"{"from": 100, "to": 1901, "page": 1, "page_size": 10}"#,
            r#"{"from": 100, "to": 200, "page": 0, "page_size": 10}"#,
            r#"{"from": 100, "to": 200, "page": 1, "page_size": 101}"#,
        ] {
            assert!(
                matches!(Cursor::decode(raw), Err(ConnectorError::InvalidInput(_))),
                "{raw:?} should be refused"
            );
        }
    }

    // A window is window_secs long, capped at 30 minutes and at now − lag.
    #[test]
    fn windows_are_capped_by_length_and_horizon() {
        assert_eq!(
            next_window(NOW - 7200, NOW, 1800),
            Some((NOW - 7200, NOW - 5400))
        );
        assert_eq!(
            next_window(NOW - 7200, NOW, 600),
            Some((NOW - 7200, NOW - 6600))
        );
        // A longer request is clamped to PDD's 30 minutes.
        assert_eq!(
            next_window(NOW - 7200, NOW, 7200),
            Some((NOW - 7200, NOW - 5400))
        );
        // Near now the window ends at the horizon.
        assert_eq!(
            next_window(NOW - 1000, NOW, 1800),
            Some((NOW - 1000, NOW - SAFETY_LAG_SECS))
        );
    }

    // At or past the horizon (or a start in the future) there is nothing to read.
    #[test]
    fn nothing_to_read_at_the_horizon() {
        assert_eq!(next_window(horizon(NOW), NOW, 1800), None);
        assert_eq!(
            next_window(horizon(NOW) - 1, NOW, 1800),
            Some((horizon(NOW) - 1, horizon(NOW)))
        );
        assert_eq!(next_window(NOW + 60, NOW, 1800), None);
    }

    // Consecutive windows share their boundary second: no gap.
    #[test]
    fn consecutive_windows_leave_no_gap() {
        let mut from = NOW - 4 * 3600 - 17;
        let mut covered = Vec::new();
        while let Some((a, b)) = next_window(from, NOW, 1800) {
            covered.push((a, b));
            let (c, more) = after_window(b, NOW);
            from = c.from;
            if !more {
                break;
            }
        }
        assert!(covered.windows(2).all(|w| w[0].1 == w[1].0), "{covered:?}");
        assert_eq!(covered.first().unwrap().0, NOW - 4 * 3600 - 17);
        assert_eq!(covered.last().unwrap().1, horizon(NOW));
        assert!(covered.iter().all(|(a, b)| b - a <= 1800 && b > a));
    }

    // Page counts round up and an empty window is one page.
    #[test]
    fn page_counts() {
        assert_eq!(page_count(0, 10), 1);
        assert_eq!(page_count(10, 10), 1);
        assert_eq!(page_count(11, 10), 2);
        assert_eq!(page_count(100, 100), 1);
        assert_eq!(page_count(101, 100), 2);
    }

    // The first cursor reaches lookback_days back.
    #[test]
    fn initial_cursor_uses_the_lookback() {
        assert_eq!(Cursor::initial(NOW, 7).from, NOW - 7 * 86_400);
    }
}
