//! The JOS (JD open service) protocol: GMT+8 timestamps, signed requests to
//! `/routerjson` with the business parameters as one JSON string `360buy_param_json`,
//! the `{method}_responce` envelope, the gateway's `error_response` and the business
//! `apiResult` → the contract's error kinds. Pure: the request is built here and sent by
//! the caller's transport.

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::sign::md5_signed_form;
use wharf_sdk::time::{format_local, parse_local_ms};
use wharf_sdk::types::ConnectorError;

/// JOS writes and reads wall times in GMT+8.
pub const GMT8_HOURS: i64 = 8;
/// The wait after JOS's call limit (code 2) when it announces none: its quotas are
/// counted per minute.
pub const DEFAULT_BAN_MS: u64 = 60_000;

/// The app and seller credentials of an installation. `Debug` never shows the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: String,
    /// The seller's OAuth access token.
    pub access_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// Unix ms → `yyyy-MM-dd HH:mm:ss` in GMT+8 (seconds precision, truncated).
pub fn format_time(ms: i64) -> String {
    format_local(ms, GMT8_HOURS)
}

/// `yyyy-MM-dd HH:mm:ss` in GMT+8 → Unix ms; malformed → `invalid-input` naming `field`.
pub fn parse_time(field: &str, s: &str) -> Result<i64, ConnectorError> {
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b' ' {
        return Err(ConnectorError::InvalidInput(format!(
            "{field}: not a JOS time (yyyy-MM-dd HH:mm:ss): {s:?}"
        )));
    }
    parse_local_ms(field, s, GMT8_HOURS)
}

/// A signed JOS call: the system parameters (`method`, `app_key`, `access_token`,
/// `timestamp`, `v=2.0`, `format=json`, `sign_method=md5`) and `360buy_param_json` (the
/// business parameters as one JSON text), signed over all of them, sent as a POST form.
pub fn request(
    api_url: &str,
    creds: &Credentials,
    method: &str,
    business: &Value,
    now_ms: i64,
) -> Request {
    let timestamp = format_time(now_ms);
    let param_json = business.to_string();
    let params: [(&str, &str); 8] = [
        ("method", method),
        ("app_key", &creds.app_key),
        ("access_token", &creds.access_token),
        ("timestamp", &timestamp),
        ("v", "2.0"),
        ("format", "json"),
        ("sign_method", "md5"),
        ("360buy_param_json", &param_json),
    ];
    Request::post(api_url, md5_signed_form(&creds.app_secret, &params))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .header("Accept", "application/json")
}

/// A JSON value JOS may send as a string or a number (codes, ids, counts), as text.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The gateway's error body: `{"error_response": {"code", "zh_desc", "en_desc"}}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct JosError {
    #[serde(deserialize_with = "code_text")]
    pub code: String,
    #[serde(default)]
    pub zh_desc: String,
    #[serde(default)]
    pub en_desc: String,
}

fn code_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    text_of(&v).ok_or_else(|| serde::de::Error::custom("code is neither text nor a number"))
}

impl JosError {
    fn describe(&self) -> String {
        format!(
            "JOS error {}: {} ({})",
            self.code, self.en_desc, self.zh_desc
        )
    }

    /// The wait JOS announces ("retry after N seconds" / "N秒"), in ms; a minute when it
    /// says nothing parseable.
    fn ban_ms(&self) -> u64 {
        let secs = [&self.en_desc, &self.zh_desc].into_iter().find_map(|t| {
            let chars: Vec<char> = t.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                if chars[i].is_ascii_digit() {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    let rest: String = chars[i..].iter().collect();
                    let rest = rest.trim_start();
                    if rest.starts_with("second") || rest.starts_with('秒') {
                        let n: String = chars[start..i].iter().collect();
                        return n.parse::<u64>().ok();
                    }
                } else {
                    i += 1;
                }
            }
            None
        });
        secs.map(|s| s.max(1) * 1000).unwrap_or(DEFAULT_BAN_MS)
    }

    /// The connector error kind: what the host's retry policy should do.
    ///
    /// | JOS code | kind |
    /// |---|---|
    /// | 2 (App Call Limited) | rate-limited, for the announced wait (else 60 s) |
    /// | 12 (invalid signature), 16–19 (app key, access token) | unauthorized |
    /// | 1, 66, 67, or an `isp.*` description | transient |
    /// | 4, 5, 7, 8, 11, 14, 15 (version, timestamp, signature, method parameters) | invalid-input |
    /// | anything else | permanent |
    pub fn to_connector_error(&self) -> ConnectorError {
        let what = self.describe();
        if self.en_desc.contains("isp.") {
            return ConnectorError::Transient(what);
        }
        match self.code.as_str() {
            "2" => ConnectorError::RateLimited(self.ban_ms()),
            "12" | "16" | "17" | "18" | "19" => ConnectorError::Unauthorized(what),
            "1" | "66" | "67" => ConnectorError::Transient(what),
            "4" | "5" | "7" | "8" | "11" | "14" | "15" => ConnectorError::InvalidInput(what),
            _ => ConnectorError::Permanent(what),
        }
    }
}

