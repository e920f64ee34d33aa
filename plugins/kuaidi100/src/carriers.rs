//! Carrier codes and the tracking-number form the plugin accepts. Pure.
//!
//! The host's tracking number for this plugin is `[<company>:]<number>[:<phone>]`:
//! `<company>` a Kuaidi100 company code (`shunfeng`, `yuantong` …) or a Wharf carrier code
//! (`SF`, `YTO` …, translated by [`CARRIERS`]); without it the installation's
//! `default_com` applies. `<phone>` (the receiver's or sender's phone, the last four
//! digits suffice) is what Kuaidi100 needs to answer for SF numbers.

use wharf_sdk::types::ConnectorError;

/// Wharf carrier code ↔ Kuaidi100 company code (the README's table).
pub const CARRIERS: [(&str, &str); 7] = [
    ("SF", "shunfeng"),
    ("YTO", "yuantong"),
    ("ZTO", "zhongtong"),
    ("STO", "shentong"),
    ("YUNDA", "yunda"),
    ("JD", "jd"),
    ("EMS", "ems"),
];

/// The Kuaidi100 company code of `code`: a Wharf carrier code (any case) translated, or
/// a Kuaidi100 code (lower-case letters and digits) as it is. `None`: neither.
pub fn com_code(code: &str) -> Option<String> {
    let code = code.trim();
    if let Some((_, com)) = CARRIERS.iter().find(|(w, _)| w.eq_ignore_ascii_case(code)) {
        return Some(com.to_string());
    }
    let kuaidi100_like = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    kuaidi100_like.then(|| code.to_string())
}

/// The Wharf carrier code of a Kuaidi100 company code, when the table has one.
pub fn wharf_code(com: &str) -> Option<&'static str> {
    CARRIERS.iter().find(|(_, c)| *c == com).map(|(w, _)| *w)
}

/// What one `track` call queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub com: String,
    pub num: String,
    pub phone: Option<String>,
}

/// Read `[<company>:]<number>[:<phone>]`; a bare number takes `default_com`.
pub fn parse_tracking(s: &str, default_com: Option<&str>) -> Result<Target, ConnectorError> {
    let bad = |why: String| {
        ConnectorError::InvalidInput(format!(
            "tracking number {s:?}: {why} (form: [<company>:]<number>[:<phone>], e.g. shunfeng:SF1234567890123:5678)"
        ))
    };
    let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
    let (com, num, phone) = match parts.as_slice() {
        [num] => {
            let com = default_com
                .ok_or_else(|| bad("no company prefix and no default_com configured".into()))?;
            (com.to_string(), *num, None)
        }
        [c, num] => (
            com_code(c).ok_or_else(|| bad(format!("unknown company {c:?}")))?,
            *num,
            None,
        ),
        [c, num, phone] => (
            com_code(c).ok_or_else(|| bad(format!("unknown company {c:?}")))?,
            *num,
            Some(phone.to_string()).filter(|p| !p.is_empty()),
        ),
        _ => return Err(bad("too many ':' parts".into())),
    };
    if num.is_empty() || num.len() > 32 || !num.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad("the number must be 1-32 letters and digits".into()));
    }
    if let Some(p) = &phone {
        if !p.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(bad("the phone must be digits".into()));
        }
    }
    Ok(Target {
        com,
        num: num.to_string(),
        phone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The README's carrier table and CARRIERS agree row by row.
    #[test]
    fn carrier_table_matches_the_readme() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("<!-- carriers:start -->")
            .expect("start marker");
        let end = readme.find("<!-- carriers:end -->").expect("end marker");
        let rows: Vec<(String, String)> = readme[start..end]
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l
                    .trim()
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().trim_matches('`'))
                    .collect();
                (cells.len() >= 2
                    && cells[1].chars().all(|c| c.is_ascii_lowercase())
                    && !cells[1].is_empty())
                .then(|| (cells[0].to_string(), cells[1].to_string()))
            })
            .collect();
        let table: Vec<(String, String)> = CARRIERS
            .iter()
            .map(|(w, c)| (w.to_string(), c.to_string()))
            .collect();
        assert_eq!(rows, table);
        for (w, c) in CARRIERS {
            assert_eq!(wharf_code(c), Some(w));
        }
    }

    // Wharf codes translate in any case; Kuaidi100 codes pass; other text does not.
    #[test]
    fn codes_translate() {
        assert_eq!(com_code("SF").as_deref(), Some("shunfeng"));
        assert_eq!(com_code("zto").as_deref(), Some("zhongtong"));
        assert_eq!(com_code("debangkuaidi").as_deref(), Some("debangkuaidi"));
        assert_eq!(com_code("Deppon Express"), None);
        assert_eq!(com_code(""), None);
    }

    // The three forms parse; a bare number needs default_com; junk is invalid-input.
    #[test]
    fn tracking_numbers_parse() {
        let t = |s, d| parse_tracking(s, d);
        assert_eq!(
            t("SF:SF1440000000001", None).unwrap(),
            Target {
                com: "shunfeng".into(),
                num: "SF1440000000001".into(),
                phone: None
            }
        );
        assert_eq!(
            t("shunfeng:SF1:5678", None).unwrap().phone.as_deref(),
            Some("5678")
        );
        assert_eq!(t(" YT100 ", Some("yuantong")).unwrap().com, "yuantong");
        for bad in [
            "YT100",
            "Foo Bar:1",
            "yunda:",
            "yunda:1:2:3",
            "yunda:12 34",
            "yunda:1:abc",
        ] {
            assert!(
                matches!(t(bad, None), Err(ConnectorError::InvalidInput(_))),
                "{bad}"
            );
        }
    }
}
