//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

/// The largest `MaxResultsPerPage` `getOrders` serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Default page: 20 orders, each costing one `getOrderItems` call (burst 30).
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The Login with Amazon token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// The hosts an `endpoint` may name (production and sandbox, per region).
pub const SP_API_HOSTS: [&str; 6] = [
    "sellingpartnerapi-na.amazon.com",
    "sellingpartnerapi-eu.amazon.com",
    "sellingpartnerapi-fe.amazon.com",
    "sandbox.sellingpartnerapi-na.amazon.com",
    "sandbox.sellingpartnerapi-eu.amazon.com",
    "sandbox.sellingpartnerapi-fe.amazon.com",
];

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The SP-API base URL without a trailing slash, e.g.
    /// `https://sellingpartnerapi-eu.amazon.com` (tests use `http://…`).
    pub endpoint: String,
    /// The LWA token endpoint.
    pub token_url: String,
    /// Marketplaces to pull orders from and push stock to (at least one).
    pub marketplace_ids: Vec<String>,
    /// The seller's merchant token (needed by the Listings Items API only).
    pub seller_id: Option<String>,
    /// `MaxResultsPerPage`, 1–100.
    pub page_size: u32,
    /// How far back the first pull reaches, in days.
    pub lookback_days: u32,
}

/// `https://host[/path]` or `http://…` → (host, the URL without a trailing slash).
fn url(key: &str, raw: &str) -> Result<(String, String), ConnectorError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let plain = "a plain URL (no query, fragment or credentials)";
    let host = config::check_url(key, trimmed, UrlForm::PlainBase, plain)?;
    Ok((host.to_ascii_lowercase(), trimmed.to_string()))
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults for anything unset. A malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let set = |key: &str| read.text(key);
        let region = set("region").unwrap_or_else(|| "na".into());
        if !["na", "eu", "fe"].contains(&region.as_str()) {
            return Err(config::invalid(
                "region",
                format!("{region:?} must be na, eu or fe"),
            ));
        }
        let endpoint = match set("endpoint") {
            None => format!("https://sellingpartnerapi-{region}.amazon.com"),
            Some(raw) => {
                let (host, u) = url("endpoint", &raw)?;
                if !SP_API_HOSTS.contains(&host.as_str()) {
                    return Err(config::invalid(
                        "endpoint",
                        format!("{host:?} is not a Selling Partner API host (sellingpartnerapi-na|eu|fe.amazon.com)"),
                    ));
                }
                u
            }
        };
        let token_url = url(
            "token_url",
            &set("token_url").unwrap_or_else(|| DEFAULT_TOKEN_URL.into()),
        )?
        .1;
        let marketplace_ids: Vec<String> = set("marketplace_ids")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        if marketplace_ids.is_empty() {
            return Err(config::invalid(
                "marketplace_ids",
                "at least one marketplace id is required (e.g. A1PA6795UKMFR9)",
            ));
        }
        if let Some(m) = marketplace_ids
            .iter()
            .find(|m| m.len() > 20 || !m.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(config::invalid(
                "marketplace_ids",
                format!("{m:?} is not a marketplace id"),
            ));
        }
        let seller_id = set("seller_id");
        if let Some(s) = &seller_id {
            if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(config::invalid(
                    "seller_id",
                    format!("{s:?} is not a merchant token"),
                ));
            }
        }
        Ok(Settings {
            endpoint,
            token_url,
            marketplace_ids,
            seller_id,
            page_size: read.int("page_size", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: read.int("lookback_days", 7, 1..=90)?,
        })
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

    // Only the marketplaces are required; the defaults are the NA endpoint, LWA's token
    // URL, pages of 20 and a 7-day look-back.
    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_lookup(lookup(&[("marketplace_ids", "ATVPDKIKX0DER")])).unwrap();
        assert_eq!(
            s,
            Settings {
                endpoint: "https://sellingpartnerapi-na.amazon.com".into(),
                token_url: DEFAULT_TOKEN_URL.into(),
                marketplace_ids: vec!["ATVPDKIKX0DER".into()],
                seller_id: None,
                page_size: 20,
                lookback_days: 7,
            }
        );
    }

    // The region picks the host; an endpoint overrides it (scheme kept for tests);
    // marketplaces are split on commas.
    #[test]
    fn values_are_read() {
        let s = Settings::from_lookup(lookup(&[
            ("region", "fe"),
            ("marketplace_ids", " A1PA6795UKMFR9 , A1F83G8C2ARO7P,"),
            ("seller_id", "A2SIMSELLER0001"),
            ("page_size", "100"),
            ("lookback_days", "90"),
        ]))
        .unwrap();
        assert_eq!(s.endpoint, "https://sellingpartnerapi-fe.amazon.com");
        assert_eq!(s.marketplace_ids, ["A1PA6795UKMFR9", "A1F83G8C2ARO7P"]);
        assert_eq!(s.seller_id.as_deref(), Some("A2SIMSELLER0001"));
        assert_eq!((s.page_size, s.lookback_days), (100, 90));
        let t = Settings::from_lookup(lookup(&[
            ("region", "fe"),
            ("endpoint", "http://sellingpartnerapi-eu.amazon.com/"),
            ("token_url", "http://api.amazon.com/auth/o2/token"),
            ("marketplace_ids", "A1PA6795UKMFR9"),
        ]))
        .unwrap();
        assert_eq!(t.endpoint, "http://sellingpartnerapi-eu.amazon.com");
        assert_eq!(t.token_url, "http://api.amazon.com/auth/o2/token");
    }

    // Bad or missing values are invalid-input naming the key.
    #[test]
    fn bad_values_name_the_key() {
        let m = ("marketplace_ids", "A1PA6795UKMFR9");
        for pairs in [
            vec![],
            vec![("marketplace_ids", " , ")],
            vec![("marketplace_ids", "A1PA6795UKMFR9&x=1")],
            vec![m, ("region", "eu-west-1")],
            vec![m, ("endpoint", "https://evil.example.com")],
            vec![m, ("endpoint", "ftp://sellingpartnerapi-eu.amazon.com")],
            vec![m, ("token_url", "https://api.amazon.com/auth/o2/token?x=1")],
            vec![m, ("page_size", "101")],
            vec![m, ("page_size", "0")],
            vec![m, ("lookback_days", "91")],
            vec![m, ("seller_id", "A2/../x")],
        ] {
            let key = pairs.last().map(|p| p.0).unwrap_or("marketplace_ids");
            match Settings::from_lookup(lookup(&pairs)) {
                Err(ConnectorError::InvalidInput(msg)) => assert!(msg.contains(key), "{msg}"),
                other => panic!("{pairs:?}: expected invalid-input, got {other:?}"),
            }
        }
    }
}