/// `jingdong.pop.order.search` → `jingdong_pop_order_search_responce` (JOS's spelling).
pub fn response_key(method: &str) -> String {
    format!("{}_responce", method.replace('.', "_"))
}

/// What a JOS call answered: the method's response object, or the gateway's error.
#[derive(Debug)]
pub enum Answer {
    Ok(Value),
    Err(JosError),
}

/// Read a JOS answer: HTTP failures map by status, then `error_response` or the
/// `{method}_responce` object, whose `code` must be `"0"` (anything else is
/// `invalid-input` or the gateway's error).
pub fn read_answer(method: &str, resp: Response) -> Result<Answer, ConnectorError> {
    let mut body: Value = resp.error_for_status()?.json()?;
    if let Some(e) = body.get("error_response") {
        let err: JosError = serde_json::from_value(e.clone()).map_err(|e| {
            ConnectorError::InvalidInput(format!("{method}: unreadable error_response: {e}"))
        })?;
        return Ok(Answer::Err(err));
    }
    let key = response_key(method);
    match body.get_mut(&key).map(Value::take) {
        Some(v) if v.is_object() => match v.get("code").and_then(text_of).as_deref() {
            None | Some("0") => Ok(Answer::Ok(v)),
            Some(code) => Ok(Answer::Err(JosError {
                code: code.to_string(),
                zh_desc: String::new(),
                en_desc: format!("{key}.code is {code}"),
            })),
        },
        _ => Err(ConnectorError::InvalidInput(format!(
            "{method}: the answer has neither {key} nor error_response"
        ))),
    }
}

/// Like [`read_answer`], with the gateway's error turned into the connector error kind.
pub fn read_response(method: &str, resp: Response) -> Result<Value, ConnectorError> {
    match read_answer(method, resp)? {
        Answer::Ok(v) => Ok(v),
        Answer::Err(e) => Err(e.to_connector_error()),
    }
}

/// A business failure: `apiResult.success` false, with JD's codes and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizFailure {
    pub number_code: String,
    pub english: String,
    pub chinese: String,
}

impl BizFailure {
    /// The order does not exist (`jingdong.pop.order.get` of an unknown id).
    pub fn is_not_found(&self) -> bool {
        self.english.to_ascii_lowercase().contains("not exist") || self.chinese.contains("不存在")
    }

    /// A refused read is a request the platform will not serve as given: `invalid-input`.
    pub fn to_connector_error(&self, method: &str) -> ConnectorError {
        ConnectorError::InvalidInput(format!(
            "{method} refused: {} {} ({})",
            self.number_code, self.english, self.chinese
        ))
    }
}

