//! The Shopify connector: a `wharf:connector` marketplace plugin for Shopify's REST
//! Admin API (2024-04) and order webhooks.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`shop_url`, `api_version`,
//!   `page_size`, `lookback_days`), validated.
//! - [`mapping`]: Shopify order JSON → the contract's `Order` (status table, money in
//!   minor units). Pure.
//! - [`webhook`]: `X-Shopify-Hmac-Sha256` verification and topic handling. Pure.
//! - [`cursor`]: the plugin-owned pull cursor (`since` / `next` / `watermark`).
//! - [`api`]: the REST calls (`orders.json` paging, `orders/{id}.json`, variant lookup +
//!   `inventory_levels/set.json`) over an injected transport.
//! - [`settlements`]: `fetch-settlements` over Shopify Payments payouts and balance
//!   transactions (mapping table in the README).
//! - [`fulfillment`]: confirm-shipment over fulfillment orders (`fulfillments.json`).
//! - this file: the [`Shopify`] `Marketplace` impl that wires them to the host's config,
//!   secrets, clock and HTTP.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod cursor;
pub mod fulfillment;
pub mod mapping;
pub mod settings;
pub mod settlements;
pub mod webhook;

use wharf_sdk::types::{
    ConnectorInfo, Header, Order, Page, SettlementPage, StockLevel, StockPushResult, WebhookEvent,
};
use wharf_sdk::{config, http, time, Marketplace, Result};

use settings::Settings;

/// Secret: the Admin API access token (`X-Shopify-Access-Token`).
pub const ACCESS_TOKEN: &str = "access_token";
/// Secret: the app's client secret, the webhook HMAC key.
pub const CLIENT_SECRET: &str = "client_secret";

pub struct Shopify;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

impl Marketplace for Shopify {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            platform: "shopify".into(),
            display_name: "Shopify".into(),
            capabilities: vec![
                "verify-webhook".into(),
                "pull-orders".into(),
                "get-order".into(),
                "push-inventory".into(),
                "confirm-shipment".into(),
                "fetch-settlements".into(),
            ],
        }
    }

    fn verify_webhook(headers: Vec<Header>, body: Vec<u8>) -> Result<WebhookEvent> {
        let secret = config::require_secret(CLIENT_SECRET)?;
        webhook::verify(&headers, &body, &secret)
    }

    fn pull_orders(cursor: Option<String>) -> Result<Page> {
        let settings = settings()?;
        let token = config::require_secret(ACCESS_TOKEN)?;
        api::pull_orders(
            &settings,
            &token,
            cursor.as_deref(),
            time::now_ms(),
            &mut http::send,
        )
    }

    fn get_order(external_id: String) -> Result<Option<Order>> {
        let settings = settings()?;
        let token = config::require_secret(ACCESS_TOKEN)?;
        api::get_order(&settings, &token, &external_id, &mut http::send)
    }

    fn confirm_shipment(shipment: wharf_sdk::types::Shipment) -> Result<()> {
        let settings = settings()?;
        let token = config::require_secret(ACCESS_TOKEN)?;
        fulfillment::confirm_shipment(&settings, &token, &shipment, &mut http::send)
    }

    fn push_inventory(levels: Vec<StockLevel>) -> Result<Vec<StockPushResult>> {
        let settings = settings()?;
        let token = config::require_secret(ACCESS_TOKEN)?;
        api::push_inventory(&settings, &token, &levels, &mut http::send)
    }

    fn fetch_settlements(from: i64, to: i64, cursor: Option<String>) -> Result<SettlementPage> {
        let settings = settings()?;
        let token = config::require_secret(ACCESS_TOKEN)?;
        settlements::fetch(
            &settings,
            &token,
            from,
            to,
            cursor.as_deref(),
            &mut http::send,
        )
    }
}

// Behind the default feature `component` only so that the Extism benchmark peer can reuse
// this crate's code without the component exports (and so without their imports).
#[cfg(feature = "component")]
wharf_sdk::export_marketplace!(Shopify);
