//! Shopify-style webhook deliveries: signed body, Shopify's headers, and retries of
//! failed deliveries with the same `X-Shopify-Webhook-Id`.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::Value;
use sha2::Sha256;

use super::ShopifySim;
use crate::{time, SimError};

/// One event as Shopify sends it; redeliveries reuse it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// `X-Shopify-Webhook-Id`: stable across redeliveries of this event.
    pub webhook_id: String,
    /// `X-Shopify-Topic`, e.g. `orders/create`.
    pub topic: String,
    /// `X-Shopify-Triggered-At`.
    pub triggered_at: String,
    pub body: Vec<u8>,
}

/// How failed deliveries are retried: `max_attempts` in all, waiting `backoff`, then
/// `backoff × factor`, … between them. A delivery fails on a non-2xx status, a
/// connection error, or no answer within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Duration,
    pub factor: u32,
    pub timeout: Duration,
}

impl RetryPolicy {
    /// Shopify's shape: the first try plus 8 retries over about four hours (1 min,
    /// doubling), 5 s to answer.
    pub fn shopify() -> Self {
        RetryPolicy {
            max_attempts: 9,
            backoff: Duration::from_secs(60),
            factor: 2,
            timeout: Duration::from_secs(5),
        }
    }

    /// The same shape on a millisecond scale, for tests and demos.
    pub fn fast(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            backoff: Duration::from_millis(10),
            factor: 2,
            timeout: Duration::from_secs(5),
        }
    }

    /// Wait before retry number `n` (1-based).
    fn wait(&self, n: u32) -> Duration {
        self.backoff
            .saturating_mul(self.factor.max(1).saturating_pow(n.saturating_sub(1)))
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this status.
    Status(u16),
    /// No answer: connection refused, timeout …
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub webhook_id: String,
    pub attempts: Vec<Attempt>,
    /// True when an attempt got a 2xx.
    pub delivered: bool,
}

fn uuid_like(rng: &mut impl Rng) -> String {
    let hex = |rng: &mut dyn rand::RngCore, n: usize| -> String {
        (0..n)
            .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
            .collect()
    };
    format!(
        "{}-{}-4{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 4),
        hex(rng, 12)
    )
}

impl ShopifySim {
    /// `X-Shopify-Hmac-Sha256` of a body: base64 HMAC-SHA256 with the client secret.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.config().client_secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A new event for `topic` carrying `payload` (for order topics, the order itself).
    pub fn event(&self, topic: &str, payload: &Value) -> WebhookEvent {
        WebhookEvent {
            webhook_id: uuid_like(&mut rand::thread_rng()),
            topic: topic.to_string(),
            triggered_at: time::format_utc_millis(time::now_ms()),
            body: serde_json::to_vec(payload).expect("JSON values serialise"),
        }
    }

    /// POST one delivery of `event` to `target_url`; the receiver's status, or the
    /// transport error.
    pub async fn post_event(
        &self,
        target_url: &str,
        event: &WebhookEvent,
        timeout: Duration,
    ) -> Result<u16, SimError> {
        let cfg = self.config();
        let resp = self
            .inner
            .http
            .post(target_url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("X-Shopify-Hmac-Sha256", self.sign(&event.body))
            .header("X-Shopify-Topic", &event.topic)
            .header("X-Shopify-Shop-Domain", &cfg.shop_domain)
            .header("X-Shopify-API-Version", &cfg.api_version)
            .header("X-Shopify-Webhook-Id", &event.webhook_id)
            .header("X-Shopify-Triggered-At", &event.triggered_at)
            .body(event.body.clone())
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }

    /// One delivery of a new `topic` event carrying `order`; the receiver's status.
    pub async fn send_webhook(
        &self,
        target_url: &str,
        topic: &str,
        order: &Value,
    ) -> Result<u16, SimError> {
        let event = self.event(topic, order);
        self.post_event(target_url, &event, RetryPolicy::shopify().timeout)
            .await
    }

    /// Deliver a new `topic` event carrying `order`, retrying like Shopify.
    pub async fn deliver(
        &self,
        target_url: &str,
        topic: &str,
        order: &Value,
        retry: RetryPolicy,
    ) -> DeliveryReport {
        let event = self.event(topic, order);
        self.deliver_event(target_url, &event, retry).await
    }

    /// Deliver `event` (again, if it was delivered before: a duplicate), retrying
    /// non-2xx answers and transport errors with `retry`.
    pub async fn deliver_event(
        &self,
        target_url: &str,
        event: &WebhookEvent,
        retry: RetryPolicy,
    ) -> DeliveryReport {
        let mut attempts = Vec::new();
        let mut delivered = false;
        for n in 0..retry.max_attempts.max(1) {
            if n > 0 {
                tokio::time::sleep(retry.wait(n)).await;
            }
            match self.post_event(target_url, event, retry.timeout).await {
                Ok(status) => {
                    attempts.push(Attempt::Status(status));
                    if (200..300).contains(&status) {
                        delivered = true;
                        break;
                    }
                }
                Err(e) => attempts.push(Attempt::Error(e.to_string())),
            }
        }
        DeliveryReport {
            webhook_id: event.webhook_id.clone(),
            attempts,
            delivered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Backoff grows by the factor: 10, 20, 40 ms for the fast policy.
    #[test]
    fn backoff_doubles() {
        let p = RetryPolicy::fast(4);
        assert_eq!(
            (1..=3).map(|n| p.wait(n).as_millis()).collect::<Vec<_>>(),
            [10, 20, 40]
        );
        let s = RetryPolicy::shopify();
        let total: Duration = (1..s.max_attempts).map(|n| s.wait(n)).sum();
        assert!(total >= Duration::from_secs(4 * 3600) && total < Duration::from_secs(5 * 3600));
    }

    // Webhook ids look like Shopify's UUIDs.
    #[test]
    fn ids_are_uuid_shaped() {
        let id = uuid_like(&mut rand::thread_rng());
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
    }
}
