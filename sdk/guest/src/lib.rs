//! The Wharf guest SDK: what a connector plugin depends on to implement the
//! `wharf:connector` contract without touching wit-bindgen.
//!
//! Layout:
//! - [`bindings`]: the generated bindings of `wharf:connector@0.2.0` (WIT
//!   `wit/since_v0.2.0`): the `marketplace` world, and the `courier` and `accounting`
//!   worlds in submodules sharing its types and imports (kept out of the author's way;
//!   the types are re-exported in [`types`], [`courier`] and [`accounting`]).
//! - [`Marketplace`] + [`export_marketplace!`]: implement the trait, call the macro once.
//!   Every method but `describe` defaults to `unsupported`.
//! - [`Courier`] + [`export_courier!`], [`Accounting`] + [`export_accounting!`]: the same
//!   for courier (quotes, waybills, tracking) and accounting (journals) connectors. A
//!   plugin exports exactly one world: call one export macro.
//! - [`http`]: a small blocking HTTP client over `wasi:http` with status → error mapping.
//! - [`config`], [`log`]: the installation's config, secrets and logs.
//! - [`money`], [`sign`], [`time`]: helpers every connector needs (decimal strings to
//!   minor units, HMAC / MD5 signing and signed forms, timestamps to and from Unix ms).
//! - [`config`] also validates settings: [`config::Reader`], [`config::check_url`].
//! - [`windows`]: the modified-time window walk with backward paging and its cursor
//!   (platforms that list a window newest first with a count: TOP, JOS, doudian).
//! - [`carrier`]: canonical carrier codes → a platform's company codes, with the
//!   installation's `carrier_codes` override (for `confirm-shipment`).
//! - [`shipment`]: the idempotency rule of `confirm-shipment` for whole-order platforms.
//! - [`after_sales`]: the `after-sales:*` order tags a plugin emits from refund fields.
//! - [`webhook`]: the HMAC signature header, topic and delivery-id headers and the
//!   orders of a signed delivery.

/// Generated bindings. Each world's exports are described to the component linker only by
/// its export macro (`pub_export_macro`), so a plugin exports the one world it calls the
/// macro of; unused imports are dropped by the linker.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/since_v0.2.0",
        world: "wharf:connector/marketplace",
        pub_export_macro: true,
        export_macro_name: "__export_marketplace_world",
        default_bindings_module: "wharf_sdk::bindings",
        generate_all,
    });

    /// The `courier` world (exports `shipping`), sharing the types and imports above.
    pub mod courier {
        wit_bindgen::generate!({
            path: "../../wit/since_v0.2.0",
            world: "wharf:connector/courier",
            pub_export_macro: true,
            export_macro_name: "__export_courier_world",
            default_bindings_module: "wharf_sdk::bindings::courier",
            with: {
                "wharf:connector/types@0.2.0": crate::bindings::wharf::connector::types,
                "wharf:connector/config@0.2.0": crate::bindings::wharf::connector::config,
                "wharf:connector/log@0.2.0": crate::bindings::wharf::connector::log,
                "wasi:io/poll@0.2.12": crate::bindings::wasi::io::poll,
                "wasi:io/error@0.2.12": crate::bindings::wasi::io::error,
                "wasi:io/streams@0.2.12": crate::bindings::wasi::io::streams,
                "wasi:clocks/monotonic-clock@0.2.12": crate::bindings::wasi::clocks::monotonic_clock,
                "wasi:clocks/wall-clock@0.2.12": crate::bindings::wasi::clocks::wall_clock,
                "wasi:http/types@0.2.12": crate::bindings::wasi::http::types,
                "wasi:http/outgoing-handler@0.2.12": crate::bindings::wasi::http::outgoing_handler,
            },
        });
    }

    /// The `accounting` world (exports `ledger`), sharing the types and imports above.
    pub mod accounting {
        wit_bindgen::generate!({
            path: "../../wit/since_v0.2.0",
            world: "wharf:connector/accounting",
            pub_export_macro: true,
            export_macro_name: "__export_accounting_world",
            default_bindings_module: "wharf_sdk::bindings::accounting",
            with: {
                "wharf:connector/types@0.2.0": crate::bindings::wharf::connector::types,
                "wharf:connector/config@0.2.0": crate::bindings::wharf::connector::config,
                "wharf:connector/log@0.2.0": crate::bindings::wharf::connector::log,
                "wasi:io/poll@0.2.12": crate::bindings::wasi::io::poll,
                "wasi:io/error@0.2.12": crate::bindings::wasi::io::error,
                "wasi:io/streams@0.2.12": crate::bindings::wasi::io::streams,
                "wasi:clocks/monotonic-clock@0.2.12": crate::bindings::wasi::clocks::monotonic_clock,
                "wasi:clocks/wall-clock@0.2.12": crate::bindings::wasi::clocks::wall_clock,
                "wasi:http/types@0.2.12": crate::bindings::wasi::http::types,
                "wasi:http/outgoing-handler@0.2.12": crate::bindings::wasi::http::outgoing_handler,
            },
        });
    }
}

