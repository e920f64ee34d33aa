//! The TOP (Taobao Open Platform) protocol: GMT+8 timestamps, signed requests to
//! `/router/rest`, the `{method}_response` envelope and `error_response` → the contract's
//! error kinds. Pure: the request is built here and sent by the caller's transport.

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::sign::md5_signed_form;
use wharf_sdk::time::{format_local, parse_local_ms};
use wharf_sdk::types::ConnectorError;

/// TOP writes and reads wall times in GMT+8.
pub const GMT8_HOURS: i64 = 8;

/// The app and seller credentials of an installation. `Debug` never shows the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_key: String,
    pub app_secret: String,
    /// The seller's access token (`session`).
    pub session: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"<redacted>")
            .field("session", &"<redacted>")
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
            "{field}: not a TOP time (yyyy-MM-dd HH:mm:ss): {s:?}"
        )));
    }
    parse_local_ms(field, s, GMT8_HOURS)
}

/// A signed TOP call: the system parameters (`method`, `app_key`, `session`,
/// `timestamp`, `format=json`, `v=2.0`, `sign_method=md5`) plus `business`, signed over
/// all of them, sent as a POST form to `api_url`.
pub fn request(
    api_url: &str,
    creds: &Credentials,
    method: &str,
    business: &[(&str, &str)],
    now_ms: i64,
) -> Request {
    let timestamp = format_time(now_ms);
    let mut params: Vec<(&str, &str)> = vec![
        ("method", method),
        ("app_key", &creds.app_key),
        ("session", &creds.session),
        ("timestamp", &timestamp),
        ("format", "json"),
        ("v", "2.0"),
        ("sign_method", "md5"),
    ];
    params.extend_from_slice(business);
    Request::post(api_url, md5_signed_form(&creds.app_secret, &params))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .header("Accept", "application/json")
}

/// TOP's error body: `{"error_response": {"code", "msg", "sub_code", "sub_msg"}}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct TopError {
    pub code: i64,
    #[serde(default)]
    pub msg: String,
    pub sub_code: Option<String>,
    pub sub_msg: Option<String>,
}

impl TopError {
    fn describe(&self) -> String {
        let mut s = format!("TOP error {}: {}", self.code, self.msg);
        if let Some(c) = &self.sub_code {
            s.push_str(&format!(" ({c}"));
            if let Some(m) = &self.sub_msg {
                s.push_str(&format!(": {m}"));
            }
            s.push(')');
        }
        s
    }

    /// The ban length TOP announces in `sub_msg` ("This ban will last for N more
    /// seconds"), in ms; one second when it says nothing parseable.
    fn ban_ms(&self) -> u64 {
        let secs = self.sub_msg.as_deref().and_then(|m| {
            let rest = m.split("last for ").nth(1)?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        });
        secs.unwrap_or(1).max(1) * 1000
    }

    /// The connector error kind: what the host's retry policy should do.
    ///
    /// | TOP | kind |
    /// |---|---|
    /// | 7 (call limit) | rate-limited, for the announced ban |
    /// | 11, 12 (permissions), 24–29 (signature, session, app key), 53 | unauthorized |
    /// | 10, 15 with an `isp.*` or no sub-code | transient |
    /// | 15 with `isv.invalid-parameter*`, 40, 41 | invalid-input |
    /// | anything else (other `isv.*` business errors, 21–23, 30–34 …) | permanent |
    pub fn to_connector_error(&self) -> ConnectorError {
        let what = self.describe();
        let sub = self.sub_code.as_deref().unwrap_or("");
        match self.code {
            7 => ConnectorError::RateLimited(self.ban_ms()),
            11 | 12 | 24..=29 | 53 => ConnectorError::Unauthorized(what),
            10 => ConnectorError::Transient(what),
            15 if sub.is_empty() || sub.starts_with("isp.") => ConnectorError::Transient(what),
            15 if sub.starts_with("isv.invalid-parameter") => ConnectorError::InvalidInput(what),
            40 | 41 => ConnectorError::InvalidInput(what),
            _ => ConnectorError::Permanent(what),
        }
    }
}

/// `taobao.trades.sold.increment.get` → `trades_sold_increment_get_response`.
pub fn response_key(method: &str) -> String {
    let bare = method.strip_prefix("taobao.").unwrap_or(method);
    format!("{}_response", bare.replace('.', "_"))
}

/// What a TOP call answered: the method's response object, or TOP's error.
#[derive(Debug)]
pub enum Answer {
    Ok(Value),
    Err(TopError),
}

/// Read a TOP answer: HTTP failures map by status, then `error_response` or the
/// `{method}_response` object (anything else is `invalid-input`).
pub fn read_answer(method: &str, resp: Response) -> Result<Answer, ConnectorError> {
    let mut body: Value = resp.error_for_status()?.json()?;
    if let Some(e) = body.get("error_response") {
        let err: TopError = serde_json::from_value(e.clone()).map_err(|e| {
            ConnectorError::InvalidInput(format!("{method}: unreadable error_response: {e}"))
        })?;
        return Ok(Answer::Err(err));
    }
    let key = response_key(method);
    match body.get_mut(&key).map(Value::take) {
        Some(v) if v.is_object() => Ok(Answer::Ok(v)),
        _ => Err(ConnectorError::InvalidInput(format!(
            "{method}: the answer has neither {key} nor error_response"
        ))),
    }
}

