//! Webhook verification: `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body
//! with the webhook's secret) checked before the body is read, then the topic. Pure: the
//! secret is passed in.
//!
//! - `order.created`, `order.updated`, `order.restored`: the body is the order → one order.
//! - `order.deleted`: WooCommerce sends only `{"id": N}` (trashed or deleted for good): it
//!   is acknowledged with no order; `get-order` later reads a trashed order as `trash`
//!   (cancelled) and a deleted one as none.
//! - any other signed topic: acknowledged with no orders.
//! - the ping WooCommerce sends when a webhook is saved (`webhook_id=N` form body, no
//!   `X-WC-Webhook-*` headers, unsigned): acknowledged with no orders, so WooCommerce
//!   accepts the delivery URL. Any other unsigned delivery is `invalid-signature`.
//!
//! The idempotency key is `X-WC-Webhook-Delivery-ID` plus a digest of the body:
//! WooCommerce derives the delivery id from the webhook id and the current *second*
//! (`wp_hash(id . strtotime('now'))`), so two different events of one webhook in the same
//! second share it. With the digest, a redelivery of the same event is still one key and
//! two events are two.

use wharf_sdk::header;
use wharf_sdk::sign::hmac_sha256;
use wharf_sdk::types::{ConnectorError, Header, WebhookEvent};
use wharf_sdk::webhook;

use crate::mapping;

/// Topics whose body is one order.
pub const ORDER_TOPICS: [&str; 3] = ["order.created", "order.updated", "order.restored"];
/// The topic reported for WooCommerce's creation ping.
pub const PING_TOPIC: &str = "ping";

