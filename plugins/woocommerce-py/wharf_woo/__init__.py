"""The WooCommerce connector in Python: the same protocol as the Rust `woocommerce` plugin.

Layout (each module does one thing; only `host` and `app.py` touch the component's
imports, so the rest is plain Python):

- `errors`: `Fail`, the exception carrying a contract `connector-error` kind.
- `money`: decimal strings to integer minor units, exactly (string arithmetic, no floats).
- `timefmt`: ISO 8601 / RFC 3339 to Unix ms and back (integers only).
- `settings`: the installation's configuration, validated.
- `auth`: HTTP Basic over HTTPS, OAuth 1.0a (HMAC-SHA256) over plain HTTP, WooCommerce's
  error body to error kinds.
- `mapping`: order JSON to the contract's order (status table, money, lines, address).
- `cursor`: the keyset cursor on (`date_modified_gmt`, `id`).
- `api`: `GET /orders`, `GET /orders/{id}`, the stock `PUT`s, over an injected transport.
- `webhook`: `X-WC-Webhook-Signature`, topics, the creation ping.
- `host`: `wasi:http` outgoing-handler as a blocking `send`, config, secrets, clock.
"""
