//! RFC 3339 ↔ Unix milliseconds for the frozen clock (`--clock`, fixture `clock`).

/// Parse `2024-04-10T08:00:00Z`, `2024-04-10T16:00:00+08:00` (optional fraction) or a bare
/// integer of Unix milliseconds.
pub fn parse_clock(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    rfc3339_ms(s).ok_or_else(|| {
        format!("{s:?} is not an RFC 3339 time like 2024-04-10T08:00:00Z (or Unix ms)")
    })
}

fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
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
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits: String = frac[..n].chars().chain("00".chars()).take(3).collect();
        millis = digits.parse().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest[1..3].parse().ok()?;
            let mm: i64 = rest[4..6].parse().ok()?;
            sign * (hh * 60 + mm)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + millis)
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

/// Unix ms → `2024-04-10T08:00:00.000Z`.
pub fn format_clock(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3339 with Z, offsets and fractions, and bare Unix ms, parse to the same instant.
    #[test]
    fn parses_rfc3339_and_unix_ms() {
        assert_eq!(
            parse_clock("2024-04-02T00:00:00Z").unwrap(),
            1_712_016_000_000
        );
        assert_eq!(
            parse_clock("2024-04-02T08:00:00+08:00").unwrap(),
            1_712_016_000_000
        );
        assert_eq!(
            parse_clock("2024-04-01T20:00:00.5-04:00").unwrap(),
            1_712_016_000_500
        );
        assert_eq!(parse_clock("1712016000000").unwrap(), 1_712_016_000_000);
        for bad in [
            "yesterday",
            "2024-04-02",
            "2024-13-01T00:00:00Z",
            "2024-04-02T00:00:00",
        ] {
            assert!(parse_clock(bad).is_err(), "{bad}");
        }
    }

    // Formatting inverts parsing.
    #[test]
    fn formats_round_trip() {
        for ms in [0, 1_712_016_000_500, 951_782_400_000, 253_402_300_799_000] {
            assert_eq!(parse_clock(&format_clock(ms)).unwrap(), ms);
        }
        assert_eq!(format_clock(1_712_016_000_500), "2024-04-02T00:00:00.500Z");
    }
}
