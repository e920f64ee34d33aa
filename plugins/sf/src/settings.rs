//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::{Address, ConnectorError};

/// The production gateway origin.
pub const DEFAULT_BASE_URL: &str = "https://bspgw.sf-express.com";
/// The standard service path every call is posted to.
pub const SERVICE_PATH: &str = "/std/service";

/// Validated configuration of one installation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The gateway origin (`https://bspgw.sf-express.com`; the scheme is kept as given).
    pub base_url: String,
    /// 顾客编码 (`partnerID`).
    pub partner_id: String,
    /// 月结卡号: the monthly account, when the merchant has one.
    pub month_card: Option<String>,
    /// The cloud-print template (`fm_76130_standard_{partner_id}` unless configured).
    pub template_code: String,
    /// The `expressTypeId` booked when a request names no service.
    pub default_service: String,
    /// The configured sender (warehouse), used when a request's sender is empty.
    pub sender: Option<Address>,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`). `partner_id` is required;
    /// a malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let base_url = read
            .text("base_url")
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
            .trim_end_matches('/')
            .to_string();
        config::check_url(
            "base_url",
            &base_url,
            UrlForm::PlainBase,
            &format!("a gateway origin like {DEFAULT_BASE_URL}"),
        )?;
        let partner_id = read.required(
            "partner_id",
            "is not set (the 顾客编码, partnerID, SF issued)",
        )?;
        if !partner_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(config::invalid(
                "partner_id",
                "must be the ASCII letters and digits SF issued",
            ));
        }
        let default_service = read
            .text("default_service")
            .unwrap_or_else(|| "2".to_string());
        if !default_service.chars().all(|c| c.is_ascii_digit()) {
            return Err(config::invalid(
                "default_service",
                "must be an SF expressTypeId such as 1 or 2",
            ));
        }
        let template_code = read
            .text("template_code")
            .unwrap_or_else(|| format!("fm_76130_standard_{partner_id}"));
        let field = |k: &str| read.text(&format!("sender_{k}")).unwrap_or_default();
        let sender = Address {
            name: field("name"),
            phone: field("phone"),
            country: "CN".into(),
            province: field("province"),
            city: field("city"),
            district: field("district"),
            street: field("street"),
            postal_code: field("postal_code"),
            encrypted: false,
        };
        let sender = (!sender.name.is_empty() || !sender.street.is_empty()).then_some(sender);
        Ok(Settings {
            base_url,
            partner_id,
            month_card: read.text("month_card"),
            template_code,
            default_service,
            sender,
        })
    }

    /// `{base_url}/std/service`.
    pub fn service_url(&self) -> String {
        format!("{}{SERVICE_PATH}", self.base_url)
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

    // Only partner_id is required; the defaults are the production gateway, the 76×130
    // template of the partner and service 2; no sender unless configured.
    #[test]
    fn defaults_apply() {
        let s = Settings::from_lookup(lookup(&[("partner_id", "ABC123")])).unwrap();
        assert_eq!(s.service_url(), "https://bspgw.sf-express.com/std/service");
        assert_eq!(s.template_code, "fm_76130_standard_ABC123");
        assert_eq!((s.default_service.as_str(), s.month_card), ("2", None));
        assert!(s.sender.is_none());
    }

    // The sender comes from the sender_* keys; a trailing slash of base_url is dropped.
    #[test]
    fn sender_and_url_are_read() {
        let s = Settings::from_lookup(lookup(&[
            ("partner_id", "ABC123"),
            ("base_url", "http://127.0.0.1:9/"),
            ("month_card", "7551234567"),
            ("sender_name", "Warehouse"),
            ("sender_street", "1 Dock Rd"),
        ]))
        .unwrap();
        assert_eq!(s.service_url(), "http://127.0.0.1:9/std/service");
        assert_eq!(s.month_card.as_deref(), Some("7551234567"));
        let sender = s.sender.unwrap();
        assert_eq!(
            (sender.name.as_str(), sender.street.as_str()),
            ("Warehouse", "1 Dock Rd")
        );
    }

    // A missing partner or a malformed value is invalid-input naming the key.
    #[test]
    fn bad_values_name_the_key() {
        for (pairs, key) in [
            (vec![], "partner_id"),
            (vec![("partner_id", "a b")], "partner_id"),
            (
                vec![("partner_id", "A1"), ("base_url", "ftp://x")],
                "base_url",
            ),
            (
                vec![("partner_id", "A1"), ("default_service", "fast")],
                "default_service",
            ),
        ] {
            match Settings::from_lookup(lookup(&pairs)) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }
}
