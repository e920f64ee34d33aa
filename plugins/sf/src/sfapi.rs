//! The SF open platform's standard-service protocol: the signed form
//! (`partnerID`, `requestID`, `serviceCode`, `timestamp`, `msgData`, `msgDigest`), the
//! envelope `{apiResultCode, apiErrorMsg, apiResponseID, apiResultData}` with
//! `apiResultData` a JSON string, the business result inside it, and both code lists →
//! the contract's error kinds. Pure: requests are built here and sent by the caller.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::Value;
use wharf_sdk::http::{encode, Request, Response};
use wharf_sdk::types::ConnectorError;

/// The wait after `A1005` (流量受控): SF limits each interface to 30 calls a second.
pub const FLOW_LIMIT_WAIT_MS: u64 = 1_000;
/// The wait after `A1007` (重复请求): SF asks to try again after a minute.
pub const DUPLICATE_WAIT_MS: u64 = 60_000;

/// `java.net.URLEncoder.encode(s, "UTF-8")`, the encoding the digest is computed over:
/// letters, digits and `. - * _` kept, space as `+`, every other byte `%XX` upper-case.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `msgDigest` = Base64(MD5(URLEncode(msgData + timestamp + checkWord))).
pub fn digest(msg_data: &str, timestamp: &str, check_word: &str) -> String {
    let text = java_url_encode(&format!("{msg_data}{timestamp}{check_word}"));
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(text.as_bytes()))
}

/// A 32-hex request id unique per (service, message, time): SF wants a UUID-like
/// `requestID` per call; the plugin has no randomness, so it is derived.
pub fn request_id(service_code: &str, msg_data: &str, now_ms: i64) -> String {
    hex::encode(Md5::digest(
        format!("{service_code}|{now_ms}|{msg_data}").as_bytes(),
    ))
}

/// One signed call of `service_code` with `msg_data`, POSTed as a UTF-8 form.
pub fn request(
    service_url: &str,
    partner_id: &str,
    check_word: &str,
    service_code: &str,
    msg_data: &Value,
    now_ms: i64,
) -> Request {
    let msg = msg_data.to_string();
    let timestamp = now_ms.to_string();
    let fields = [
        ("partnerID", partner_id.to_string()),
        ("requestID", request_id(service_code, &msg, now_ms)),
        ("serviceCode", service_code.to_string()),
        ("timestamp", timestamp.clone()),
        ("msgData", msg.clone()),
        ("msgDigest", digest(&msg, &timestamp, check_word)),
    ];
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(service_url, body.into_bytes()).header(
        "Content-Type",
        "application/x-www-form-urlencoded;charset=UTF-8",
    )
}

/// A platform (`apiResultCode`) refusal → the connector error kind.
///
/// | code | meaning | kind |
/// |---|---|---|
/// | A1001 | 必传参数不可为空 | invalid-input |
/// | A1002 | 请求时效已过期 | transient |
/// | A1003, A1004, A1006, A1011 | IP, service permission, digest, OAuth2 | unauthorized |
/// | A1005 | 流量受控 | rate-limited (1 s) |
/// | A1007 | 重复请求 | rate-limited (60 s) |
/// | A1009, A1099 | target unreachable, system error | transient |
/// | anything else (A1008, A1010 …) | | permanent |
pub fn api_error(service_code: &str, code: &str, message: &str) -> ConnectorError {
    let what = format!("SF {service_code}: {code} {message}");
    match code {
        "A1001" => ConnectorError::InvalidInput(what),
        "A1002" | "A1009" | "A1099" => ConnectorError::Transient(what),
        "A1003" | "A1004" | "A1006" | "A1011" => ConnectorError::Unauthorized(what),
        "A1005" => ConnectorError::RateLimited(FLOW_LIMIT_WAIT_MS),
        "A1007" => ConnectorError::RateLimited(DUPLICATE_WAIT_MS),
        _ => ConnectorError::Permanent(what),
    }
}

/// A business failure inside `apiResultData` (`success: false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizFailure {
    pub service_code: String,
    pub code: String,
    pub message: String,
}

impl BizFailure {
    /// The connector error kind of a business code: the request's data was refused
    /// (S0001–S0007, missing contact fields 1010–1016, cargo 1023, order id 6118/6135,
    /// product 8003, monthly account 6126/8114/8119/20052, phone 8196) → invalid-input;
    /// 4001 (system data error) → transient; anything else → permanent.
    pub fn to_connector_error(&self) -> ConnectorError {
        let what = format!(
            "SF {} refused: {} {}",
            self.service_code, self.code, self.message
        );
        let invalid = self.code.starts_with("S000")
            || matches!(
                self.code.as_str(),
                "1010"
                    | "1011"
                    | "1012"
                    | "1014"
                    | "1015"
                    | "1016"
                    | "1023"
                    | "6118"
                    | "6126"
                    | "6135"
                    | "8003"
                    | "8114"
                    | "8119"
                    | "8196"
                    | "20052"
            );
        if invalid {
            ConnectorError::InvalidInput(what)
        } else if self.code == "4001" {
            ConnectorError::Transient(what)
        } else {
            ConnectorError::Permanent(what)
        }
    }
}

