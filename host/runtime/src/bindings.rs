//! Generated bindings of the `wharf:connector/marketplace` world (WIT `since_v0.1.0`).
//! `wasi:*` packages map onto wasmtime-wasi's and wasmtime-wasi-http's own bindings, so
//! their resources and host impls are shared with the standard linker functions.

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
