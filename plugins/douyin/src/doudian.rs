//! The doudian (抖店) open-platform protocol: the canonical `param_json`, signed calls to
//! `{api_url}/{method with '.' → '/'}`, the answer envelope and doudian's error codes →
//! the contract's error kinds. Pure: the request is built here and sent by the caller's
//! transport.

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::sign::hmac_sha256;
use wharf_sdk::types::ConnectorError;

/// `code` of a successful answer.
pub const SUCCESS: i64 = 10_000;
/// How long to wait after doudian's flow control (code 90000), which announces no
/// duration: one second.
pub const FLOW_LIMIT_RETRY_MS: u64 = 1000;

/// The app and shop credentials of an installation. `Debug` never shows the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: String,
    /// The shop's access token.
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `hmac-sha256` signature: lower-case hex HMAC-SHA256, keyed with the app secret,
/// over `app_secret + "app_key" + app_key + "method" + method + "param_json" +
/// param_json + "timestamp" + timestamp + "v" + "2" + app_secret`.
pub fn sign(
    secret: &str,
    app_key: &str,
    method: &str,
    param_json: &str,
    timestamp: &str,
) -> String {
    let payload = format!(
        "{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2{secret}"
    );
    hex(&hmac_sha256(secret.as_bytes(), payload.as_bytes()))
}

/// A signed call: POST `{api_url}/{method path}` with the query `app_key`, `method`,
/// `access_token`, `param_json`, `timestamp` (Unix seconds), `v=2`,
/// `sign_method=hmac-sha256`, `sign`, and `param_json` again as the JSON body.
pub fn request(
    api_url: &str,
    creds: &Credentials,
    method: &str,
    params: &Value,
    now_ms: i64,
) -> Request {
    let param_json = canonical(params);
    let timestamp = now_ms.div_euclid(1000).to_string();
    let sign = sign(
        &creds.app_secret,
        &creds.app_key,
        method,
        &param_json,
        &timestamp,
    );
    let url = format!("{api_url}/{}", method.replace('.', "/"));
    Request::post(url, param_json.clone().into_bytes())
        .query(&[
            ("app_key", &creds.app_key),
            ("method", method),
            ("access_token", &creds.access_token),
            ("param_json", &param_json),
            ("timestamp", &timestamp),
            ("v", "2"),
            ("sign_method", "hmac-sha256"),
            ("sign", &sign),
        ])
        .header("Content-Type", "application/json;charset=utf-8")
        .header("Accept", "application/json")
}

/// doudian's answer envelope: `{"code", "msg", "sub_code", "sub_msg", "data", "log_id"}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Envelope {
    pub code: i64,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub sub_code: String,
    #[serde(default)]
    pub sub_msg: String,
    #[serde(default)]
    pub log_id: String,
}

impl Envelope {
    fn describe(&self) -> String {
        let mut s = format!("doudian error {}: {}", self.code, self.msg);
        if !self.sub_code.is_empty() || !self.sub_msg.is_empty() {
            s.push_str(&format!(" ({}: {})", self.sub_code, self.sub_msg));
        }
        if !self.log_id.is_empty() {
            s.push_str(&format!(" [log_id {}]", self.log_id));
        }
        s
    }

    /// The order or SKU a call named does not exist (`50002` business failure whose
    /// sub-code or message says so).
    pub fn is_not_found(&self) -> bool {
        self.code == 50_002
            && (self.sub_code.ends_with("not_exist")
                || self.sub_code.ends_with("not-exist")
                || self.sub_msg.contains("不存在"))
    }

    /// The connector error kind: what the host's retry policy should do.
    ///
    /// | doudian `code` | kind |
    /// |---|---|
    /// | 90000–99999 (flow control) | rate-limited, 1 s |
    /// | 20000–29999 (service unavailable) | transient |
    /// | 30000–39999 (access token invalid/expired), 40003 (app key), 40004 (sign) | unauthorized |
    /// | other 40000–49999 (missing/invalid parameter) | invalid-input |
    /// | anything else with an `isp.*` sub-code | transient |
    /// | anything else (50002 business failure …) | permanent |
    pub fn to_connector_error(&self) -> ConnectorError {
        let what = self.describe();
        match self.code {
            90_000..=99_999 => ConnectorError::RateLimited(FLOW_LIMIT_RETRY_MS),
            20_000..=29_999 => ConnectorError::Transient(what),
            30_000..=39_999 | 40_003 | 40_004 => ConnectorError::Unauthorized(what),
            40_000..=49_999 => ConnectorError::InvalidInput(what),
            _ if self.sub_code.starts_with("isp.") => ConnectorError::Transient(what),
            _ => ConnectorError::Permanent(what),
        }
    }
}

/// What a call answered: `data`, or doudian's error.
#[derive(Debug)]
pub enum Answer {
    Ok(Value),
    Err(Envelope),
}

/// Read an answer: HTTP failures map by status, then the envelope's `code` (10000 →
/// `data`, anything else → the error). A body that is not an envelope is `invalid-input`.
pub fn read_answer(method: &str, resp: Response) -> Result<Answer, ConnectorError> {
    let mut body: Value = resp.error_for_status()?.json()?;
    let env: Envelope = serde_json::from_value(body.clone()).map_err(|e| {
        ConnectorError::InvalidInput(format!("{method}: not a doudian answer: {e}"))
    })?;
    if env.code != SUCCESS {
        return Ok(Answer::Err(env));
    }
    match body.get_mut("data").map(Value::take) {
        Some(v) if v.is_object() => Ok(Answer::Ok(v)),
        _ => Err(ConnectorError::InvalidInput(format!(
            "{method}: a success answer without a data object"
        ))),
    }
}

