//! Signing helpers in the shapes platforms use: HMAC-SHA256 (base64 for Shopify /
//! WooCommerce webhooks, lower-case hex for doudian calls) and the TOP-style MD5 over
//! sorted parameters (Taobao, JD, Pinduoduo), with [`md5_signed_form`] building the whole
//! signed `application/x-www-form-urlencoded` body of such a call.
//!
//! ```
//! use wharf_sdk::sign;
//! let params = [("method", "taobao.trade.get"), ("app_key", "k"), ("timestamp", "2024-04-01 10:00:00")];
//! let body = String::from_utf8(sign::md5_signed_form("secret", &params)).unwrap();
//! assert!(body.starts_with("method=taobao.trade.get&app_key=k&timestamp=2024-04-01%2010%3A00%3A00&sign="));
//! assert_eq!(sign::hmac_sha256_hex(b"k", b"body").len(), 64);
//! ```

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// HMAC-SHA256 of `body` with `key`, base64-encoded (Shopify, WooCommerce webhooks).
pub fn hmac_sha256_base64(key: &[u8], body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, body))
}

/// Raw HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Verify a base64 HMAC-SHA256 signature in constant time.
pub fn verify_hmac_sha256_base64(key: &[u8], body: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The TOP-style MD5 signature: sort parameters by name, concatenate name+value, wrap with
/// the secret on both sides, MD5, upper-case hex (Taobao, Pinduoduo, JD).
pub fn md5_sorted_params(secret: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Md5::new();
    hasher.update(secret.as_bytes());
    for (k, v) in sorted {
        hasher.update(k.as_bytes());
        hasher.update(v.as_bytes());
    }
    hasher.update(secret.as_bytes());
    hex::encode_upper(hasher.finalize())
}

/// Raw HMAC-SHA256 as lower-case hex (doudian).
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    hex::encode(hmac_sha256(key, body))
}

/// The form body of a TOP-style call: `params` in their order, then
/// `sign=`[`md5_sorted_params`]`(secret, params)`, each name and value percent-encoded.
pub fn md5_signed_form(secret: &str, params: &[(&str, &str)]) -> Vec<u8> {
    let sign = md5_sorted_params(secret, params);
    params
        .iter()
        .chain([&("sign", sign.as_str())])
        .map(|(k, v)| format!("{}={}", crate::http::encode(k), crate::http::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_round_trips_and_rejects_tampering() {
        let sig = hmac_sha256_base64(b"secret", b"{\"id\":1}");
        assert!(verify_hmac_sha256_base64(b"secret", b"{\"id\":1}", &sig));
        assert!(!verify_hmac_sha256_base64(b"secret", b"{\"id\":2}", &sig));
        assert!(!verify_hmac_sha256_base64(b"other", b"{\"id\":1}", &sig));
        assert!(!verify_hmac_sha256_base64(
            b"secret",
            b"{\"id\":1}",
            "not base64!"
        ));
    }

    #[test]
    fn md5_signature_sorts_parameters() {
        let a = md5_sorted_params("s", &[("b", "2"), ("a", "1")]);
        let b = md5_sorted_params("s", &[("a", "1"), ("b", "2")]);
        assert_eq!(a, b);
        // md5("sa1b2s")
        assert_eq!(a, hex::encode_upper(Md5::digest(b"sa1b2s")));
    }

    // The signed form keeps the parameters' order, encodes them, and appends the sign.
    #[test]
    fn signed_form_appends_the_signature() {
        let params = [("b", "x y"), ("a", "1&2")];
        let body = String::from_utf8(md5_signed_form("s", &params)).unwrap();
        let sign = md5_sorted_params("s", &params);
        assert_eq!(body, format!("b=x%20y&a=1%262&sign={sign}"));
        assert_eq!(
            hmac_sha256_hex(b"k", b"v"),
            hex::encode(hmac_sha256(b"k", b"v"))
        );
    }
}