/// Like [`read_answer`], with TOP's error turned into the connector error kind.
pub fn read_response(method: &str, resp: Response) -> Result<Value, ConnectorError> {
    match read_answer(method, resp)? {
        Answer::Ok(v) => Ok(v),
        Answer::Err(e) => Err(e.to_connector_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wharf_sdk::sign::md5_sorted_params;

    fn creds() -> Credentials {
        Credentials {
            app_key: "12345678".into(),
            app_secret: "s3cret".into(),
            session: "sess".into(),
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
        assert_eq!(
            format_time(ms + 999),
            "2024-04-01 22:00:00",
            "truncated to seconds"
        );
        assert_eq!(
            format_time(1_711_987_200_000),
            "2024-04-02 00:00:00",
            "date rolls at GMT+8 midnight"
        );
        assert_eq!(parse_time("t", "2024-04-01 22:00:00").unwrap(), ms);
        for bad in [
            "2024-04-01T22:00:00",
            "2024-04-01 22:00",
            "yesterday",
            "2024-04-01 22:00:00+08:00",
        ] {
            assert!(
                matches!(parse_time("t", bad), Err(ConnectorError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    // The request is a POST form carrying every system parameter and an MD5 signature
    // over all of them, computed by the documented recipe.
    #[test]
    fn requests_are_signed_over_every_parameter() {
        let req = request(
            "http://gw.api.taobao.com/router/rest",
            &creds(),
            "taobao.trade.fullinfo.get",
            &[("fields", "tid,payment"), ("tid", "42")],
            1_711_980_000_000,
        );
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://gw.api.taobao.com/router/rest");
        let p = form(&req.body);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("method"), Some("taobao.trade.fullinfo.get"));
        assert_eq!(get("timestamp"), Some("2024-04-01%2022%3A00%3A00"));
        assert_eq!(get("fields"), Some("tid%2Cpayment"));
        assert_eq!(
            (get("v"), get("format"), get("sign_method")),
            (Some("2.0"), Some("json"), Some("md5"))
        );
        assert_eq!(get("session"), Some("sess"));
        // secret + sorted name/value pairs + secret, MD5, upper hex (raw values, not escaped).
        let expected = md5_sorted_params(
            "s3cret",
            &[
                ("app_key", "12345678"),
                ("fields", "tid,payment"),
                ("format", "json"),
                ("method", "taobao.trade.fullinfo.get"),
                ("session", "sess"),
                ("sign_method", "md5"),
                ("tid", "42"),
                ("timestamp", "2024-04-01 22:00:00"),
                ("v", "2.0"),
            ],
        );
        assert_eq!(get("sign"), Some(expected.as_str()));
        assert_eq!(expected.len(), 32);
        assert!(expected
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
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
            s.contains("12345678") && !s.contains("s3cret") && !s.contains("sess\""),
            "{s}"
        );
    }

    fn top(code: i64, sub_code: Option<&str>, sub_msg: Option<&str>) -> TopError {
        TopError {
            code,
            msg: "m".into(),
            sub_code: sub_code.map(str::to_string),
            sub_msg: sub_msg.map(str::to_string),
        }
    }

    // Each TOP error code lands in the kind the README's table gives.
    #[test]
    fn error_codes_map_to_kinds() {
        use ConnectorError as E;
        let kind = |e: TopError| e.to_connector_error();
        assert!(matches!(
            kind(top(
                7,
                Some("accesscontrol.limited-by-app-access-count"),
                Some("This ban will last for 12 more seconds")
            )),
            E::RateLimited(12_000)
        ));
        assert!(matches!(kind(top(7, None, None)), E::RateLimited(1000)));
        for c in [11, 12, 24, 25, 26, 27, 28, 29, 53] {
            assert!(
                matches!(kind(top(c, None, None)), E::Unauthorized(_)),
                "{c}"
            );
        }
        assert!(matches!(
            kind(top(15, Some("isp.remote-service-error"), None)),
            E::Transient(_)
        ));
        assert!(matches!(kind(top(15, None, None)), E::Transient(_)));
        assert!(matches!(kind(top(10, None, None)), E::Transient(_)));
        assert!(
            matches!(kind(top(15, Some("isv.invalid-parameter"), Some("span"))), E::InvalidInput(m) if m.contains("span"))
        );
        assert!(matches!(kind(top(41, None, None)), E::InvalidInput(_)));
        assert!(matches!(
            kind(top(15, Some("isv.trade-not-exist"), None)),
            E::Permanent(_)
        ));
        assert!(matches!(kind(top(22, None, None)), E::Permanent(_)));
    }

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }

    // The method's envelope is unwrapped; error_response and HTTP failures become errors.
    #[test]
    fn answers_are_unwrapped() {
        let m = "taobao.trade.fullinfo.get";
        assert_eq!(response_key(m), "trade_fullinfo_get_response");
        let ok = read_response(
            m,
            resp(
                200,
                json!({"trade_fullinfo_get_response": {"trade": {"tid": 1}}}),
            ),
        )
        .unwrap();
        assert_eq!(ok["trade"]["tid"], 1);
        let err = read_response(
            m,
            resp(
                200,
                json!({"error_response": {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"}}),
            ),
        );
        assert!(
            matches!(err, Err(ConnectorError::Unauthorized(e)) if e.contains("27") && e.contains("invalid-sessionkey"))
        );
        assert!(matches!(
            read_response(m, resp(502, json!("bad gateway"))),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read_response(m, resp(200, json!({"other": {}}))),
            Err(ConnectorError::InvalidInput(_))
        ));
    }
}
