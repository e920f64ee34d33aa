//! Wire pieces the Chinese-platform simulators share (Taobao TOP, JD JOS, Pinduoduo):
//! GMT+8 `yyyy-MM-dd HH:mm:ss` times, the TOP-style MD5 signature they recompute for
//! every request, and form / query decoding. Each platform module re-exports what it
//! uses, so its API reads `top::sign`, `jos::format_time`, `pinduoduo::parse_time`.
//!
//! ```
//! use wharf_sim::common::{decode_form, format_gmt8, md5_sign, parse_gmt8};
//! let ms = parse_gmt8("2024-04-01 18:00:00").unwrap();
//! assert_eq!(format_gmt8(ms), "2024-04-01 18:00:00");
//! let params = decode_form("b=2&a=1&sign=X");
//! assert_eq!(md5_sign("s", &params).len(), 32);
//! ```

use md5::{Digest, Md5};

use crate::time;

/// GMT+8, in minutes.
const GMT8_MINUTES: i32 = 480;

/// Unix ms → `2024-04-01 18:00:00` (GMT+8, seconds precision).
pub fn format_gmt8(ms: i64) -> String {
    // "2024-04-01T18:00:00+08:00" → "2024-04-01 18:00:00"
    let s = time::format_offset(ms, GMT8_MINUTES);
    s[..19].replacen('T', " ", 1)
}

/// `2024-04-01 18:00:00` (GMT+8) → Unix ms; anything else → `None`.
pub fn parse_gmt8(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b' ' {
        return None;
    }
    time::parse(&format!("{}T{}+08:00", &s[..10], &s[11..]))
}

/// The MD5 signature: secret + sorted `name value` pairs (every parameter but `sign`) +
/// secret, MD5, upper-case hex.
pub fn md5_sign(secret: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "sign").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Md5::new();
    h.update(secret.as_bytes());
    for (k, v) in sorted {
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    h.update(secret.as_bytes());
    hex::encode_upper(h.finalize())
}

/// Decode `a=1&b=x%20y+z` (a query string or an `application/x-www-form-urlencoded`
/// body). Malformed escapes are kept literally, as lenient servers do.
pub fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
