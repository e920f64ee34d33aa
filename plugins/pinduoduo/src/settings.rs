//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

/// The real router endpoint (the manifest's default for `api_url`).
pub const DEFAULT_API_URL: &str = "https://gw-api.pinduoduo.com/api/router";
/// PDD refuses an increment window longer than 30 minutes.
pub const MAX_WINDOW_MINUTES: u32 = 30;
/// The largest `page_size` `pdd.order.number.list.increment.get` serves.
pub const MAX_PAGE_SIZE: u32 = 100;
pub const DEFAULT_LOOKBACK_DAYS: u32 = 7;
pub const MAX_LOOKBACK_DAYS: u32 = 90;

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `https://gw-api.pinduoduo.com/api/router`; tests use `http://…`.
    pub api_url: String,
    pub window_minutes: u32,
    pub page_size: u32,
    pub lookback_days: u32,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults for anything unset. A malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        // Set but blank is refused (not defaulted): the manifest always fills a default.
        let api_url = read
            .raw("api_url")
            .map_or_else(|| DEFAULT_API_URL.into(), |s| s.trim().to_string());
        let like = format!("a URL like {DEFAULT_API_URL}");
        config::check_url("api_url", &api_url, UrlForm::Base, &like)?;
        Ok(Settings {
            api_url,
            window_minutes: read.int(
                "window_minutes",
                MAX_WINDOW_MINUTES,
                1..=MAX_WINDOW_MINUTES,
            )?,
            page_size: read.int("page_size", MAX_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: read.int(
                "lookback_days",
                DEFAULT_LOOKBACK_DAYS,
                1..=MAX_LOOKBACK_DAYS,
            )?,
        })
    }

    /// Window length in seconds.
    pub fn window_secs(&self) -> i64 {
        i64::from(self.window_minutes) * 60
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

    // Nothing is required; unset keys take the manifest's defaults.
    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(s.api_url, DEFAULT_API_URL);
        assert_eq!(
            (s.window_minutes, s.page_size, s.lookback_days),
            (30, 100, 7)
        );
        assert_eq!(s.window_secs(), 1800);
    }

    // Given values are used; the http scheme is kept for the simulator.
    #[test]
    fn given_values_are_used() {
        let s = Settings::from_lookup(lookup(&[
            ("api_url", "http://gw-api.pinduoduo.com/api/router"),
            ("window_minutes", "10"),
            ("page_size", "5"),
            ("lookback_days", "1"),
        ]))
        .unwrap();
        assert_eq!(s.api_url, "http://gw-api.pinduoduo.com/api/router");
        assert_eq!((s.window_minutes, s.page_size, s.lookback_days), (10, 5, 1));
    }

    // Out-of-range and malformed values are refused with an error naming the key.
    #[test]
    fn bad_values_name_the_key() {
        let err = |pairs: &[(&str, &str)]| match Settings::from_lookup(lookup(pairs)) {
            Err(ConnectorError::InvalidInput(m)) => m,
            other => panic!("expected invalid-input, got {other:?}"),
        };
        assert!(err(&[("window_minutes", "31")]).contains("window_minutes"));
        assert!(err(&[("window_minutes", "0")]).contains("window_minutes"));
        assert!(err(&[("page_size", "101")]).contains("page_size"));
        assert!(err(&[("lookback_days", "x")]).contains("lookback_days"));
        assert!(err(&[("api_url", "gw-api.pinduoduo.com/api/router")]).contains("https://"));
        assert!(err(&[("api_url", "https:///api/router")]).contains("api_url"));
    }
}
