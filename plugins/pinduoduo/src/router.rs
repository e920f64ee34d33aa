//! The PDD open platform's router protocol: one `POST /api/router` per API call, with the
//! common parameters (`type`, `client_id`, `access_token`, `timestamp`, `data_type`,
//! `version`) and the business parameters signed together, and answers that are either
//! `{"<api>_response": …}` or `{"error_response": …}` (always HTTP 200).
//!
//! Signing: sort every parameter except `sign` by name, concatenate name + value, wrap
//! with the client secret on both sides, MD5, upper-case hex
//! (`wharf_sdk::sign::md5_sorted_params`).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use wharf_sdk::http::{encode, Request, Response};
use wharf_sdk::sign::md5_sorted_params;
use wharf_sdk::types::ConnectorError;

/// Sends one request (the plugin passes `wharf_sdk::http::send`, tests a fake or reqwest).
pub type Transport<'a> = &'a mut dyn FnMut(Request) -> Result<Response, ConnectorError>;

/// The app credentials and the shop's token, from the installation's secrets.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub access_token: String,
}

impl std::fmt::Debug for Credentials {
    // Secrets never reach a log line, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .finish()
    }
}

/// Error codes the plugin treats as "credentials rejected": 10016 unknown client_id,
/// 10019 access_token invalid or expired, 20004 signature mismatch (a wrong client
/// secret), 20031 the token has no grant for the API. (Codes as the simulator serves
/// them; unverified against the live platform.)
pub const AUTH_CODES: [i64; 4] = [10016, 10019, 20004, 20031];
/// "Calls too frequent" codes → rate-limited.
pub const RATE_LIMIT_CODES: [i64; 3] = [70031, 70032, 70033];
/// 10000: a parameter was refused (bad window, page size …) → invalid-input.
pub const INVALID_PARAM_CODE: i64 = 10000;
/// PDD does not say how long to wait; one second clears its per-second throttles.
pub const RATE_LIMIT_RETRY_MS: u64 = 1000;

/// The signed parameter list of one call: common parameters, then `params`, then `sign`.
pub fn signed_params(
    creds: &Credentials,
    api_type: &str,
    params: &[(&str, String)],
    now_s: i64,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = vec![
        ("type".into(), api_type.into()),
        ("client_id".into(), creds.client_id.clone()),
        ("access_token".into(), creds.access_token.clone()),
        ("timestamp".into(), now_s.to_string()),
        ("data_type".into(), "JSON".into()),
        ("version".into(), "V1".into()),
    ];
    all.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sign = md5_sorted_params(&creds.client_secret, &pairs);
    all.push(("sign".into(), sign));
    all
}

