//! The installation's configuration, read and validated once per call.

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
        let bad =
            |key: &str, why: String| ConnectorError::InvalidInput(format!("config `{key}`: {why}"));
        let api_url = get("api_url").unwrap_or_else(|| DEFAULT_API_URL.into());
        let api_url = api_url.trim().to_string();
        let rest = api_url
            .strip_prefix("https://")
            .or_else(|| api_url.strip_prefix("http://"))
            .ok_or_else(|| {
                bad(
                    "api_url",
                    format!("{api_url:?} must start with https:// or http://"),
                )
            })?;
        let host = rest.split(['/', '?']).next().unwrap_or("");
        if host.is_empty() || rest.contains([' ', '#', '?']) {
            return Err(bad(
                "api_url",
                format!("{api_url:?} must be a URL like {DEFAULT_API_URL}"),
            ));
        }
        let int = |key: &str, default: u32, max: u32| {
            let Some(raw) = get(key) else {
                return Ok(default);
            };
            match raw.trim().parse::<u32>() {
                Ok(v) if (1..=max).contains(&v) => Ok(v),
                _ => Err(bad(
                    key,
                    format!("{raw:?} must be an integer from 1 to {max}"),
                )),
            }
        };
        Ok(Settings {
            api_url,
            window_minutes: int("window_minutes", MAX_WINDOW_MINUTES, MAX_WINDOW_MINUTES)?,
            page_size: int("page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)?,
            lookback_days: int("lookback_days", DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS)?,
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
