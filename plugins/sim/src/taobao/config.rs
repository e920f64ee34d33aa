//! Configuration of a simulated Taobao open platform (TOP) for one seller.

/// The app and seller the simulated gateway knows. Every request must carry this app's
/// `app_key`, be signed with its `app_secret` and carry the seller's `session`.
#[derive(Debug, Clone)]
pub struct TaobaoSimConfig {
    pub app_key: String,
    /// The MD5 signing secret (never sent over the wire).
    pub app_secret: String,
    /// The seller's access token (`session` parameter).
    pub session: String,
    /// The seller every trade belongs to (`seller_nick`).
    pub seller_nick: String,
    /// Largest `page_size` of `taobao.trades.sold.increment.get` (TOP: 100).
    pub max_page_size: u32,
    /// Longest `end_modified − start_modified` accepted, ms (TOP: one day).
    pub max_window_ms: i64,
    /// How far the request `timestamp` may be from the gateway's clock, ms (TOP: 10 min).
    pub max_clock_skew_ms: i64,
}

impl Default for TaobaoSimConfig {
    fn default() -> Self {
        TaobaoSimConfig {
            app_key: "12345678".into(),
            app_secret: "sim_app_secret_0123456789abcdef".into(),
            session: "6100a1b2c3d4e5f6sim_session".into(),
            seller_nick: "wharf旗舰店".into(),
            max_page_size: 100,
            max_window_ms: 86_400_000,
            max_clock_skew_ms: 600_000,
        }
    }
}
