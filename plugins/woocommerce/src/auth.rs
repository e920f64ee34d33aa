//! The WooCommerce REST protocol pieces: authentication (HTTP Basic over HTTPS, OAuth 1.0a
//! one-legged signing over plain HTTP, as WooCommerce requires) and WooCommerce's error
//! body → the contract's error kinds. Pure: the clock and nonce are passed in.
//!
//! OAuth 1.0a as WooCommerce verifies it (`WC_REST_Authentication::check_oauth_signature`):
//! the parameters are every query parameter plus `oauth_consumer_key`, `oauth_nonce`,
//! `oauth_signature_method=HMAC-SHA256` and `oauth_timestamp` (seconds); they are sorted
//! by name (byte order), each name and value is `rawurlencode`d once and joined as
//! `name%3Dvalue` with `%26` between pairs (WooCommerce does not encode the joined string
//! a second time, unlike RFC 5849); the base string is
//! `METHOD&rawurlencode(url without query)&pairs`; the key is `consumer_secret&`; the
//! signature is base64 HMAC-SHA256. The consumer secret itself is never sent.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use serde::Deserialize;
use wharf_sdk::http::{encode, Request, Response};
use wharf_sdk::sign::{hmac_sha256, hmac_sha256_base64};
use wharf_sdk::types::ConnectorError;

/// The REST API keys of an installation. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ck_…`
    pub consumer_key: String,
    /// `cs_…`: signs (HTTP) or authenticates (HTTPS) every request.
    pub consumer_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .finish()
    }
}

/// A fresh `oauth_nonce`: 32 hex characters derived from the secret, the time, the URL and
/// a per-instance counter (the sandbox has no random source; WooCommerce only needs the
/// nonce unique per consumer key and timestamp).
pub fn nonce(creds: &Credentials, now_ms: i64, url: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mac = hmac_sha256(
        creds.consumer_secret.as_bytes(),
        format!("{now_ms}:{n}:{url}").as_bytes(),
    );
    mac[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// WooCommerce's OAuth 1.0a base string for `method` on `url` (no query) with `params`.
pub fn base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let pairs: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}%3D{v}")).collect();
    format!(
        "{}&{}&{}",
        method.to_uppercase(),
        encode(url),
        pairs.join("%26")
    )
}

/// The base64 HMAC-SHA256 signature of a base string with `consumer_secret&`.
pub fn signature(consumer_secret: &str, base: &str) -> String {
    hmac_sha256_base64(format!("{consumer_secret}&").as_bytes(), base.as_bytes())
}

/// Build an authenticated request: `method` on `url` (no query) with the query `params`
/// (raw, unencoded). HTTPS: the params as the query and `Authorization: Basic`; HTTP: the
/// params plus the OAuth 1.0a parameters and signature in the query.
pub fn request(
    method: &str,
    url: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
    now_ms: i64,
    nonce: &str,
) -> Request {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let https = url.starts_with("https://");
    if !https {
        all.extend([
            ("oauth_consumer_key".to_string(), creds.consumer_key.clone()),
            ("oauth_nonce".to_string(), nonce.to_string()),
            (
                "oauth_signature_method".to_string(),
                "HMAC-SHA256".to_string(),
            ),
            (
                "oauth_timestamp".to_string(),
                now_ms.div_euclid(1000).to_string(),
            ),
        ]);
        let sig = signature(&creds.consumer_secret, &base_string(method, url, &all));
        all.push(("oauth_signature".to_string(), sig));
    }
    let query: Vec<String> = all
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let full = if query.is_empty() {
        url.to_string()
    } else {
        format!("{url}?{}", query.join("&"))
    };
    let mut req = Request::get(full).header("Accept", "application/json");
    req.method = method.to_string();
    if https {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", creds.consumer_key, creds.consumer_secret));
        req = req.header("Authorization", &format!("Basic {basic}"));
    }
    req
}

/// WooCommerce's (WordPress REST) error body: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct WcError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl WcError {
    /// Read the error body of a response, when it has one.
    pub fn of(resp: &Response) -> Option<WcError> {
        serde_json::from_slice(&resp.body).ok()
    }
}

