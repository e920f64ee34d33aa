//! `page_info` tokens: opaque to clients, here base64url JSON of the listing's filters,
//! order and keyset position (Shopify's are opaque too; clients must not parse them).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::store::{Filters, Position, Sort};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageInfo {
    pub filters: Filters,
    pub sort: Sort,
    pub from: Position,
}

impl PageInfo {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("page info serialises"))
    }

    pub(crate) fn decode(token: &str) -> Option<PageInfo> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokens round-trip and garbage does not decode.
    #[test]
    fn round_trips() {
        let p = PageInfo {
            filters: Filters::default(),
            sort: Sort::parse("updated_at asc").unwrap(),
            from: Position::After((5, 6)),
        };
        let t = p.encode();
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(PageInfo::decode(&t), Some(p));
        assert_eq!(PageInfo::decode("!!"), None);
        assert_eq!(
            PageInfo::decode("e30"),
            None,
            "an empty object is not a page info"
        );
    }
}
