//! The Amazon connector: a `wharf:connector` marketplace plugin for the Amazon Selling
//! Partner API (Orders v0, Listings Items 2021-08-01), authorised through Login with
//! Amazon.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`region` / `endpoint`,
//!   `token_url`, `marketplace_ids`, `seller_id`, `page_size`, `lookback_days`), validated.
//! - [`spapi`]: the protocol: the LWA refresh-token exchange, `x-amz-access-token`
//!   requests, ISO 8601 times, Amazon's error answers → connector error kinds
//!   (429 retry-after from `x-amzn-RateLimit-Limit`). Pure.
//! - [`mapping`]: Orders v0 order + order items JSON → the contract's `Order` (status
//!   table, pre-orders as presale, money in minor units per currency). Pure.
//! - [`cursor`]: the plugin-owned cursor: `LastUpdateDate` windows pinned at now − 2 min,
//!   `NextToken`, and the mark that makes resuming safe. Pure.
//! - [`api`]: `getOrders` paging, `getOrderItems`, `getOrder`, `patchListingsItem` over
//!   an injected transport.
//! - [`shipment`]: `confirm-shipment` through Orders v0 `confirmShipment`, idempotent by
//!   a package reference derived from the tracking number; the carrier table.
//! - this file: the [`Amazon`] `Marketplace` impl wiring them to the host's config,
//!   secrets, clock and HTTP. `verify-webhook` is unsupported: Amazon sends sellers no
//!   HTTP webhooks (notifications go through SQS / EventBridge), so orders arrive by pull.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod cursor;
pub mod mapping;
pub mod settings;
pub mod shipment;
pub mod spapi;

use wharf_sdk::types::{
    ConnectorError, ConnectorInfo, Header, Order, Page, Shipment, StockLevel, StockPushResult,
    WebhookEvent,
};
use wharf_sdk::{config, http, log, time, Marketplace, Result};

use settings::Settings;
use spapi::Credentials;

/// Secret: the LWA app's client id.
pub const CLIENT_ID: &str = "client_id";
/// Secret: the LWA app's client secret.
pub const CLIENT_SECRET: &str = "client_secret";
/// Secret: the seller's refresh token (from authorising the app).
pub const REFRESH_TOKEN: &str = "refresh_token";

pub struct Amazon;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

fn credentials() -> Result<Credentials> {
    Ok(Credentials {
        client_id: config::require_secret(CLIENT_ID)?,
        client_secret: config::require_secret(CLIENT_SECRET)?,
        refresh_token: config::require_secret(REFRESH_TOKEN)?,
    })
}

/// What [`Amazon::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "amazon".into(),
        display_name: "Amazon (Selling Partner API)".into(),
        capabilities: vec![
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
        ],
    }
}

impl Marketplace for Amazon {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn verify_webhook(_headers: Vec<Header>, _body: Vec<u8>) -> Result<WebhookEvent> {
        log::warn(
            "Amazon sends sellers no HTTP webhooks (notifications go through SQS / \
             EventBridge); orders arrive by the scheduled pull",
        );
        Err(ConnectorError::Unsupported)
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
        api::get_order(&settings, &creds, &external_id, &mut http::send)
    }

    fn push_inventory(levels: Vec<StockLevel>) -> Result<Vec<StockPushResult>> {
        let settings = settings()?;
        let creds = credentials()?;
        api::push_inventory(&settings, &creds, &levels, &mut http::send)
    }

    fn confirm_shipment(shipment: Shipment) -> Result<()> {
        let settings = settings()?;
        let creds = credentials()?;
        let carriers =
            shipment::carriers(config::get(wharf_sdk::carrier::OVERRIDE_KEY).as_deref())?;
        shipment::confirm_shipment(&settings, &creds, &carriers, &shipment, &mut http::send)
    }
}

wharf_sdk::export_marketplace!(Amazon);

#[cfg(test)]
mod tests {
    // The connector names itself amazon and claims exactly what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "amazon");
        assert_eq!(
            i.capabilities,
            [
                "pull-orders",
                "get-order",
                "push-inventory",
                "confirm-shipment"
            ]
        );
    }
}
