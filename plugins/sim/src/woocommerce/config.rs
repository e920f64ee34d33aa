//! Configuration of a simulated WooCommerce store.

/// The REST API keys, webhook and store settings the simulated site knows.
#[derive(Debug, Clone)]
pub struct WooSimConfig {
    /// The REST API key's consumer key (`ck_…`).
    pub consumer_key: String,
    /// The consumer secret (`cs_…`): the OAuth 1.0a signing key over HTTP, the Basic
    /// password over HTTPS.
    pub consumer_secret: String,
    /// The webhook's secret (`X-WC-Webhook-Signature` key).
    pub webhook_secret: String,
    /// The webhook's id (`X-WC-Webhook-ID`).
    pub webhook_id: u64,
    /// The site URL WooCommerce signs against (`get_home_url()`), e.g.
    /// `http://woo.example.com`. `None`: `http://` + the request's `Host` header.
    pub site_url: Option<String>,
    /// True when the site sits behind TLS (`is_ssl()`): WooCommerce then takes HTTP Basic
    /// auth (or `consumer_key`/`consumer_secret` query parameters) instead of OAuth 1.0a.
    pub behind_tls: bool,
    /// The store's currency.
    pub currency: String,
    /// The store's UTC offset for the non-GMT dates (`date_modified` …), minutes.
    pub utc_offset_minutes: i32,
    /// Largest `per_page` (WooCommerce: 100).
    pub max_per_page: u32,
    /// How old an `oauth_timestamp` may be, seconds (WooCommerce: 15 minutes).
    pub oauth_window_secs: i64,
}

impl Default for WooSimConfig {
    fn default() -> Self {
        WooSimConfig {
            consumer_key: "ck_0f3c1e5d9a7b4c2e8f6a1b3d5c7e9f0a2b4c6d8e".into(),
            consumer_secret: "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d".into(),
            webhook_secret: "wh_s3cr3t_4f8a2c".into(),
            webhook_id: 7,
            site_url: None,
            behind_tls: false,
            currency: "USD".into(),
            utc_offset_minutes: 120,
            max_per_page: 100,
            oauth_window_secs: 15 * 60,
        }
    }
}
