//! First-party plugin code compiled natively, outside the sandbox: the "native plugin" of
//! the benchmark that measures what the sandbox costs (the same ingest pipeline with the
//! plugin call replaced by native code). Only with the `native-plugins` feature, which no
//! production build enables.
//!
//! The native call gets what the component would: the installation's secrets from the
//! [`CallContext`], the headers and body; its result is converted by the same conversions
//! (expanded over the SDK's types) and checked against the same output bounds.

use wharf_domain::connector::{ConnectorError, WebhookEvent};
use wharf_sdk::types::Header;

use crate::convert::sdk as v;
use crate::{CallContext, Runtime};

/// Platforms (plugin names) with a native build of their webhook code.
pub const PLATFORMS: &[&str] = &["shopify"];

impl Runtime {
    /// `verify-webhook` of `platform`'s connector run natively; `unsupported` for a
    /// platform without a native build (not in [`PLATFORMS`]).
    pub fn verify_webhook_native(
        &self,
        platform: &str,
        ctx: &CallContext,
        headers: Vec<(String, String)>,
        body: &[u8],
    ) -> Result<WebhookEvent, ConnectorError> {
        let verify = match platform {
            "shopify" => shopify,
            _ => return Err(ConnectorError::Unsupported),
        };
        let (max_orders, max_bytes) = self.output_bounds();
        let headers: Vec<Header> = v::headers(headers);
        let event = verify(ctx, &headers, body)?;
        let extra = event.topic.len() + event.delivery_id.as_ref().map_or(0, String::len);
        v::check_output(&event.orders, extra, max_orders, max_bytes)?;
        Ok(v::webhook_event(event))
    }
}

fn shopify(
    ctx: &CallContext,
    headers: &[Header],
    body: &[u8],
) -> Result<wharf_sdk::types::WebhookEvent, ConnectorError> {
    let key = wharf_plugin_shopify::CLIENT_SECRET;
    // As the plugin's `config::require_secret`: no secret, no verification.
    let secret = ctx
        .secrets
        .get(key)
        .ok_or_else(|| ConnectorError::Unauthorized(format!("secret `{key}` is not set")))?;
    wharf_plugin_shopify::webhook::verify(headers, body, secret).map_err(v::error)
}
