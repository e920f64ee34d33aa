//! The Pinduoduo connector: a `wharf:connector` marketplace plugin for the PDD open
//! platform (`POST https://gw-api.pinduoduo.com/api/router`, MD5-signed parameters).
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`api_url`, `window_minutes`,
//!   `page_size`, `lookback_days`), validated.
//! - [`router`]: the router protocol: common parameters, signing, the form body,
//!   `error_response` → typed errors.
//! - [`window`]: the pull cursor and the 30-minute window arithmetic (reverse paging).
//! - [`mapping`]: PDD order JSON → the contract's `Order` (status table, fen, encrypted
//!   receivers, presale). Pure.
//! - [`api`]: `pdd.order.number.list.increment.get` paging,
//!   `pdd.order.information.get` and `pdd.goods.quantity.update` (push-inventory;
//!   channel-sku `"goods_id:sku_id"`) over an injected transport and clock.
//! - [`shipment`]: `confirm-shipment` through `pdd.logistics.online.send`, idempotent
//!   against the order as PDD has it; the carrier table (numeric `logistics_id`s).
//! - this file: the [`Pinduoduo`] `Marketplace` impl wiring them to the host's config,
//!   secrets, clock and HTTP. `verify-webhook` stays `unsupported`: PDD pushes order
//!   changes through its message service (a websocket), not signed HTTP callbacks.
//!
//! Errors are the contract's own `ConnectorError`.

pub mod api;
pub mod mapping;
pub mod router;
pub mod settings;
pub mod shipment;
pub mod window;

use wharf_sdk::types::{ConnectorInfo, Order, Page, Shipment, StockLevel, StockPushResult};
use wharf_sdk::{config, http, time, Marketplace, Result};

use router::Credentials;
use settings::Settings;

/// Secret: the app's `client_id`.
pub const CLIENT_ID: &str = "client_id";
/// Secret: the app's `client_secret` (the signing key).
pub const CLIENT_SECRET: &str = "client_secret";
/// Secret: the shop's `access_token`.
pub const ACCESS_TOKEN: &str = "access_token";

pub struct Pinduoduo;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

fn credentials() -> Result<Credentials> {
    Ok(Credentials {
        client_id: config::require_secret(CLIENT_ID)?,
        client_secret: config::require_secret(CLIENT_SECRET)?,
        access_token: config::require_secret(ACCESS_TOKEN)?,
    })
}

/// What [`Pinduoduo::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "pinduoduo".into(),
        display_name: "Pinduoduo".into(),
        capabilities: vec![
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
        ],
    }
}

impl Marketplace for Pinduoduo {
    fn describe() -> ConnectorInfo {
        info()
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

wharf_sdk::export_marketplace!(Pinduoduo);

#[cfg(test)]
mod tests {
    /// The connector names itself pinduoduo and claims exactly what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "pinduoduo");
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
