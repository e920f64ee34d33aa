//! Configuration of a simulated Pinduoduo open platform (one app, one shop).

/// How amounts (`pay_amount`, `goods_price` …) are written in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountStyle {
    /// JSON numbers with two decimals (`"pay_amount":102.20`), as PDD's order APIs do.
    Numbers,
    /// Decimal strings (`"pay_amount":"102.20"`).
    Strings,
}

#[derive(Debug, Clone)]
pub struct PddSimConfig {
    /// The app's `client_id`.
    pub client_id: String,
    /// The app's `client_secret`: the signing key.
    pub client_secret: String,
    /// The shop's `access_token` the API accepts (until revoked).
    pub access_token: String,
    /// Largest `page_size` accepted (PDD: 100); above it is error 10000.
    pub max_page_size: u32,
    /// Longest `[start_updated_at, end_updated_at]` window accepted (PDD: 30 minutes).
    pub max_window_secs: i64,
    /// How far `timestamp` may be from the simulator's clock.
    pub timestamp_tolerance_secs: i64,
    /// Calls per wall-clock second before error 70031; `None`: no limit.
    pub rate_limit_per_second: Option<u32>,
    pub amounts: AmountStyle,
    /// Encrypt receiver name / phone / address of orders awaiting shipment
    /// (`order_status` 1), as PDD does.
    pub encrypt_awaiting_shipment: bool,
}

impl Default for PddSimConfig {
    fn default() -> Self {
        PddSimConfig {
            client_id: "pdd_sim_client_id".into(),
            client_secret: "pdd_sim_client_secret".into(),
            access_token: "pdd_sim_access_token".into(),
            max_page_size: 100,
            max_window_secs: 30 * 60,
            timestamp_tolerance_secs: 600,
            rate_limit_per_second: None,
            amounts: AmountStyle::Numbers,
            encrypt_awaiting_shipment: true,
        }
    }
}
