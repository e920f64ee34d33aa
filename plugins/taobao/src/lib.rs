//! The Taobao/Tmall connector: a `wharf:connector` marketplace plugin for the Taobao Open
//! Platform (TOP) trade API.
//!
//! Layout:
//! - [`settings`]: the installation's configuration (`api_url`, `window_minutes`,
//!   `page_size`, `lookback_days`, `seller_nick`), validated, and the pull's window walk
//!   (`wharf_sdk::windows`: windows ≤ one day, no gaps, a safety lag behind now,
//!   backward paging from page 1; the cursor is the SDK's).
//! - [`top`]: the TOP protocol: GMT+8 times, MD5-signed `/router/rest` requests, the
//!   response envelope and TOP error codes → connector error kinds. Pure.
//! - [`mapping`]: trade JSON → the contract's `Order` (status table, presale, money in
//!   fen). Pure.
//! - [`api`]: `taobao.trades.sold.increment.get` paging, `taobao.trade.fullinfo.get`
//!   and `taobao.item.quantity.update` (push-inventory; channel-sku `"num_iid:sku_id"`,
//!   or `"num_iid"` for an item without SKUs) over an injected transport.
//! - [`shipment`]: `confirm-shipment` through `taobao.logistics.offline.send` (split per
//!   sub-order), idempotent against the trade as TOP has it; the carrier table.
//! - [`settlements`]: `fetch-settlements` over the bill API (`taobao.bill.accounts.get`
//!   classifies, `taobao.bill.bills.get` lists by `pay_time` in one-day windows).
//! - this file: the [`Taobao`] `Marketplace` impl wiring them to the host's config,
//!   secrets, clock and HTTP. `verify-webhook` is unsupported: Taobao pushes changes
//!   through its message service (TMC), not HTTP webhooks, so orders arrive by pull.
//!
//! Errors are the contract's own `ConnectorError` (one enum, shared with the host).

pub mod api;
pub mod mapping;
pub mod settings;
pub mod settlements;
pub mod shipment;
pub mod top;

use wharf_sdk::types::{
    ConnectorError, ConnectorInfo, Header, Order, Page, SettlementPage, Shipment, StockLevel,
    StockPushResult, WebhookEvent,
};
use wharf_sdk::{config, http, log, time, Marketplace, Result};

use settings::Settings;
use top::Credentials;

/// Secret: the app's key (`app_key`).
pub const APP_KEY: &str = "app_key";
/// Secret: the app's signing secret (never sent; signs every request).
pub const APP_SECRET: &str = "app_secret";
/// Secret: the seller's access token (`session`).
pub const SESSION: &str = "session";

pub struct Taobao;

fn settings() -> Result<Settings> {
    Settings::from_lookup(config::get)
}

fn credentials() -> Result<Credentials> {
    Ok(Credentials {
        app_key: config::require_secret(APP_KEY)?,
        app_secret: config::require_secret(APP_SECRET)?,
        session: config::require_secret(SESSION)?,
    })
}

/// What [`Taobao::describe`] answers (a plain function so it is testable natively).
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        platform: "taobao".into(),
        display_name: "Taobao / Tmall".into(),
        capabilities: vec![
            "pull-orders".into(),
            "get-order".into(),
            "push-inventory".into(),
            "confirm-shipment".into(),
            "fetch-settlements".into(),
        ],
    }
}

impl Marketplace for Taobao {
    fn describe() -> ConnectorInfo {
        info()
    }

    fn verify_webhook(_headers: Vec<Header>, _body: Vec<u8>) -> Result<WebhookEvent> {
        log::warn(
            "Taobao has no HTTP order webhooks (it pushes through its message service, TMC); \
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

wharf_sdk::export_marketplace!(Taobao);

#[cfg(test)]
mod tests {
    // The connector names itself taobao and claims only what it implements.
    #[test]
    fn describes_itself() {
        let i = super::info();
        assert_eq!(i.platform, "taobao");
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
