//! Configuration of a simulated JD open platform (JOS) for one POP seller.

/// The app and seller the simulated gateway knows. Every request must carry this app's
/// `app_key`, be signed with its `app_secret` and carry the seller's `access_token`.
#[derive(Debug, Clone)]
pub struct JdSimConfig {
    pub app_key: String,
    /// The MD5 signing secret (never sent over the wire).
    pub app_secret: String,
    /// The seller's OAuth access token (`access_token` parameter).
    pub access_token: String,
    /// The seller every order belongs to (`venderId`).
    pub vender_id: String,
    /// Largest `page_size` of `jingdong.pop.order.search` (100).
    pub max_page_size: u32,
    /// Longest `end_date − start_date` accepted, ms (the simulator's choice: 30 days).
    pub max_window_ms: i64,
    /// How far the request `timestamp` may be from the gateway's clock, ms (JOS: 6 min).
    pub max_clock_skew_ms: i64,
}

impl Default for JdSimConfig {
    fn default() -> Self {
        JdSimConfig {
            app_key: "8F2A5C0D1E3B4A6978C1D2E3F4A5B6C7".into(),
            app_secret: "sim_jd_app_secret_fedcba9876543210".into(),
            access_token: "a1b2c3d4e5f6sim_jd_access_token".into(),
            vender_id: "10086001".into(),
            max_page_size: 100,
            max_window_ms: 30 * 86_400_000,
            max_clock_skew_ms: 360_000,
        }
    }
}
