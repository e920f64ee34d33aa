"""WooCommerce order JSON (REST API v3, also the `order.*` webhook body) → the contract's
`order`. The rules are the Rust connector's, so that for every consistent order
`Σ(quantity × unit-price − line discount) + shipping − discount + tax = total-paid`:

- unit price = `subtotal ÷ quantity`, rounded up to a minor unit when it does not divide
  (the rest goes into the line discount); without `subtotal`, the line's `price`, read
  from the JSON number's text (never through a float);
- line discount = `quantity × unit price − total` (coupons, incl. the rounding rest);
- shipping fee = `shipping_total`; tax = `total_tax`; total paid = `total`;
- order discount = − Σ `fee_lines[].total` (a negative fee is a discount).
"""

import json

from wit_world.imports.wharf_connector_types import (
    Address,
    Buyer,
    ChannelStatus,
    Line,
    Money,
    Order,
)

from . import money
from .errors import invalid
from .timefmt import parse_ms

#: The after-sales tag of a refunded order (the contract convention, docs/wit.md).
AFTER_SALES_REFUNDED = "after-sales:refunded"

STATUS = {
    "pending": ChannelStatus.PENDING_PAYMENT,
    "on-hold": ChannelStatus.PENDING_PAYMENT,
    "checkout-draft": ChannelStatus.PENDING_PAYMENT,
    "processing": ChannelStatus.PAID,
    "completed": ChannelStatus.COMPLETED,
    "cancelled": ChannelStatus.CANCELLED,
    "failed": ChannelStatus.CANCELLED,
    "trash": ChannelStatus.CANCELLED,
    "refunded": ChannelStatus.REFUNDED,
}

U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1


class Number(str):
    """A JSON number with a fraction or exponent, kept as its text (never a float)."""


def loads(text):
    """JSON with non-integer numbers kept as `Number` text."""
    return json.loads(text, parse_float=Number)


class _Fields:
    """Typed reads of one JSON object; a wrong type is invalid-input naming the field."""

    def __init__(self, obj, where):
        if not isinstance(obj, dict):
            raise invalid(f"{where}: expected an object")
        self.obj = obj
        self.where = where

    def _bad(self, key, want):
        return invalid(f"{self.where}: {key}: expected {want}, got {self.obj.get(key)!r}")

    def opt_str(self, key):
        v = self.obj.get(key)
        if v is None or isinstance(v, str):
            return v
        raise self._bad(key, "a string")

    def req_str(self, key):
        v = self.obj.get(key)
        if not isinstance(v, str):
            raise self._bad(key, "a string") if key in self.obj else invalid(
                f"{self.where}: missing field `{key}`")
        return v

    def uint(self, key, required=False, top=U64_MAX):
        if key not in self.obj and not required:
            return 0
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
            if key not in self.obj:
                raise invalid(f"{self.where}: missing field `{key}`")
            raise self._bad(key, "an unsigned integer")
        return v

    def int(self, key):
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            if key not in self.obj:
                raise invalid(f"{self.where}: missing field `{key}`")
            raise self._bad(key, "an integer")
        return v

    def objects(self, key):
        v = self.obj.get(key)
        if v is None and key not in self.obj:
            return []
        if not isinstance(v, list):
            raise self._bad(key, "a list")
        return v

    def sub(self, key):
        v = self.obj.get(key)
        return None if v is None else _Fields(v, f"{self.where}: {key}")


def _t(s):
    return (s or "").strip()


def _non_empty(s):
    t = _t(s)
    return t or None


def _join(parts):
    return " ".join(p.strip() for p in parts if p and p.strip())


def map_line(order_id, i, item, currency):
    f = _Fields(item, f"order {order_id}: line_items[{i}]")
    field = lambda name: f"order {order_id}: line_items[{i}].{name}"  # noqa: E731
    line_id = f.uint("id", required=True)
    name = f.opt_str("name") or ""
    product_id, variation_id = f.uint("product_id"), f.uint("variation_id")
    sku = f.opt_str("sku")
    quantity = f.int("quantity")
    if not 0 < quantity <= U32_MAX:
        raise invalid(f"{field('quantity')}: {quantity} is not positive")
    subtotal, total = f.opt_str("subtotal"), f.opt_str("total")
    total_minor = None if total is None else money.parse(field("total"), total, currency)
    price = item.get("price")
    if subtotal is not None:
        sub = money.parse(field("subtotal"), subtotal, currency)
        unit = sub // quantity + (1 if sub % quantity else 0)
    elif price is not None:
        text = money.decimal_text(price)
        if text is None:
            raise invalid(f"{field('price')}: {price} is not a number")
        unit = money.parse(field("price"), text, currency)
    else:
        raise invalid(f"{field('subtotal')}: neither subtotal nor price is given")
    gross = unit * quantity
    discount = 0 if total_minor is None else gross - total_minor
    if product_id == 0:
        channel_sku = ""
    elif variation_id == 0:
        channel_sku = str(product_id)
    else:
        channel_sku = f"{product_id}/{variation_id}"
    return Line(
        line_id=str(line_id),
        sku=_t(sku),
        channel_sku=channel_sku,
        title=name,
        quantity=quantity,
        unit_price=Money(unit, currency),
        discount=Money(discount, currency),
    )


