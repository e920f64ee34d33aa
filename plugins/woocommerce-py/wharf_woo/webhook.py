"""Webhook verification: `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body
with the webhook secret) checked before the body is read, then the topic.

- `order.created` / `order.updated` / `order.restored`: the body is the order.
- `order.deleted` (only `{"id"}`) and any other signed topic: acknowledged, no orders.
- WooCommerce's creation ping (`webhook_id=N`, unsigned, no `X-WC-Webhook-*` headers):
  acknowledged with no orders, so WooCommerce accepts the delivery URL. Any other
  unsigned delivery is invalid-signature.

The idempotency key is `X-WC-Webhook-Delivery-ID` plus a digest of the body (WooCommerce
derives the delivery id from the webhook id and the current second, so two events in one
second share it)."""

import base64
import binascii
import hmac
import json

from wit_world.imports.wharf_connector_types import WebhookEvent

from . import mapping
from .auth import hmac_sha256
from .errors import Fail, INVALID_INPUT, INVALID_SIGNATURE, invalid

ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
SIGNATURE = "X-WC-Webhook-Signature"


def header(headers, name):
    name = name.lower()
    for h in headers:
        if h.name.lower() == name:
            return h.value
    return None


def optional_header(headers, name):
    v = header(headers, name)
    v = v.strip() if v is not None else None
    return v or None


def is_ping(body):
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False
    if not text.startswith("webhook_id="):
        return False
    wid = text[len("webhook_id="):]
    return 0 < len(wid) <= 20 and wid.isascii() and wid.isdigit()


def delivery_key(delivery_id, body):
    return f"{delivery_id}:{hmac_sha256(b'wharf-woocommerce-delivery', body)[:8].hex()}"


def verify(headers, body, secret):
    if header(headers, SIGNATURE) is None and header(headers, "X-WC-Webhook-Topic") is None \
            and is_ping(body):
        return WebhookEvent(delivery_id=None, topic="ping", orders=[])
    sig = header(headers, SIGNATURE)
    if sig is None:
        raise Fail(INVALID_SIGNATURE, f"the {SIGNATURE} header is missing")
    try:
        given = base64.b64decode(sig.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, hmac_sha256(secret.encode(), body)):
        raise Fail(INVALID_SIGNATURE,
                   f"{SIGNATURE} does not match the body signed with the webhook secret")
    topic = optional_header(headers, "X-WC-Webhook-Topic")
    if topic is None:
        raise invalid("the X-WC-Webhook-Topic header is missing")
    delivery = optional_header(headers, "X-WC-Webhook-Delivery-ID")
    if topic in ORDER_TOPICS:
        try:
            orders = [mapping.order_from_bytes(body)]
        except Fail as e:
            if e.kind == INVALID_INPUT:
                raise invalid(f"webhook body ({topic}): {e.value}") from None
            raise
    else:
        try:
            json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid(f"webhook body ({topic}) is not JSON: {e}") from None
        orders = []
    return WebhookEvent(
        delivery_id=delivery_key(delivery, body) if delivery else None,
        topic=topic,
        orders=orders,
    )
