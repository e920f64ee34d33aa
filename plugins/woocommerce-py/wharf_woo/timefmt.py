"""ISO 8601 / RFC 3339 timestamps ↔ Unix milliseconds (UTC), with integers only. A time
without an offset is UTC (WooCommerce's `*_gmt` fields)."""

from .errors import invalid


def days_from_civil(y, m, d):
    y = y - 1 if m <= 2 else y
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(z):
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y, m, d)


def _ms(s):
    if len(s) < 19 or s[4] != "-" or s[7] != "-" or s[10] not in "T " or s[13] != ":" or s[16] != ":":
        return None
    try:
        y, mo, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
        h, mi, sec = int(s[11:13]), int(s[14:16]), int(s[17:19])
    except ValueError:
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and sec <= 60):
        return None
    rest = s[19:]
    millis = 0
    if rest.startswith("."):
        frac = rest[1:]
        n = 0
        while n < len(frac) and frac[n].isdigit():
            n += 1
        if n == 0:
            return None
        millis = int((frac[:n] + "000")[:3])
        rest = frac[n:]
    if rest in ("Z", "z", ""):
        offset = 0
    else:
        if rest[0] not in "+-":
            return None
        hhmm = rest[1:].replace(":", "")
        if len(hhmm) != 4 or not hhmm.isdigit():
            return None
        offset = (int(hhmm[:2]) * 60 + int(hhmm[2:])) * (1 if rest[0] == "+" else -1)
    days = days_from_civil(y, mo, d)
    return (days * 86_400 + h * 3600 + mi * 60 + sec - offset * 60) * 1000 + millis


def parse_ms(field, s):
    ms = _ms(s) if isinstance(s, str) else None
    if ms is None:
        raise invalid(f"{field}: not an ISO 8601 timestamp: {s!r}")
    return ms


def format_rfc3339(ms):
    secs = ms // 1000
    days, sod = secs // 86_400, secs % 86_400
    y, m, d = civil_from_days(days)
    return f"{y:04}-{m:02}-{d:02}T{sod // 3600:02}:{(sod % 3600) // 60:02}:{sod % 60:02}Z"


def format_gmt(ms):
    """A `*_gmt` query value: RFC 3339 without the `Z` (with `dates_are_gmt=true`)."""
    return format_rfc3339(ms)[:-1]
