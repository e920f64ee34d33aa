//! Canonical Wharf carrier codes → a platform's own company codes, with the
//! installation's override. The host names a carrier by its canonical code (`SF`, `YTO`,
//! `ZTO`, `STO`, `YUNDA`, `JD`, `EMS`, `UPS`, `FEDEX`, `DHL`, `USPS`, …); each plugin keeps
//! its platform's table ([`Carriers::new`]) and reads the optional `carrier_codes` config
//! (a JSON object, canonical → platform code) that adds or replaces entries
//! ([`Carriers::with_overrides`]). An unknown carrier is `invalid-input` naming it.
//!
//! ```
//! use wharf_sdk::carrier::Carriers;
//! let table = Carriers::new("Taobao", &[("SF", "SF"), ("YUNDA", "YUNDA")])
//!     .with_overrides(Some(r#"{"best": "HTKY"}"#))
//!     .unwrap();
//! assert_eq!(table.code(" sf ").unwrap(), "SF");
//! assert_eq!(table.code("BEST").unwrap(), "HTKY");
//! assert!(table.code("PIGEON").is_err());
//! ```

use std::collections::BTreeMap;

use crate::config;
use crate::types::ConnectorError;

/// The config key of the installation's override table.
pub const OVERRIDE_KEY: &str = "carrier_codes";

/// One platform's carrier table: canonical code (upper case) → platform code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carriers {
    platform: &'static str,
    codes: BTreeMap<String, String>,
}

fn canonical(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

impl Carriers {
    /// The plugin's built-in table for `platform` (named in errors).
    pub fn new(platform: &'static str, table: &[(&str, &str)]) -> Carriers {
        Carriers {
            platform,
            codes: table
                .iter()
                .map(|(k, v)| (canonical(k), v.to_string()))
                .collect(),
        }
    }

    /// Apply the `carrier_codes` config: a JSON object of canonical code → platform code
    /// (strings, or numbers for platforms with numeric ids). Malformed → `invalid-input`
    /// naming the key.
    pub fn with_overrides(mut self, raw: Option<&str>) -> Result<Carriers, ConnectorError> {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(self);
        };
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw)
            .map_err(|e| config::invalid(OVERRIDE_KEY, format!("not a JSON object: {e}")))?;
        for (k, v) in map {
            let code = match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(config::invalid(
                        OVERRIDE_KEY,
                        format!("{k:?} must map to a non-empty code, not {other}"),
                    ))
                }
            };
            if k.trim().is_empty() {
                return Err(config::invalid(OVERRIDE_KEY, "a carrier code is empty"));
            }
            self.codes.insert(canonical(&k), code);
        }
        Ok(self)
    }

    /// The platform's code for a canonical carrier code (trimmed, any case).
    pub fn code(&self, carrier: &str) -> Result<&str, ConnectorError> {
        self.codes
            .get(&canonical(carrier))
            .map(String::as_str)
            .ok_or_else(|| {
                ConnectorError::InvalidInput(format!(
                    "carrier {carrier:?} has no {} company code; known: {}; add it to the \
                     installation's `{OVERRIDE_KEY}` config",
                    self.platform,
                    self.codes.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Carriers {
        Carriers::new("Test", &[("SF", "shunfeng"), ("yto", "yuantong")])
    }

    // Lookups ignore case and spaces; an unknown carrier is invalid-input naming it.
    #[test]
    fn looks_up_canonical_codes() {
        let t = table();
        assert_eq!(t.code("sf").unwrap(), "shunfeng");
        assert_eq!(t.code(" YTO ").unwrap(), "yuantong");
        match t.code("ACME") {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(
                    m.contains("ACME") && m.contains("Test") && m.contains("carrier_codes"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    // The override adds and replaces entries; numbers are accepted as codes.
    #[test]
    fn overrides_add_and_replace() {
        let t = table()
            .with_overrides(Some(r#"{"sf": "SFX", "dhl": 44}"#))
            .unwrap();
        assert_eq!(t.code("SF").unwrap(), "SFX");
        assert_eq!(t.code("DHL").unwrap(), "44");
        assert_eq!(t.code("YTO").unwrap(), "yuantong");
        assert_eq!(table().with_overrides(None).unwrap(), table());
        assert_eq!(table().with_overrides(Some("  ")).unwrap(), table());
    }

    // A malformed override is invalid-input naming the config key.
    #[test]
    fn bad_overrides_name_the_key() {
        for raw in [
            "[1]",
            "{\"SF\": \"\"}",
            "{\"SF\": null}",
            "{\" \": \"X\"}",
            "nope",
        ] {
            match table().with_overrides(Some(raw)) {
                Err(ConnectorError::InvalidInput(m)) => {
                    assert!(m.contains("carrier_codes"), "{raw}: {m}")
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }
}
