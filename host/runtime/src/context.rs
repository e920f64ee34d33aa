//! What one installation's call may see: its configuration, its own secrets, the hosts it
//! may reach, and where its logs go.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use wharf_domain::connector::LogLevel;

/// Receives plugin log lines (and sandbox notices such as refused egress), attributed to
/// the installation that produced them. Secret values are redacted before they get here.
pub trait LogSink: Send + Sync {
    fn log(&self, installation_id: i64, level: LogLevel, message: &str);
}

/// A [`LogSink`] that forwards to `tracing` only.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingLogSink;

impl LogSink for TracingLogSink {
    fn log(&self, installation_id: i64, level: LogLevel, message: &str) {
        tracing::info!(installation_id, level = level.as_str(), "plugin: {message}");
    }
}

/// Which hosts a call may reach: a request is allowed only if its host matches a pattern
/// the plugin's manifest declares AND a pattern the merchant granted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Host patterns from the plugin manifest (`api.example.com`, `*.example.com`).
    pub manifest_hosts: Vec<String>,
    /// Host patterns the merchant granted to this installation.
    pub granted_hosts: Vec<String>,
    /// Operator-level resolver overrides, like curl --resolve: host name → socket address.
    /// Used by tests and the demo to point `demo.myshopify.com` at a simulator on
    /// 127.0.0.1. An override replaces DNS and the port of the URL, and counts as the
    /// operator granting that address (loopback / private included); the host name must
    /// still pass the manifest ∩ grant check.
    pub resolve: BTreeMap<String, SocketAddr>,
}

/// Everything one installation's call may see.
#[derive(Clone)]
pub struct CallContext {
    pub installation_id: i64,
    pub merchant_id: i64,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub egress: EgressPolicy,
    pub logs: Arc<dyn LogSink>,
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secret values never appear in debug output; only their names.
        f.debug_struct("CallContext")
            .field("installation_id", &self.installation_id)
            .field("merchant_id", &self.merchant_id)
            .field("config", &self.config)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("egress", &self.egress)
            .finish_non_exhaustive()
    }
}

/// Replaces secret values with `***` in text that leaves the sandbox (logs, panic
/// messages). Values shorter than 4 characters are not treated as secrets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    pub(crate) fn new(secrets: &BTreeMap<String, String>) -> Self {
        let mut values: Vec<String> = secrets
            .values()
            .filter(|v| v.chars().count() >= 4)
            .cloned()
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Self { values }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Secret values are masked wherever they occur; short values are left alone.
    #[test]
    fn redactor_masks_secret_values() {
        let secrets = BTreeMap::from([
            ("token".to_string(), "shpat_abc123".to_string()),
            ("pin".to_string(), "42".to_string()),
        ]);
        let r = Redactor::new(&secrets);
        assert_eq!(
            r.redact("token=shpat_abc123 again shpat_abc123 pin 42"),
            "token=*** again *** pin 42"
        );
    }

    // Debug output of a call context names secrets but never shows their values.
    #[test]
    fn debug_output_hides_secret_values() {
        let ctx = CallContext {
            installation_id: 1,
            merchant_id: 2,
            config: BTreeMap::new(),
            secrets: BTreeMap::from([("api_token".into(), "very-secret-value".into())]),
            egress: EgressPolicy::default(),
            logs: Arc::new(TracingLogSink),
        };
        let text = format!("{ctx:?}");
        assert!(text.contains("api_token"));
        assert!(!text.contains("very-secret-value"), "{text}");
    }
}
