"""`Fail`: a connector error of one contract kind, raised by the pure modules and turned
into the WIT `connector-error` variant at the export boundary (`app.py`)."""

UNAUTHORIZED = "unauthorized"
INVALID_SIGNATURE = "invalid-signature"
RATE_LIMITED = "rate-limited"
TRANSIENT = "transient"
INVALID_INPUT = "invalid-input"
UNSUPPORTED = "unsupported"
PERMANENT = "permanent"


class Fail(Exception):
    """A connector error: `kind` is one of the constants above; `value` the message (or,
    for `rate-limited`, the milliseconds to wait)."""

    def __init__(self, kind, value=""):
        super().__init__(f"{kind}: {value}")
        self.kind = kind
        self.value = value


def invalid(message):
    return Fail(INVALID_INPUT, message)


def config_invalid(key, why):
    return Fail(INVALID_INPUT, f"config `{key}`: {why}")
