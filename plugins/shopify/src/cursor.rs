//! The pull cursor: plugin-owned opaque JSON the host stores and hands back.
//!
//! - Between rounds: `{"since": T}`: the next round reads orders with `updated_at ≥ T`.
//! - While paging a round: `{"since": T, "next": URL, "watermark": W}`: `URL` is
//!   Shopify's `rel="next"` link and `W` the largest `updated_at` seen so far this round.
//!
//! When a round's last page is read the cursor becomes `{"since": W}`. Shopify's
//! `updated_at_min` is inclusive, so the order(s) at `W` are read again next round (the
//! host deduplicates them); no order sharing that timestamp is ever skipped.

use serde::{Deserialize, Serialize};
use wharf_sdk::time::parse_rfc3339_ms;
use wharf_sdk::types::ConnectorError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// Lower bound (inclusive) of `updated_at` for the current round, RFC 3339.
    pub since: String,
    /// Shopify's next-page link while a round is being paged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The largest `updated_at` seen this round, as Shopify wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
}

impl Cursor {
    /// Decode a stored cursor. Anything but a cursor this plugin wrote is `invalid-input`;
    /// a `next` link must point into `api_base` (the configured shop).
    pub fn decode(raw: &str, api_base: &str) -> Result<Cursor, ConnectorError> {
        let bad = |why: String| ConnectorError::InvalidInput(format!("cursor {raw:?}: {why}"));
        let c: Cursor = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        parse_rfc3339_ms("since", &c.since).map_err(|e| bad(format!("{e:?}")))?;
        if let Some(w) = &c.watermark {
            parse_rfc3339_ms("watermark", w).map_err(|e| bad(format!("{e:?}")))?;
        }
        if let Some(next) = &c.next {
            let prefix = format!("{api_base}/orders.json?");
            if !next.starts_with(&prefix) {
                return Err(bad(format!("next link is not under {prefix}")));
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

    const BASE: &str = "https://a.myshopify.com/admin/api/2024-04";

    // A cursor round-trips, and optional fields are omitted between rounds.
    #[test]
    fn round_trips() {
        let c = Cursor {
            since: "2024-04-01T00:00:00Z".into(),
            next: None,
            watermark: None,
        };
        assert_eq!(c.encode(), r#"{"since":"2024-04-01T00:00:00Z"}"#);
        assert_eq!(Cursor::decode(&c.encode(), BASE).unwrap(), c);
        let c = Cursor {
            since: "2024-04-01T00:00:00Z".into(),
            next: Some(format!("{BASE}/orders.json?limit=5&page_info=abc")),
            watermark: Some("2024-04-02T10:00:00-04:00".into()),
        };
        assert_eq!(Cursor::decode(&c.encode(), BASE).unwrap(), c);
    }

    // Garbage, foreign links and bad timestamps are refused as invalid-input.
    #[test]
    fn garbage_is_invalid_input() {
        for raw in [
            "",
            "not json",
            "{}",
            r#"{"since": 5}"#,
            r#"{"since": "yesterday"}"#,
            r#"{"since": "2024-04-01T00:00:00Z", "extra": 1}"#,
            r#"{"since": "2024-04-01T00:00:00Z", "watermark": "soon"}"#,
            r#"{"since": "2024-04-01T00:00:00Z", "next": "https://evil.example/admin/api/2024-04/orders.json?x"}"#,
        ] {
            assert!(
                matches!(
                    Cursor::decode(raw, BASE),
                    Err(ConnectorError::InvalidInput(_))
                ),
                "{raw:?} should be refused"
            );
        }
    }
}
