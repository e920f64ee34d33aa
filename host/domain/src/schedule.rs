//! Calendar arithmetic for schedules (no time-zone database: fixed UTC offsets, which is
//! what merchants configure — e.g. +08:00 for China).

const DAY_MS: i64 = 86_400_000;

/// The first instant strictly after `now_ms` at `hour:minute` local time, for a zone at
/// `utc_offset_minutes` from UTC.
pub fn next_daily(now_ms: i64, hour: u32, minute: u32, utc_offset_minutes: i32) -> i64 {
    let offset = i64::from(utc_offset_minutes) * 60_000;
    let local_now = now_ms + offset;
    let local_midnight = local_now.div_euclid(DAY_MS) * DAY_MS;
    let at = i64::from(hour.min(23)) * 3_600_000 + i64::from(minute.min(59)) * 60_000;
    let mut candidate = local_midnight + at;
    if candidate <= local_now {
        candidate += DAY_MS;
    }
    candidate - offset
}

/// Parse `HH:MM` (24-hour).
pub fn parse_hh_mm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn next_daily_is_today_or_tomorrow_in_the_merchants_zone() {
        // 2024-01-01T00:00Z is 1_704_067_200_000.
        let midnight = 1_704_067_200_000;
        assert_eq!(
            next_daily(midnight + 8 * H, 9, 0, 0),
            midnight + 9 * H,
            "later today"
        );
        assert_eq!(
            next_daily(midnight + 9 * H, 9, 0, 0),
            midnight + 33 * H,
            "exactly now: tomorrow"
        );
        assert_eq!(
            next_daily(midnight + 10 * H, 9, 0, 0),
            midnight + 33 * H,
            "passed: tomorrow"
        );
        // 09:00 at UTC+8 is 01:00Z.
        assert_eq!(next_daily(midnight, 9, 0, 480), midnight + H);
        assert_eq!(next_daily(midnight + 2 * H, 9, 0, 480), midnight + 25 * H);
        // 09:00 at UTC-5 is 14:00Z.
        assert_eq!(next_daily(midnight, 9, 0, -300), midnight + 14 * H);
    }

    #[test]
    fn parses_clock_times() {
        assert_eq!(parse_hh_mm("09:00"), Some((9, 0)));
        assert_eq!(parse_hh_mm("23:59"), Some((23, 59)));
        assert_eq!(parse_hh_mm("24:00"), None);
        assert_eq!(parse_hh_mm("9:00"), None);
        assert_eq!(parse_hh_mm("nine"), None);
    }
}
