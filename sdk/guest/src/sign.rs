//! Signing helpers in the shapes platforms use.

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
}
