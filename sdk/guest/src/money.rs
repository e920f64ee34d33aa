//! Decimal money strings from platforms → integer minor units, with no float on the way.

use crate::types::{ConnectorError, Money};

/// Parse a decimal amount ("19.99") in `currency` into [`Money`]. An unknown currency or
/// a malformed amount is an `invalid-input` error naming the field.
pub fn parse(field: &str, amount: &str, currency: &str) -> Result<Money, ConnectorError> {
    parse_with(|| field.to_string(), amount, currency)
}

/// [`parse`] with the field's name built only if the amount is refused: an indexed name
/// (`line_items[3].price`) would otherwise cost a `format!` per amount parsed.
pub fn parse_with(
    field: impl FnOnce() -> String,
    amount: &str,
    currency: &str,
) -> Result<Money, ConnectorError> {
    wharf_domain::money::parse_money(amount, currency)
        .map(|m| Money {
            minor: m.minor,
            currency: m.currency,
        })
        .map_err(|e| ConnectorError::InvalidInput(format!("{}: {e}", field())))
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

/// Format [`Money`] as the decimal string platforms take (`1999` USD → `"19.99"`, `1500`
/// JPY → `"1500"`): the inverse of [`parse`]. An unknown currency is `invalid-input`
/// naming the field.
pub fn format(field: &str, m: &Money) -> Result<String, ConnectorError> {
    let digits = wharf_domain::money::minor_digits(&m.currency).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{field}: unknown currency {:?}", m.currency))
    })?;
    Ok(wharf_domain::money::format_minor(m.minor, digits))
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

#[cfg(test)]
mod tests {
    use super::*;

    // Formatting is the exact inverse of parsing, per currency exponent; unknown currencies
    // are refused naming the field.
    #[test]
    fn format_inverts_parse() {
        for (text, cur) in [
            ("19.99", "USD"),
            ("-0.07", "USD"),
            ("1500", "JPY"),
            ("1.234", "KWD"),
        ] {
            let m = parse("f", text, cur).unwrap();
            assert_eq!(format("f", &m).unwrap(), text);
        }
        assert!(matches!(
            format("price", &Money { minor: 1, currency: "XYZ".into() }),
            Err(ConnectorError::InvalidInput(m)) if m.contains("price")
        ));
    }

    // A lazily named field is named only when its amount is refused, and then in full.
    #[test]
    fn parse_with_builds_the_name_only_on_refusal() {
        let built = std::cell::Cell::new(0);
        let name = || {
            built.set(built.get() + 1);
            "line_items[3].price".to_string()
        };
        assert_eq!(parse_with(name, "19.99", "USD").unwrap().minor, 1999);
        assert_eq!(built.get(), 0, "a parsed amount must not build the name");
        assert!(matches!(
            parse_with(name, "19,99", "USD"),
            Err(ConnectorError::InvalidInput(m)) if m.starts_with("line_items[3].price: ")
        ));
        assert_eq!(built.get(), 1);
    }
}
