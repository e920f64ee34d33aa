//! Platform timestamps → Unix epoch milliseconds (UTC).

use crate::types::ConnectorError;

/// Parse an RFC 3339 / ISO 8601 timestamp with offset ("2024-04-01T10:00:00-04:00",
/// "2024-04-01T14:00:00Z", optional fractional seconds) into Unix ms, UTC.
pub fn parse_rfc3339_ms(field: &str, s: &str) -> Result<i64, ConnectorError> {
    rfc3339_ms(s).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("{field}: not an ISO 8601 timestamp: {s:?}"))
    })
}

fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let ms_str: String = frac[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = ms_str.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hhmm = rest[1..].replace(':', "");
            if hhmm.len() != 4 {
                return None;
            }
            sign * (hhmm[..2].parse::<i64>().ok()? * 60 + hhmm[2..].parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + millis)
}

/// Parse "YYYY-MM-DD HH:MM:SS" in a fixed UTC offset (e.g. +8h for Chinese platforms).
pub fn parse_local_ms(field: &str, s: &str, offset_hours: i64) -> Result<i64, ConnectorError> {
    rfc3339_ms(s)
        .map(|ms| ms - offset_hours * 3_600_000)
        .ok_or_else(|| ConnectorError::InvalidInput(format!("{field}: not a timestamp: {s:?}")))
}

/// Format Unix ms as the wall time `YYYY-MM-DD HH:MM:SS` in a fixed UTC offset (seconds
/// precision, truncated): the inverse of [`parse_local_ms`] (TOP, JOS: +8h).
pub fn format_local(ms: i64, offset_hours: i64) -> String {
    // The shifted instant's UTC wall time is the local one.
    let s = format_rfc3339(ms + offset_hours * 3_600_000);
    s[..19].replacen('T', " ", 1)
}

/// Format Unix ms as RFC 3339 UTC with seconds ("2024-04-01T14:00:00Z").
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Now, from the WASI wall clock (the harness can freeze it).
pub fn now_ms() -> i64 {
    let t = crate::bindings::wasi::clocks::wall_clock::now();
    t.seconds as i64 * 1000 + i64::from(t.nanoseconds / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_to_utc_ms() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ms("2024-04-01T10:00:00-04:00"),
            rfc3339_ms("2024-04-01T14:00:00Z")
        );
        assert_eq!(
            rfc3339_ms("2024-04-01T14:00:00.250Z"),
            Some(rfc3339_ms("2024-04-01T14:00:00Z").unwrap() + 250)
        );
        assert_eq!(rfc3339_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(rfc3339_ms("yesterday"), None);
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_rfc3339(1_709_164_800_000), "2024-02-29T00:00:00Z");
        assert_eq!(
            rfc3339_ms(&format_rfc3339(1_700_000_123_000)),
            Some(1_700_000_123_000)
        );
    }
}
