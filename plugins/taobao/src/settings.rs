//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;
use wharf_sdk::windows::Walk;

/// The largest `page_size` `taobao.trades.sold.increment.get` serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The longest modified-time window TOP accepts in one request: one day.
pub const MAX_WINDOW_MINUTES: u32 = 1440;
/// The production gateway.
pub const DEFAULT_API_URL: &str = "https://eco.taobao.com/router/rest";

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The TOP gateway URL, e.g. `https://eco.taobao.com/router/rest`; the scheme is kept
    /// as given (tests use `http://gw.api.taobao.com/router/rest`).
    pub api_url: String,
    /// Length of one incremental-pull window, 1–1440 minutes.
    pub window_minutes: u32,
    /// Trades per page, 1–100.
    pub page_size: u32,
    /// How far back the first pull reaches, in days.
    pub lookback_days: u32,
    /// When set, every trade must belong to this seller (guards against a session of
    /// another shop).
    pub seller_nick: Option<String>,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults for anything unset. A malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let api_url = read
            .text("api_url")
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let like = format!("a gateway URL like {DEFAULT_API_URL}");
        config::check_url("api_url", &api_url, UrlForm::Base, &like)?;
        Ok(Settings {
            api_url,
            window_minutes: read.int("window_minutes", 30, 1..=MAX_WINDOW_MINUTES)?,
            page_size: read.int("page_size", MAX_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: read.int("lookback_days", 7, 1..=90)?,
            seller_nick: read.text("seller_nick"),
        })
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * 60_000
    }

    /// The pull's window walk: TOP's one-day windows, paged from page 1.
    pub fn walk(&self) -> Walk {
        Walk {
            max_window_ms: i64::from(MAX_WINDOW_MINUTES) * 60_000,
            first_page: 1,
            window_ms: self.window_ms(),
            page_size: self.page_size,
            lookback_days: self.lookback_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    // Nothing is required: the defaults are the production gateway, 30-minute windows,
    // pages of 100 and a 7-day look-back.
    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(
            s,
            Settings {
                api_url: DEFAULT_API_URL.into(),
                window_minutes: 30,
                page_size: 100,
                lookback_days: 7,
                seller_nick: None,
            }
        );
        assert_eq!(s.window_ms(), 1_800_000);
    }

    // Every key is read; the http scheme is kept so tests can reach a simulator.
    #[test]
    fn values_are_read() {
        let s = Settings::from_lookup(lookup(&[
            ("api_url", "http://gw.api.taobao.com/router/rest"),
            ("window_minutes", "1440"),
            ("page_size", "7"),
            ("lookback_days", "2"),
            ("seller_nick", " 店铺 "),
        ]))
        .unwrap();
        assert_eq!(s.api_url, "http://gw.api.taobao.com/router/rest");
        assert_eq!(
            (s.window_minutes, s.page_size, s.lookback_days),
            (1440, 7, 2)
        );
        assert_eq!(s.seller_nick.as_deref(), Some("店铺"));
    }

    // Out-of-range or malformed values are invalid-input naming the key.
    #[test]
    fn bad_values_name_the_key() {
        for (key, value) in [
            ("window_minutes", "1441"),
            ("window_minutes", "0"),
            ("page_size", "101"),
            ("page_size", "many"),
            ("lookback_days", "0"),
            ("api_url", "ftp://gw.api.taobao.com"),
            ("api_url", "https://"),
            ("api_url", "https://eco.taobao.com/router/rest?x=1"),
        ] {
            match Settings::from_lookup(lookup(&[(key, value)])) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{key}={value}: expected invalid-input, got {other:?}"),
            }
        }
    }

    // The pull walks TOP's windows: at most one day, pages counted from 1.
    #[test]
    fn the_walk_has_tops_limits() {
        let w = Settings::from_lookup(lookup(&[("page_size", "7")]))
            .unwrap()
            .walk();
        assert_eq!((w.max_window_ms, w.first_page), (86_400_000, 1));
        assert_eq!(
            (w.window_ms, w.page_size, w.lookback_days),
            (1_800_000, 7, 7)
        );
    }
}
