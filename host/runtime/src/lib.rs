//! Wharf's plugin runtime: runs connector components (WebAssembly, component model) under
//! limits they cannot escape. Callers see only `wharf_domain` types, never wasmtime ones.
//!
//! Layout:
//! - [`config`]: the [`RuntimeConfig`]: memory, deadlines, output bounds and the optional
//!   fuel budget per call.
//! - [`context`]: the [`CallContext`] (what one installation's call may see), [`EgressPolicy`]
//!   and the [`LogSink`] plugin logs go to.
//! - [`runtime`]: the [`Runtime`] (one engine + linker per process, compiled-component cache)
//!   and [`Plugin`] handles; one fresh store per call.
//! - [`options`]: harness knobs of one call ([`CallOptions`]: fake transport, frozen
//!   [`FrozenClock`]) and what it cost ([`CallReport`]).
//! - [`transport`]: the [`HttpTransport`] trait a harness call sends through, and
//!   [`NetworkTransport`], the production network path behind it.
//! - [`error`]: the [`RuntimeError`] of load / compile / link failures. Call failures are
//!   `wharf_domain::connector::ConnectorError`.
//! - [`granter`]: deny-by-default egress decisions (host patterns, forbidden addresses).
//! - `bindings`: `bindgen!` output for the `wharf:connector/marketplace` world.
//! - `convert`: generated WIT types ↔ domain types, and the output-size estimate.
//! - `state`: the per-call store data (WASI context without grants, HTTP hooks, limits).
//! - `host`: thin host impls of the contract's own imports (`config`, `log`).
//! - `egress`: the `wasi:http` send hook (granter + resolution + timeouts).
//! - `limits`: the memory limiter and the epoch ticker behind the wall-clock deadline.
//! - `faults`: wasmtime errors → typed sandbox errors (timeout, memory, panic, trap).

mod bindings;
pub mod config;
pub mod context;
mod convert;
mod egress;
pub mod error;
mod faults;
pub mod granter;
mod host;
mod limits;
pub mod options;
pub mod runtime;
mod state;
pub mod transport;

pub use config::RuntimeConfig;
pub use context::{CallContext, EgressPolicy, LogSink};
pub use error::RuntimeError;
pub use options::{CallOptions, CallReport, FrozenClock};
pub use runtime::{Plugin, Runtime};
pub use transport::{
    HttpRequest, HttpResponse, HttpTransport, NetworkTransport, TransportError, TransportFuture,
};
pub use wharf_domain::connector::{ConnectorError, ConnectorInfo, LogLevel, Page, WebhookEvent};

/// The `wharf:connector` contract version this runtime binds.
pub const WIT_VERSION: &str = "0.1.0";