/// Check an `apiResult` object; absent means success (older answers omit it).
pub fn api_result(result: Option<&Value>) -> Result<(), BizFailure> {
    let Some(r) = result else { return Ok(()) };
    let ok = match r.get("success") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let field = |k: &str| r.get(k).and_then(text_of).unwrap_or_default();
    Err(BizFailure {
        number_code: field("numberCode"),
        english: field("englishErrCode"),
        chinese: field("chineseErrCode"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wharf_sdk::http::encode;
    use wharf_sdk::sign::md5_sorted_params;

    fn creds() -> Credentials {
        Credentials {
            app_key: "APPKEY1".into(),
            app_secret: "s3cret".into(),
            access_token: "tok3n".into(),
        }
    }

    fn form(body: &[u8]) -> Vec<(String, String)> {
        String::from_utf8(body.to_vec())
            .unwrap()
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    // GMT+8 wall times format and parse back to the same instant.
    #[test]
    fn times_are_gmt8() {
        let ms = 1_711_980_000_000; // 2024-04-01T14:00:00Z
        assert_eq!(format_time(ms), "2024-04-01 22:00:00");
        assert_eq!(format_time(ms + 999), "2024-04-01 22:00:00", "truncated");
        assert_eq!(format_time(1_711_987_200_000), "2024-04-02 00:00:00");
        assert_eq!(parse_time("t", "2024-04-01 22:00:00").unwrap(), ms);
        for bad in ["2024-04-01T22:00:00", "2024-04-01 22:00", "yesterday"] {
            assert!(
                matches!(parse_time("t", bad), Err(ConnectorError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    // The request is a POST form with every system parameter, the business parameters
    // as one JSON string, and an MD5 signature over all of them by the documented recipe.
    #[test]
    fn requests_are_signed_over_every_parameter() {
        let business = json!({"order_id": "42", "optional_fields": "orderId,modified"});
        let req = request(
            "http://api.jd.com/routerjson",
            &creds(),
            "jingdong.pop.order.get",
            &business,
            1_711_980_000_000,
        );
        assert_eq!(
            (req.method.as_str(), req.url.as_str()),
            ("POST", "http://api.jd.com/routerjson")
        );
        let p = form(&req.body);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("method"), Some("jingdong.pop.order.get"));
        assert_eq!(get("timestamp"), Some("2024-04-01%2022%3A00%3A00"));
        assert_eq!(
            (get("v"), get("format"), get("sign_method")),
            (Some("2.0"), Some("json"), Some("md5"))
        );
        assert_eq!(get("access_token"), Some("tok3n"));
        let json_text = business.to_string();
        assert_eq!(get("360buy_param_json"), Some(encode(&json_text).as_str()));
        let expected = md5_sorted_params(
            "s3cret",
            &[
                ("360buy_param_json", &json_text),
                ("access_token", "tok3n"),
                ("app_key", "APPKEY1"),
                ("format", "json"),
                ("method", "jingdong.pop.order.get"),
                ("sign_method", "md5"),
                ("timestamp", "2024-04-01 22:00:00"),
                ("v", "2.0"),
            ],
        );
        assert_eq!(get("sign"), Some(expected.as_str()));
        assert!(
            expected.len() == 32
                && expected
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(
            !String::from_utf8_lossy(&req.body).contains("s3cret"),
            "the secret is never sent"
        );
    }

    // Credentials print without their secrets.
    #[test]
    fn debug_redacts_secrets() {
        let s = format!("{:?}", creds());
        assert!(
            s.contains("APPKEY1") && !s.contains("s3cret") && !s.contains("tok3n"),
            "{s}"
        );
    }

    fn jos(code: &str, en: &str, zh: &str) -> JosError {
        JosError {
            code: code.into(),
            zh_desc: zh.into(),
            en_desc: en.into(),
        }
    }

    // Each JOS code lands in the kind the README's table gives.
    #[test]
    fn error_codes_map_to_kinds() {
        use ConnectorError as E;
        let kind = |e: JosError| e.to_connector_error();
        assert!(matches!(
            kind(jos("2", "App Call Limited, retry after 12 seconds", "")),
            E::RateLimited(12_000)
        ));
        assert!(matches!(
            kind(jos("2", "App Call Limited", "请5秒后重试")),
            E::RateLimited(5_000)
        ));
        assert!(matches!(
            kind(jos("2", "App Call Limited", "")),
            E::RateLimited(DEFAULT_BAN_MS)
        ));
        for c in ["12", "16", "17", "18", "19"] {
            assert!(
                matches!(kind(jos(c, "x", "")), E::Unauthorized(m) if m.contains(c)),
                "{c}"
            );
        }
        for c in ["1", "66", "67"] {
            assert!(matches!(kind(jos(c, "x", "")), E::Transient(_)), "{c}");
        }
        assert!(matches!(
            kind(jos("99", "isp.remote-service-error", "")),
            E::Transient(_)
        ));
        for c in ["4", "5", "7", "8", "11", "14", "15"] {
            assert!(matches!(kind(jos(c, "x", "")), E::InvalidInput(_)), "{c}");
        }
        assert!(matches!(kind(jos("3", "Forbidden", "")), E::Permanent(_)));
    }

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }

    // The method's envelope is unwrapped; error_response, a non-zero code and HTTP
    // failures become errors; the code may be a string or a number.
    #[test]
    fn answers_are_unwrapped() {
        let m = "jingdong.pop.order.get";
        assert_eq!(response_key(m), "jingdong_pop_order_get_responce");
        let ok = read_response(
            m,
            resp(
                200,
                json!({"jingdong_pop_order_get_responce": {"code": "0", "x": 1}}),
            ),
        )
        .unwrap();
        assert_eq!(ok["x"], 1);
        let err = read_response(
            m,
            resp(
                200,
                json!({"error_response": {"code": 19, "zh_desc": "无效access_token", "en_desc": "Invalid access_token"}}),
            ),
        );
        assert!(
            matches!(err, Err(ConnectorError::Unauthorized(e)) if e.contains("19") && e.contains("Invalid access_token"))
        );
        assert!(matches!(
            read_response(
                m,
                resp(
                    200,
                    json!({"jingdong_pop_order_get_responce": {"code": "3"}})
                )
            ),
            Err(ConnectorError::Permanent(_))
        ));
        assert!(matches!(
            read_response(m, resp(502, json!("bad gateway"))),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read_response(m, resp(200, json!({"other": {}}))),
            Err(ConnectorError::InvalidInput(_))
        ));
    }

    // apiResult: success passes, failure carries JD's codes; "not exist" is recognised.
    #[test]
    fn api_results_are_checked() {
        assert!(api_result(None).is_ok());
        assert!(api_result(Some(&json!({"success": true}))).is_ok());
        let f = api_result(Some(&json!({"success": false, "numberCode": 10400001,
            "englishErrCode": "order not exist", "chineseErrCode": "订单不存在"})))
        .unwrap_err();
        assert_eq!(f.number_code, "10400001");
        assert!(f.is_not_found());
        let p = api_result(Some(
            &json!({"success": false, "englishErrCode": "page_size must be from 1 to 100"}),
        ))
        .unwrap_err();
        assert!(!p.is_not_found());
        assert!(
            matches!(p.to_connector_error("m"), ConnectorError::InvalidInput(m) if m.contains("page_size"))
        );
    }
}
