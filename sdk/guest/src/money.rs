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

/// The number of minor-unit digits of an ISO 4217 currency, `None` for an unknown code.
pub fn digits(currency: &str) -> Option<u32> {
    wharf_domain::money::minor_digits(currency)
}

/// [`Money`] as the exact decimal text of its currency ("12.34" for 1234 CNY, "1234" for
/// JPY, "1.234" for KWD), no float on the way; an unknown currency is `invalid-input`.
pub fn format(field: &str, money: &Money) -> Result<String, ConnectorError> {
    let digits = digits(&money.currency).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{field}: unknown currency {:?}", money.currency))
    })?;
    Ok(wharf_domain::money::format_minor(money.minor, digits))
}