pub mod after_sales;
pub mod carrier;
pub mod config;
pub mod http;
pub mod log;
pub mod money;
pub mod shipment;
pub mod sign;
pub mod time;
pub mod webhook;
pub mod windows;

/// The contract's data types.
pub mod types {
    pub use crate::bindings::wharf::connector::types::*;
}

/// The courier contract's data types (`wharf:connector/shipping`).
pub mod courier {
    pub use crate::bindings::courier::exports::wharf::connector::shipping::{
        LabelFormat, Parcel, ServiceQuote, TrackingEvent, TrackingStatus, Waybill, WaybillRequest,
    };
}

/// The accounting contract's data types (`wharf:connector/ledger`).
pub mod accounting {
    pub use crate::bindings::accounting::exports::wharf::connector::ledger::{
        Journal, JournalEntry, Voucher,
    };
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

/// A courier connector. Implement what the carrier supports; the rest answers
/// `unsupported`.
pub trait Courier {
    fn describe() -> ConnectorInfo;

    fn quote(_request: courier::WaybillRequest) -> Result<Vec<courier::ServiceQuote>> {
        Err(ConnectorError::Unsupported)
    }
    fn create_waybill(_request: courier::WaybillRequest) -> Result<courier::Waybill> {
        Err(ConnectorError::Unsupported)
    }
    fn cancel_waybill(_tracking_number: String) -> Result<()> {
        Err(ConnectorError::Unsupported)
    }
    fn track(_tracking_number: String) -> Result<Vec<courier::TrackingEvent>> {
        Err(ConnectorError::Unsupported)
    }
}

/// Export a [`Courier`] implementation as the plugin's `shipping` interface (the courier
/// world).
#[macro_export]
macro_rules! export_courier {
    ($t:ty) => {
        #[doc(hidden)]
        pub struct __WharfShipping;

        impl $crate::bindings::courier::exports::wharf::connector::shipping::Guest
            for __WharfShipping
        {
            fn describe() -> $crate::types::ConnectorInfo {
                <$t as $crate::Courier>::describe()
            }
            fn quote(
                request: $crate::courier::WaybillRequest,
            ) -> $crate::Result<::std::vec::Vec<$crate::courier::ServiceQuote>> {
                <$t as $crate::Courier>::quote(request)
            }
            fn create_waybill(
                request: $crate::courier::WaybillRequest,
            ) -> $crate::Result<$crate::courier::Waybill> {
                <$t as $crate::Courier>::create_waybill(request)
            }
            fn cancel_waybill(tracking_number: String) -> $crate::Result<()> {
                <$t as $crate::Courier>::cancel_waybill(tracking_number)
            }
            fn track(
                tracking_number: String,
            ) -> $crate::Result<::std::vec::Vec<$crate::courier::TrackingEvent>> {
                <$t as $crate::Courier>::track(tracking_number)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::courier::__export_courier_world!(
            __WharfShipping with_types_in $crate::bindings::courier
        );
    };
}

/// An accounting connector. `post_journal` defaults to `unsupported`.
pub trait Accounting {
    fn describe() -> ConnectorInfo;

    fn post_journal(_journal: accounting::Journal) -> Result<accounting::Voucher> {
        Err(ConnectorError::Unsupported)
    }
}

/// Export an [`Accounting`] implementation as the plugin's `ledger` interface (the
/// accounting world).
#[macro_export]
macro_rules! export_accounting {
    ($t:ty) => {
        #[doc(hidden)]
        pub struct __WharfLedger;

        impl $crate::bindings::accounting::exports::wharf::connector::ledger::Guest
            for __WharfLedger
        {
            fn describe() -> $crate::types::ConnectorInfo {
                <$t as $crate::Accounting>::describe()
            }
            fn post_journal(
                journal: $crate::accounting::Journal,
            ) -> $crate::Result<$crate::accounting::Voucher> {
                <$t as $crate::Accounting>::post_journal(journal)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::accounting::__export_accounting_world!(
            __WharfLedger with_types_in $crate::bindings::accounting
        );
    };
}

/// Find a header by name, case-insensitively.
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}
