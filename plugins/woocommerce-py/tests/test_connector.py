"""Native unit tests of the pure modules (no Wasm): run with the generated bindings on the
path, see README.md ("Test")."""

import base64
import json
import unittest

from wit_world.imports.wharf_connector_types import ChannelStatus, Header

from wharf_woo import auth, mapping, money, webhook
from wharf_woo.api import Response
from wharf_woo.cursor import Cursor
from wharf_woo.errors import Fail

ORDER = {
    "id": 727, "number": "727", "status": "processing", "currency": "USD",
    "date_created_gmt": "2024-04-01T10:00:00", "date_modified_gmt": "2024-04-01T10:05:00",
    "shipping_total": "10.00", "total": "50.64", "total_tax": "3.64", "customer_id": 26,
    "created_via": "checkout",
    "billing": {"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com",
                "phone": "(555) 555-5555"},
    "shipping": {"first_name": "Jane", "last_name": "Doe", "company": "ACME",
                 "address_1": "969 Market", "address_2": "Suite 5", "city": "San Francisco",
                 "state": "CA", "postcode": "94103", "country": "US", "phone": ""},
    "line_items": [
        {"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0,
         "quantity": 2, "subtotal": "20.00", "total": "16.00", "sku": "WOO-1", "price": 8},
        {"id": 316, "name": "Ship Your Idea", "product_id": 22, "variation_id": 23,
         "quantity": 1, "subtotal": "18.00", "total": "18.00", "sku": "", "price": 18},
    ],
    "fee_lines": [{"total": "3.00"}],
    "coupon_lines": [{"code": "spring20"}],
}


def kind(f, *args):
    try:
        f(*args)
    except Fail as e:
        return e.kind, e.value
    return None


class Mapping(unittest.TestCase):
    # Every field of a full order maps like the Rust connector's, and the amounts balance.
    def test_full_order(self):
        o = mapping.order_from_text(json.dumps(ORDER))
        self.assertEqual((o.external_id, o.status, o.raw_status), ("727", ChannelStatus.PAID,
                                                                   "processing"))
        self.assertEqual((o.created_at, o.updated_at), (1_711_965_600_000, 1_711_965_900_000))
        self.assertEqual((o.buyer.id, o.buyer.name), ("26", "John Doe"))
        self.assertEqual(o.shipping_address.phone, "(555) 555-5555")
        self.assertEqual(o.shipping_address.street, "ACME 969 Market Suite 5")
        self.assertEqual([(l.channel_sku, l.unit_price.minor, l.discount.minor) for l in o.lines],
                         [("93", 1000, 400), ("22/23", 1800, 0)])
        self.assertEqual((o.shipping_fee.minor, o.discount.minor, o.tax.minor, o.total_paid.minor),
                         (1000, -300, 364, 5064))
        net = sum(l.quantity * l.unit_price.minor - l.discount.minor for l in o.lines)
        self.assertEqual(net + o.shipping_fee.minor - o.discount.minor + o.tax.minor,
                         o.total_paid.minor)
        self.assertEqual(o.tags, ["coupon:spring20", "created_via:checkout"])

    # The status table, row by row; an unknown status is invalid-input naming the field.
    def test_status_table(self):
        for wc, want in [("pending", ChannelStatus.PENDING_PAYMENT),
                         ("on-hold", ChannelStatus.PENDING_PAYMENT),
                         ("checkout-draft", ChannelStatus.PENDING_PAYMENT),
                         ("processing", ChannelStatus.PAID),
                         ("completed", ChannelStatus.COMPLETED),
                         ("cancelled", ChannelStatus.CANCELLED),
                         ("failed", ChannelStatus.CANCELLED), ("trash", ChannelStatus.CANCELLED),
                         ("refunded", ChannelStatus.REFUNDED)]:
            o = mapping.map_order(dict(ORDER, status=wc))
            self.assertEqual(o.status, want, wc)
        k = kind(mapping.map_order, dict(ORDER, status="shipped-ish"))
        self.assertEqual(k[0], "invalid-input")
        self.assertIn("status", k[1])

    # The after-sales tag as the Rust connector emits it: refunds on the order, or the
    # refunded status, tag it once; an order with neither carries no such tag.
    def test_after_sales_tag(self):
        tag = "after-sales:refunded"
        self.assertNotIn(tag, mapping.map_order(ORDER).tags)
        refunded = mapping.map_order(dict(ORDER, refunds=[{"id": 9, "total": "-5.00"}]))
        self.assertEqual(refunded.tags.count(tag), 1)
        self.assertEqual(mapping.map_order(dict(ORDER, status="refunded")).tags.count(tag), 1)

    # A subtotal not dividing by the quantity rounds the unit price up; the line nets exactly.
    def test_indivisible_subtotal(self):
        o = mapping.map_order(dict(ORDER, line_items=[
            {"id": 1, "quantity": 3, "subtotal": "10.00", "total": "10.00"}]))
        l = o.lines[0]
        self.assertEqual((l.unit_price.minor, l.discount.minor), (334, 2))

    # A JSON-number price is read from its text, never a float; a sub-cent price is refused.
    def test_numeric_price_text(self):
        for text, minor in [("18.99", 1899), ("18", 1800), ("1.899e1", 1899), ("0.1", 10)]:
            body = '{"id": 5, "status": "processing", "currency": "USD", "total": "1.00", ' \
                   '"date_modified_gmt": "2024-04-01T10:05:00", "line_items": [{"id": 1, ' \
                   f'"quantity": 1, "price": {text}}}]}}'
            self.assertEqual(mapping.order_from_text(body).lines[0].unit_price.minor, minor)
        body = body.replace('"price": 0.1', '"price": 3.3333333333333335')
        self.assertEqual(kind(mapping.order_from_text, body)[0], "invalid-input")
        self.assertEqual(money.decimal_text("2.5E-3"), "0.0025")
        self.assertEqual(money.decimal_text("25e2"), "2500")
        self.assertIsNone(money.decimal_text(True))

    # Money parsing is exact and refuses what would lose or invent money.
    def test_money(self):
        self.assertEqual(money.parse("f", "0.10", "USD"), 10)
        self.assertEqual(money.parse("f", "-5.07", "USD"), -507)
        self.assertEqual(money.parse("f", "1500", "JPY"), 1500)
        self.assertEqual(money.parse("f", "12.500", "USD"), 1250)
        for bad in ["1.005", "12,50", "", "1e3"]:
            self.assertEqual(kind(money.parse, "f", bad, "USD")[0], "invalid-input", bad)


