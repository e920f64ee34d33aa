//! The Kuaidi100 real-time query (`POST /poll/query.do`): the signed form, the answer and
//! its `returnCode`s → the contract's error kinds, over an injected transport.

use md5::{Digest, Md5};
use serde_json::{json, Value};
use wharf_sdk::courier::TrackingEvent;
use wharf_sdk::http::{encode, Request, Response, Transport};
use wharf_sdk::types::ConnectorError;

use crate::carriers::Target;
use crate::mapping;
use crate::settings::Settings;

/// The wait after `502` (服务器繁忙): Kuaidi100 announces none.
pub const BUSY_WAIT_MS: u64 = 10_000;

/// The account's credentials. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub customer: String,
    pub key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("customer", &self.customer)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// `sign` = MD5(param + key + customer), upper-case hex.
pub fn sign(param: &str, key: &str, customer: &str) -> String {
    hex::encode_upper(Md5::digest(format!("{param}{key}{customer}").as_bytes()))
}

/// The query of `target`: `param` = `{com, num, phone?, resultv2: "1"}` (resultv2 makes
/// every item carry its state word and location).
pub fn request(settings: &Settings, creds: &Credentials, target: &Target) -> Request {
    let mut param = json!({"com": target.com, "num": target.num, "resultv2": "1"});
    if let Some(p) = &target.phone {
        param["phone"] = json!(p);
    }
    let param = param.to_string();
    let body = format!(
        "customer={}&sign={}&param={}",
        encode(&creds.customer),
        sign(&param, &creds.key, &creds.customer),
        encode(&param)
    );
    Request::post(settings.query_url(), body.into_bytes())
        .header("Content-Type", "application/x-www-form-urlencoded")
}

/// A refusal (`result: false`) → the connector error kind; `None` for 500 (查询无结果:
/// no scan yet, which is an empty history, not an error).
///
/// | returnCode | meaning | kind |
/// |---|---|---|
/// | 503, 601 | signature invalid; key expired / out of queries | unauthorized |
/// | 400, 408 | data incomplete or company unknown; phone check failed | invalid-input |
/// | 500 | no result yet | (empty history) |
/// | 501 | server error | transient |
/// | 502 | server busy | rate-limited (10 s) |
/// | other | | permanent |
pub fn refusal(label: &str, code: &str, message: &str) -> Option<ConnectorError> {
    let what = format!("Kuaidi100 {label}: {code} {message}");
    Some(match code {
        "503" | "601" => ConnectorError::Unauthorized(what),
        "400" | "408" => ConnectorError::InvalidInput(what),
        "500" => return None,
        "501" => ConnectorError::Transient(what),
        "502" => ConnectorError::RateLimited(BUSY_WAIT_MS),
        _ => ConnectorError::Permanent(what),
    })
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Read an answer: HTTP failures by status, refusals by [`refusal`], else the events.
pub fn read_answer(label: &str, resp: Response) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let body: Value = resp.error_for_status()?.json()?;
    if text(&body, "status").as_deref() == Some("200") {
        return mapping::events(label, &body);
    }
    let code = text(&body, "returnCode").unwrap_or_default();
    let message = text(&body, "message").unwrap_or_default();
    match refusal(label, &code, &message) {
        Some(e) => Err(e),
        None => Ok(Vec::new()),
    }
}

/// The history of `target`, oldest first.
pub fn track(
    settings: &Settings,
    creds: &Credentials,
    target: &Target,
    send: Transport<'_>,
) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let label = format!("{}:{}", target.com, target.num);
    read_answer(&label, send(request(settings, creds, target))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The signature is upper-case hex MD5 of param + key + customer; the form carries the
    // exact param text that was signed and never the key.
    #[test]
    fn requests_are_signed() {
        let settings = Settings {
            base_url: "http://k".into(),
            default_com: None,
        };
        let creds = Credentials {
            customer: "CUST".into(),
            key: "s3cret".into(),
        };
        let target = Target {
            com: "shunfeng".into(),
            num: "SF1".into(),
            phone: Some("5678".into()),
        };
        let req = request(&settings, &creds, &target);
        assert_eq!(req.url, "http://k/poll/query.do");
        let body = String::from_utf8(req.body).unwrap();
        let param = r#"{"com":"shunfeng","num":"SF1","phone":"5678","resultv2":"1"}"#;
        assert!(body.contains(&format!("param={}", encode(param))), "{body}");
        let want = hex::encode_upper(Md5::digest(format!("{param}s3cretCUST").as_bytes()));
        assert!(body.contains(&format!("sign={want}")));
        assert!(!body.contains("s3cret"));
        assert!(!format!("{creds:?}").contains("s3cret"));
    }

    // Each returnCode lands in the kind of the README's table; 500 is an empty history.
    #[test]
    fn return_codes_map_to_kinds() {
        use ConnectorError as E;
        assert!(
            matches!(refusal("l", "503", "验证签名失败"), Some(E::Unauthorized(m)) if m.contains("503"))
        );
        assert!(matches!(refusal("l", "601", ""), Some(E::Unauthorized(_))));
        assert!(matches!(refusal("l", "400", ""), Some(E::InvalidInput(_))));
        assert!(matches!(refusal("l", "408", ""), Some(E::InvalidInput(_))));
        assert!(refusal("l", "500", "查询无结果").is_none());
        assert!(matches!(refusal("l", "501", ""), Some(E::Transient(_))));
        assert!(matches!(
            refusal("l", "502", ""),
            Some(E::RateLimited(BUSY_WAIT_MS))
        ));
        assert!(matches!(refusal("l", "999", ""), Some(E::Permanent(_))));
        let resp = |status: u16, body: &str| Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        };
        assert!(matches!(
            read_answer("l", resp(502, "busy")),
            Err(E::Transient(_))
        ));
        assert!(read_answer(
            "l",
            resp(200, r#"{"result":false,"returnCode":"500","message":"x"}"#)
        )
        .unwrap()
        .is_empty());
    }
}
