//! The installation's configuration and secrets, as the host grants them.

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
