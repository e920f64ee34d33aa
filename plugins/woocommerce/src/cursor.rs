//! The plugin-owned pull cursor: a keyset on (`date_modified_gmt`, `id`). Pure.
//!
//! WooCommerce pages by page number, and page numbers are not stable: an order modified
//! while the pull pages moves to the end of an `orderby=modified` listing and every order
//! behind it shifts one place forward, so page N+1 skips one. The pull therefore never
//! asks for a page other than 1. Each call reads page 1 of
//! `orderby=modified&order=asc` restricted to `modified_after = after − 1 s` (WooCommerce's
//! `after` is exclusive and whole-second, so this includes the second `after`) and
//! `exclude = seen` (the ids already delivered at the second `after`), up to the
//! horizon. The next cursor starts at the newest second delivered. An order changed
//! mid-pull is read again at its new time; the others keep their keys, so none is lost.
//!
//! Shape (JSON, opaque to the host): `{"after": A, "seen": [ids]}`, `A` in Unix ms on a
//! whole second.

use serde::{Deserialize, Serialize};
use wharf_sdk::types::ConnectorError;

/// The longest `seen` list a cursor may carry (orders sharing one second, e.g. a bulk
/// status change in wp-admin).
pub const MAX_SEEN: usize = 5000;
const DAY_MS: i64 = 86_400_000;

pub fn floor_sec(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// The newest second a pull may read: now − the safety lag, on a whole second.
pub fn horizon(now_ms: i64, lag_seconds: u32) -> i64 {
    floor_sec(now_ms - i64::from(lag_seconds) * 1000)
}

/// Where the first pull starts: now − `lookback_days`, on a whole second.
pub fn initial(now_ms: i64, lookback_days: u32) -> Cursor {
    Cursor {
        after: floor_sec(now_ms - i64::from(lookback_days) * DAY_MS),
        seen: Vec::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// Every order modified before this second has been delivered (Unix ms).
    pub after: i64,
    /// Ids already delivered whose `date_modified_gmt` is the second `after`.
    #[serde(default)]
    pub seen: Vec<u64>,
}

impl Cursor {
    /// Decode a stored cursor. Anything but a cursor this plugin wrote is `invalid-input`.
    pub fn decode(raw: &str) -> Result<Cursor, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if c.after <= 0 || c.after % 1000 != 0 {
            return Err(bad("after must be a positive whole second".into()));
        }
        if c.seen.len() > MAX_SEEN || c.seen.contains(&0) {
            return Err(bad(format!("seen must hold 1 to {MAX_SEEN} order ids")));
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

    // A cursor round-trips; the first one starts at the look-back on a whole second.
    #[test]
    fn round_trips() {
        let c = Cursor {
            after: NOW - 3_600_000,
            seen: vec![7, 9],
        };
        assert_eq!(
            c.encode(),
            format!("{{\"after\":{},\"seen\":[7,9]}}", NOW - 3_600_000)
        );
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(
            initial(NOW + 999, 2),
            Cursor {
                after: NOW - 2 * DAY_MS,
                seen: vec![]
            }
        );
        assert_eq!(horizon(NOW + 999, 60), NOW - 60_000);
        assert_eq!(horizon(NOW + 999, 0), NOW);
    }

    // Garbage, sub-second times, extra fields and zero ids are invalid-input.
    #[test]
    fn garbage_is_invalid_input() {
        for raw in [
            "".to_string(),
            "not json".into(),
            "{}".into(),
            r#"{"after": "yesterday"}"#.into(),
            format!(r#"{{"after": {}}}"#, NOW + 1),
            format!(r#"{{"after": {NOW}, "extra": 1}}"#),
            format!(r#"{{"after": {NOW}, "seen": [0]}}"#),
            format!(r#"{{"after": {NOW}, "seen": [-1]}}"#),
            r#"{"after": -1000}"#.into(),
        ] {
            assert!(
                matches!(Cursor::decode(&raw), Err(ConnectorError::InvalidInput(_))),
                "{raw:?} should be refused"
            );
        }
    }
}
