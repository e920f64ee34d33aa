//! The benchmark's native plugin path (feature `native-plugins`) against the sandboxed
//! component: the same webhook gives the same event, and the same refusals. The suite of
//! `cargo xtask test` turns the feature on (alone: `cargo test -p wharf-runtime --features
//! native-plugins --test native`).
#![cfg(feature = "native-plugins")]

mod common;

use common::{ctx, plugin_bytes, test_config};
use wharf_runtime::{CallContext, ConnectorError, Runtime, WIT_VERSION};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};

/// A signed `orders/create` delivery of a generated order: headers and body.
async fn delivery() -> (Vec<(String, String)>, Vec<u8>, String) {
    let sim = ShopifySim::start(ShopifySimConfig::default())
        .await
        .unwrap();
    let event = sim.event("orders/create", &sim.generate_order(7));
    let headers = vec![
        ("X-Shopify-Topic".to_string(), event.topic.clone()),
        ("X-Shopify-Hmac-Sha256".to_string(), sim.sign(&event.body)),
        ("X-Shopify-Webhook-Id".to_string(), event.webhook_id.clone()),
    ];
    (headers, event.body, sim.config().client_secret.clone())
}

fn with_secret(secret: &str) -> CallContext {
    let (mut c, _) = ctx(1, &[("shop_url", "https://a.myshopify.com")]);
    c.secrets.insert("client_secret".into(), secret.into());
    c
}

// Native and sandboxed verification of one signed delivery give the identical event.
#[tokio::test]
async fn native_and_sandboxed_agree_on_a_signed_delivery() {
    let rt = Runtime::new(test_config()).unwrap();
    let plugin = rt
        .load(&plugin_bytes("wharf_plugin_shopify"), WIT_VERSION)
        .unwrap();
    let (headers, body, secret) = delivery().await;
    let c = with_secret(&secret);
    let sandboxed = rt
        .verify_webhook(&plugin, &c, headers.clone(), body.clone())
        .await
        .unwrap();
    let native = rt
        .verify_webhook_native("shopify", &c, headers, &body)
        .unwrap();
    assert_eq!(native.orders.len(), 1);
    assert_eq!(native, sandboxed);
}

// A wrong secret and a missing one are refused natively as in the sandbox.
#[tokio::test]
async fn native_refuses_what_the_sandbox_refuses() {
    let rt = Runtime::new(test_config()).unwrap();
    let (headers, body, _) = delivery().await;
    let wrong = rt.verify_webhook_native("shopify", &with_secret("not-it"), headers.clone(), &body);
    assert!(
        matches!(wrong, Err(ConnectorError::InvalidSignature(_))),
        "{wrong:?}"
    );
    let (no_secret, _) = ctx(1, &[]);
    let missing = rt.verify_webhook_native("shopify", &no_secret, headers.clone(), &body);
    assert!(
        matches!(missing, Err(ConnectorError::Unauthorized(_))),
        "{missing:?}"
    );
    let other = rt.verify_webhook_native("taobao", &with_secret("x"), headers, &body);
    assert!(
        matches!(other, Err(ConnectorError::Unsupported)),
        "{other:?}"
    );
}
