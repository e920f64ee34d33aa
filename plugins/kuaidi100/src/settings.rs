//! The installation's configuration, read and validated once per call.

use wharf_sdk::config::{self, Reader, UrlForm};
use wharf_sdk::types::ConnectorError;

use crate::carriers;

/// The production origin.
pub const DEFAULT_BASE_URL: &str = "https://poll.kuaidi100.com";
/// The real-time query path.
pub const QUERY_PATH: &str = "/poll/query.do";

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The origin (`https://poll.kuaidi100.com`; the scheme is kept as given).
    pub base_url: String,
    /// The Kuaidi100 company code of bare tracking numbers (already translated from a
    /// Wharf carrier code).
    pub default_com: Option<String>,
}

impl Settings {
    /// Read the settings through `get`; a malformed value is `invalid-input` naming the key.
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
            &format!("an origin like {DEFAULT_BASE_URL}"),
        )?;
        let default_com = match read.text("default_com") {
            None => None,
            Some(c) => Some(carriers::com_code(&c).ok_or_else(|| {
                config::invalid(
                    "default_com",
                    format!("{c:?} is neither a Kuaidi100 company code (lower-case, like shunfeng) nor a Wharf carrier code"),
                )
            })?),
        };
        Ok(Settings {
            base_url,
            default_com,
        })
    }

    /// `{base_url}/poll/query.do`.
    pub fn query_url(&self) -> String {
        format!("{}{QUERY_PATH}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &'static [(&'static str, &'static str)]) -> Result<Settings, ConnectorError> {
        Settings::from_lookup(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    // Nothing is required; the default is the production origin and no default company.
    #[test]
    fn defaults_apply() {
        let s = read(&[]).unwrap();
        assert_eq!(s.query_url(), "https://poll.kuaidi100.com/poll/query.do");
        assert_eq!(s.default_com, None);
    }

    // default_com takes a Kuaidi100 code or a Wharf code (translated); junk names the key.
    #[test]
    fn default_com_is_translated_or_refused() {
        assert_eq!(
            read(&[("default_com", "YTO")])
                .unwrap()
                .default_com
                .as_deref(),
            Some("yuantong")
        );
        assert_eq!(
            read(&[("default_com", "debangkuaidi")])
                .unwrap()
                .default_com
                .as_deref(),
            Some("debangkuaidi")
        );
        const BAD_COM: &[(&str, &str)] = &[("default_com", "Not A Code")];
        const BAD_URL: &[(&str, &str)] = &[("base_url", "poll.kuaidi100.com")];
        for pairs in [BAD_COM, BAD_URL] {
            let key = pairs[0].0;
            match read(pairs) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