/// A JSON value SF may send as a string or a number, as text.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Read the envelope: HTTP failures map by status; an `apiResultCode` other than A1000
/// maps by [`api_error`]; answers the parsed `apiResultData` object.
pub fn read_envelope(service_code: &str, resp: Response) -> Result<Value, ConnectorError> {
    let body: Value = resp.error_for_status()?.json()?;
    let code = body.get("apiResultCode").and_then(text_of).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("SF {service_code}: no apiResultCode in {body}"))
    })?;
    if code != "A1000" {
        let msg = body
            .get("apiErrorMsg")
            .and_then(text_of)
            .unwrap_or_default();
        return Err(api_error(service_code, &code, &msg));
    }
    match body.get("apiResultData") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| {
                ConnectorError::InvalidInput(format!(
                    "SF {service_code}: apiResultData is not a JSON object"
                ))
            }),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        _ => Err(ConnectorError::InvalidInput(format!(
            "SF {service_code}: the answer has no apiResultData"
        ))),
    }
}

/// The business result of `apiResultData`: `msgData` when `success` is true (and
/// `errorCode` S0000 or absent), else the failure. The cloud print names its message
/// `errorMessage`; both are read.
pub fn business(service_code: &str, data: &Value) -> Result<Value, BizFailure> {
    let success = match data.get("success") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let code = data.get("errorCode").and_then(text_of);
    if success && code.as_deref().is_none_or(|c| c == "S0000") {
        return Ok(data.get("msgData").cloned().unwrap_or(Value::Null));
    }
    let message = ["errorMsg", "errorMessage"]
        .iter()
        .find_map(|k| data.get(*k).and_then(text_of))
        .unwrap_or_default();
    Err(BizFailure {
        service_code: service_code.to_string(),
        code: code.unwrap_or_else(|| "?".into()),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(req: &Request) -> Vec<(String, String)> {
        String::from_utf8(req.body.clone())
            .unwrap()
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    // The digest recipe: Java URL encoding (space '+', '*' kept, UTF-8 %XX), MD5, Base64.
    #[test]
    fn digest_is_base64_md5_of_the_url_encoded_text() {
        assert_eq!(java_url_encode("a b*c~/好"), "a+b*c%7E%2F%E5%A5%BD");
        let want = base64::engine::general_purpose::STANDARD
            .encode(Md5::digest(b"%7B%22a%22%3A1%7D1700000000000cw"));
        assert_eq!(digest("{\"a\":1}", "1700000000000", "cw"), want);
    }

    // The form carries every field, msgData as the exact JSON text that was signed, and
    // never the check word.
    #[test]
    fn requests_are_signed_forms() {
        let msg = json!({"orderId": "O 1"});
        let req = request(
            "http://x/std/service",
            "P1",
            "secret-cw",
            "EXP_RECE_CREATE_ORDER",
            &msg,
            1_700_000_000_000,
        );
        assert_eq!(req.method, "POST");
        let f = form(&req);
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("partnerID"), "P1");
        assert_eq!(get("serviceCode"), "EXP_RECE_CREATE_ORDER");
        assert_eq!(get("timestamp"), "1700000000000");
        assert_eq!(get("msgData"), encode(&msg.to_string()));
        assert_eq!(
            get("msgDigest"),
            encode(&digest(&msg.to_string(), "1700000000000", "secret-cw"))
        );
        assert_eq!(get("requestID").len(), 32);
        assert!(!String::from_utf8_lossy(&req.body).contains("secret-cw"));
    }

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }

    // Platform codes land in the kinds of the README's table; HTTP 5xx is transient.
    #[test]
    fn platform_codes_map_to_kinds() {
        use ConnectorError as E;
        let read = |code: &str| {
            read_envelope(
                "S",
                resp(
                    200,
                    json!({"apiResultCode": code, "apiErrorMsg": "m", "apiResultData": null}),
                ),
            )
        };
        for c in ["A1003", "A1004", "A1006", "A1011"] {
            assert!(
                matches!(read(c), Err(E::Unauthorized(m)) if m.contains(c)),
                "{c}"
            );
        }
        assert!(matches!(
            read("A1005"),
            Err(E::RateLimited(FLOW_LIMIT_WAIT_MS))
        ));
        assert!(matches!(
            read("A1007"),
            Err(E::RateLimited(DUPLICATE_WAIT_MS))
        ));
        for c in ["A1002", "A1009", "A1099"] {
            assert!(matches!(read(c), Err(E::Transient(_))), "{c}");
        }
        assert!(matches!(read("A1001"), Err(E::InvalidInput(_))));
        assert!(matches!(read("A1010"), Err(E::Permanent(_))));
        assert!(matches!(
            read_envelope("S", resp(502, json!("bad gateway"))),
            Err(E::Transient(_))
        ));
    }

    // apiResultData is a JSON string; success gives msgData, failure its code and message.
    #[test]
    fn business_results_are_unwrapped() {
        let inner =
            json!({"success": true, "errorCode": "S0000", "errorMsg": null, "msgData": {"x": 1}});
        let data = read_envelope(
            "S",
            resp(
                200,
                json!({"apiResultCode": "A1000", "apiResultData": inner.to_string()}),
            ),
        )
        .unwrap();
        assert_eq!(business("S", &data).unwrap()["x"], 1);
        let f = business(
            "S",
            &json!({"success": false, "errorCode": "1016", "errorMsg": "到件电话不能为空"}),
        )
        .unwrap_err();
        assert!(
            matches!(f.to_connector_error(), ConnectorError::InvalidInput(m) if m.contains("1016"))
        );
        let p = business(
            "P",
            &json!({"success": false, "errorCode": "8018", "errorMessage": "x"}),
        )
        .unwrap_err();
        assert_eq!(p.message, "x");
        assert!(matches!(
            p.to_connector_error(),
            ConnectorError::Permanent(_)
        ));
        let t = BizFailure {
            service_code: "S".into(),
            code: "4001".into(),
            message: String::new(),
        };
        assert!(matches!(
            t.to_connector_error(),
            ConnectorError::Transient(_)
        ));
    }
}