/// Map a non-2xx answer to the connector error kind (the README's table):
/// 401/403 → unauthorized; 429 → rate-limited for `Retry-After`; 408/5xx → transient;
/// 400 (`rest_invalid_param` …) → invalid-input; anything else → permanent. The message
/// carries WooCommerce's `code` and `message`, never a credential.
pub fn check(resp: Response) -> Result<Response, ConnectorError> {
    if (200..300).contains(&resp.status) {
        return Ok(resp);
    }
    let what = match WcError::of(&resp) {
        Some(e) => format!("HTTP {} {}: {}", resp.status, e.code, e.message),
        None => format!(
            "HTTP {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
        ),
    };
    match resp.status {
        400 => Err(ConnectorError::InvalidInput(what)),
        401 | 403 | 408 | 429 | 500..=599 => match resp.error_for_status() {
            Err(ConnectorError::Unauthorized(_)) => Err(ConnectorError::Unauthorized(what)),
            Err(ConnectorError::Transient(_)) => Err(ConnectorError::Transient(what)),
            other => other,
        },
        _ => Err(ConnectorError::Permanent(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            consumer_key: "ck_abc".into(),
            consumer_secret: "cs_s3cret".into(),
        }
    }

    fn query(url: &str) -> Vec<(String, String)> {
        url.split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    // The base string follows WooCommerce: sorted, each part encoded once, pairs joined by
    // %3D and %26 (not re-encoded), URL encoded.
    #[test]
    fn base_string_is_woocommerces() {
        let params = vec![
            (
                "modified_after".to_string(),
                "2024-04-01T10:00:00".to_string(),
            ),
            ("exclude".to_string(), "5,6".to_string()),
            ("oauth_nonce".to_string(), "n1".to_string()),
        ];
        assert_eq!(
            base_string(
                "get",
                "http://shop.example.com/wp-json/wc/v3/orders",
                &params
            ),
            "GET&http%3A%2F%2Fshop.example.com%2Fwp-json%2Fwc%2Fv3%2Forders&\
             exclude%3D5%2C6%26modified_after%3D2024-04-01T10%3A00%3A00%26oauth_nonce%3Dn1"
        );
    }

    // Over HTTP the request carries the OAuth parameters and a signature that verifies by
    // the recipe; the secret is never in the URL or a header.
    #[test]
    fn http_requests_are_oauth_signed() {
        let url = "http://shop.example.com/wp-json/wc/v3/orders";
        let req = request(
            "GET",
            url,
            &[("page", "1")],
            &creds(),
            1_712_000_000_999,
            "abc",
        );
        assert_eq!(req.method, "GET");
        let q = query(&req.url);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("oauth_consumer_key").as_deref(), Some("ck_abc"));
        assert_eq!(
            get("oauth_signature_method").as_deref(),
            Some("HMAC-SHA256")
        );
        assert_eq!(get("oauth_timestamp").as_deref(), Some("1712000000"));
        assert_eq!(get("oauth_nonce").as_deref(), Some("abc"));
        let unsigned: Vec<(String, String)> = [
            ("page", "1"),
            ("oauth_consumer_key", "ck_abc"),
            ("oauth_nonce", "abc"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1712000000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let expected = signature("cs_s3cret", &base_string("GET", url, &unsigned));
        assert_eq!(get("oauth_signature"), Some(encode(&expected)));
        assert!(!req.url.contains("s3cret"));
        assert!(req.headers.iter().all(|(k, _)| k != "Authorization"));
    }

    // Over HTTPS the request uses Basic auth and no OAuth parameters.
    #[test]
    fn https_requests_use_basic_auth() {
        let req = request(
            "PUT",
            "https://shop.example.com/wp-json/wc/v3/products/5",
            &[],
            &creds(),
            0,
            "n",
        );
        assert_eq!(req.url, "https://shop.example.com/wp-json/wc/v3/products/5");
        assert_eq!(req.method, "PUT");
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap();
        assert_eq!(auth.1, "Basic Y2tfYWJjOmNzX3MzY3JldA==");
    }

    // Nonces differ call to call, are hex and do not reveal the secret.
    #[test]
    fn nonces_are_fresh() {
        let a = nonce(&creds(), 1, "u");
        let b = nonce(&creds(), 1, "u");
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    // Credentials print without the secret.
    #[test]
    fn debug_redacts_the_secret() {
        let s = format!("{:?}", creds());
        assert!(s.contains("ck_abc") && !s.contains("s3cret"), "{s}");
    }

    fn resp(status: u16, headers: Vec<(String, String)>, body: &str) -> Response {
        Response {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    // Each answer lands in the kind the README's error table gives, naming WooCommerce's code.
    #[test]
    fn errors_map_to_kinds() {
        use ConnectorError as E;
        let wc = |code: &str, status: u16| {
            format!(r#"{{"code":"{code}","message":"m","data":{{"status":{status}}}}}"#)
        };
        assert!(matches!(
            check(resp(401, vec![], &wc("woocommerce_rest_authentication_error", 401))),
            Err(E::Unauthorized(m)) if m.contains("woocommerce_rest_authentication_error")
        ));
        assert!(matches!(
            check(resp(403, vec![], &wc("woocommerce_rest_cannot_view", 403))),
            Err(E::Unauthorized(_))
        ));
        assert!(matches!(
            check(resp(
                429,
                vec![("Retry-After".into(), "7".into())],
                "slow down"
            )),
            Err(E::RateLimited(7000))
        ));
        assert!(matches!(
            check(resp(503, vec![], "busy")),
            Err(E::Transient(_))
        ));
        assert!(matches!(
            check(resp(500, vec![], &wc("internal_server_error", 500))),
            Err(E::Transient(m)) if m.contains("internal_server_error")
        ));
        assert!(matches!(
            check(resp(400, vec![], &wc("rest_invalid_param", 400))),
            Err(E::InvalidInput(m)) if m.contains("rest_invalid_param")
        ));
        assert!(matches!(
            check(resp(404, vec![], &wc("rest_no_route", 404))),
            Err(E::Permanent(_))
        ));
        assert!(check(resp(200, vec![], "[]")).is_ok());
    }
}