class Protocol(unittest.TestCase):
    # The OAuth base string is WooCommerce's: sorted, encoded once, %3D / %26 joined.
    def test_base_string(self):
        self.assertEqual(
            auth.base_string("get", "http://shop.example.com/wp-json/wc/v3/orders", [
                ("modified_after", "2024-04-01T10:00:00"), ("exclude", "5,6"),
                ("oauth_nonce", "n1")]),
            "GET&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Forders&"
            "exclude%3D5%2C6%26modified_after%3D2024-04-01T10%3A00%3A00%26oauth_nonce%3Dn1")

    # Over HTTPS Basic auth is used and the URL carries no OAuth parameter.
    def test_https_basic(self):
        creds = auth.Credentials("ck_abc", "cs_s3cret")
        _, url, headers = auth.request("PUT", "https://s.example.com/x", [], creds, 0, "n")
        self.assertEqual(url, "https://s.example.com/x")
        self.assertIn(("Authorization", "Basic Y2tfYWJjOmNzX3MzY3JldA=="), headers)
        _, url, headers = auth.request("GET", "http://s.example.com/x", [("page", "1")], creds,
                                       1_712_000_000_999, "abc")
        self.assertIn("oauth_timestamp=1712000000", url)
        self.assertNotIn("s3cret", url)

    # Statuses map to the contract's error kinds (401, 403, 429 + Retry-After, 5xx, 400, 404).
    def test_errors(self):
        def r(status, headers=(), body=b""):
            return kind(auth.check, Response(status, list(headers), body))
        self.assertEqual(r(401, body=b'{"code":"woocommerce_rest_authentication_error"}')[0],
                         "unauthorized")
        self.assertEqual(r(403)[0], "unauthorized")
        self.assertEqual(r(429, [("Retry-After", "7")]), ("rate-limited", 7000))
        self.assertEqual(r(503)[0], "transient")
        self.assertEqual(r(400)[0], "invalid-input")
        self.assertEqual(r(404)[0], "permanent")
        self.assertIsNone(r(200))

    # The cursor round-trips in the Rust connector's text and refuses garbage.
    def test_cursor(self):
        c = Cursor(1_712_000_000_000, [7, 9])
        self.assertEqual(c.encode(), '{"after":1712000000000,"seen":[7,9]}')
        self.assertEqual(Cursor.decode(c.encode()).seen, [7, 9])
        for raw in ["", "{}", '{"after": 1712000000001}', '{"after": 1000, "x": 1}',
                    '{"after": 1000, "seen": [0]}', '{"after": -1000}', '{"after": true}']:
            self.assertEqual(kind(Cursor.decode, raw)[0], "invalid-input", raw)


class Webhooks(unittest.TestCase):
    SECRET = "wh-secret"

    def headers(self, topic, sig):
        return [Header("x-wc-webhook-signature", sig), Header("X-WC-Webhook-Topic", topic),
                Header("X-WC-Webhook-Delivery-ID", "a1b2c3")]

    def sign(self, body):
        return base64.b64encode(auth.hmac_sha256(self.SECRET.encode(), body)).decode()

    # A signed order topic yields the order; a tampered body or wrong key is refused.
    def test_signed_and_tampered(self):
        body = json.dumps(ORDER).encode()
        ev = webhook.verify(self.headers("order.updated", self.sign(body)), body, self.SECRET)
        self.assertEqual((ev.topic, len(ev.orders), ev.delivery_id[:7]),
                         ("order.updated", 1, "a1b2c3:"))
        self.assertEqual(kind(webhook.verify, self.headers("order.updated", self.sign(body)),
                              body + b" ", self.SECRET)[0], "invalid-signature")
        self.assertEqual(kind(webhook.verify, [], body, self.SECRET)[0], "invalid-signature")
        ev = webhook.verify(self.headers("order.deleted", self.sign(b'{"id": 1}')),
                            b'{"id": 1}', self.SECRET)
        self.assertEqual(ev.orders, [])

    # WooCommerce's unsigned creation ping is acknowledged with no orders.
    def test_ping(self):
        ev = webhook.verify([], b"webhook_id=15", self.SECRET)
        self.assertEqual((ev.topic, ev.delivery_id, ev.orders), ("ping", None, []))
        self.assertEqual(kind(webhook.verify, [], b"webhook_id=abc", self.SECRET)[0],
                         "invalid-signature")


if __name__ == "__main__":
    unittest.main()
