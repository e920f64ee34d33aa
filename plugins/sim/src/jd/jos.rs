//! The JOS wire protocol pieces the gateway needs: GMT+8 timestamps, the MD5 request
//! signature, form/query decoding, the gateway's `error_response` body and the business
//! `apiResult` failure.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub use crate::common::{
    decode_form, format_gmt8 as format_time, md5_sign as sign, parse_gmt8 as parse_time,
};

/// A gateway error, rendered as HTTP 200 with
/// `{"error_response": {"code": "12", "zh_desc": …, "en_desc": …}}` (the code is a string).
///
/// Codes 2, 4, 5, 7, 8, 11, 12, 14, 15 and 19 follow JOS's published gateway table; 1,
/// 16–18 and 66 are the simulator's guesses for codes that table does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JosError {
    pub code: String,
    pub zh_desc: String,
    pub en_desc: String,
}

impl JosError {
    pub fn new(code: &str, zh_desc: &str, en_desc: &str) -> Self {
        JosError {
            code: code.to_string(),
            zh_desc: zh_desc.to_string(),
            en_desc: en_desc.to_string(),
        }
    }

    /// Code 2: the app's call quota is exhausted; retry after `secs` seconds.
    pub fn app_call_limited(secs: u32) -> Self {
        Self::new(
            "2",
            &format!("限制时间内调用失败次数，请{secs}秒后重试"),
            &format!("App Call Limited, retry after {secs} seconds"),
        )
    }

    /// Code 66 (guess): the platform's backend failed; retrying may work.
    pub fn service_unavailable() -> Self {
        Self::new(
            "66",
            "平台连接后端服务不可用",
            "isp.remote-service-unavailable",
        )
    }

    pub fn invalid_signature() -> Self {
        Self::new("12", "无效签名", "Invalid Signature")
    }

    pub fn invalid_access_token() -> Self {
        Self::new("19", "无效access_token", "Invalid access_token")
    }

    pub fn body(&self) -> Value {
        json!({"error_response": {"code": self.code, "zh_desc": self.zh_desc, "en_desc": self.en_desc}})
    }

    pub fn into_response(self) -> Response {
        Json(self.body()).into_response()
    }
}

/// A business failure inside a method's answer: `apiResult.success = false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizError {
    pub number_code: u32,
    pub english: String,
    pub chinese: String,
}

impl BizError {
    pub fn param(english: impl Into<String>, chinese: &str) -> Self {
        BizError {
            number_code: 10_100_001,
            english: english.into(),
            chinese: chinese.to_string(),
        }
    }

    pub fn api_result(&self) -> Value {
        json!({"success": false, "englishErrCode": self.english,
               "chineseErrCode": self.chinese, "numberCode": self.number_code})
    }
}

/// `apiResult` of a successful call.
pub fn ok_result() -> Value {
    json!({"success": true, "englishErrCode": "success", "chineseErrCode": "成功", "numberCode": 10_100_000})
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
    }

    // The signature matches the documented recipe and ignores `sign` itself.
    #[test]
    fn signature_is_md5_of_sorted_pairs() {
        let p = vec![
            ("b".to_string(), "2".to_string()),
            ("360buy_param_json".to_string(), "{}".to_string()),
            ("sign".to_string(), "XYZ".to_string()),
        ];
        assert_eq!(
            sign("s", &p),
            hex::encode_upper(Md5::digest(b"s360buy_param_json{}b2s"))
        );
    }

    // Error bodies carry the code as a string, with both descriptions.
    #[test]
    fn error_bodies_have_jos_shape() {
        let b = JosError::invalid_signature().body();
        assert_eq!(b["error_response"]["code"], "12");
        assert_eq!(b["error_response"]["en_desc"], "Invalid Signature");
        assert!(JosError::app_call_limited(9).en_desc.contains("9 seconds"));
    }
}