/// Like [`read_answer`], with doudian's error turned into the connector error kind.
pub fn read_response(method: &str, resp: Response) -> Result<Value, ConnectorError> {
    match read_answer(method, resp)? {
        Answer::Ok(v) => Ok(v),
        Answer::Err(e) => Err(e.to_connector_error()),
    }
}

/// Percent-decode a query component (for tests reading a request back).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded query parameters of a request URL (for tests reading a request back).
pub fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn creds() -> Credentials {
        Credentials {
            app_key: "7100".into(),
            app_secret: "s3cret".into(),
            access_token: "tok-abc".into(),
        }
    }

    // param_json has its keys sorted at every level and no whitespace.
    #[test]
    fn param_json_is_canonical() {
        let v = json!({"size": 10, "order_by": "update_time", "nested": {"b": 1, "a": [ {"d": 1, "c": "中"} ]}});
        assert_eq!(
            canonical(&v),
            r#"{"nested":{"a":[{"c":"中","d":1}],"b":1},"order_by":"update_time","size":10}"#
        );
    }

    // The request is a POST to the method path, carrying every common parameter in the
    // query, param_json in the body too, and the HMAC-SHA256 signature of the recipe.
    #[test]
    fn requests_are_signed_by_the_recipe() {
        let params = json!({"shop_order_id": "6919000000000000010"});
        let req = request(
            "http://openapi-fxg.jinritemai.com",
            &creds(),
            "order.orderDetail",
            &params,
            1_711_980_000_999,
        );
        assert_eq!(req.method, "POST");
        assert!(req
            .url
            .starts_with("http://openapi-fxg.jinritemai.com/order/orderDetail?"));
        let q = query_of(&req.url);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let pj = r#"{"shop_order_id":"6919000000000000010"}"#;
        assert_eq!(get("param_json"), Some(pj));
        assert_eq!(req.body, pj.as_bytes());
        assert_eq!(get("timestamp"), Some("1711980000"), "Unix seconds");
        assert_eq!(
            (
                get("v"),
                get("sign_method"),
                get("method"),
                get("app_key"),
                get("access_token")
            ),
            (
                Some("2"),
                Some("hmac-sha256"),
                Some("order.orderDetail"),
                Some("7100"),
                Some("tok-abc")
            )
        );
        let payload = format!(
            "s3cretapp_key7100methodorder.orderDetailparam_json{pj}timestamp1711980000v2s3cret"
        );
        let expected = hex(&hmac_sha256(b"s3cret", payload.as_bytes()));
        assert_eq!(get("sign"), Some(expected.as_str()));
        assert_eq!(expected.len(), 64);
        assert!(!req.url.contains("s3cret"), "the secret is never sent");
    }

    // Credentials print without their secrets.
    #[test]
    fn debug_redacts_secrets() {
        let s = format!("{:?}", creds());
        assert!(
            s.contains("7100") && !s.contains("s3cret") && !s.contains("tok-abc"),
            "{s}"
        );
    }

    fn env(code: i64, sub_code: &str, sub_msg: &str) -> Envelope {
        Envelope {
            code,
            msg: "m".into(),
            sub_code: sub_code.into(),
            sub_msg: sub_msg.into(),
            log_id: "L1".into(),
        }
    }

    // Each doudian code lands in the kind the README's table gives.
    #[test]
    fn error_codes_map_to_kinds() {
        use ConnectorError as E;
        let kind = |e: Envelope| e.to_connector_error();
        assert!(matches!(
            kind(env(90_000, "isp.flow-limit", "")),
            E::RateLimited(1000)
        ));
        assert!(matches!(
            kind(env(20_000, "isp.service-error", "")),
            E::Transient(_)
        ));
        for c in [30_001, 30_002, 40_003, 40_004] {
            assert!(
                matches!(kind(env(c, "isv.x", "")), E::Unauthorized(m) if m.contains(&c.to_string())),
                "{c}"
            );
        }
        assert!(
            matches!(kind(env(40_001, "isv.missing-parameter", "缺少")), E::InvalidInput(m) if m.contains("缺少"))
        );
        assert!(matches!(
            kind(env(40_002, "isv.parameter-invalid", "")),
            E::InvalidInput(_)
        ));
        assert!(
            matches!(kind(env(50_002, "isv.business-failed:x", "")), E::Permanent(m) if m.contains("L1"))
        );
        assert!(matches!(
            kind(env(60_000, "isp.unknown", "")),
            E::Transient(_)
        ));
        assert!(env(50_002, "isv.business-failed:order_not_exist", "").is_not_found());
        assert!(env(50_002, "isv.business-failed:1", "订单不存在").is_not_found());
        assert!(!env(40_002, "isv.parameter-invalid", "不存在").is_not_found());
    }

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }

    // data is unwrapped on 10000; error envelopes and HTTP failures become errors.
    #[test]
    fn answers_are_unwrapped() {
        let m = "order.orderDetail";
        let ok = read_response(
            m,
            resp(
                200,
                json!({"code": 10000, "msg": "success", "data": {"x": 1}, "log_id": "l"}),
            ),
        )
        .unwrap();
        assert_eq!(ok["x"], 1);
        let err = read_response(
            m,
            resp(
                200,
                json!({"code": 30002, "msg": "access_token已过期", "sub_code": "isv.access-token-expired", "sub_msg": "", "data": {}, "log_id": "l"}),
            ),
        );
        assert!(matches!(err, Err(ConnectorError::Unauthorized(e)) if e.contains("30002")));
        assert!(matches!(
            read_response(m, resp(502, json!("bad gateway"))),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read_response(m, resp(429, json!("slow"))),
            Err(ConnectorError::RateLimited(_))
        ));
        assert!(matches!(
            read_response(m, resp(200, json!({"other": 1}))),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            read_response(m, resp(200, json!({"code": 10000, "data": null}))),
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