def _address_fields(a):
    keys = ("first_name", "last_name", "company", "address_1", "address_2", "city",
            "state", "postcode", "country", "email", "phone")
    return {k: a.opt_str(k) for k in keys}


def map_order(obj):
    id_hint = obj.get("id", "?") if isinstance(obj, dict) else "?"
    f = _Fields(obj, f"order {id_hint}")
    oid = str(f.uint("id", required=True))
    field = lambda name: f"order {oid}: {name}"  # noqa: E731
    number = f.opt_str("number")
    raw_status = f.req_str("status")
    currency_raw = f.req_str("currency")
    created_raw, modified_raw = f.opt_str("date_created_gmt"), f.opt_str("date_modified_gmt")
    total = f.req_str("total")
    shipping_total, total_tax = f.opt_str("shipping_total"), f.opt_str("total_tax")
    customer_id = f.uint("customer_id")
    billing_f, shipping_f = f.sub("billing"), f.sub("shipping")
    billing = _address_fields(billing_f) if billing_f else None
    shipping = _address_fields(shipping_f) if shipping_f else None
    items = f.objects("line_items")
    fee_lines = [_Fields(x, field(f"fee_lines[{i}]")).opt_str("total")
                 for i, x in enumerate(f.objects("fee_lines"))]
    coupons = [_Fields(x, field(f"coupon_lines[{i}]")).opt_str("code") or ""
               for i, x in enumerate(f.objects("coupon_lines"))]
    created_via = f.opt_str("created_via")
    refunds = f.objects("refunds")

    status = STATUS.get(raw_status)
    if status is None:
        raise invalid(f"{field('status')}: unknown status {raw_status!r}")
    currency = currency_raw.strip().upper()

    def time(name, v):
        t = _t(v)
        return parse_ms(field(name), t) if t else None

    updated_at = time("date_modified_gmt", modified_raw)
    if updated_at is None:
        raise invalid(f"{field('date_modified_gmt')}: is missing")
    created_at = time("date_created_gmt", created_raw)
    if created_at is None:
        created_at = updated_at
    lines = [map_line(oid, i, item, currency) for i, item in enumerate(items)]
    fees = sum(money.parse_opt(field(f"fee_lines[{i}].total"), t, currency)
               for i, t in enumerate(fee_lines))

    buyer = None
    if billing is not None:
        name = _join([_t(billing["first_name"]), _t(billing["last_name"])])
        email, phone = _non_empty(billing["email"]), _non_empty(billing["phone"])
        cid = str(customer_id) if customer_id else None
        if cid or name or email or phone:
            buyer = Buyer(id=cid, name=name, email=email, phone=phone)

    address = None
    if shipping is not None and any(
        _t(shipping[k]) for k in ("address_1", "address_2", "city", "postcode", "country")
    ):
        phone = _non_empty(shipping["phone"]) or (
            _non_empty(billing["phone"]) if billing else None) or ""
        address = Address(
            name=_join([_t(shipping["first_name"]), _t(shipping["last_name"])]),
            phone=phone,
            country=_t(shipping["country"]),
            province=_t(shipping["state"]),
            city=_t(shipping["city"]),
            district="",
            street=_join([_t(shipping["company"]), _t(shipping["address_1"]),
                          _t(shipping["address_2"])]),
            postal_code=_t(shipping["postcode"]),
            encrypted=False,
        )

    tags = [f"coupon:{c.strip()}" for c in coupons if c.strip()]
    via = _non_empty(created_via)
    if via:
        tags.append(f"created_via:{via}")
    # The after-sales convention (README of the Rust connector, "After-sales"): refunds
    # made on the order, or the refunded status, tag it `after-sales:refunded`.
    if refunds or raw_status == "refunded":
        tags.append(AFTER_SALES_REFUNDED)
    return Order(
        external_id=oid,
        number=_non_empty(number) or oid,
        status=status,
        raw_status=raw_status,
        created_at=created_at,
        updated_at=updated_at,
        currency=currency,
        buyer=buyer,
        shipping_address=address,
        lines=lines,
        shipping_fee=Money(money.parse_opt(field("shipping_total"), shipping_total, currency),
                           currency),
        discount=Money(-fees, currency),
        tax=Money(money.parse_opt(field("total_tax"), total_tax, currency), currency),
        total_paid=Money(money.parse(field("total"), total, currency), currency),
        presale=None,
        tags=tags,
    )


def order_from_text(text):
    try:
        obj = loads(text)
    except ValueError as e:
        raise invalid(f"order ?: {e}") from None
    return map_order(obj)


def order_from_bytes(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise invalid(f"order body is not UTF-8: {e}") from None
    return order_from_text(text)
