"""The component's entry point: the `channel` export of `wharf:connector/marketplace@0.2.0`.
Each method reads the installation's settings and secrets, calls the pure modules of
`wharf_woo`, and turns a `Fail` into the contract's `connector-error`."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import wharf_connector_types as t

from wharf_woo import api, host, webhook
from wharf_woo.auth import Credentials
from wharf_woo.errors import Fail
from wharf_woo.settings import Settings

ERRORS = {
    "unauthorized": t.ConnectorError_Unauthorized,
    "invalid-signature": t.ConnectorError_InvalidSignature,
    "rate-limited": t.ConnectorError_RateLimited,
    "transient": t.ConnectorError_Transient,
    "invalid-input": t.ConnectorError_InvalidInput,
    "permanent": t.ConnectorError_Permanent,
}


def contract_error(e):
    if e.kind == "unsupported":
        return Err(t.ConnectorError_Unsupported())
    return Err(ERRORS[e.kind](e.value))


def unsupported():
    return Err(t.ConnectorError_Unsupported())


def settings():
    return Settings.from_lookup(host.get)


def credentials():
    return Credentials(host.require_secret("consumer_key"),
                       host.require_secret("consumer_secret"))


def guarded(f):
    def run(*args):
        try:
            return f(*args)
        except Fail as e:
            raise contract_error(e) from None
    return run


class Channel(exports.Channel):
    def describe(self):
        return t.ConnectorInfo(
            platform="woocommerce",
            display_name="WooCommerce (Python)",
            capabilities=["verify-webhook", "pull-orders", "get-order", "push-inventory"],
        )

    @guarded
    def verify_webhook(self, headers, body):
        return webhook.verify(headers, body, host.require_secret("webhook_secret"))

    @guarded
    def pull_orders(self, cursor):
        return api.pull_orders(settings(), credentials(), cursor, host.now_ms(), host.send)

    @guarded
    def get_order(self, external_id):
        return api.get_order(settings(), credentials(), external_id, host.now_ms(), host.send)

    def confirm_shipment(self, shipment):
        raise unsupported()

    @guarded
    def push_inventory(self, levels):
        return api.push_inventory(settings(), credentials(), levels, host.now_ms(), host.send)

    def fetch_settlements(self, period_start, period_end, cursor):
        raise unsupported()
