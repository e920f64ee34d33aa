//! Configuration of a simulated Amazon Selling Partner API for one seller.

/// A token bucket's refill rate (requests per second) and burst (bucket size), as the
/// SP-API documents them per operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub rate: f64,
    pub burst: u32,
}

/// The usage plans of the operations the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// `getOrders`: 0.0167/s, burst 20.
    pub get_orders: Limit,
    /// `getOrder`: 0.5/s, burst 30.
    pub get_order: Limit,
    /// `getOrderItems`: 0.5/s, burst 30.
    pub get_order_items: Limit,
    /// `patchListingsItem`: 5/s, burst 10.
    pub patch_listings_item: Limit,
}

impl RateLimits {
    /// Amazon's published default usage plans.
    pub fn amazon() -> Self {
        RateLimits {
            get_orders: Limit {
                rate: 0.0167,
                burst: 20,
            },
            get_order: Limit {
                rate: 0.5,
                burst: 30,
            },
            get_order_items: Limit {
                rate: 0.5,
                burst: 30,
            },
            patch_listings_item: Limit {
                rate: 5.0,
                burst: 10,
            },
        }
    }

    /// Limits no test reaches (1000/s, burst 1000), for tests about something else.
    pub fn fast() -> Self {
        let l = Limit {
            rate: 1000.0,
            burst: 1000,
        };
        RateLimits {
            get_orders: l,
            get_order: l,
            get_order_items: l,
            patch_listings_item: l,
        }
    }
}

/// The app, seller and rules the simulated SP-API knows.
#[derive(Debug, Clone)]
pub struct AmazonSimConfig {
    /// The LWA app's client id (`amzn1.application-oa2-client.…`).
    pub client_id: String,
    /// The LWA app's client secret.
    pub client_secret: String,
    /// The seller's refresh token (`Atzr|…`), exchanged for access tokens.
    pub refresh_token: String,
    /// The seller (merchant token) the listings endpoints accept.
    pub seller_id: String,
    /// The marketplaces the seller sells in; generated orders spread over them.
    pub marketplace_ids: Vec<String>,
    /// Lifetime of an access token, seconds (LWA: 3600).
    pub access_token_ttl_s: i64,
    /// Lifetime of a `getOrders` `NextToken`, ms (undocumented by Amazon; 30 minutes here).
    pub next_token_ttl_ms: i64,
    /// How close to now `LastUpdatedBefore` may be, ms (Amazon: two minutes).
    pub min_lag_ms: i64,
    /// Largest `MaxResultsPerPage` (Amazon: 100).
    pub max_results_per_page: u32,
    /// Order items per `getOrderItems` page (Amazon does not document it; 100 here).
    pub items_page_size: usize,
    pub limits: RateLimits,
}

impl Default for AmazonSimConfig {
    fn default() -> Self {
        AmazonSimConfig {
            client_id: "amzn1.application-oa2-client.5im0000000000000000000000000000".into(),
            client_secret: "amzn1.oa2-cs.v1.simsecret0123456789abcdef0123456789abcdef".into(),
            refresh_token: "Atzr|IwEBIsimrefreshtoken0123456789".into(),
            seller_id: "A2SIMSELLER0001".into(),
            // Germany (EUR) and the United Kingdom (GBP), both on the EU endpoint.
            marketplace_ids: vec!["A1PA6795UKMFR9".into(), "A1F83G8C2ARO7P".into()],
            access_token_ttl_s: 3600,
            next_token_ttl_ms: 1_800_000,
            min_lag_ms: 120_000,
            max_results_per_page: 100,
            items_page_size: 100,
            limits: RateLimits::amazon(),
        }
    }
}

/// The currency of a marketplace (public marketplace ids), `None` for one not listed.
pub fn marketplace_currency(id: &str) -> Option<&'static str> {
    Some(match id {
        "ATVPDKIKX0DER" => "USD",
        "A2EUQ1WTGCTBG2" => "CAD",
        "A1AM78C64UM0Y8" => "MXN",
        "A2Q3Y263D00KWC" => "BRL",
        "A1PA6795UKMFR9" | "A13V1IB3VIYZZH" | "APJ6JRA9NG5V4" | "A1RKKUPIHCS9HS"
        | "A1805IZSGTT6HS" | "AMEN7PMS3EDWL" => "EUR",
        "A1F83G8C2ARO7P" => "GBP",
        "A2NODRKZP88ZB9" => "SEK",
        "A1C3SOZRARQ6R3" => "PLN",
        "A33AVAJ2PDY3EV" => "TRY",
        "A21TJRUUN4KGV" => "INR",
        "A2VIGQ35RCS4UG" => "AED",
        "A17E79C6D8DWNP" => "SAR",
        "ARBP9OOSHTCHU" => "EGP",
        "A1VC38T7YXB528" => "JPY",
        "A39IBJ37TRP1C6" => "AUD",
        "A19VAU5U5O7RUS" => "SGD",
        _ => return None,
    })
}
