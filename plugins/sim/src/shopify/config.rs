//! Configuration of a simulated Shopify shop.

/// Leaky-bucket rate limit: each call adds one to the bucket, which drains at
/// `leak_per_second`; a call that would overflow `bucket_size` gets 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub bucket_size: u32,
    pub leak_per_second: u32,
}

impl Default for RateLimit {
    /// Shopify's standard plan: a 40-call bucket leaking 2 calls/s.
    fn default() -> Self {
        RateLimit {
            bucket_size: 40,
            leak_per_second: 2,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ShopifySimConfig {
    /// The shop's domain as Shopify names it (`X-Shopify-Shop-Domain`), e.g.
    /// `demo.myshopify.com`.
    pub shop_domain: String,
    /// The Admin API access token the API accepts (`X-Shopify-Access-Token`).
    pub access_token: String,
    /// The app's client secret: webhook HMAC key.
    pub client_secret: String,
    /// The one API version served under `/admin/api/{version}/`.
    pub api_version: String,
    /// Largest `limit` accepted (Shopify: 250); above it is 400.
    pub max_limit: usize,
    /// `None`: no limit (the call-limit header is still sent).
    pub rate_limit: Option<RateLimit>,
    /// The shop's UTC offset, used for every timestamp it writes (Shopify writes times in
    /// the shop's time zone).
    pub utc_offset_minutes: i32,
    /// Seed of the random traffic generator ([`super::ShopifySim::spawn_traffic`]).
    pub seed: u64,
    /// The shop's one stock location (`inventory_levels/set.json` refuses others).
    pub location_id: u64,
}

impl Default for ShopifySimConfig {
    fn default() -> Self {
        ShopifySimConfig {
            shop_domain: "demo.myshopify.com".into(),
            access_token: "shpat_sim_token".into(),
            client_secret: "sim_client_secret".into(),
            api_version: "2024-04".into(),
            max_limit: 250,
            rate_limit: None,
            utc_offset_minutes: -240,
            seed: 42,
            location_id: 655_441_491,
        }
    }
}
