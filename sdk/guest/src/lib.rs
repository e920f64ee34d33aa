//! The Wharf guest SDK: what a connector plugin depends on to implement the
//! `wharf:connector` contract without touching wit-bindgen.
//!
//! Layout:
//! - [`bindings`]: the generated bindings for the `marketplace` world (kept out of the
//!   author's way; the types are re-exported in [`types`]).
//! - [`Marketplace`] + [`export_marketplace!`]: implement the trait, call the macro once.
//!   Every method but `describe` defaults to `unsupported`.
//! - [`http`]: a small blocking HTTP client over `wasi:http` with status → error mapping.
//! - [`config`], [`log`]: the installation's config, secrets and logs.
//! - [`money`], [`sign`], [`time`]: helpers every connector needs (decimal strings to
//!   minor units, HMAC / MD5 signing, timestamps to Unix ms).

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/since_v0.1.0",
        world: "wharf:connector/marketplace",
        pub_export_macro: true,
        export_macro_name: "__export_marketplace_world",
        default_bindings_module: "wharf_sdk::bindings",
        generate_all,
    });
}

pub mod config;
pub mod http;
pub mod log;
pub mod money;
pub mod sign;
pub mod time;

/// The contract's data types.
pub mod types {
    pub use crate::bindings::wharf::connector::types::*;
}

use types::{
    ConnectorError, ConnectorInfo, Header, Order, Page, SettlementPage, Shipment, StockLevel,
    StockPushResult, WebhookEvent,
};

/// Result type of every export.
pub type Result<T> = std::result::Result<T, ConnectorError>;

/// A marketplace (sales channel) connector. Implement what the platform supports; the rest
/// answers `unsupported`.
pub trait Marketplace {
    fn describe() -> ConnectorInfo;

    fn verify_webhook(_headers: Vec<Header>, _body: Vec<u8>) -> Result<WebhookEvent> {
        Err(ConnectorError::Unsupported)
    }
    fn pull_orders(_cursor: Option<String>) -> Result<Page> {
        Err(ConnectorError::Unsupported)
    }
    fn get_order(_external_id: String) -> Result<Option<Order>> {
        Err(ConnectorError::Unsupported)
    }
    fn confirm_shipment(_shipment: Shipment) -> Result<()> {
        Err(ConnectorError::Unsupported)
    }
    fn push_inventory(_levels: Vec<StockLevel>) -> Result<Vec<StockPushResult>> {
        Err(ConnectorError::Unsupported)
    }
    fn fetch_settlements(_from: i64, _to: i64, _cursor: Option<String>) -> Result<SettlementPage> {
        Err(ConnectorError::Unsupported)
    }
}

/// Export a [`Marketplace`] implementation as the plugin's `channel` interface.
#[macro_export]
macro_rules! export_marketplace {
    ($t:ty) => {
        #[doc(hidden)]
        pub struct __WharfChannel;

        impl $crate::bindings::exports::wharf::connector::channel::Guest for __WharfChannel {
            fn describe() -> $crate::types::ConnectorInfo {
                <$t as $crate::Marketplace>::describe()
            }
            fn verify_webhook(
                headers: ::std::vec::Vec<$crate::types::Header>,
                body: ::std::vec::Vec<u8>,
            ) -> $crate::Result<$crate::types::WebhookEvent> {
                <$t as $crate::Marketplace>::verify_webhook(headers, body)
            }
            fn pull_orders(cursor: Option<String>) -> $crate::Result<$crate::types::Page> {
                <$t as $crate::Marketplace>::pull_orders(cursor)
            }
            fn get_order(external_id: String) -> $crate::Result<Option<$crate::types::Order>> {
                <$t as $crate::Marketplace>::get_order(external_id)
            }
            fn confirm_shipment(shipment: $crate::types::Shipment) -> $crate::Result<()> {
                <$t as $crate::Marketplace>::confirm_shipment(shipment)
            }
            fn push_inventory(
                levels: ::std::vec::Vec<$crate::types::StockLevel>,
            ) -> $crate::Result<::std::vec::Vec<$crate::types::StockPushResult>> {
                <$t as $crate::Marketplace>::push_inventory(levels)
            }
            fn fetch_settlements(
                from: i64,
                to: i64,
                cursor: Option<String>,
            ) -> $crate::Result<$crate::types::SettlementPage> {
                <$t as $crate::Marketplace>::fetch_settlements(from, to, cursor)
            }
        }

        // The component exports only exist on the Wasm target; native builds (the plugin's
        // unit tests) compile the trait impl but export nothing, so they link.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_marketplace_world!(__WharfChannel with_types_in $crate::bindings);
    };
}

/// Find a header by name, case-insensitively.
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}
