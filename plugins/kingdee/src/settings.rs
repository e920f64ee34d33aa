//! The installation's configuration, read and validated once per call.

use std::collections::BTreeMap;

use wharf_sdk::config::{self, invalid, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The WebAPI base without a trailing slash, e.g. `https://erp.example.com/K3Cloud`.
    pub base_url: String,
    /// The data centre id (`acctID` of ValidateUser).
    pub acct_id: String,
    /// `FAccountBookID.FNumber`.
    pub account_book: String,
    /// `FVOUCHERGROUPID.FNumber` (凭证字), `PRE001` by default.
    pub voucher_group: String,
    /// The header field holding the journal reference, `FBillNo` by default.
    pub reference_field: String,
    /// The book's base currency (ISO 4217), `CNY` by default.
    pub currency: String,
    /// Login locale, 2052 by default.
    pub lcid: u32,
    /// Minutes east of UTC of the book's calendar, 480 by default.
    pub utc_offset_minutes: i32,
    /// Host account code → book account number.
    pub account_map: BTreeMap<String, String>,
}

/// A header field key: ASCII letters, digits and `_`, starting with a letter (no quotes,
/// dots or spaces, so it is safe in a filter string and as a model key).
fn is_field_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`) with the manifest's
    /// defaults; a missing or malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let read = Reader::new(get);
        let base_url = read
            .required(
                "base_url",
                "is required (e.g. https://erp.example.com/K3Cloud)",
            )?
            .trim_end_matches('/')
            .to_string();
        config::check_url(
            "base_url",
            &base_url,
            UrlForm::PlainBase,
            "a WebAPI base like https://erp.example.com/K3Cloud",
        )?;
        let acct_id = read.required("acct_id", "is required (the data centre id)")?;
        let account_book = read.required("account_book", "is required (e.g. 001)")?;
        let voucher_group = read
            .text("voucher_group")
            .unwrap_or_else(|| "PRE001".into());
        let reference_field = read
            .text("reference_field")
            .unwrap_or_else(|| "FBillNo".into());
        if !is_field_key(&reference_field) {
            return Err(invalid(
                "reference_field",
                format!("{reference_field:?} must be a field key like FBillNo"),
            ));
        }
        for (key, value) in [
            ("acct_id", &acct_id),
            ("account_book", &account_book),
            ("voucher_group", &voucher_group),
        ] {
            if value.contains(['\'', '"', '\\']) || value.chars().any(char::is_control) {
                return Err(invalid(key, format!("{value:?} may not contain quotes")));
            }
        }
        let currency = read.text("currency").unwrap_or_else(|| "CNY".into());
        if wharf_sdk::money::digits(&currency).is_none() {
            return Err(invalid(
                "currency",
                format!("{currency:?} is not an ISO 4217 code"),
            ));
        }
        let utc_offset_minutes = match read.text("utc_offset_minutes") {
            None => 480,
            Some(raw) => match raw.parse::<i32>() {
                Ok(v) if (-840..=840).contains(&v) => v,
                _ => {
                    return Err(invalid(
                        "utc_offset_minutes",
                        format!("{raw:?} must be an integer from -840 to 840"),
                    ))
                }
            },
        };
        let account_map = match read.text("account_map") {
            None => BTreeMap::new(),
            Some(raw) => serde_json::from_str::<BTreeMap<String, String>>(&raw).map_err(|e| {
                invalid(
                    "account_map",
                    format!("must be a JSON object of account numbers: {e}"),
                )
            })?,
        };
        Ok(Settings {
            base_url,
            acct_id,
            account_book,
            voucher_group,
            reference_field,
            currency,
            lcid: read.int("lcid", 2052, 1..=65_535)?,
            utc_offset_minutes,
            account_map,
        })
    }

    /// The full URL of a WebAPI service, e.g.
    /// `…/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc`.
    pub fn service(&self, name: &str) -> String {
        format!("{}/{name}.common.kdsvc", self.base_url)
    }

    /// The book's account number for a host account code.
    pub fn account(&self, code: &str) -> String {
        self.account_map
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
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

    const BASE: [(&str, &str); 3] = [
        ("base_url", "https://erp.example.com/K3Cloud/"),
        ("acct_id", "62f0c0"),
        ("account_book", "001"),
    ];

    // Three keys are required; the rest default to PRE001, FBillNo, CNY, 2052, UTC+8.
    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_lookup(lookup(&BASE)).unwrap();
        assert_eq!(s.base_url, "https://erp.example.com/K3Cloud");
        assert_eq!(
            (s.voucher_group.as_str(), s.reference_field.as_str()),
            ("PRE001", "FBillNo")
        );
        assert_eq!(
            (s.currency.as_str(), s.lcid, s.utc_offset_minutes),
            ("CNY", 2052, 480)
        );
        assert!(s.account_map.is_empty());
        assert_eq!(
            s.service("Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save"),
            "https://erp.example.com/K3Cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
        );
    }

    // Each malformed value is refused naming its key.
    #[test]
    fn malformed_values_are_refused() {
        let cases: [(&str, &str); 6] = [
            ("base_url", "erp.example.com"),
            ("reference_field", "FBillNo' or '1'='1"),
            ("account_book", "00'1"),
            ("currency", "RMB"),
            ("utc_offset_minutes", "900"),
            ("account_map", "[1, 2]"),
        ];
        for (key, value) in cases {
            let mut pairs: Vec<(&str, &str)> = BASE.to_vec();
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            match Settings::from_lookup(lookup(&pairs)) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{key}={value}: {other:?}"),
            }
        }
    }

    // The account map renames listed codes and passes others through.
    #[test]
    fn account_map_renames() {
        let mut pairs = BASE.to_vec();
        pairs.push(("account_map", r#"{"1002": "1002.01"}"#));
        let s = Settings::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(s.account("1002"), "1002.01");
        assert_eq!(s.account("6001"), "6001");
    }
}
