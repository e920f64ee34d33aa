//! The installation's configuration and secrets, as the host grants them, and the
//! helpers a plugin's `settings` module validates them with: [`Reader`] (trimmed text,
//! required values, integers in a range with the manifest's default) and [`check_url`]
//! (an `http(s)://` origin or base URL). Every error is `invalid-input` naming the key
//! ([`invalid`]). Reading goes through a lookup (`config::get` in the plugin, a map in
//! native tests), so the parsing is tested without the host.
//!
//! ```
//! use wharf_sdk::config::{self, Reader, UrlForm};
//! let read = Reader::new(|key: &str| (key == "page_size").then(|| "50".to_string()));
//! assert_eq!(read.int("page_size", 100, 1..=100).unwrap(), 50);
//! assert_eq!(read.int("lookback_days", 7, 1..=90).unwrap(), 7);
//! let url = read.text("api_url").unwrap_or_else(|| "https://gw.example.com/router".into());
//! let host = config::check_url("api_url", &url, UrlForm::Base, "a gateway URL").unwrap();
//! assert_eq!(host, "gw.example.com");
//! ```

use crate::bindings::wharf::connector::config as host;
use crate::types::ConnectorError;

/// A configuration value, if set.
pub fn get(key: &str) -> Option<String> {
    host::get(key)
}

/// A configuration value that must be set.
pub fn require(key: &str) -> Result<String, ConnectorError> {
    get(key).ok_or_else(|| ConnectorError::Permanent(format!("config `{key}` is not set")))
}

/// A secret, if the installation has it.
pub fn secret(key: &str) -> Option<String> {
    host::secret(key)
}

/// A secret that must be set; a missing one is reported as unauthorized.
pub fn require_secret(key: &str) -> Result<String, ConnectorError> {
    secret(key).ok_or_else(|| ConnectorError::Unauthorized(format!("secret `{key}` is not set")))
}

/// `invalid-input` naming a configuration key: ``config `key`: why``.
pub fn invalid(key: &str, why: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::InvalidInput(format!("config `{key}`: {why}"))
}

/// Reads configuration values through a lookup, validating each and naming the key in
/// every error (`invalid-input`).
pub struct Reader<F> {
    get: F,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    pub fn new(get: F) -> Reader<F> {
        Reader { get }
    }

    /// The value as set, untrimmed.
    pub fn raw(&self, key: &str) -> Option<String> {
        (self.get)(key)
    }

    /// The value, trimmed; blank counts as unset.
    pub fn text(&self, key: &str) -> Option<String> {
        self.raw(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// A value that must be set (trimmed, not blank); otherwise `invalid-input` with
    /// `why`, e.g. "is not set".
    pub fn required(&self, key: &str, why: &str) -> Result<String, ConnectorError> {
        self.text(key).ok_or_else(|| invalid(key, why))
    }

    /// An integer in `range`, `default` when unset.
    pub fn int(
        &self,
        key: &str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, ConnectorError> {
        let Some(raw) = self.raw(key) else {
            return Ok(default);
        };
        match raw.trim().parse::<u32>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(invalid(
                key,
                format!(
                    "{raw:?} must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }
}

/// What an `http(s)://` setting may hold besides the scheme and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlForm {
    /// The origin only: `https://host[:port]` (no path, query or fragment).
    Origin,
    /// A base URL: a path is allowed, no query, fragment or space.
    Base,
    /// A base URL without `user@` credentials either.
    PlainBase,
}

/// Check an `http://` or `https://` URL setting of the given form; answers its host (as
/// written, with any port). `expected` completes the error "… must be {expected}", e.g.
/// "a gateway URL like https://eco.taobao.com/router/rest".
pub fn check_url<'a>(
    key: &str,
    url: &'a str,
    form: UrlForm,
    expected: &str,
) -> Result<&'a str, ConnectorError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(key, format!("{url:?} must start with https:// or http://")))?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let forbidden: &[char] = match form {
        UrlForm::Origin => &['/', '?', '#', ' '],
        UrlForm::Base => &['?', '#', ' '],
        UrlForm::PlainBase => &['?', '#', ' ', '@'],
    };
    if host.is_empty() || rest.contains(forbidden) {
        return Err(invalid(key, format!("{url:?} must be {expected}")));
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Reader<impl Fn(&str) -> Option<String>> {
        Reader::new(move |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    }

    // Integers default when unset, are trimmed, and out of range name the key.
    #[test]
    fn integers_default_and_check_the_range() {
        let r = reader(&[("a", " 5 "), ("b", "0"), ("c", "x")]);
        assert_eq!(r.int("a", 1, 1..=10).unwrap(), 5);
        assert_eq!(r.int("unset", 7, 1..=10).unwrap(), 7);
        for key in ["b", "c"] {
            match r.int(key, 1, 1..=10) {
                Err(ConnectorError::InvalidInput(m)) => {
                    assert!(
                        m.contains(&format!("`{key}`")) && m.contains("from 1 to 10"),
                        "{m}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }

    // Text is trimmed and blank is unset; a required value says why it is missing.
    #[test]
    fn text_and_required() {
        let r = reader(&[("a", " x "), ("blank", "  ")]);
        assert_eq!(r.text("a").as_deref(), Some("x"));
        assert_eq!(r.raw("a").as_deref(), Some(" x "));
        assert_eq!(r.text("blank"), None);
        assert!(matches!(r.required("blank", "is not set"),
            Err(ConnectorError::InvalidInput(m)) if m == "config `blank`: is not set"));
    }

    // Each URL form refuses what it must and answers the host.
    #[test]
    fn url_forms() {
        let ok = |url, form| check_url("u", url, form, "fine").unwrap();
        assert_eq!(
            ok("https://a.example.com/router/rest", UrlForm::Base),
            "a.example.com"
        );
        assert_eq!(ok("http://127.0.0.1:81", UrlForm::Origin), "127.0.0.1:81");
        assert_eq!(
            ok("https://u@a.example.com", UrlForm::Base),
            "u@a.example.com"
        );
        for (url, form) in [
            ("ftp://a.example.com", UrlForm::Base),
            ("https://", UrlForm::Base),
            ("https://a.example.com/x?y=1", UrlForm::Base),
            ("https://a.example.com/x#y", UrlForm::Base),
            ("https://a.example.com/x", UrlForm::Origin),
            ("https://u@a.example.com/x", UrlForm::PlainBase),
        ] {
            assert!(
                matches!(check_url("u", url, form, "fine"), Err(ConnectorError::InvalidInput(m)) if m.contains("`u`")),
                "{url} as {form:?}"
            );
        }
    }
}
