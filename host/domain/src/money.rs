//! Money as integer minor units of an ISO 4217 currency. No floats anywhere.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An amount in integer minor units of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl Money {
    pub fn new(minor: i64, currency: impl Into<String>) -> Self {
        Self {
            minor,
            currency: currency.into(),
        }
    }

    pub fn zero(currency: impl Into<String>) -> Self {
        Self::new(0, currency)
    }
}

/// Active ISO 4217 codes with their minor-unit exponent. Codes not listed have 2 digits.
const ZERO_DIGIT: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const THREE_DIGIT: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const FOUR_DIGIT: &[&str] = &["CLF", "UYW"];
const TWO_DIGIT: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
    "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
    "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR",
    "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU",
    "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
];

/// A three-letter code as one integer: lookups compare integers, not strings (in a
/// WebAssembly plugin every string comparison is a call to a byte-by-byte `memcmp`, and
/// money is parsed several times per order).
const fn code_key(code: &[u8]) -> u32 {
    ((code[0] as u32) << 16) | ((code[1] as u32) << 8) | code[2] as u32
}

/// The keys of `codes`, sorted for binary search.
const fn sorted_keys<const N: usize>(codes: &[&str]) -> [u32; N] {
    let mut keys = [0u32; N];
    let mut i = 0;
    while i < N {
        keys[i] = code_key(codes[i].as_bytes());
        // Insertion sort: the lists are short and already nearly sorted.
        let mut j = i;
        while j > 0 && keys[j - 1] > keys[j] {
            let t = keys[j - 1];
            keys[j - 1] = keys[j];
            keys[j] = t;
            j -= 1;
        }
        i += 1;
    }
    keys
}

const TWO_DIGIT_KEYS: [u32; TWO_DIGIT.len()] = sorted_keys(TWO_DIGIT);
const ZERO_DIGIT_KEYS: [u32; ZERO_DIGIT.len()] = sorted_keys(ZERO_DIGIT);
const THREE_DIGIT_KEYS: [u32; THREE_DIGIT.len()] = sorted_keys(THREE_DIGIT);
const FOUR_DIGIT_KEYS: [u32; FOUR_DIGIT.len()] = sorted_keys(FOUR_DIGIT);

/// The number of minor-unit digits of an active ISO 4217 currency, or `None` if the code
/// is not one.
pub fn minor_digits(currency: &str) -> Option<u32> {
    let code = currency.as_bytes();
    if code.len() != 3 {
        return None;
    }
    let key = code_key(code);
    [
        (&TWO_DIGIT_KEYS[..], 2),
        (&ZERO_DIGIT_KEYS[..], 0),
        (&THREE_DIGIT_KEYS[..], 3),
        (&FOUR_DIGIT_KEYS[..], 4),
    ]
    .into_iter()
    .find(|(keys, _)| keys.binary_search(&key).is_ok())
    .map(|(_, digits)| digits)
}

/// True for active ISO 4217 currency codes.
pub fn is_known_currency(currency: &str) -> bool {
    minor_digits(currency).is_some()
}

/// Parse a decimal amount string ("12.5", "-0.07", "100") into minor units with `digits`
/// fractional digits, exactly: no float on the way. More fractional digits than `digits`
/// are accepted only when they are zeros ("12.500" for a 2-digit currency).
pub fn parse_decimal(input: &str, digits: u32) -> Result<i64, DomainError> {
    let err = |reason| DomainError::InvalidAmount {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(err("empty"));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err("not a decimal number"));
    }
    let digits = digits as usize;
    if frac_part.len() > digits && frac_part[digits..].bytes().any(|b| b != b'0') {
        return Err(err("more fractional digits than the currency has"));
    }
    let mut value: i64 = 0;
    let frac_digits = frac_part
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(digits);
    for b in int_part.bytes().chain(frac_digits) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| err("out of range"))?;
    }
    Ok(if negative { -value } else { value })
}

/// Parse a decimal amount in the given currency into [`Money`].
pub fn parse_money(input: &str, currency: &str) -> Result<Money, DomainError> {
    let digits =
        minor_digits(currency).ok_or_else(|| DomainError::UnknownCurrency(currency.to_string()))?;
    Ok(Money::new(parse_decimal(input, digits)?, currency))
}

/// Format minor units back as a decimal string with the currency's digits.
pub fn format_minor(minor: i64, digits: u32) -> String {
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_strings_exactly_without_floats() {
        // 0.1 + 0.2 style values that floats get wrong come out exact.
        assert_eq!(parse_decimal("0.10", 2), Ok(10));
        assert_eq!(parse_decimal("0.2", 2), Ok(20));
        assert_eq!(parse_decimal("19.99", 2), Ok(1999));
        assert_eq!(parse_decimal("-5.07", 2), Ok(-507));
        assert_eq!(parse_decimal("100", 2), Ok(10000));
        assert_eq!(parse_decimal("1200", 0), Ok(1200));
        assert_eq!(parse_decimal("1.234", 3), Ok(1234));
        assert_eq!(parse_decimal("12.500", 2), Ok(1250));
        assert_eq!(parse_decimal(".5", 2), Ok(50));
    }

    #[test]
    fn rejects_amounts_that_would_lose_or_invent_money() {
        assert!(
            parse_decimal("1.005", 2).is_err(),
            "sub-cent digits must not be rounded away"
        );
        assert!(parse_decimal("12,50", 2).is_err());
        assert!(parse_decimal("", 2).is_err());
        assert!(parse_decimal("1e3", 2).is_err());
        assert!(parse_decimal("99999999999999999999", 2).is_err());
    }

    // Every listed code resolves to its own exponent (the keyed lookup is sorted and
    // complete); near misses (case, length, a 3-byte non-ASCII string) resolve to none.
    #[test]
    fn every_listed_code_has_its_exponent_and_near_misses_none() {
        for (codes, digits) in [
            (TWO_DIGIT, 2),
            (ZERO_DIGIT, 0),
            (THREE_DIGIT, 3),
            (FOUR_DIGIT, 4),
        ] {
            for code in codes {
                assert_eq!(minor_digits(code), Some(digits), "{code}");
            }
        }
        for miss in ["usd", "Usd", "US", "USDX", "", "€", "AAA", "ZZZ"] {
            assert_eq!(minor_digits(miss), None, "{miss:?}");
        }
    }

    #[test]
    fn knows_currency_exponents() {
        assert_eq!(minor_digits("USD"), Some(2));
        assert_eq!(minor_digits("CNY"), Some(2));
        assert_eq!(minor_digits("JPY"), Some(0));
        assert_eq!(minor_digits("KWD"), Some(3));
        assert_eq!(minor_digits("XXX"), None);
        assert_eq!(parse_money("1500", "JPY").unwrap().minor, 1500);
        assert!(parse_money("1", "ABC").is_err());
    }

    #[test]
    fn formats_minor_units_back_to_decimal() {
        assert_eq!(format_minor(1999, 2), "19.99");
        assert_eq!(format_minor(-507, 2), "-5.07");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(1500, 0), "1500");
    }
}
