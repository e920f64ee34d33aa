//! WooCommerce webhook deliveries: the order (or `{"id"}` for `order.deleted`) as the
//! body, WooCommerce's `X-WC-Webhook-*` headers, `X-WC-Webhook-Signature` = base64
//! HMAC-SHA256 of the body with the webhook secret, and the ping sent when a webhook is
//! saved (`webhook_id=N`, unsigned, no `X-WC-Webhook-*` headers).
//!
//! The delivery id is WooCommerce's: `wp_hash(webhook_id . strtotime('now'))` — a hash of
//! the webhook id and the current second, so two events of one webhook delivered in the
//! same second share it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use sha2::Sha256;

use super::WooSim;
use crate::{time, SimError};

/// One delivery as WooCommerce sends it; a redelivery reuses it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-WC-Webhook-Topic`, e.g. `order.created`.
    pub topic: String,
    /// `X-WC-Webhook-Resource` (`order`).
    pub resource: String,
    /// `X-WC-Webhook-Event` (`created`, `updated`, `deleted`, `restored`).
    pub event: String,
    /// `X-WC-Webhook-Delivery-ID`.
    pub delivery_id: String,
    pub body: Vec<u8>,
}

/// `wp_hash(webhook_id . unix_seconds)` (an MD5 hex digest, salted like WordPress's).
pub fn delivery_id(webhook_id: u64, unix_secs: i64) -> String {
    let mut h = Md5::new();
    h.update(format!("wharf-sim-salt{webhook_id}{unix_secs}").as_bytes());
    hex::encode(h.finalize())
}

impl WooSim {
    /// `X-WC-Webhook-Signature` of a body: base64 HMAC-SHA256 with the webhook secret.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.config().webhook_secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A delivery of `topic` (`order.created`, `order.updated`, `order.deleted`,
    /// `order.restored`) for `order`: the order itself, or only its id for `deleted`.
    pub fn delivery(&self, topic: &str, order: &Value) -> Delivery {
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        let body = if event == "deleted" {
            json!({"id": order["id"]})
        } else {
            order.clone()
        };
        Delivery {
            topic: topic.to_string(),
            resource: resource.to_string(),
            event: event.to_string(),
            delivery_id: delivery_id(self.config().webhook_id, time::now_ms() / 1000),
            body: serde_json::to_vec(&body).expect("JSON values serialise"),
        }
    }

    /// POST `delivery` to `url`, signed (or with a wrong signature when `good_signature`
    /// is false); the receiver's status.
    pub async fn post_delivery(
        &self,
        url: &str,
        delivery: &Delivery,
        good_signature: bool,
    ) -> Result<u16, SimError> {
        let cfg = self.config();
        let signature = if good_signature {
            self.sign(&delivery.body)
        } else {
            let mut tampered = delivery.body.clone();
            tampered.push(b' ');
            self.sign(&tampered)
        };
        let source = match &cfg.site_url {
            Some(u) => format!("{}/", u.trim_end_matches('/')),
            None => format!("{}/", self.base_url()),
        };
        let resp = self
            .inner
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)")
            .header("X-WC-Webhook-Source", source)
            .header("X-WC-Webhook-Topic", &delivery.topic)
            .header("X-WC-Webhook-Resource", &delivery.resource)
            .header("X-WC-Webhook-Event", &delivery.event)
            .header("X-WC-Webhook-Signature", signature)
            .header("X-WC-Webhook-ID", cfg.webhook_id.to_string())
            .header("X-WC-Webhook-Delivery-ID", &delivery.delivery_id)
            .body(delivery.body.clone())
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }

    /// One signed delivery of a new `topic` event for `order`; the receiver's status.
    pub async fn send_webhook(
        &self,
        url: &str,
        topic: &str,
        order: &Value,
    ) -> Result<u16, SimError> {
        let d = self.delivery(topic, order);
        self.post_delivery(url, &d, true).await
    }

    /// The same with a signature that does not match the body.
    pub async fn send_bad_signature(
        &self,
        url: &str,
        topic: &str,
        order: &Value,
    ) -> Result<u16, SimError> {
        let d = self.delivery(topic, order);
        self.post_delivery(url, &d, false).await
    }

    /// The ping WooCommerce sends when a webhook is saved: `webhook_id=N` as a form body,
    /// no signature; WooCommerce refuses to save the webhook unless it gets a 2xx.
    pub async fn send_ping(&self, url: &str) -> Result<u16, SimError> {
        let resp = self
            .inner
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("User-Agent", "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)")
            .body(format!("webhook_id={}", self.config().webhook_id))
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }
}
