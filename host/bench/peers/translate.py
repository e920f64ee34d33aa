"""The Python peer of the translate benchmark: what a small team would write to verify a
Shopify order webhook and normalise the order, with CPython's own json module.

It does the same work as the Shopify plugin's `webhook::verify`: check
X-Shopify-Hmac-Sha256 over the raw body, parse the JSON, map the order to the normalised
fields (status from financial x fulfillment x cancelled, money as integer minor units from
the decimal strings, never floats; timestamps to Unix ms).

    python3 translate.py BODY_FILE SECRET WARMUP ITERATIONS

prints one JSON object: {"samples_ns": [...], "order": {...normalised order...}}.
"""

import base64
import hashlib
import hmac
import json
import sys
import time
from datetime import datetime

DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
          "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "LYD": 3, "IQD": 3}
KNOWN_TWO = {"USD", "EUR", "GBP", "CAD", "AUD", "CNY", "HKD", "CHF", "SEK", "NOK", "DKK",
             "NZD", "SGD", "MXN", "BRL", "INR", "PLN", "CZK", "TWD", "THB", "MYR", "ZAR"}


def minor(amount, currency):
    """Decimal string -> integer minor units, exactly (no float)."""
    if amount is None or amount.strip() == "":
        return 0
    digits = DIGITS.get(currency)
    if digits is None:
        if currency not in KNOWN_TWO:
            raise ValueError(f"unknown currency {currency!r}")
        digits = 2
    s = amount.strip()
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    whole, _, frac = s.partition(".")
    if (whole and not whole.isdigit()) or (frac and not frac.isdigit()) or not (whole or frac):
        raise ValueError(f"not a decimal amount: {amount!r}")
    frac = frac.rstrip("0")
    if len(frac) > digits:
        raise ValueError(f"{amount!r} has more than {digits} fractional digits")
    value = int(whole or "0") * 10 ** digits + int((frac + "0" * digits)[:digits] or "0")
    return -value if neg else value


def ms(ts):
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


def status(financial, fulfillment, cancelled):
    if financial == "refunded":
        normal = "refunded"
    elif financial == "voided":
        normal = "cancelled"
    elif financial in ("pending", "partially_paid"):
        normal = "pending-payment"
    elif financial in ("authorized", "paid", "partially_refunded"):
        if fulfillment is None:
            normal = "paid"
        elif fulfillment == "partial":
            normal = "partially-shipped"
        elif fulfillment == "fulfilled":
            normal = "shipped"
        else:
            raise ValueError(f"unknown fulfillment_status {fulfillment!r}")
    else:
        raise ValueError(f"unknown financial_status {financial!r}")
    if cancelled:
        normal = "refunded" if financial == "refunded" else "cancelled"
    raw = f"{financial}/{fulfillment if fulfillment is not None else 'null'}"
    if cancelled:
        raw += "/cancelled"
    return normal, raw


def text(v):
    return (v or "").strip()


def normalise(o):
    cur = o["currency"]
    cancelled = bool(o.get("cancelled_at"))
    st, raw = status(o["financial_status"], o.get("fulfillment_status"), cancelled)
    lines, allocated = [], 0
    for li in o.get("line_items") or []:
        disc = sum(minor(d["amount"], cur) for d in li.get("discount_allocations") or [])
        allocated += disc
        lines.append({
            "line_id": str(li["id"]),
            "sku": li.get("sku") or "",
            "channel_sku": str(li["variant_id"]) if li.get("variant_id") is not None else "",
            "title": li.get("title") or "",
            "quantity": int(li["quantity"]),
            "unit_price": minor(li["price"], cur),
            "discount": disc,
        })
    shipping = sum(minor(s["price"], cur) for s in o.get("shipping_lines") or [])
    tax = 0 if o.get("taxes_included") is True else minor(o.get("total_tax"), cur)
    a = o.get("shipping_address")
    address = None
    if a is not None:
        name = text(a.get("name")) or f"{text(a.get('first_name'))} {text(a.get('last_name'))}".strip()
        address = {
            "name": name,
            "phone": text(a.get("phone")),
            "country": text(a.get("country_code")) or text(a.get("country")),
            "province": text(a.get("province")) or text(a.get("province_code")),
            "city": text(a.get("city")),
            "street": ", ".join(s for s in (text(a.get("address1")), text(a.get("address2"))) if s),
            "postal_code": text(a.get("zip")),
        }
    return {
        "external_id": str(o["id"]),
        "number": o.get("name") or str(o["id"]),
        "status": st,
        "raw_status": raw,
        "created_at": ms(o["created_at"]),
        "updated_at": ms(o["updated_at"]),
        "currency": cur,
        "lines": lines,
        "shipping_fee": shipping,
        "discount": minor(o.get("total_discounts"), cur) - allocated,
        "tax": tax,
        "total_paid": minor(o["total_price"], cur),
        "tags": [t.strip() for t in (o.get("tags") or "").split(",") if t.strip()],
        "shipping_address": address,
    }


def verify(secret, signature, body):
    expected = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise ValueError("X-Shopify-Hmac-Sha256 does not match")
    return normalise(json.loads(body))


def main():
    body_file, secret, warmup, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(body_file, "rb") as f:
        body = f.read()
    secret = secret.encode()
    signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    for _ in range(warmup):
        verify(secret, signature, body)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        t = clock()
        verify(secret, signature, body)
        samples.append(clock() - t)
    print(json.dumps({"samples_ns": samples, "order": verify(secret, signature, body)}))


if __name__ == "__main__":
    main()
