"""WooCommerce REST authentication and error bodies.

- HTTPS: HTTP Basic with the consumer key and secret.
- HTTP: OAuth 1.0a one-legged, as WooCommerce verifies it
  (`WC_REST_Authentication::check_oauth_signature`): every query parameter plus
  `oauth_consumer_key`, `oauth_nonce`, `oauth_signature_method=HMAC-SHA256`,
  `oauth_timestamp`; sorted by name, each name and value `rawurlencode`d once, joined as
  `name%3Dvalue` with `%26` (not encoded a second time); base string
  `METHOD&rawurlencode(url)&pairs`; key `consumer_secret&`; base64 HMAC-SHA256.
- Error answers: WordPress's `{"code", "message", "data": {"status"}}` → error kinds
  (400 invalid-input, 401/403 unauthorized, 429 rate-limited with Retry-After, 408/5xx
  transient, anything else permanent).
"""

import base64
import hashlib
import hmac
import json
# hmac's pure-Python path (no OpenSSL in the component) imports `warnings` lazily, and
# componentize-py bundles only what is imported while it builds: import it here.
import warnings  # noqa: F401

from .errors import Fail, INVALID_INPUT, PERMANENT, RATE_LIMITED, TRANSIENT, UNAUTHORIZED

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def encode(s):
    """RFC 3986 percent-encoding of every byte but the unreserved ones (`rawurlencode`)."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in s.encode("utf-8"))


def hmac_sha256(key, message):
    return hmac.new(key, message, hashlib.sha256).digest()


class Credentials:
    def __init__(self, consumer_key, consumer_secret):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret

    def __repr__(self):
        return f"Credentials(consumer_key={self.consumer_key!r}, consumer_secret=<redacted>)"


_counter = [0]


def nonce(creds, now_ms, url):
    """A per-request nonce: unique within a call, reproducible under a frozen clock (so
    recorded requests replay), and not revealing the secret."""
    n = _counter[0]
    _counter[0] += 1
    mac = hmac_sha256(creds.consumer_secret.encode(), f"{now_ms}:{n}:{url}".encode())
    return mac[:16].hex()


def base_string(method, url, params):
    pairs = sorted((encode(k), encode(v)) for k, v in params)
    joined = "%26".join(f"{k}%3D{v}" for k, v in pairs)
    return f"{method.upper()}&{encode(url)}&{joined}"


def signature(consumer_secret, base):
    mac = hmac_sha256(f"{consumer_secret}&".encode(), base.encode())
    return base64.b64encode(mac).decode()


def request(method, url, params, creds, now_ms, nonce_value):
    """(method, full URL, headers) of an authenticated call."""
    all_params = list(params)
    https = url.startswith("https://")
    if not https:
        all_params += [
            ("oauth_consumer_key", creds.consumer_key),
            ("oauth_nonce", nonce_value),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", str(now_ms // 1000)),
        ]
        sig = signature(creds.consumer_secret, base_string(method, url, all_params))
        all_params.append(("oauth_signature", sig))
    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in all_params)
    full = f"{url}?{query}" if query else url
    headers = [("Accept", "application/json")]
    if https:
        basic = base64.b64encode(f"{creds.consumer_key}:{creds.consumer_secret}".encode())
        headers.append(("Authorization", "Basic " + basic.decode()))
    return method, full, headers


def wc_error(body):
    """WordPress's error body as (code, message), or None."""
    try:
        v = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(v, dict) or not isinstance(v.get("code"), str):
        return None
    message = v.get("message", "")
    return v["code"], message if isinstance(message, str) else ""


def retry_after_ms(value):
    """`Retry-After: 7` (or `1.5`) in ms; 1 s when absent or not a number of seconds."""
    t = (value or "").strip()
    whole, _, frac = t.partition(".")
    if whole.isascii() and whole.isdigit() and (not frac or (frac.isascii() and frac.isdigit())):
        return int(whole) * 1000 + int((frac + "000")[:3])
    return 1000


def check(resp):
    """The response when 2xx, else the `Fail` its status means."""
    status = resp.status
    if 200 <= status < 300:
        return resp
    err = wc_error(resp.body)
    if err:
        what = f"HTTP {status} {err[0]}: {err[1]}"
    else:
        what = f"HTTP {status}: {resp.body[:200].decode('utf-8', 'replace')}"
    if status == 400:
        raise Fail(INVALID_INPUT, what)
    if status in (401, 403):
        raise Fail(UNAUTHORIZED, what)
    if status == 429:
        raise Fail(RATE_LIMITED, retry_after_ms(resp.header("retry-after")))
    if status == 408 or 500 <= status <= 599:
        raise Fail(TRANSIENT, what)
    raise Fail(PERMANENT, what)
