//! The JD (Jingdong) POP connector: a `wharf:connector` marketplace plugin for the JD
//! open platform (JOS) order and stock APIs.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`api_url`, `window_minutes`,
//!   `page_size`, `lookback_days`, `vender_id`), validated, and the pull's window walk
//!   (`wharf_sdk::windows`: windows ≤ 30 days, no gaps, a safety lag behind now,
//!   backward paging from page 1; the cursor is the SDK's).
//! - [`jos`]: the JOS protocol: GMT+8 times, MD5-signed `/routerjson` requests with
//!   `360buy_param_json`, the `{method}_responce` envelope, gateway error codes and
//!   `apiResult` → connector error kinds. Pure.
//! - [`mapping`]: order JSON → the contract's `Order` (state table, coupons, money in
//!   fen). Pure.
//! - [`api`]: `jingdong.pop.order.search` paging, `jingdong.pop.order.get` and
//!   `jingdong.stock.write.updateSkuStock` over an injected transport.
//! - [`shipment`]: `confirm-shipment` through `jingdong.pop.order.shipment` (whole
//!   orders), idempotent against the order as JD has it; the carrier table.
//! - this file: the [`Jd`] `Marketplace` impl wiring them to the host's config, secrets,
//!   clock and HTTP. `verify-webhook` is unsupported: JD sends sellers' order messages
//!   through its message service (JMQ), not HTTP webhooks, so orders arrive by pull.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod jos;
pub mod mapping;
pub mod settings;
pub mod shipment;

use wharf_sdk::types::{
    ConnectorError, ConnectorInfo, Header, Order, Page, Shipment, StockLevel, StockPushResult,
    WebhookEvent,
};
use wharf_sdk::{config, http, log, time, Marketplace, Result};

use jos::Credentials;
use settings::Settings;

/// Secret: the app's key (`app_key`).
pub const APP_KEY: &str = "app_key";
/// Secret: the app's signing secret (never sent; signs every request).
pub const APP_SECRET: &str = "app_secret";
/// Secret: the seller's OAuth access token (`access_token`).
pub const ACCESS_TOKEN: &str = "access_token";

pub struct Jd;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

fn credentials() -> Result<Credentials> {
    Ok(Credentials {
        app_key: config::require_secret(APP_KEY)?,
        app_secret: config::require_secret(APP_SECRET)?,
        access_token: config::require_secret(ACCESS_TOKEN)?,
    })
}

/// What [`Jd::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "jd".into(),
        display_name: "JD (Jingdong) POP".into(),
        capabilities: vec![
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
        ],
    }
}

impl Marketplace for Jd {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn verify_webhook(_headers: Vec<Header>, _body: Vec<u8>) -> Result<WebhookEvent> {
        log::warn(
            "JD has no HTTP order webhooks for sellers (order messages go through its \
             message service); orders arrive by the scheduled pull",
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

wharf_sdk::export_marketplace!(Jd);

#[cfg(test)]
mod tests {
    // The connector names itself jd and claims exactly what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "jd");
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
