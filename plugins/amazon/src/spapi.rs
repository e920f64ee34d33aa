//! The Selling Partner API protocol: the Login with Amazon (LWA) token exchange,
//! `x-amz-access-token` requests, ISO 8601 times, and Amazon's error answers → the
//! contract's error kinds. Pure: requests are built here and sent by the caller's
//! transport.
//!
//! AWS Signature V4 is not used: SP-API stopped requiring it (Oct 2023); the LWA access
//! token is the only credential on a call.

use serde::Deserialize;
use serde_json::Value;
use wharf_sdk::http::{encode, Request, Response};
use wharf_sdk::time::{format_rfc3339, parse_rfc3339_ms};
use wharf_sdk::types::ConnectorError;

/// The rate-limited retry when Amazon announces no usable rate: one minute, the refill
/// time of one `getOrders` token (its rate is 0.0167/s).
pub const DEFAULT_RETRY_AFTER_MS: u64 = 60_000;
/// The longest retry-after the plugin reports (a rate of 0.0033/s would say 5 minutes).
pub const MAX_RETRY_AFTER_MS: u64 = 300_000;

const USER_AGENT: &str = "wharf-plugin-amazon/0.1.0 (Language=Rust; Platform=wasm32-wasip2)";

/// The LWA app and the seller's authorisation. `Debug` never shows the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    /// The seller's long-lived refresh token (`Atzr|…`).
    pub refresh_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// Unix ms → `2024-04-01T14:00:00Z` (whole seconds, UTC), as the API's dates are written.
pub fn format_time(ms: i64) -> String {
    format_rfc3339(ms)
}

/// An ISO 8601 date of the API → Unix ms; malformed → `invalid-input` naming `field`.
pub fn parse_time(field: &str, s: &str) -> Result<i64, ConnectorError> {
    parse_rfc3339_ms(field, s)
}

/// `POST token_url` with the refresh-token grant, form-encoded.
pub fn token_request(token_url: &str, creds: &Credentials) -> Request {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", creds.refresh_token.as_str()),
        ("client_id", creds.client_id.as_str()),
        ("client_secret", creds.client_secret.as_str()),
    ]
    .iter()
    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    Request::post(token_url, form.into_bytes())
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .header("accept", "application/json")
        .header("user-agent", USER_AGENT)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The access token of an LWA answer. LWA's `invalid_client` / `invalid_grant` /
/// `unauthorized_client` (HTTP 400/401) are `unauthorized`; 429 rate-limited; 5xx
/// transient. The message carries LWA's error code and description, never a secret.
pub fn read_token(resp: Response) -> Result<String, ConnectorError> {
    let answer: Option<TokenAnswer> = serde_json::from_slice(&resp.body).ok();
    if (200..300).contains(&resp.status) {
        return answer
            .and_then(|a| a.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ConnectorError::InvalidInput("LWA token answer has no access_token".into())
            });
    }
    let (code, description) = answer
        .map(|a| {
            (
                a.error.unwrap_or_default(),
                a.error_description.unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let what = format!(
        "LWA token exchange: HTTP {} {code}: {description}",
        resp.status
    );
    Err(match resp.status {
        400 | 401 | 403 => ConnectorError::Unauthorized(what),
        429 => ConnectorError::RateLimited(retry_after_ms(&resp)),
        408 | 500..=599 => ConnectorError::Transient(what),
        _ => ConnectorError::Permanent(what),
    })
}

/// An SP-API request carrying the access token.
pub fn request(method: &str, url: String, access_token: &str) -> Request {
    let mut r = Request::get(url)
        .header("x-amz-access-token", access_token)
        .header("accept", "application/json")
        .header("user-agent", USER_AGENT);
    r.method = method.to_string();
    r
}

/// How long to wait after a 429: the time one token of the operation's bucket takes to
/// refill, `1 / x-amzn-RateLimit-Limit` seconds (rounded up to the millisecond), or a
/// `Retry-After` (seconds) if one is larger; [`DEFAULT_RETRY_AFTER_MS`] when neither
/// header is usable; never more than [`MAX_RETRY_AFTER_MS`].
pub fn retry_after_ms(resp: &Response) -> u64 {
    let from_rate = resp
        .header("x-amzn-ratelimit-limit")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(|r| (1000.0 / r).ceil() as u64);
    let from_header = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).ceil() as u64);
    match (from_rate, from_header) {
        (None, None) => DEFAULT_RETRY_AFTER_MS,
        (a, b) => a.unwrap_or(0).max(b.unwrap_or(0)),
    }
    .min(MAX_RETRY_AFTER_MS)
}

