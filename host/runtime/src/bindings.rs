//! Generated bindings, one module per supported `wharf:connector` contract version (WIT
//! `wit/since_v<version>`). `wasi:*` packages map onto wasmtime-wasi's and
//! wasmtime-wasi-http's own bindings, so their resources and host impls are shared with
//! the standard linker functions.
//!
//! - [`v0_1`]: the frozen 0.1.0 contract (marketplace world only). Its results are adapted
//!   to the domain by the same conversion code as 0.2.0 (`convert`), since the shapes are
//!   identical.
//! - [`v0_2`]: the 0.2.0 contract: the `marketplace`, `courier` and `accounting` worlds.
//!   The courier and accounting bindings reuse the marketplace module's `types`, `config`
//!   and `log`, so the three worlds share one set of data types and host traits.

/// `wharf:connector@0.1.0` (frozen).
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.1.0",
        world: "wharf:connector/marketplace",
        exports: { default: async },
        require_store_data_send: true,
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });

    pub(crate) use wharf::connector::types as wit;
}

/// `wharf:connector@0.2.0`.
pub(crate) mod v0_2 {
    pub(crate) mod marketplace {
        wasmtime::component::bindgen!({
            path: "../../wit/since_v0.2.0",
            world: "wharf:connector/marketplace",
            exports: { default: async },
            require_store_data_send: true,
            with: {
                "wasi:io": wasmtime_wasi::p2::bindings::io,
                "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
                "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            },
        });
    }

    pub(crate) mod courier {
        wasmtime::component::bindgen!({
            path: "../../wit/since_v0.2.0",
            world: "wharf:connector/courier",
            exports: { default: async },
            require_store_data_send: true,
            with: {
                "wasi:io": wasmtime_wasi::p2::bindings::io,
                "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
                "wasi:http": wasmtime_wasi_http::p2::bindings::http,
                "wharf:connector/types": super::marketplace::wharf::connector::types,
                "wharf:connector/config": super::marketplace::wharf::connector::config,
                "wharf:connector/log": super::marketplace::wharf::connector::log,
            },
        });
    }

    pub(crate) mod accounting {
        wasmtime::component::bindgen!({
            path: "../../wit/since_v0.2.0",
            world: "wharf:connector/accounting",
            exports: { default: async },
            require_store_data_send: true,
            with: {
                "wasi:io": wasmtime_wasi::p2::bindings::io,
                "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
                "wasi:http": wasmtime_wasi_http::p2::bindings::http,
                "wharf:connector/types": super::marketplace::wharf::connector::types,
                "wharf:connector/config": super::marketplace::wharf::connector::config,
                "wharf:connector/log": super::marketplace::wharf::connector::log,
            },
        });
    }

    pub(crate) use accounting::exports::wharf::connector::ledger;
    pub(crate) use accounting::{Accounting, AccountingPre};
    pub(crate) use courier::exports::wharf::connector::shipping;
    pub(crate) use courier::{Courier, CourierPre};
    pub(crate) use marketplace::wharf;
    pub(crate) use marketplace::wharf::connector::types as wit;
}
