//! Real-shaped Shopify payloads: orders from the simulator's seeded generator
//! (`wharf_sim::shopify::generate`), serialised as Shopify sends them, and signed webhook
//! deliveries (`X-Shopify-Hmac-Sha256` with the app's client secret).

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use wharf_sdk::sign::hmac_sha256_base64;
use wharf_sim::shopify::generate;

/// The shop every benchmark installation is for (mapped to a simulator by `--resolve`).
pub const SHOP: &str = "bench.myshopify.com";
/// The app's client secret: the webhook HMAC key (also the simulator's).
pub const CLIENT_SECRET: &str = "bench_client_secret";
pub const ACCESS_TOKEN: &str = "shpat_bench_token";
/// The size the issue asks the single-payload benchmarks to use.
pub const TARGET_BODY_BYTES: usize = 5 * 1024;

const FIRST_ID: u64 = 9_000_000_000_000;
/// Shopify writes times in the shop's zone; UTC−4 like the simulator's default.
const UTC_OFFSET_MINUTES: i32 = -240;

/// Order number `seq` of a run: a distinct id, generated from seed `seq`, updated at
/// `at_ms`.
pub fn order(seq: u64, at_ms: i64) -> Value {
    let mut rng = StdRng::seed_from_u64(seq);
    generate::order(
        &mut rng,
        FIRST_ID + seq,
        1001 + seq,
        at_ms,
        UTC_OFFSET_MINUTES,
    )
}

/// The one ~5 KB order body the runtime and translate benchmarks call with: of the first
/// 400 generated orders, the one whose body is closest to 5 KiB (deterministic).
pub fn fixture_body() -> Vec<u8> {
    const AT_MS: i64 = 1_717_243_200_000; // 2024-06-01T12:00:00Z
    (0..400)
        .map(|seq| serde_json::to_vec(&order(seq, AT_MS)).expect("JSON serialises"))
        .min_by_key(|b| b.len().abs_diff(TARGET_BODY_BYTES))
        .expect("400 candidates")
}

/// One signed `orders/create` delivery as Shopify sends it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Delivery {
    pub fn new(body: Vec<u8>, webhook_id: &str) -> Delivery {
        let headers = [
            ("Content-Type", "application/json".to_string()),
            (
                "X-Shopify-Hmac-Sha256",
                hmac_sha256_base64(CLIENT_SECRET.as_bytes(), &body),
            ),
            ("X-Shopify-Topic", "orders/create".into()),
            ("X-Shopify-Shop-Domain", SHOP.into()),
            ("X-Shopify-API-Version", "2024-04".into()),
            ("X-Shopify-Webhook-Id", webhook_id.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Delivery { headers, body }
    }

    /// The headers as the guest SDK types them (for the native side of a comparison).
    pub fn sdk_headers(&self) -> Vec<wharf_sdk::types::Header> {
        self.headers
            .iter()
            .map(|(name, value)| wharf_sdk::types::Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    }
}

/// `n` deliveries of distinct orders, numbered from `first` (distinct ranges never share
/// an order id or a webhook id), updated at increasing times ending now.
pub fn deliveries(first: u64, n: usize) -> Vec<Delivery> {
    let now = wharf_sim::time::now_ms();
    (0..n as u64)
        .map(|i| {
            let seq = first + i;
            let at = now - (n as i64 - i as i64) * 10;
            let body = serde_json::to_vec(&order(seq, at)).expect("JSON serialises");
            Delivery::new(body, &format!("bench-{seq:012}"))
        })
        .collect()
}

/// Mean body size of a set of deliveries, in bytes.
pub fn mean_body_bytes(d: &[Delivery]) -> usize {
    d.iter().map(|d| d.body.len()).sum::<usize>() / d.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The fixture is a real Shopify-shaped order of about 5 KB and is the same every run.
    #[test]
    fn fixture_is_about_5kb_and_stable() {
        let a = fixture_body();
        assert!(
            a.len().abs_diff(TARGET_BODY_BYTES) < 1024,
            "{} bytes",
            a.len()
        );
        assert_eq!(a, fixture_body());
        let v: Value = serde_json::from_slice(&a).unwrap();
        assert!(v["line_items"].as_array().is_some_and(|l| !l.is_empty()));
    }

    // Deliveries carry distinct orders and a signature the plugin accepts.
    #[test]
    fn deliveries_are_distinct_and_signed() {
        let d = deliveries(0, 3);
        let ids: std::collections::BTreeSet<u64> = d
            .iter()
            .map(|d| {
                serde_json::from_slice::<Value>(&d.body).unwrap()["id"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 3);
        let ev =
            wharf_plugin_shopify::webhook::verify(&d[0].sdk_headers(), &d[0].body, CLIENT_SECRET)
                .expect("the plugin's own verification accepts the signature");
        assert_eq!(ev.orders.len(), 1);
    }
}
