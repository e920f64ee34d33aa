//! The fixtures directory the acceptance suite runs from (format documented in
//! `sdk/README.md`):
//!
//! ```text
//! fixtures/
//!   fixtures.json   installation (config, secrets, grants), frozen clock, future cursor, budget
//!   cassette.json   recorded platform traffic the pulls and get-order replay
//!   webhook.json    one signed delivery {headers, body}; absent = no webhooks
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::parse_clock;
use crate::error::HarnessError;

/// `fixtures.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSpec {
    /// The installation's configuration, a JSON object checked against the manifest's
    /// config schema (defaults are filled in from it).
    pub config: Value,
    /// Secret values by name; must cover the manifest's `secrets`.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Hosts the merchant grants; default: every host the manifest declares.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// The frozen clock every call sees: RFC 3339 (`2024-04-10T08:00:00Z`) or Unix ms. The
    /// recording was made at this instant, so replayed requests match.
    pub clock: String,
    /// A cursor far in the future, in the plugin's own cursor format: a pull from it must
    /// return no orders (or `invalid-input`). Absent: that check is skipped, with the reason.
    #[serde(default)]
    pub future_cursor: Option<String>,
    /// Most pages one pull round may take before the suite calls it endless.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    #[serde(default)]
    pub budget: Budget,
}

fn default_max_pages() -> u32 {
    100
}

/// The resource budget every call must stay inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Instructions (wasmtime fuel) per call.
    pub fuel: u64,
    /// Peak linear memory per call, bytes.
    pub memory_bytes: u64,
    /// Wall time per call, milliseconds.
    pub wall_time_ms: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            fuel: 5_000_000_000,
            memory_bytes: 64 * 1024 * 1024,
            wall_time_ms: 10_000,
        }
    }
}

/// `webhook.json`: one delivery exactly as the platform sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFixture {
    pub headers: Vec<(String, String)>,
    /// The raw body as text (UTF-8 bodies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The raw body as base64 (any bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl WebhookFixture {
    pub fn body_bytes(&self) -> Result<Vec<u8>, HarnessError> {
        match (&self.body, &self.body_base64) {
            (Some(text), None) => Ok(text.clone().into_bytes()),
            (None, Some(b64)) => STANDARD
                .decode(b64)
                .map_err(|e| HarnessError::Fixtures(format!("webhook.json body_base64: {e}"))),
            _ => Err(HarnessError::Fixtures(
                "webhook.json: give exactly one of body or body_base64".into(),
            )),
        }
    }
}

/// A loaded fixtures directory.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub dir: PathBuf,
    pub spec: FixtureSpec,
    pub clock_ms: i64,
    pub webhook: Option<WebhookFixture>,
}

pub const SPEC_FILE: &str = "fixtures.json";
pub const CASSETTE_FILE: &str = "cassette.json";
pub const WEBHOOK_FILE: &str = "webhook.json";

impl Fixtures {
    pub fn load(dir: &Path) -> Result<Fixtures, HarnessError> {
        let spec_path = dir.join(SPEC_FILE);
        let text =
            std::fs::read_to_string(&spec_path).map_err(|e| HarnessError::io(&spec_path, e))?;
        let spec: FixtureSpec = serde_json::from_str(&text)
            .map_err(|e| HarnessError::Fixtures(format!("{}: {e}", spec_path.display())))?;
        let clock_ms = parse_clock(&spec.clock)
            .map_err(|e| HarnessError::Fixtures(format!("{}: clock: {e}", spec_path.display())))?;
        let hook_path = dir.join(WEBHOOK_FILE);
        let webhook = if hook_path.exists() {
            let text =
                std::fs::read_to_string(&hook_path).map_err(|e| HarnessError::io(&hook_path, e))?;
            let hook: WebhookFixture = serde_json::from_str(&text)
                .map_err(|e| HarnessError::Fixtures(format!("{}: {e}", hook_path.display())))?;
            hook.body_bytes()?;
            Some(hook)
        } else {
            None
        };
        Ok(Fixtures {
            dir: dir.to_path_buf(),
            spec,
            clock_ms,
            webhook,
        })
    }

    pub fn cassette_path(&self) -> PathBuf {
        self.dir.join(CASSETTE_FILE)
    }
}