/// Is `body` WooCommerce's ping (`webhook_id=N`)?
pub fn is_ping(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| s.trim().strip_prefix("webhook_id="))
        .is_some_and(|id| {
            !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The idempotency key: the delivery id and 16 hex digits of the body's digest.
pub fn delivery_key(delivery_id: &str, body: &[u8]) -> String {
    let digest = hmac_sha256(b"wharf-woocommerce-delivery", body);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{delivery_id}:{hex}")
}

/// Verify a delivery with the webhook secret and translate it. A missing or wrong
/// signature is `invalid-signature`; a signed body that is not what its topic promises is
/// `invalid-input`.
pub fn verify(
    headers: &[Header],
    body: &[u8],
    secret: &str,
) -> Result<WebhookEvent, ConnectorError> {
    if header(headers, "X-WC-Webhook-Signature").is_none()
        && header(headers, "X-WC-Webhook-Topic").is_none()
        && is_ping(body)
    {
        return Ok(WebhookEvent {
            delivery_id: None,
            topic: PING_TOPIC.into(),
            orders: Vec::new(),
        });
    }
    webhook::verify_hmac_header(
        headers,
        "X-WC-Webhook-Signature",
        secret.as_bytes(),
        "webhook secret",
        body,
    )?;
    let topic = webhook::required_header(headers, "X-WC-Webhook-Topic")?;
    let delivery_id = webhook::optional_header(headers, "X-WC-Webhook-Delivery-ID")
        .map(|d| delivery_key(&d, body));
    let orders = webhook::orders_of(&topic, body, &ORDER_TOPICS, |body| {
        mapping::order_from_bytes(body).map_err(|e| match e {
            ConnectorError::InvalidInput(m) => {
                ConnectorError::InvalidInput(format!("webhook body ({topic}): {m}"))
            }
            other => other,
        })
    })?;
    Ok(WebhookEvent {
        delivery_id,
        topic,
        orders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_sdk::sign::hmac_sha256_base64;

    const SECRET: &str = "wh-secret";

    fn body() -> Vec<u8> {
        serde_json::json!({
            "id": 812, "number": "812", "status": "processing", "currency": "USD",
            "date_created_gmt": "2024-04-01T10:00:00", "date_modified_gmt": "2024-04-01T10:05:00",
            "total": "10.00", "shipping_total": "0.00", "total_tax": "0.00",
            "billing": {"first_name": "A", "email": "a@example.com"},
            "line_items": [{"id": 1, "name": "T", "product_id": 3, "quantity": 1,
                            "subtotal": "10.00", "total": "10.00", "price": 10}]
        })
        .to_string()
        .into_bytes()
    }

    fn headers(topic: &str, sig: &str) -> Vec<Header> {
        [
            ("x-wc-webhook-signature", sig),
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-Resource", "order"),
            ("X-WC-Webhook-Event", "created"),
            ("X-WC-Webhook-ID", "7"),
            ("X-WC-Webhook-Delivery-ID", "a1b2c3"),
            ("X-WC-Webhook-Source", "https://shop.example.com/"),
        ]
        .into_iter()
        .map(|(n, v)| Header {
            name: n.into(),
            value: v.into(),
        })
        .collect()
    }

    // A correctly signed order topic yields the order and a delivery key.
    #[test]
    fn signed_order_topics_yield_the_order() {
        let b = body();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        for topic in ORDER_TOPICS {
            let ev = verify(&headers(topic, &sig), &b, SECRET).unwrap();
            assert_eq!(ev.topic, topic);
            assert_eq!(ev.delivery_id, Some(delivery_key("a1b2c3", &b)));
            assert_eq!(ev.orders.len(), 1);
            assert_eq!(ev.orders[0].external_id, "812");
        }
    }

    // Two events sharing WooCommerce's per-second delivery id get different keys; the
    // same event redelivered keeps its key.
    #[test]
    fn delivery_keys_separate_events_in_one_second() {
        let a = delivery_key("d", b"{\"id\":1}");
        assert_eq!(a, delivery_key("d", b"{\"id\":1}"));
        assert_ne!(a, delivery_key("d", b"{\"id\":2}"));
        assert!(a.starts_with("d:") && a.len() == 2 + 16);
    }

    // order.deleted (only the id) and other topics are acknowledged with no orders.
    #[test]
    fn deleted_and_other_topics_carry_no_orders() {
        for (topic, b) in [
            ("order.deleted", br#"{"id": 812}"#.to_vec()),
            ("product.updated", br#"{"id": 5, "name": "P"}"#.to_vec()),
        ] {
            let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
            let ev = verify(&headers(topic, &sig), &b, SECRET).unwrap();
            assert_eq!(ev.topic, topic);
            assert!(ev.orders.is_empty());
        }
    }

    // WooCommerce's unsigned creation ping is acknowledged with no orders; other unsigned
    // bodies are not.
    #[test]
    fn the_ping_is_accepted() {
        let ev = verify(&[], b"webhook_id=15", SECRET).unwrap();
        assert_eq!(
            (ev.topic.as_str(), ev.delivery_id, ev.orders.len()),
            ("ping", None, 0)
        );
        assert!(matches!(
            verify(&[], &body(), SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
        assert!(matches!(
            verify(&[], b"webhook_id=abc", SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
    }

    // Missing, wrong-key and tampered signatures are invalid-signature.
    #[test]
    fn bad_signatures_are_refused() {
        let b = body();
        let good = hmac_sha256_base64(SECRET.as_bytes(), &b);
        let no_sig: Vec<Header> = headers("order.created", &good)
            .into_iter()
            .filter(|h| !h.name.eq_ignore_ascii_case("x-wc-webhook-signature"))
            .collect();
        assert!(matches!(
            verify(&no_sig, &b, SECRET),
            Err(ConnectorError::InvalidSignature(m)) if m.contains("missing")
        ));
        let wrong = hmac_sha256_base64(b"other", &b);
        assert!(matches!(
            verify(&headers("order.created", &wrong), &b, SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
        let mut tampered = b.clone();
        tampered[8] ^= 1;
        assert!(matches!(
            verify(&headers("order.created", &good), &tampered, SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
    }

    // A good signature over a body that is not an order is invalid-input with a reason.
    #[test]
    fn signed_garbage_is_invalid_input() {
        let b = b"{\"id\": \"nope\"".to_vec();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        assert!(matches!(
            verify(&headers("order.updated", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("webhook body")
        ));
        assert!(matches!(
            verify(&headers("coupon.created", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("not JSON")
        ));
        let b = body();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        assert!(matches!(
            verify(&headers(" ", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("X-WC-Webhook-Topic")
        ));
    }
}
