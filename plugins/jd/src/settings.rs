//! The installation's configuration, read and validated once per call.

use wharf_sdk::types::ConnectorError;

/// The largest `page_size` `jingdong.pop.order.search` serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The longest search window this plugin asks for: 30 days.
pub const MAX_WINDOW_MINUTES: u32 = 30 * 1440;
/// The default window: one hour.
pub const DEFAULT_WINDOW_MINUTES: u32 = 60;
/// The production gateway.
pub const DEFAULT_API_URL: &str = "https://api.jd.com/routerjson";

/// Validated configuration of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The JOS gateway URL, e.g. `https://api.jd.com/routerjson`; the scheme is kept as
    /// given (tests use `http://api.jd.com/routerjson`).
    pub api_url: String,
    /// Length of one incremental-pull window, 1–43200 minutes (30 days).
    pub window_minutes: u32,
    /// Orders per page, 1–100.
    pub page_size: u32,
    /// How far back the first pull reaches, in days.
    pub lookback_days: u32,
    /// When set, every order must belong to this seller (`venderId`; guards against an
    /// access token of another shop).
    pub vender_id: Option<String>,
}

impl Settings {
    /// Read the settings through `get` (the host's `config.get`), applying the manifest's
    /// defaults for anything unset. A malformed value is `invalid-input` naming the key.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConnectorError> {
        let bad =
            |key: &str, why: String| ConnectorError::InvalidInput(format!("config `{key}`: {why}"));
        let api_url = get("api_url")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
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
        if host.is_empty() || rest.contains(['?', '#', ' ']) {
            return Err(bad(
                "api_url",
                format!("{api_url:?} must be a gateway URL like {DEFAULT_API_URL}"),
            ));
        }
        let int = |key: &str, default: u32, range: std::ops::RangeInclusive<u32>| {
            let Some(raw) = get(key) else {
                return Ok(default);
            };
            match raw.trim().parse::<u32>() {
                Ok(v) if range.contains(&v) => Ok(v),
                _ => Err(bad(
                    key,
                    format!(
                        "{raw:?} must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            }
        };
        Ok(Settings {
            api_url,
            window_minutes: int(
                "window_minutes",
                DEFAULT_WINDOW_MINUTES,
                1..=MAX_WINDOW_MINUTES,
            )?,
            page_size: int("page_size", MAX_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?,
            lookback_days: int("lookback_days", 7, 1..=90)?,
            vender_id: get("vender_id")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        })
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * 60_000
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

    // Nothing is required: the defaults are the production gateway, 60-minute windows,
    // pages of 100 and a 7-day look-back.
    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(
            s,
            Settings {
                api_url: DEFAULT_API_URL.into(),
                window_minutes: 60,
                page_size: 100,
                lookback_days: 7,
                vender_id: None,
            }
        );
        assert_eq!(s.window_ms(), 3_600_000);
    }

    // Every key is read; the http scheme is kept so tests can reach a simulator.
    #[test]
    fn values_are_read() {
        let s = Settings::from_lookup(lookup(&[
            ("api_url", "http://api.jd.com/routerjson"),
            ("window_minutes", "43200"),
            ("page_size", "7"),
            ("lookback_days", "2"),
            ("vender_id", " 10086001 "),
        ]))
        .unwrap();
        assert_eq!(s.api_url, "http://api.jd.com/routerjson");
        assert_eq!(
            (s.window_minutes, s.page_size, s.lookback_days),
            (43200, 7, 2)
        );
        assert_eq!(s.vender_id.as_deref(), Some("10086001"));
    }

    // Out-of-range or malformed values are invalid-input naming the key.
    #[test]
    fn bad_values_name_the_key() {
        for (key, value) in [
            ("window_minutes", "43201"),
            ("window_minutes", "0"),
            ("page_size", "101"),
            ("page_size", "many"),
            ("lookback_days", "0"),
            ("api_url", "ftp://api.jd.com"),
            ("api_url", "https://"),
            ("api_url", "https://api.jd.com/routerjson?x=1"),
        ] {
            match Settings::from_lookup(lookup(&[(key, value)])) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.contains(key), "{m}"),
                other => panic!("{key}={value}: expected invalid-input, got {other:?}"),
            }
        }
    }
}
