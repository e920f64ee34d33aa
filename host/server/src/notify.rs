//! Outbound notifications: the `notify` job POSTs one escalation as JSON to the merchant's
//! webhook, signed `X-Wharf-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, with
//! `X-Wharf-Event` and an idempotency key `X-Wharf-Delivery` (the escalation id: a retried
//! delivery carries the same one). Failures return a connector-style error so the job
//! runner's retry policy for `notify` applies. The secret is never logged.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wharf_domain::connector::ConnectorError;
use wharf_store::Job;

use crate::AppState;

/// Header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Wharf-Signature";

const TIMEOUT: Duration = Duration::from_secs(10);

/// `sha256=<lower-case hex HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Deliver the escalation named in a `notify` job's payload.
pub async fn deliver(state: &AppState, job: &Job) -> Result<(), ConnectorError> {
    let id = job
        .payload
        .get("escalation_id")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| ConnectorError::Permanent("notify job without escalation_id".into()))?;
    let store = state.store();
    let transient = |e: wharf_store::StoreError| ConnectorError::Transient(e.to_string());
    let Some(escalation) = store.get_escalation(id).await.map_err(transient)? else {
        return Err(ConnectorError::Permanent(format!(
            "escalation {id} is gone"
        )));
    };
    // The webhook was removed since: nothing to send to.
    let Some(target) = store
        .notification_target(escalation.merchant_id)
        .await
        .map_err(transient)?
    else {
        return Ok(());
    };
    let body = serde_json::to_vec(&serde_json::json!({
        "type": "escalation",
        "escalation": escalation,
    }))
    .map_err(|e| ConnectorError::Permanent(e.to_string()))?;
    let signature = sign(&target.secret, &body);
    let response = reqwest::Client::new()
        .post(&target.url)
        .timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .header("X-Wharf-Event", "escalation")
        .header("X-Wharf-Delivery", format!("escalation-{id}"))
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            ConnectorError::Transient(format!(
                "notification webhook unreachable: {}",
                e.without_url()
            ))
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let message = format!("notification webhook answered {status}");
    if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
        Err(ConnectorError::Transient(message))
    } else {
        Err(ConnectorError::Permanent(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The signature is the RFC 4231 test vector 2 HMAC, prefixed with the algorithm.
    #[test]
    fn signs_with_hmac_sha256() {
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
