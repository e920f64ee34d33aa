//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

/// The largest `per_page` WooCommerce's REST API serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The REST namespace every call lives under.
pub const API_PATH: &str = "/wp-json/wc/v3";

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The WordPress site URL without a trailing slash, e.g. `https://shop.example.com`
    /// (a sub-directory install keeps its path). The scheme decides the authentication.
    pub site_url: String,
    /// Orders per request, 1–100.
    pub page_size: u32,
    /// How far back the first pull reaches, in days.
    pub lookback_days: u32,
    /// Orders modified in the last N seconds are left for the next pull.
    pub safety_lag_seconds: u32,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults. A missing `site_url` or a malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let site_url = read
            .required("site_url", "is required (e.g. https://shop.example.com)")?
            .trim_end_matches('/')
            .to_string();
        let like = "a site URL like https://shop.example.com";
        config::check_url("site_url", &site_url, UrlForm::PlainBase, like)?;
        Ok(Settings {
            site_url,
            page_size: read.int("page_size", MAX_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: read.int("lookback_days", 30, 1..=365)?,
            safety_lag_seconds: read.int("safety_lag_seconds", 60, 0..=3600)?,
        })
    }

    /// Over HTTPS WooCommerce takes HTTP Basic auth; over plain HTTP only OAuth 1.0a.
    pub fn https(&self) -> bool {
        self.site_url.starts_with("https://")
    }

    /// `{site_url}/wp-json/wc/v3`.
    pub fn api_base(&self) -> String {
        format!("{}{API_PATH}", self.site_url)
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

    // Only site_url is required; the defaults are pages of 100, 30 days, a 60 s lag.
    #[test]
    fn defaults_apply_when_unset() {
        let s =
            Settings::from_lookup(lookup(&[("site_url", "https://shop.example.com/")])).unwrap();
        assert_eq!(
            s,
            Settings {
                site_url: "https://shop.example.com".into(),
                page_size: 100,
                lookback_days: 30,
                safety_lag_seconds: 60,
            }
        );
        assert!(s.https());
        assert_eq!(s.api_base(), "https://shop.example.com/wp-json/wc/v3");
    }

    // Every key is read; a sub-directory install keeps its path; http is kept as given.
    #[test]
    fn values_are_read() {
        let s = Settings::from_lookup(lookup(&[
            ("site_url", "http://example.com/shop"),
            ("page_size", "7"),
            ("lookback_days", "2"),
            ("safety_lag_seconds", "0"),
        ]))
        .unwrap();
        assert_eq!(s.api_base(), "http://example.com/shop/wp-json/wc/v3");
        assert!(!s.https());
        assert_eq!(
            (s.page_size, s.lookback_days, s.safety_lag_seconds),
            (7, 2, 0)
        );
    }

    // Missing, out-of-range or malformed values are invalid-input naming the key.
    #[test]
    fn bad_values_name_the_key() {
        assert!(
            matches!(Settings::from_lookup(lookup(&[])), Err(ConnectorError::InvalidInput(m)) if m.contains("site_url"))
        );
        for (key, value) in [
            ("page_size", "101"),
            ("page_size", "0"),
            ("lookback_days", "366"),
            ("safety_lag_seconds", "soon"),
            ("site_url", "ftp://shop.example.com"),
            ("site_url", "https://"),
            ("site_url", "https://shop.example.com/?x=1"),
            ("site_url", "https://user@shop.example.com"),
        ] {
            let mut pairs = vec![("site_url", "https://shop.example.com")];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            match Settings::from_lookup(lookup(&pairs)) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{key}={value}: expected invalid-input, got {other:?}"),
            }
        }
    }
}