/// The first `{code, message}` of an `{"errors": […]}` body, for messages.
fn first_error(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let e = &v["errors"][0];
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    if e.is_object() {
        (s("code"), s("message"))
    } else {
        (
            String::new(),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        )
    }
}

/// The JSON of a 2xx answer to `operation`, or its error mapped to a kind: 400 →
/// invalid-input, 401/403 → unauthorized, 429 → rate-limited ([`retry_after_ms`]),
/// 408/5xx → transient, anything else (404 included) → permanent.
pub fn read(operation: &str, resp: Response) -> Result<Value, ConnectorError> {
    if (200..300).contains(&resp.status) {
        return serde_json::from_slice(&resp.body).map_err(|e| {
            ConnectorError::InvalidInput(format!("{operation}: the answer is not JSON: {e}"))
        });
    }
    let (code, message) = first_error(&resp.body);
    let what = format!("{operation}: HTTP {} {code}: {message}", resp.status);
    Err(match resp.status {
        400 => ConnectorError::InvalidInput(what),
        401 | 403 => ConnectorError::Unauthorized(what),
        429 => ConnectorError::RateLimited(retry_after_ms(&resp)),
        408 | 500..=599 => ConnectorError::Transient(what),
        _ => ConnectorError::Permanent(what),
    })
}

