//! The domain crate's error type.

/// Errors raised by domain rules and parsers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A decimal amount string could not be parsed into minor units.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidAmount { input: String, reason: &'static str },
    /// A currency code that is not an active ISO 4217 code.
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    /// A status name that the domain does not know.
    #[error("unknown status {0:?}")]
    UnknownStatus(String),
}
