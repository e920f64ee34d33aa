//! Webhook verification: `X-Shopify-Hmac-Sha256` over the raw body, then translation of
//! the order topics. Pure: the secret is passed in.

use wharf_sdk::types::{ConnectorError, Header, WebhookEvent};
use wharf_sdk::webhook;

use crate::mapping;

/// Topics whose body is one order object.
pub const ORDER_TOPICS: [&str; 6] = [
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
];

/// Verify a delivery with the app's client secret and translate it. A missing or wrong
/// signature is `invalid-signature`; a signed body that is not what its topic promises is
/// `invalid-input`.
pub fn verify(
    headers: &[Header],
    body: &[u8],
    client_secret: &str,
) -> Result<WebhookEvent, ConnectorError> {
    webhook::verify_hmac_header(
        headers,
        "X-Shopify-Hmac-Sha256",
        client_secret.as_bytes(),
        "client secret",
        body,
    )?;
    let topic = webhook::required_header(headers, "X-Shopify-Topic")?;
    let delivery_id = webhook::optional_header(headers, "X-Shopify-Webhook-Id");
    let orders = webhook::orders_of(&topic, body, &ORDER_TOPICS, mapping::order_from_bytes)?;
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

    const SECRET: &str = "hush";

    fn body() -> Vec<u8> {
        serde_json::json!({
            "id": 820982911946154508u64, "name": "#9999", "email": "jon@example.com",
            "created_at": "2024-04-01T12:00:00+02:00", "updated_at": "2024-04-01T12:05:00+02:00",
            "currency": "EUR", "financial_status": "paid", "fulfillment_status": null,
            "cancelled_at": null, "total_price": "10.00", "total_discounts": "0.00",
            "total_tax": "0.00", "taxes_included": true, "tags": "",
            "line_items": [{"id": 1, "sku": "S", "variant_id": 2, "title": "T", "quantity": 1,
                            "price": "10.00", "discount_allocations": []}],
            "shipping_lines": []
        })
        .to_string()
        .into_bytes()
    }

    fn headers(topic: &str, sig: &str) -> Vec<Header> {
        [
            ("x-shopify-hmac-sha256", sig),
            ("X-Shopify-Topic", topic),
            (
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            ),
            ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
        ]
        .into_iter()
        .map(|(n, v)| Header {
            name: n.into(),
            value: v.into(),
        })
        .collect()
    }

    // A correctly signed order topic yields one order and the delivery id.
    #[test]
    fn signed_order_topic_yields_the_order() {
        let b = body();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        for topic in ORDER_TOPICS {
            let ev = verify(&headers(topic, &sig), &b, SECRET).unwrap();
            assert_eq!(ev.topic, topic);
            assert_eq!(
                ev.delivery_id.as_deref(),
                Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
            );
            assert_eq!(ev.orders.len(), 1);
            assert_eq!(ev.orders[0].external_id, "820982911946154508");
        }
    }

    // Other topics are acknowledged with no orders.
    #[test]
    fn other_topics_carry_no_orders() {
        let b = br#"{"id": 1, "title": "A product"}"#.to_vec();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        let ev = verify(&headers("products/update", &sig), &b, SECRET).unwrap();
        assert_eq!(ev.topic, "products/update");
        assert!(ev.orders.is_empty());
    }

    // Missing, wrong-key and tampered signatures are invalid-signature.
    #[test]
    fn bad_signatures_are_refused() {
        let b = body();
        let good = hmac_sha256_base64(SECRET.as_bytes(), &b);
        let no_sig: Vec<Header> = headers("orders/create", &good)
            .into_iter()
            .filter(|h| !h.name.eq_ignore_ascii_case("x-shopify-hmac-sha256"))
            .collect();
        assert!(matches!(
            verify(&no_sig, &b, SECRET),
            Err(ConnectorError::InvalidSignature(m)) if m.contains("missing")
        ));
        let wrong_key = hmac_sha256_base64(b"other", &b);
        assert!(matches!(
            verify(&headers("orders/create", &wrong_key), &b, SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
        let mut tampered = b.clone();
        tampered[10] ^= 1;
        assert!(matches!(
            verify(&headers("orders/create", &good), &tampered, SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
        assert!(matches!(
            verify(&headers("orders/create", "not base64"), &b, SECRET),
            Err(ConnectorError::InvalidSignature(_))
        ));
    }

    // A good signature over a body that is not an order is invalid-input with a reason.
    #[test]
    fn signed_garbage_is_invalid_input() {
        let b = b"{\"id\": \"nope\"".to_vec();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        assert!(matches!(
            verify(&headers("orders/updated", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("webhook body")
        ));
        assert!(matches!(
            verify(&headers("app/uninstalled", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("not JSON")
        ));
        let b = body();
        let sig = hmac_sha256_base64(SECRET.as_bytes(), &b);
        assert!(matches!(
            verify(&headers("", &sig), &b, SECRET),
            Err(ConnectorError::InvalidInput(m)) if m.contains("X-Shopify-Topic")
        ));
    }
}
