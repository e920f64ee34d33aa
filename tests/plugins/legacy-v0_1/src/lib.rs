//! A marketplace plugin on the frozen `wharf:connector@0.1.0` contract, written directly
//! with wit-bindgen against `wit/since_v0.1.0` (not the SDK, which follows the newest
//! contract). It stands for a third-party plugin built before 0.2.0: the host must keep
//! loading and calling it, adapting its results to the domain types.
//!
//! - `describe`: platform "legacy".
//! - `pull-orders`: one page of one order (`L-1`), tagged with the installation's `shop`
//!   config value (proves `config@0.1.0`), logging one line (proves `log@0.1.0`).
//! - `get-order`: `L-1` when asked for it, none otherwise.
//! - everything else: `unsupported`.

wit_bindgen::generate!({
    path: "../../../wit/since_v0.1.0",
    world: "wharf:connector/marketplace",
    generate_all,
});

use exports::wharf::connector::channel::Guest;
use wharf::connector::types::{
    Buyer, ChannelStatus, ConnectorError, ConnectorInfo, Header, Line, Money, Order, Page,
    SettlementPage, Shipment, StockLevel, StockPushResult, WebhookEvent,
};
use wharf::connector::{config, log};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Legacy;

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: "CNY".into(),
    }
}

fn order() -> Order {
    let shop = config::get("shop").unwrap_or_default();
    Order {
        external_id: "L-1".into(),
        number: "L-1".into(),
        status: ChannelStatus::Paid,
        raw_status: "PAID".into(),
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_060_000,
        currency: "CNY".into(),
        buyer: Some(Buyer {
            id: None,
            name: "Legacy Buyer".into(),
            email: None,
            phone: None,
        }),
        shipping_address: None,
        lines: vec![Line {
            line_id: "L-1-1".into(),
            sku: "SKU-OLD".into(),
            channel_sku: "".into(),
            title: "Old contract widget".into(),
            quantity: 2,
            unit_price: cny(1000),
            discount: cny(0),
        }],
        shipping_fee: cny(500),
        discount: cny(0),
        tax: cny(0),
        total_paid: cny(2500),
        presale: None,
        tags: vec![format!("shop:{shop}")],
    }
}

impl Guest for Legacy {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            platform: "legacy".into(),
            display_name: "Legacy (WIT 0.1.0)".into(),
            capabilities: vec!["pull-orders".into(), "get-order".into()],
        }
    }

    fn verify_webhook(
        _headers: Vec<Header>,
        _body: Vec<u8>,
    ) -> Result<WebhookEvent, ConnectorError> {
        Err(ConnectorError::Unsupported)
    }

    fn pull_orders(_cursor: Option<String>) -> Result<Page, ConnectorError> {
        log::log(log::Level::Info, "legacy pull");
        Ok(Page {
            orders: vec![order()],
            cursor: Some("end".into()),
            more: false,
        })
    }

    fn get_order(external_id: String) -> Result<Option<Order>, ConnectorError> {
        Ok((external_id == "L-1").then(order))
    }

    fn confirm_shipment(_shipment: Shipment) -> Result<(), ConnectorError> {
        Err(ConnectorError::Unsupported)
    }

    fn push_inventory(_levels: Vec<StockLevel>) -> Result<Vec<StockPushResult>, ConnectorError> {
        Err(ConnectorError::Unsupported)
    }

    fn fetch_settlements(
        _from: i64,
        _to: i64,
        _cursor: Option<String>,
    ) -> Result<SettlementPage, ConnectorError> {
        Err(ConnectorError::Unsupported)
    }
}

// Only the Wasm build exports the component's functions; a native build (clippy, `cargo
// check --workspace`) just type-checks the impl.
#[cfg(target_arch = "wasm32")]
export!(Legacy);
