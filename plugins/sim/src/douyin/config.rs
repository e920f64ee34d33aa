//! Configuration of a simulated doudian (抖店) open platform for one app and one shop.

/// The app and shop the simulated gateway knows. Every request must carry this app's
/// `app_key`, be signed with its `app_secret` and carry the shop's `access_token`.
#[derive(Debug, Clone)]
pub struct DouyinSimConfig {
    pub app_key: String,
    /// The signing secret (never sent over the wire).
    pub app_secret: String,
    /// The shop's access token.
    pub access_token: String,
    /// The shop every order belongs to (`shop_id`).
    pub shop_id: u64,
    /// Largest `size` of `order.searchList` (doudian: 100).
    pub max_page_size: u32,
    /// Longest `update_time_end − update_time_start` accepted, seconds (one day; the
    /// real limit is not published, see the plugin README).
    pub max_window_secs: i64,
    /// How far the request `timestamp` may be from the gateway's clock, seconds.
    pub max_clock_skew_secs: i64,
}

impl Default for DouyinSimConfig {
    fn default() -> Self {
        DouyinSimConfig {
            app_key: "7100000000000000001".into(),
            app_secret: "sim-doudian-app-secret-0123456789".into(),
            access_token: "sim-doudian-access-token-abcdef".into(),
            shop_id: 4_463_798,
            max_page_size: 100,
            max_window_secs: 86_400,
            max_clock_skew_secs: 600,
        }
    }
}
