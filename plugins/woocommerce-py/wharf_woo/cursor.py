"""The plugin-owned keyset cursor `{"after": ms, "seen": [ids]}`: orders are read from the
whole second `after` (inclusive, `modified_after` one second earlier) and `seen` lists
the ids already returned at exactly that second, sent as `exclude`. The same text as the
Rust connector's cursor, so either connector resumes the other's."""

import json

from .errors import invalid

MAX_SEEN = 5000
DAY_MS = 86_400_000


def floor_sec(ms):
    return (ms // 1000) * 1000


def horizon(now_ms, lag_seconds):
    return floor_sec(now_ms - lag_seconds * 1000)


class Cursor:
    def __init__(self, after, seen=None):
        self.after = after
        self.seen = list(seen or [])

    def encode(self):
        return json.dumps({"after": self.after, "seen": self.seen}, separators=(",", ":"))

    @staticmethod
    def initial(now_ms, lookback_days):
        return Cursor(floor_sec(now_ms - lookback_days * DAY_MS))

    @staticmethod
    def decode(raw):
        def bad(why):
            return invalid(f"cursor {raw!r}: {why}")

        try:
            v = json.loads(raw)
        except ValueError as e:
            raise bad(str(e)) from None
        if not isinstance(v, dict) or set(v) - {"after", "seen"} or "after" not in v:
            raise bad("expected {\"after\": ms, \"seen\": [ids]}")
        after, seen = v["after"], v.get("seen", [])
        if not _is_int(after) or after <= 0 or after % 1000 != 0:
            raise bad("after must be a positive whole second")
        if (
            not isinstance(seen, list)
            or len(seen) > MAX_SEEN
            or not all(_is_int(i) and 0 < i < 1 << 64 for i in seen)
        ):
            raise bad(f"seen must hold 1 to {MAX_SEEN} order ids")
        return Cursor(after, seen)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)