/// True for a 404 answer (`NotFound`).
pub fn is_not_found(resp: &Response) -> bool {
    resp.status == 404
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn creds() -> Credentials {
        Credentials {
            client_id: "amzn1.application-oa2-client.abc".into(),
            client_secret: "s3cr3t&=".into(),
            refresh_token: "Atzr|refresh+token".into(),
        }
    }

    // The token request is a form POST with the refresh-token grant, every value
    // percent-encoded.
    #[test]
    fn token_request_is_a_refresh_grant_form() {
        let r = token_request("https://api.amazon.com/auth/o2/token", &creds());
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "https://api.amazon.com/auth/o2/token")
        );
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "grant_type=refresh_token&refresh_token=Atzr%7Crefresh%2Btoken&client_id=amzn1.application-oa2-client.abc&client_secret=s3cr3t%26%3D"
        );
        assert!(r.headers.iter().any(
            |(k, v)| k == "content-type" && v.starts_with("application/x-www-form-urlencoded")
        ));
    }

    // LWA answers: a token; invalid_client / invalid_grant are unauthorized naming LWA's
    // code; 429 rate-limited; 5xx transient.
    #[test]
    fn lwa_answers_map_to_kinds() {
        let ok = resp(
            200,
            &[],
            r#"{"access_token":"Atza|x","token_type":"bearer","expires_in":3600}"#,
        );
        assert_eq!(read_token(ok).unwrap(), "Atza|x");
        for (status, code) in [(401, "invalid_client"), (400, "invalid_grant")] {
            let body = format!(r#"{{"error":"{code}","error_description":"nope"}}"#);
            match read_token(resp(status, &[], &body)) {
                Err(ConnectorError::Unauthorized(m)) => assert!(m.contains(code), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            read_token(resp(429, &[], "")),
            Err(ConnectorError::RateLimited(60_000))
        ));
        assert!(matches!(
            read_token(resp(503, &[], "")),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read_token(resp(200, &[], "{}")),
            Err(ConnectorError::InvalidInput(_))
        ));
    }

    // SP-API statuses map to kinds, the message naming the operation and Amazon's code.
    #[test]
    fn error_answers_map_to_kinds() {
        let body = |code: &str| {
            format!(r#"{{"errors":[{{"code":"{code}","message":"m","details":""}}]}}"#)
        };
        match read("getOrders", resp(400, &[], &body("InvalidInput"))) {
            Err(ConnectorError::InvalidInput(m)) => {
                assert!(m.contains("getOrders") && m.contains("InvalidInput"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read("x", resp(403, &[], &body("Unauthorized"))),
            Err(ConnectorError::Unauthorized(_))
        ));
        assert!(matches!(
            read("x", resp(401, &[], "")),
            Err(ConnectorError::Unauthorized(_))
        ));
        assert!(matches!(
            read("x", resp(500, &[], &body("InternalFailure"))),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read("x", resp(503, &[], "<html>")),
            Err(ConnectorError::Transient(_))
        ));
        assert!(matches!(
            read("x", resp(404, &[], &body("NotFound"))),
            Err(ConnectorError::Permanent(_))
        ));
        assert!(matches!(
            read(
                "x",
                resp(
                    429,
                    &[("x-amzn-RateLimit-Limit", "0.5")],
                    &body("QuotaExceeded")
                )
            ),
            Err(ConnectorError::RateLimited(2000))
        ));
        assert_eq!(
            read("x", resp(200, &[], r#"{"payload":{}}"#)).unwrap()["payload"],
            serde_json::json!({})
        );
    }

    // The retry-after is one token's refill time from x-amzn-RateLimit-Limit, or a larger
    // Retry-After, a minute when neither is usable, and capped at five minutes.
    #[test]
    fn retry_after_comes_from_the_rate_header() {
        let r = |h: &[(&str, &str)]| retry_after_ms(&resp(429, h, ""));
        assert_eq!(r(&[("x-amzn-RateLimit-Limit", "0.0167")]), 59_881);
        assert_eq!(r(&[("x-amzn-RateLimit-Limit", "0.5")]), 2000);
        assert_eq!(
            r(&[("x-amzn-RateLimit-Limit", "0.5"), ("Retry-After", "7")]),
            7000
        );
        assert_eq!(r(&[("Retry-After", "7")]), 7000);
        assert_eq!(
            r(&[("x-amzn-RateLimit-Limit", "0")]),
            DEFAULT_RETRY_AFTER_MS
        );
        assert_eq!(
            r(&[("x-amzn-RateLimit-Limit", "lots")]),
            DEFAULT_RETRY_AFTER_MS
        );
        assert_eq!(r(&[]), DEFAULT_RETRY_AFTER_MS);
        assert_eq!(
            r(&[("x-amzn-RateLimit-Limit", "0.0001")]),
            MAX_RETRY_AFTER_MS
        );
    }

    // Debug output of the credentials never shows the secret or the refresh token.
    #[test]
    fn debug_redacts_secrets() {
        let d = format!("{:?}", creds());
        assert!(d.contains("amzn1.application-oa2-client.abc"));
        assert!(!d.contains("s3cr3t") && !d.contains("refresh+token"), "{d}");
    }

    // Times are written as whole-second UTC and read back.
    #[test]
    fn times_round_trip() {
        assert_eq!(format_time(1_711_980_000_000), "2024-04-01T14:00:00Z");
        assert_eq!(
            parse_time("t", "2024-04-01T14:00:00Z").unwrap(),
            1_711_980_000_000
        );
        assert_eq!(
            parse_time("t", "2024-04-01T16:00:00.000+02:00").unwrap(),
            1_711_980_000_000
        );
        assert!(
            matches!(parse_time("LastUpdateDate", "soon"), Err(ConnectorError::InvalidInput(m)) if m.contains("LastUpdateDate"))
        );
    }
}
