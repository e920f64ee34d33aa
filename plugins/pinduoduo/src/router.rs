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
use wharf_sdk::http::Request;
use wharf_sdk::sign::md5_signed_form;
use wharf_sdk::types::ConnectorError;

pub use wharf_sdk::http::Transport;

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

/// The signed form body of one call: the common parameters, then `params`, then `sign`
/// (`wharf_sdk::sign::md5_signed_form`).
pub fn signed_form(
    creds: &Credentials,
    api_type: &str,
    params: &[(&str, String)],
    now_s: i64,
) -> Vec<u8> {
    let timestamp = now_s.to_string();
    let mut all: Vec<(&str, &str)> = vec![
        ("type", api_type),
        ("client_id", &creds.client_id),
        ("access_token", &creds.access_token),
        ("timestamp", &timestamp),
        ("data_type", "JSON"),
        ("version", "V1"),
    ];
    all.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
    md5_signed_form(&creds.client_secret, &all)
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
    let req = Request::post(url, signed_form(creds, api_type, params, now_s))
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
    use wharf_sdk::sign::md5_sorted_params;

    fn creds() -> Credentials {
        Credentials {
            client_id: "cid".into(),
            client_secret: "secret".into(),
            access_token: "tok".into(),
        }
    }

    // The signature is MD5(secret + sorted k+v + secret), upper hex, over every
    // parameter, appended to the percent-encoded form.
    #[test]
    fn signs_sorted_params_wrapped_in_the_secret() {
        let body = signed_form(
            &creds(),
            "pdd.order.information.get",
            &[("order_sn", "240401-1 x".into())],
            1_712_000_000,
        );
        let body = String::from_utf8(body).unwrap();
        let plain = "secretaccess_tokentokclient_idciddata_typeJSONorder_sn240401-1 xtimestamp1712000000typepdd.order.information.getversionV1secret";
        // With an empty secret and one empty-named pair this is MD5(plain), upper hex.
        let by_hand = md5_sorted_params("", &[("", plain)]);
        assert_eq!(
            body,
            format!(
                "type=pdd.order.information.get&client_id=cid&access_token=tok&\
                 timestamp=1712000000&data_type=JSON&version=V1&order_sn=240401-1%20x&\
                 sign={by_hand}"
            )
        );
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
