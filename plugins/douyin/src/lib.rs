//! The Douyin shop (抖店) connector: a `wharf:connector` marketplace plugin for the
//! doudian open platform's order and stock APIs.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`api_url`, `window_minutes`,
//!   `page_size`, `lookback_days`), validated, and the pull's window walk
//!   (`wharf_sdk::windows`: update-time windows ≤ one day, no gaps, a safety lag behind
//!   now, backward paging from page 0; the cursor is the SDK's).
//! - [`doudian`]: the protocol: canonical `param_json`, HMAC-SHA256-signed calls to
//!   `/{method path}`, the answer envelope and doudian error codes → connector error
//!   kinds. Pure.
//! - [`mapping`]: shop-order JSON → the contract's `Order` (status table, presale,
//!   discount split in tags, integer fen carried exactly, encrypted receivers). Pure.
//! - [`api`]: `order.searchList` paging, `order.orderDetail` and `sku.syncStock` over an
//!   injected transport.
//! - [`shipment`]: `confirm-shipment` through `order.logisticsAdd` (whole orders),
//!   idempotent against the order as doudian has it; the carrier table.
//! - [`settlements`]: `fetch-settlements` over `order.getSettleBillDetailV3` (settle
//!   rows → sale / platform-discount / refund lines, cursor `next_start_index`).
//! - this file: the [`Douyin`] `Marketplace` impl wiring them to the host's config,
//!   secrets, clock and HTTP. `verify-webhook` is unsupported (doudian's push messages
//!   carry only ids; orders arrive by the scheduled pull — see the README).
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod doudian;
pub mod mapping;
pub mod settings;
pub mod settlements;
pub mod shipment;

use wharf_sdk::types::{
    ConnectorError, ConnectorInfo, Header, Order, Page, SettlementPage, Shipment, StockLevel,
    StockPushResult, WebhookEvent,
};
use wharf_sdk::{config, http, log, time, Marketplace, Result};

use doudian::Credentials;
use settings::Settings;

/// Secret: the app's key (`app_key`).
pub const APP_KEY: &str = "app_key";
/// Secret: the app's signing secret (never sent; signs every request).
pub const APP_SECRET: &str = "app_secret";
/// Secret: the shop's access token.
pub const ACCESS_TOKEN: &str = "access_token";

pub struct Douyin;

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

/// What [`Douyin::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "douyin".into(),
        display_name: "Douyin shop (抖店)".into(),
        capabilities: vec![
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
            "fetch-settlements".into(),
        ],
    }
}

impl Marketplace for Douyin {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn verify_webhook(_headers: Vec<Header>, _body: Vec<u8>) -> Result<WebhookEvent> {
        log::warn(
            "Douyin push messages are not handled by this connector (they carry only ids); \
             orders arrive by the scheduled pull",
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

    fn fetch_settlements(from: i64, to: i64, cursor: Option<String>) -> Result<SettlementPage> {
        let settings = settings()?;
        let creds = credentials()?;
        settlements::fetch(
            &settings,
            &creds,
            (from, to),
            cursor.as_deref(),
            time::now_ms(),
            &mut http::send,
        )
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

wharf_sdk::export_marketplace!(Douyin);

#[cfg(test)]
mod tests {
    // The connector names itself douyin and claims exactly what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "douyin");
        assert_eq!(
            i.capabilities,
            [
                "pull-orders",
                "get-order",
                "push-inventory",
                "confirm-shipment",
                "fetch-settlements"
            ]
        );
    }
}
