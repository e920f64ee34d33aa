"""The REST calls: `GET /orders` (page 1 of a keyset range per call), `GET /orders/{id}`
and the stock `PUT`s of push-inventory, over an injected `send(method, url, headers,
body) -> Response` (the `wasi:http` client in the component, a fake in tests)."""

import json

from wit_world.imports.wharf_connector_types import Page, StockPushResult

from . import auth, mapping
from .cursor import Cursor, MAX_SEEN, floor_sec, horizon as horizon_of
from .errors import Fail, PERMANENT, invalid
from .timefmt import format_gmt


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def json(self):
        try:
            return mapping.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid(f"response body: {e}") from None


def call(settings, creds, method, path, params, body, now_ms, send):
    url = settings.api_base + path
    # The nonce covers the method and parameters too (as in the Rust connector): under a
    # frozen clock every call restarts the counter, and two pages share the URL.
    query = "&".join(f"{k}={v}" for k, v in params)
    n = auth.nonce(creds, now_ms, f"{method} {url}?{query}")
    method, full, headers = auth.request(method, url, params, creds, now_ms, n)
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    return send(method, full, headers, body or b"")


def list_params(settings, cur, horizon):
    p = [
        ("status", "any"),
        ("dates_are_gmt", "true"),
        ("modified_after", format_gmt(cur.after - 1000)),
        ("modified_before", format_gmt(horizon + 1000)),
        ("orderby", "modified"),
        ("order", "asc"),
        ("per_page", str(settings.page_size)),
        ("page", "1"),
    ]
    if cur.seen:
        p.append(("exclude", ",".join(str(i) for i in cur.seen)))
    return p


def _id_of(order):
    e = order.external_id
    return int(e) if e.isascii() and e.isdigit() else None


def pull_orders(settings, creds, cursor, now_ms, send):
    cur = Cursor.decode(cursor) if cursor is not None else Cursor.initial(
        now_ms, settings.lookback_days)
    horizon = horizon_of(now_ms, settings.safety_lag_seconds)
    if horizon < cur.after:
        return Page(orders=[], cursor=cur.encode(), more=False)
    resp = auth.check(call(settings, creds, "GET", "/orders",
                           list_params(settings, cur, horizon), None, now_ms, send))
    raws = resp.json()
    if not isinstance(raws, list):
        raise invalid("response body: expected a JSON array of orders")
    total_header = (resp.header("x-wp-total") or "").strip()
    total = int(total_header) if total_header.isascii() and total_header.isdigit() else None
    seen = set(cur.seen)
    orders = []
    for raw in raws:
        order = mapping.map_order(raw)
        sec = floor_sec(order.updated_at)
        if sec < cur.after or (sec == cur.after and _id_of(order) in seen):
            continue
        orders.append(order)
    if raws and not orders:
        raise Fail(PERMANENT, "GET /orders returned only orders before the cursor: the site "
                   "ignores modified_after/exclude, so a keyset pull cannot advance")
    more = total > len(raws) if total is not None else len(raws) >= settings.page_size
    if more:
        after = max((floor_sec(o.updated_at) for o in orders), default=cur.after)
    else:
        after = horizon
    nxt = Cursor(after, list(cur.seen) if after == cur.after else [])
    for o in orders:
        oid = _id_of(o)
        if floor_sec(o.updated_at) == nxt.after and oid is not None and oid not in nxt.seen:
            nxt.seen.append(oid)
    if len(nxt.seen) > MAX_SEEN:
        raise Fail(PERMANENT, f"more than {MAX_SEEN} orders share the modified second "
                   f"{format_gmt(nxt.after)}: the keyset cannot page them")
    return Page(orders=orders, cursor=nxt.encode(), more=more)


def get_order(settings, creds, external_id, now_ms, send):
    if not (0 < len(external_id) <= 20 and external_id.isascii() and external_id.isdigit()):
        raise invalid(f"{external_id!r} is not a WooCommerce order id (digits only)")
    resp = call(settings, creds, "GET", f"/orders/{external_id}", [], None, now_ms, send)
    if resp.status == 404:
        return None
    resp = auth.check(resp)
    try:
        text = resp.body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise invalid(f"order {external_id}: {e}") from None
    return mapping.order_from_text(text)


def stock_path(channel_sku):
    def digits(s):
        return 0 < len(s) <= 20 and s.isascii() and s.isdigit() and s != "0"

    t = channel_sku.strip()
    if "/" not in t:
        return f"/products/{t}" if digits(t) else None
    p, v = t.split("/", 1)
    return f"/products/{p}/variations/{v}" if digits(p) and digits(v) else None


def push_inventory(settings, creds, levels, now_ms, send):
    results = []
    for level in levels:
        path = stock_path(level.channel_sku)
        if path is None:
            results.append(StockPushResult(level.sku, False, f"channel-sku {level.channel_sku!r}"
                                           " is not product_id or product_id/variation_id"))
            continue
        quantity = max(level.available, 0)
        body = json.dumps({"manage_stock": True, "stock_quantity": quantity},
                          separators=(",", ":")).encode()
        resp = call(settings, creds, "PUT", path, [], body, now_ms, send)
        if 200 <= resp.status <= 299:
            results.append(StockPushResult(level.sku, True, f"stock_quantity set to {quantity}"))
        elif resp.status in (400, 404, 409, 410):
            err = auth.wc_error(resp.body)
            why = f"{err[0]}: {err[1]}" if err else f"HTTP {resp.status}"
            results.append(StockPushResult(level.sku, False, f"{path}: {why}"))
        else:
            auth.check(resp)
    return results