/// `application/x-www-form-urlencoded` body of the pairs.
pub fn form_body(pairs: &[(String, String)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

#[derive(Debug, Deserialize)]
struct ErrorResponse {
    error_code: Option<i64>,
    #[serde(default)]
    error_msg: String,
    #[serde(default)]
    sub_code: Option<String>,
    #[serde(default)]
    sub_msg: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

/// The typed connector error for a PDD `error_response`.
fn error_from(e: &ErrorResponse) -> ConnectorError {
    let code = e.error_code.unwrap_or(0);
    let mut msg = format!("PDD error {code}: {}", e.error_msg);
    if let Some(sub) = e.sub_code.as_deref().filter(|s| !s.is_empty()) {
        msg.push_str(&format!(" [{sub}]"));
    }
    if let Some(sub) = e.sub_msg.as_deref().filter(|s| !s.is_empty()) {
        msg.push_str(&format!(" {sub}"));
    }
    if let Some(id) = e.request_id.as_deref().filter(|s| !s.is_empty()) {
        msg.push_str(&format!(" (request_id {id})"));
    }
    if AUTH_CODES.contains(&code) {
        ConnectorError::Unauthorized(msg)
    } else if RATE_LIMIT_CODES.contains(&code) {
        ConnectorError::RateLimited(RATE_LIMIT_RETRY_MS)
    } else if code == INVALID_PARAM_CODE {
        ConnectorError::InvalidInput(msg)
    } else if (50000..60000).contains(&code) {
        ConnectorError::Transient(msg)
    } else {
        ConnectorError::Permanent(msg)
    }
}

/// Call `api_type` with `params` and return the response body text (checked: HTTP status,
/// JSON, no `error_response`, `response_key` present). Parse the part you need with
/// [`response_part`].
pub fn call(
    url: &str,
    creds: &Credentials,
    api_type: &str,
    params: &[(&str, String)],
    now_s: i64,
    send: Transport<'_>,
) -> Result<String, ConnectorError> {
    let pairs = signed_params(creds, api_type, params, now_s);
    let req = Request::post(url, form_body(&pairs))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    let resp = send(req)?.error_for_status()?;
    String::from_utf8(resp.body)
        .map_err(|_| ConnectorError::InvalidInput(format!("{api_type}: response is not UTF-8")))
}

/// The raw JSON under `response_key` of a router answer, or the typed error of its
/// `error_response`.
pub fn response_part<'a>(
    body: &'a str,
    response_key: &str,
) -> Result<&'a RawValue, ConnectorError> {
    let top: HashMap<&str, &RawValue> = serde_json::from_str(body).map_err(|e| {
        ConnectorError::InvalidInput(format!("response is not a PDD answer object: {e}"))
    })?;
    if let Some(err) = top.get("error_response") {
        let e: ErrorResponse = serde_json::from_str(err.get())
            .map_err(|e| ConnectorError::InvalidInput(format!("malformed error_response: {e}")))?;
        return Err(error_from(&e));
    }
    top.get(response_key)
        .copied()
        .ok_or_else(|| ConnectorError::InvalidInput(format!("response lacks `{response_key}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            client_id: "cid".into(),
            client_secret: "secret".into(),
            access_token: "tok".into(),
        }
    }

    // The signature is MD5(secret + sorted k+v + secret), upper hex, over every parameter.
    #[test]
    fn signs_sorted_params_wrapped_in_the_secret() {
        let p = signed_params(
            &creds(),
            "pdd.order.information.get",
            &[("order_sn", "240401-1".into())],
            1_712_000_000,
        );
        let sign = &p.last().unwrap().1;
        let plain = "secretaccess_tokentokclient_idciddata_typeJSONorder_sn240401-1timestamp1712000000typepdd.order.information.getversionV1secret";
        // With an empty secret and one empty-named pair this is MD5(plain), upper hex.
        let by_hand = md5_sorted_params("", &[("", plain)]);
        assert_eq!(sign, &by_hand);
        assert_eq!(sign.len(), 32);
        assert!(sign
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_eq!(p.last().unwrap().0, "sign");
    }

    // The form body percent-encodes values.
    #[test]
    fn form_body_encodes() {
        let body = form_body(&[("a".into(), "x y".into()), ("b".into(), "1&2".into())]);
        assert_eq!(body, b"a=x%20y&b=1%262");
    }

    // Each documented error class maps to its connector error kind.
    #[test]
    fn error_codes_map_to_kinds() {
        let err = |code: i64| {
            let body = format!(
                r#"{{"error_response":{{"error_code":{code},"error_msg":"m","sub_code":"s","sub_msg":"detail","request_id":"r1"}}}}"#
            );
            response_part(&body, "x_response").unwrap_err()
        };
        for code in AUTH_CODES {
            assert!(
                matches!(err(code), ConnectorError::Unauthorized(m) if m.contains(&code.to_string()) && m.contains("r1"))
            );
        }
        for code in RATE_LIMIT_CODES {
            assert!(matches!(
                err(code),
                ConnectorError::RateLimited(RATE_LIMIT_RETRY_MS)
            ));
        }
        assert!(matches!(err(10000), ConnectorError::InvalidInput(m) if m.contains("detail")));
        assert!(matches!(err(50000), ConnectorError::Transient(_)));
        assert!(matches!(err(50001), ConnectorError::Transient(_)));
        assert!(matches!(err(30000), ConnectorError::Permanent(_)));
    }

    // A good answer yields the part under its key; garbage and missing keys are invalid-input.
    #[test]
    fn response_part_finds_the_key() {
        let part = response_part(r#"{"a_response":{"x":1.50}}"#, "a_response").unwrap();
        assert_eq!(part.get(), r#"{"x":1.50}"#);
        assert!(matches!(
            response_part("nope", "a_response"),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(
            matches!(response_part("{}", "a_response"), Err(ConnectorError::InvalidInput(m)) if m.contains("a_response"))
        );
    }

    // Credentials never print their secrets.
    #[test]
    fn credentials_debug_redacts_secrets() {
        let s = format!("{:?}", creds());
        assert!(s.contains("\"cid\"") && s.contains("<redacted>"));
        assert!(!s.contains("\"secret\"") && !s.contains("\"tok\""), "{s}");
    }
}
