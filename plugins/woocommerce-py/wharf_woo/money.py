"""Decimal amount strings to integer minor units of an ISO 4217 currency, exactly: the
digits are shifted as text, never converted through a float (the host's `parse_money`
rules: more fractional digits than the currency has are accepted only when zeros)."""

from .errors import invalid

ZERO_DIGIT = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
    "VND", "VUV", "XAF", "XOF", "XPF",
}
THREE_DIGIT = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
FOUR_DIGIT = {"CLF", "UYW"}
TWO_DIGIT = set(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS "
    "KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
    "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS "
    "UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG".split()
)

I64_MAX = (1 << 63) - 1


def minor_digits(currency):
    if currency in TWO_DIGIT:
        return 2
    if currency in ZERO_DIGIT:
        return 0
    if currency in THREE_DIGIT:
        return 3
    if currency in FOUR_DIGIT:
        return 4
    return None


def parse_decimal(text, digits):
    """`"12.50"` with 2 digits → 1250. Raises ValueError with the reason."""
    s = text.strip()
    negative = s.startswith("-")
    if negative:
        s = s[1:]
    elif s.startswith("+"):
        s = s[1:]
    int_part, _, frac_part = s.partition(".")
    if not int_part and not frac_part:
        raise ValueError("empty")
    if not (int_part + frac_part).isascii() or not all(
        c.isdigit() for c in int_part + frac_part
    ):
        raise ValueError("not a decimal number")
    if len(frac_part) > digits and frac_part[digits:].strip("0"):
        raise ValueError("more fractional digits than the currency has")
    frac = (frac_part + "0" * digits)[:digits]
    value = int((int_part + frac) or "0")
    if value > I64_MAX:
        raise ValueError("out of range")
    return -value if negative else value


def parse(field, amount, currency):
    """Minor units of `amount` (a decimal string) in `currency`; invalid-input naming the
    field otherwise."""
    digits = minor_digits(currency)
    if digits is None:
        raise invalid(f"{field}: unknown currency {currency!r}")
    if not isinstance(amount, str):
        raise invalid(f"{field}: {amount!r} is not a decimal string")
    try:
        return parse_decimal(amount, digits)
    except ValueError as e:
        raise invalid(f"{field}: invalid amount {amount!r}: {e}") from None


def parse_opt(field, amount, currency):
    """Like `parse`, an absent or empty amount being zero."""
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        if minor_digits(currency) is None:
            raise invalid(f"{field}: unknown currency {currency!r}")
        return 0
    return parse(field, amount, currency)


def decimal_text(raw):
    """A JSON number's text (kept as text by the JSON reader) or a string as a plain
    decimal: `18.99`, `18`, `"18.99"`, `1.899e1` → `"18.99"`. None when not a number."""
    if isinstance(raw, bool) or raw is None:
        return None
    t = str(raw).strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        t = t[1:-1]
    mantissa, exp = t, 0
    for i, c in enumerate(t):
        if c in "eE":
            mantissa = t[:i]
            try:
                exp = int(t[i + 1:])
            except ValueError:
                return None
            break
    neg = mantissa.startswith("-")
    m = mantissa[1:] if neg else mantissa
    int_part, _, frac = m.partition(".")
    digits = int_part + frac
    if (not int_part and not frac) or not digits.isascii() or not all(
        c.isdigit() for c in digits
    ) or abs(exp) > 30:
        return None
    point = len(int_part) + exp
    if point <= 0:
        s = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        s = digits + "0" * (point - len(digits))
    else:
        s = digits[:point] + "." + digits[point:]
    return "-" + s if neg else s
