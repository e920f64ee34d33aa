//! The pieces of a webhook check that do not depend on the platform: the base64
//! HMAC-SHA256 signature header checked **before** the body is read
//! ([`verify_hmac_header`]), the topic and delivery-id headers ([`required_header`],
//! [`optional_header`]), and the body of a signed delivery turned into orders
//! ([`orders_of`]: one order for an order topic, none for any other topic, whose body must
//! still be JSON). Used by the Shopify and WooCommerce connectors.
//!
//! ```
//! use wharf_sdk::types::{ConnectorError, Header};
//! use wharf_sdk::{sign, webhook};
//! let body = br#"{"id": 1}"#;
//! let headers = vec![
//!     Header { name: "X-Sig".into(), value: sign::hmac_sha256_base64(b"hush", body) },
//!     Header { name: "X-Topic".into(), value: "orders/ping".into() },
//! ];
//! webhook::verify_hmac_header(&headers, "X-Sig", b"hush", "client secret", body).unwrap();
//! let topic = webhook::required_header(&headers, "X-Topic").unwrap();
//! let orders = webhook::orders_of(&topic, body, &["orders/create"], |_| {
//!     Err(ConnectorError::Unsupported) // the plugin's mapping, for order topics only
//! })
//! .unwrap();
//! assert!(orders.is_empty());
//! ```

use crate::header;
use crate::sign::verify_hmac_sha256_base64;
use crate::types::{ConnectorError, Header, Order};

/// Check the base64 HMAC-SHA256 of `body` with `key` in header `name`. A missing header
/// or a signature that does not match is `invalid-signature` (`key_name` says which
/// secret, e.g. "client secret").
pub fn verify_hmac_header(
    headers: &[Header],
    name: &str,
    key: &[u8],
    key_name: &str,
    body: &[u8],
) -> Result<(), ConnectorError> {
    let signature = header(headers, name)
        .ok_or_else(|| ConnectorError::InvalidSignature(format!("the {name} header is missing")))?;
    if !verify_hmac_sha256_base64(key, body, signature) {
        return Err(ConnectorError::InvalidSignature(format!(
            "{name} does not match the body signed with the {key_name}"
        )));
    }
    Ok(())
}

/// A header's value, trimmed; blank counts as absent.
pub fn optional_header(headers: &[Header], name: &str) -> Option<String> {
    header(headers, name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A header that must be present and not blank; otherwise `invalid-input`.
pub fn required_header(headers: &[Header], name: &str) -> Result<String, ConnectorError> {
    optional_header(headers, name)
        .ok_or_else(|| ConnectorError::InvalidInput(format!("the {name} header is missing")))
}

/// The orders a signed delivery of `topic` carries: `map(body)` for one of `order_topics`;
/// none for any other topic, whose body must still be JSON (`invalid-input` otherwise).
pub fn orders_of(
    topic: &str,
    body: &[u8],
    order_topics: &[&str],
    map: impl FnOnce(&[u8]) -> Result<Order, ConnectorError>,
) -> Result<Vec<Order>, ConnectorError> {
    if order_topics.contains(&topic) {
        return Ok(vec![map(body)?]);
    }
    serde_json::from_slice::<serde_json::Value>(body).map_err(|e| {
        ConnectorError::InvalidInput(format!("webhook body ({topic}) is not JSON: {e}"))
    })?;
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::hmac_sha256_base64;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    // A missing or wrong signature is invalid-signature naming the header.
    #[test]
    fn signatures_are_checked() {
        let good = hmac_sha256_base64(b"k", b"{}");
        assert!(verify_hmac_header(&[h("x-sig", &good)], "X-Sig", b"k", "secret", b"{}").is_ok());
        for headers in [vec![], vec![h("X-Sig", "bad")]] {
            assert!(matches!(
                verify_hmac_header(&headers, "X-Sig", b"k", "secret", b"{}"),
                Err(ConnectorError::InvalidSignature(m)) if m.contains("X-Sig")
            ));
        }
    }

    // Headers are trimmed; a blank required one is invalid-input.
    #[test]
    fn headers_are_trimmed() {
        let hs = [h("A", " x "), h("B", " ")];
        assert_eq!(optional_header(&hs, "a").as_deref(), Some("x"));
        assert_eq!(optional_header(&hs, "b"), None);
        assert!(matches!(
            required_header(&hs, "B"),
            Err(ConnectorError::InvalidInput(_))
        ));
    }

    // Other topics carry no orders but must be JSON.
    #[test]
    fn other_topics_must_be_json() {
        let map = |_: &[u8]| Err(ConnectorError::Unsupported);
        assert!(orders_of("t", b"{}", &["o"], map).unwrap().is_empty());
        assert!(matches!(
            orders_of("t", b"nope", &["o"], map),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            orders_of("o", b"{}", &["o"], map),
            Err(ConnectorError::Unsupported)
        ));
    }
}
