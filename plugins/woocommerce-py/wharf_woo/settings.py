"""The installation's configuration (the manifest's `config_schema`), validated: errors
are invalid-input naming the key, as in the Rust connector."""

from .errors import config_invalid

MAX_PAGE_SIZE = 100
API_PATH = "/wp-json/wc/v3"


class Settings:
    def __init__(self, site_url, page_size, lookback_days, safety_lag_seconds):
        self.site_url = site_url
        self.page_size = page_size
        self.lookback_days = lookback_days
        self.safety_lag_seconds = safety_lag_seconds

    @property
    def https(self):
        return self.site_url.startswith("https://")

    @property
    def api_base(self):
        return self.site_url + API_PATH

    @staticmethod
    def from_lookup(get):
        raw = get("site_url")
        site_url = (raw or "").strip()
        if not site_url:
            raise config_invalid("site_url", "is required (e.g. https://shop.example.com)")
        site_url = site_url.rstrip("/")
        check_plain_base("site_url", site_url, "a site URL like https://shop.example.com")
        return Settings(
            site_url,
            read_int(get, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
            read_int(get, "lookback_days", 30, 1, 365),
            read_int(get, "safety_lag_seconds", 60, 0, 3600),
        )


def read_int(get, key, default, low, high):
    raw = get(key)
    if raw is None:
        return default
    t = raw.strip()
    if t.isascii() and t.isdigit() and low <= int(t) <= high:
        return int(t)
    raise config_invalid(key, f"{raw!r} must be an integer from {low} to {high}")


def check_plain_base(key, url, expected):
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            rest = url[len(scheme):]
            break
    else:
        raise config_invalid(key, f"{url!r} must start with https:// or http://")
    host = rest.split("/")[0].split("?")[0]
    if not host or any(c in rest for c in "?# @"):
        raise config_invalid(key, f"{url!r} must be {expected}")
