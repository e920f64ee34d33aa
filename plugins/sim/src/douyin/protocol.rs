//! The doudian wire protocol pieces the gateway needs: the canonical `param_json`
//! (keys sorted at every level, no spaces), the request signature, timestamps and the
//! error envelope `{"code", "msg", "sub_code", "sub_msg", "data": {}, "log_id"}`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::time;

/// `code` of a successful answer.
pub const SUCCESS: i64 = 10_000;

/// `value` serialised with object keys sorted at every level and no whitespace: the
/// form doudian signs `param_json` in.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The string both sign methods digest: `app_secret + "app_key" + app_key + "method" +
/// method + "param_json" + param_json + "timestamp" + timestamp + "v" + v + app_secret`.
pub fn sign_string(
    secret: &str,
    app_key: &str,
    method: &str,
    param_json: &str,
    timestamp: &str,
    v: &str,
) -> String {
    format!(
        "{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v{v}{secret}"
    )
}

/// `hmac-sha256`: lower-case hex HMAC-SHA256 keyed with the app secret.
pub fn sign_hmac_sha256(secret: &str, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `md5` (the older default): lower-case hex MD5.
pub fn sign_md5(payload: &str) -> String {
    hex::encode(Md5::digest(payload.as_bytes()))
}

/// doudian accepts `timestamp` as Unix seconds or as `yyyy-MM-dd HH:mm:ss` in GMT+8.
/// Returns Unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b' ' {
        return None;
    }
    time::parse(&format!("{}T{}+08:00", &s[..10], &s[11..])).map(|ms| ms.div_euclid(1000))
}

/// A doudian error answer (HTTP 200). Codes as doudian documents its common errors, to
/// the best of our knowledge (unverified against the live platform):
/// 20000 service unavailable, 30001 access_token invalid, 30002 access_token expired,
/// 40001 missing parameter, 40002 invalid parameter, 40003 app_key invalid,
/// 40004 signature check failed, 50002 business failure, 90000 flow control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoudianError {
    pub code: i64,
    pub msg: String,
    pub sub_code: String,
    pub sub_msg: String,
}

impl DoudianError {
    pub fn new(code: i64, msg: &str, sub_code: &str, sub_msg: impl Into<String>) -> Self {
        DoudianError {
            code,
            msg: msg.to_string(),
            sub_code: sub_code.to_string(),
            sub_msg: sub_msg.into(),
        }
    }

    /// 20000: the platform failed; retrying may work.
    pub fn service_unavailable() -> Self {
        Self::new(
            20_000,
            "服务不可用",
            "isp.service-error",
            "系统错误，请稍后重试",
        )
    }

    /// 30001: the access token is not one the platform issued (or was revoked).
    pub fn token_invalid() -> Self {
        Self::new(
            30_001,
            "access_token不存在",
            "isv.access-token-no-exist",
            "access_token无效",
        )
    }

    /// 30002: the access token expired.
    pub fn token_expired() -> Self {
        Self::new(
            30_002,
            "access_token已过期",
            "isv.access-token-expired",
            "access_token已过期，请刷新",
        )
    }

    pub fn missing(param: &str) -> Self {
        Self::new(
            40_001,
            "缺少必选参数",
            "isv.missing-parameter",
            format!("缺少参数: {param}"),
        )
    }

    pub fn invalid(why: impl Into<String>) -> Self {
        Self::new(40_002, "非法的参数", "isv.parameter-invalid", why)
    }

    pub fn app_key_invalid() -> Self {
        Self::new(
            40_003,
            "app_key无效",
            "isv.app-key-invalid",
            "app_key不存在",
        )
    }

    /// 40004: the sign does not match the request.
    pub fn bad_sign() -> Self {
        Self::new(
            40_004,
            "验签失败",
            "isv.signature-invalid",
            "签名校验失败，请检查签名",
        )
    }

    /// 50002: the business call failed (an order or SKU that does not exist …).
    pub fn business(sub: &str, sub_msg: impl Into<String>) -> Self {
        Self::new(
            50_002,
            "业务处理失败",
            &format!("isv.business-failed:{sub}"),
            sub_msg,
        )
    }

    /// 90000: flow control (too many calls).
    pub fn flow_limited() -> Self {
        Self::new(
            90_000,
            "流量超限",
            "isp.flow-limit",
            "调用频率超过限制，请稍后重试",
        )
    }

    pub fn body(&self, log_id: &str) -> Value {
        json!({"code": self.code, "msg": self.msg, "sub_code": self.sub_code,
               "sub_msg": self.sub_msg, "data": {}, "log_id": log_id})
    }

    pub fn into_response(self, log_id: &str) -> Response {
        Json(self.body(log_id)).into_response()
    }
}

/// A success answer carrying `data`.
pub fn success(data: Value, log_id: &str) -> Value {
    json!({"code": SUCCESS, "msg": "success", "sub_code": "", "sub_msg": "",
           "data": data, "log_id": log_id})
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys are sorted at every level and nothing is padded.
    #[test]
    fn canonical_sorts_keys_everywhere() {
        let v =
            json!({"size": 10, "a": {"z": 1, "b": [ {"y": 2, "x": "中"} ]}, "order_asc": false});
        assert_eq!(
            canonical(&v),
            r#"{"a":{"b":[{"x":"中","y":2}],"z":1},"order_asc":false,"size":10}"#
        );
    }

    // The signed string follows the documented order, wrapped in the secret.
    #[test]
    fn sign_string_follows_the_recipe() {
        let s = sign_string("S", "k", "order.searchList", "{}", "1700000000", "2");
        assert_eq!(
            s,
            "Sapp_keykmethodorder.searchListparam_json{}timestamp1700000000v2S"
        );
        assert_eq!(sign_hmac_sha256("S", &s).len(), 64);
        assert_eq!(sign_md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    // Both timestamp forms parse to the same second.
    #[test]
    fn timestamps_in_both_forms() {
        assert_eq!(parse_timestamp("1711980000"), Some(1_711_980_000));
        assert_eq!(parse_timestamp("2024-04-01 22:00:00"), Some(1_711_980_000));
        assert_eq!(parse_timestamp("2024-04-01T22:00:00"), None);
        assert_eq!(parse_timestamp(""), None);
    }
}
