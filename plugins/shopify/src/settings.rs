//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

/// The largest page Shopify's REST Admin API serves.
pub const MAX_PAGE_SIZE: u32 = 250;

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `https://acme.myshopify.com` (no trailing slash); the scheme is kept as given.
    pub shop_url: String,
    pub api_version: String,
    pub page_size: u32,
    pub lookback_days: u32,
    /// The location whose `available` stock push-inventory sets; None disables pushes.
    pub location_id: Option<u64>,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults for anything unset. A missing `shop_url` or a malformed value is
    /// `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let shop_url = read
            .required("shop_url", "is not set")?
            .trim_end_matches('/')
            .to_string();
        let origin = "the shop's origin, e.g. https://acme.myshopify.com";
        config::check_url("shop_url", &shop_url, UrlForm::Origin, origin)?;
        let api_version = read.raw("api_version").unwrap_or_else(|| "2024-04".into());
        let valid_version = api_version.len() == 7
            && api_version.as_bytes()[4] == b'-'
            && api_version
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !valid_version && api_version != "unstable" {
            return Err(config::invalid(
                "api_version",
                format!("{api_version:?} is not a Shopify API version like 2024-04"),
            ));
        }
        Ok(Settings {
            shop_url,
            api_version,
            page_size: read.int("page_size", MAX_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: read.int("lookback_days", 30, 1..=3650)?,
            location_id: match read.raw("location_id") {
                None => None,
                Some(raw) => Some(raw.trim().parse::<u64>().map_err(|_| {
                    config::invalid(
                        "location_id",
                        format!("{raw:?} must be a Shopify location id (digits)"),
                    )
                })?),
            },
        })
    }

    /// `{shop_url}/admin/api/{api_version}`: every REST call starts here.
    pub fn api_base(&self) -> String {
        format!("{}/admin/api/{}", self.shop_url, self.api_version)
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

    // Only shop_url is required; the rest take the manifest's defaults.
    #[test]
    fn defaults_apply_when_unset() {
        let s =
            Settings::from_lookup(lookup(&[("shop_url", "https://acme.myshopify.com/")])).unwrap();
        assert_eq!(s.shop_url, "https://acme.myshopify.com");
        assert_eq!(s.api_base(), "https://acme.myshopify.com/admin/api/2024-04");
        assert_eq!((s.page_size, s.lookback_days), (250, 30));
    }

    // The scheme is taken from shop_url, so tests can point at an http simulator.
    #[test]
    fn http_scheme_is_kept() {
        let s = Settings::from_lookup(lookup(&[
            ("shop_url", "http://127.0.0.1:4000"),
            ("page_size", "10"),
            ("lookback_days", "7"),
        ]))
        .unwrap();
        assert_eq!(s.api_base(), "http://127.0.0.1:4000/admin/api/2024-04");
        assert_eq!((s.page_size, s.lookback_days), (10, 7));
    }

    // Malformed values are refused with an error naming the key.
    #[test]
    fn bad_values_name_the_key() {
        let err = |pairs: &[(&str, &str)]| match Settings::from_lookup(lookup(pairs)) {
            Err(ConnectorError::InvalidInput(m)) => m,
            other => panic!("expected invalid-input, got {other:?}"),
        };
        assert!(err(&[]).contains("shop_url"));
        assert!(err(&[("shop_url", "acme.myshopify.com")]).contains("https://"));
        assert!(err(&[("shop_url", "https://acme.myshopify.com/admin")]).contains("origin"));
        assert!(err(&[
            ("shop_url", "https://a.myshopify.com"),
            ("page_size", "251")
        ])
        .contains("page_size"));
        assert!(
            err(&[("shop_url", "https://a.myshopify.com"), ("page_size", "x")])
                .contains("page_size")
        );
        assert!(err(&[
            ("shop_url", "https://a.myshopify.com"),
            ("api_version", "v1")
        ])
        .contains("api_version"));
    }
}
