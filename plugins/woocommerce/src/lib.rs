//! The WooCommerce connector: a `wharf:connector` marketplace plugin for WooCommerce's
//! REST API v3 (`/wp-json/wc/v3`) and order webhooks.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`site_url`, `page_size`,
//!   `lookback_days`, `safety_lag_seconds`), validated.
//! - [`auth`]: the protocol pieces: HTTP Basic over HTTPS, OAuth 1.0a (HMAC-SHA256)
//!   signed queries over plain HTTP, WooCommerce's error body → connector error kinds. Pure.
//! - [`mapping`]: order JSON → the contract's `Order` (status table, money in minor
//!   units, line `price` read from its JSON text). Pure.
//! - [`cursor`]: the plugin-owned keyset cursor on (`date_modified_gmt`, `id`). Pure.
//! - [`api`]: `GET /orders` (page 1 of a keyset range per call), `GET /orders/{id}` and
//!   the stock `PUT`s of push-inventory, over an injected transport.
//! - [`webhook`]: `X-WC-Webhook-Signature` verification, topics, the creation ping. Pure.
//! - [`shipment`]: `confirm-shipment` through the Shipment Tracking extension's REST
//!   API and core's order update (status `completed`), idempotent; the carrier table.
//! - this file: the [`WooCommerce`] `Marketplace` impl wiring them to the host's config,
//!   secrets, clock and HTTP.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod auth;
pub mod cursor;
pub mod mapping;
pub mod settings;
pub mod shipment;
pub mod webhook;

use wharf_sdk::types::{
    ConnectorInfo, Header, Order, Page, Shipment, StockLevel, StockPushResult, WebhookEvent,
};
use wharf_sdk::{config, http, time, Marketplace, Result};

use auth::Credentials;
use settings::Settings;

/// Secret: the REST API consumer key (`ck_…`).
pub const CONSUMER_KEY: &str = "consumer_key";
/// Secret: the REST API consumer secret (`cs_…`; never sent over HTTP, only signs).
pub const CONSUMER_SECRET: &str = "consumer_secret";
/// Secret: the webhooks' secret (the `X-WC-Webhook-Signature` HMAC key).
pub const WEBHOOK_SECRET: &str = "webhook_secret";

pub struct WooCommerce;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

fn credentials() -> Result<Credentials> {
    Ok(Credentials {
        consumer_key: config::require_secret(CONSUMER_KEY)?,
        consumer_secret: config::require_secret(CONSUMER_SECRET)?,
    })
}

/// What [`WooCommerce::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "woocommerce".into(),
        display_name: "WooCommerce".into(),
        capabilities: vec![
            "verify-webhook".into(),
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
        ],
    }
}

impl Marketplace for WooCommerce {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn verify_webhook(headers: Vec<Header>, body: Vec<u8>) -> Result<WebhookEvent> {
        let secret = config::require_secret(WEBHOOK_SECRET)?;
        webhook::verify(&headers, &body, &secret)
    }

    fn pull_orders(cursor: Option<String>) -> Result<Page> {
        let settings = settings()?;
        let creds = credentials()?;
        api::pull_orders(
            &settings,
            &creds,
            cursor.as_deref(),
            time::now_ms(),
            &mut http::send,
        )
    }

    fn get_order(external_id: String) -> Result<Option<Order>> {
        let settings = settings()?;
        let creds = credentials()?;
        api::get_order(
            &settings,
            &creds,
            &external_id,
            time::now_ms(),
            &mut http::send,
        )
    }

    fn push_inventory(levels: Vec<StockLevel>) -> Result<Vec<StockPushResult>> {
        let settings = settings()?;
        let creds = credentials()?;
        api::push_inventory(&settings, &creds, &levels, time::now_ms(), &mut http::send)
    }

    fn confirm_shipment(shipment: Shipment) -> Result<()> {
        let settings = settings()?;
        let creds = credentials()?;
        let carriers =
            shipment::carriers(config::get(wharf_sdk::carrier::OVERRIDE_KEY).as_deref())?;
        shipment::confirm_shipment(
            &settings,
            &creds,
            &carriers,
            &shipment,
            time::now_ms(),
            &mut http::send,
        )
    }
}

wharf_sdk::export_marketplace!(WooCommerce);

#[cfg(test)]
mod tests {
    // The connector names itself woocommerce and claims exactly what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "woocommerce");
        assert_eq!(
            i.capabilities,
            [
                "verify-webhook",
                "pull-orders",
                "get-order",
                "push-inventory",
                "confirm-shipment"
            ]
        );
    }
}
