//! The TOP wire protocol pieces the gateway needs: GMT+8 timestamps, the MD5 request
//! signature, form/query decoding and the `error_response` body.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub use crate::common::{
    decode_form, format_gmt8 as format_time, md5_sign as sign, parse_gmt8 as parse_time,
};

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
    use md5::{Digest, Md5};

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
