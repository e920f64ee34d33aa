//! Timestamps as platforms write them: RFC 3339 with an offset, to and from Unix ms.
//! No date crate: the civil-date maths is Howard Hinnant's.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock now, Unix ms.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Format Unix ms as `YYYY-MM-DDTHH:MM:SS±HH:MM` in a fixed UTC offset (seconds precision,
/// as Shopify writes `created_at` / `updated_at`). A zero offset is written `+00:00`,
/// as Shopify does.
pub fn format_offset(ms: i64, offset_minutes: i32) -> String {
    let local = ms.div_euclid(1000) + i64::from(offset_minutes) * 60;
    let (date, sod) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(date);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60,
        off / 60,
        off % 60
    )
}

/// Format Unix ms as UTC with milliseconds: `2024-04-01T14:00:00.250Z`.
pub fn format_utc_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (date, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(date);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// Parse RFC 3339 / ISO 8601 with offset or `Z` (fractional seconds allowed) into Unix ms.
pub fn parse(s: &str) -> Option<i64> {
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
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
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
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let padded: String = frac[..n].chars().chain("000".chars()).take(3).collect();
        millis = padded.parse::<i64>().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.bytes().next()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hhmm = rest[1..].replace(':', "");
            if hhmm.len() != 4 || !hhmm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            sign * (hhmm[..2].parse::<i64>().ok()? * 60 + hhmm[2..].parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000 + millis)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Offsets format and parse back to the same instant.
    #[test]
    fn offsets_round_trip() {
        let ms = 1_711_980_000_000; // 2024-04-01T14:00:00Z
        assert_eq!(format_offset(ms, -240), "2024-04-01T10:00:00-04:00");
        assert_eq!(format_offset(ms, 0), "2024-04-01T14:00:00+00:00");
        assert_eq!(format_offset(ms, 330), "2024-04-01T19:30:00+05:30");
        for off in [-240, 0, 330, 480] {
            assert_eq!(parse(&format_offset(ms, off)), Some(ms));
        }
        assert_eq!(parse("2024-04-01T14:00:00.250Z"), Some(ms + 250));
        assert_eq!(format_utc_millis(ms + 250), "2024-04-01T14:00:00.250Z");
    }

    // Malformed timestamps are refused, not guessed.
    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "2024-04-01",
            "2024-13-01T00:00:00Z",
            "2024-04-01T00:00:00",
            "2024-04-01T00:00:00+0x:00",
            "2024-04-01T00:00:00.Z",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
