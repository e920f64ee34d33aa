//! Decimal money strings from platforms → integer minor units, with no float on the way.

use crate::types::{ConnectorError, Money};

/// Parse a decimal amount ("19.99") in `currency` into [`Money`]. An unknown currency or
/// a malformed amount is an `invalid-input` error naming the field.
pub fn parse(field: &str, amount: &str, currency: &str) -> Result<Money, ConnectorError> {
    wharf_domain::money::parse_money(amount, currency)
        .map(|m| Money {
            minor: m.minor,
            currency: m.currency,
        })
        .map_err(|e| ConnectorError::InvalidInput(format!("{field}: {e}")))
}

/// Like [`parse`], treating an absent or empty amount as zero.
pub fn parse_opt(
    field: &str,
    amount: Option<&str>,
    currency: &str,
) -> Result<Money, ConnectorError> {
    match amount {
        Some(a) if !a.trim().is_empty() => parse(field, a, currency),
        _ => Ok(zero(currency)),
    }
}

pub fn zero(currency: &str) -> Money {
    Money {
        minor: 0,
        currency: currency.to_string(),
    }
}
