//! The TOP wire protocol pieces the gateway needs: GMT+8 timestamps, the MD5 request
//! signature, form/query decoding and the `error_response` body.

use axum::response::{IntoResponse, Response};
use axum::Json;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::time;

/// TOP writes and reads times as `yyyy-MM-dd HH:mm:ss` in GMT+8.
const GMT8_MINUTES: i32 = 480;

/// Unix ms → `2024-04-01 18:00:00` (GMT+8, seconds precision).
pub fn format_time(ms: i64) -> String {
    let s = time::format_offset(ms, GMT8_MINUTES);
    // "2024-04-01T18:00:00+08:00" → "2024-04-01 18:00:00"
    s[..19].replacen('T', " ", 1)
}

/// `2024-04-01 18:00:00` (GMT+8) → Unix ms; anything else → `None`.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b' ' {
        return None;
    }
    time::parse(&format!("{}T{}+08:00", &s[..10], &s[11..]))
}

/// The md5 signature: secret + sorted `name value` pairs (every parameter but `sign`) +
/// secret, MD5, upper-case hex.
pub fn sign(secret: &str, params: &[(String, String)]) -> String {
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

/// A TOP error, rendered as HTTP 200 with `{"error_response": …}` like the real gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopError {
    pub code: u32,
    pub msg: String,
    pub sub_code: Option<String>,
    pub sub_msg: Option<String>,
}

impl TopError {
    pub fn new(code: u32, msg: &str) -> Self {
        TopError {
            code,
            msg: msg.to_string(),
            sub_code: None,
            sub_msg: None,
        }
    }

    pub fn sub(mut self, sub_code: &str, sub_msg: impl Into<String>) -> Self {
        self.sub_code = Some(sub_code.to_string());
        self.sub_msg = Some(sub_msg.into());
        self
    }

    /// Code 7: the app's call quota is exhausted for `ban_secs` seconds.
    pub fn app_call_limited(ban_secs: u32) -> Self {
        Self::new(7, "App Call Limited").sub(
            "accesscontrol.limited-by-app-access-count",
            format!("This ban will last for {ban_secs} more seconds"),
        )
    }

    /// Code 15 with an `isp.*` sub-code: the platform failed; retrying may work.
    pub fn remote_service_error() -> Self {
        Self::new(15, "Remote service error").sub(
            "isp.remote-service-error",
            "The remote service is temporarily unavailable",
        )
    }

    /// Code 15 with `isv.invalid-parameter`: the caller's request is wrong.
    pub fn invalid_parameter(what: impl Into<String>) -> Self {
        Self::new(15, "Remote service error").sub("isv.invalid-parameter", what)
    }

    pub fn missing(param: &str) -> Self {
        Self::new(40, &format!("Missing required arguments:{param}"))
    }

    pub fn invalid(param: &str) -> Self {
        Self::new(41, &format!("Invalid arguments:{param}"))
    }

    pub fn invalid_signature() -> Self {
        Self::new(25, "Invalid signature").sub("isv.invalid-signature", "Invalid signature")
    }

    pub fn invalid_session() -> Self {
        Self::new(27, "Invalid session").sub("invalid-sessionkey", "SessionKey非法")
    }

    pub fn body(&self, request_id: &str) -> Value {
        let mut e = json!({"code": self.code, "msg": self.msg, "request_id": request_id});
        if let Some(s) = &self.sub_code {
            e["sub_code"] = json!(s);
        }
        if let Some(s) = &self.sub_msg {
            e["sub_msg"] = json!(s);
        }
        json!({ "error_response": e })
    }

    pub fn into_response(self, request_id: &str) -> Response {
        Json(self.body(request_id)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // GMT+8 wall time round-trips through Unix ms.
    #[test]
    fn times_are_gmt8() {
        let ms = 1_711_980_000_000; // 2024-04-01T14:00:00Z
        assert_eq!(format_time(ms), "2024-04-01 22:00:00");
        assert_eq!(parse_time("2024-04-01 22:00:00"), Some(ms));
        assert_eq!(parse_time("2024-04-01T22:00:00"), None);
        assert_eq!(parse_time("2024-04-01 22:00"), None);
    }

    // The signature matches the documented recipe and ignores `sign` itself.
    #[test]
    fn signature_is_md5_of_sorted_pairs() {
        let p = vec![
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
            ("sign".to_string(), "XYZ".to_string()),
        ];
        assert_eq!(sign("s", &p), hex::encode_upper(Md5::digest(b"sa1b2s")));
    }

    // Form decoding handles %XX, '+' and UTF-8.
    #[test]
    fn decodes_forms() {
        assert_eq!(
            decode_form("a=1&t=2024-04-01%2010%3A00%3A00&n=%E6%B7%98+x&e="),
            vec![
                ("a".into(), "1".into()),
                ("t".into(), "2024-04-01 10:00:00".into()),
                ("n".into(), "淘 x".into()),
                ("e".into(), "".into())
            ]
        );
        assert_eq!(decode_form("p=%zz%"), vec![("p".into(), "%zz%".into())]);
    }
}
