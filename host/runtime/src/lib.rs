//! Wharf's plugin runtime: runs connector components (WebAssembly, component model) under
//! limits they cannot escape. Callers see only `wharf_domain` types, never wasmtime ones.
//!
//! Layout:
//! - [`config`]: the [`RuntimeConfig`]: memory, deadlines, output bounds and the optional
//!   fuel budget per call.
//! - [`context`]: the [`CallContext`] (what one installation's call may see), [`EgressPolicy`]
//!   and the [`LogSink`] plugin logs go to.
//! - [`runtime`]: the [`Runtime`] (one engine + linker per process, compiled-component cache)
//!   and [`Plugin`] handles (each knows its contract version and world); one fresh store
//!   per call; the marketplace, courier and accounting calls.
//! - [`contract`]: the supported `wharf:connector` versions ([`SUPPORTED_WIT_VERSIONS`],
//!   newest [`WIT_VERSION`]) and the check of a component's imports / exports against the
//!   version its manifest claims.
//! - [`options`]: harness knobs of one call ([`CallOptions`]: fake transport, frozen
//!   [`FrozenClock`]) and what it cost ([`CallReport`]).
//! - [`transport`]: the [`HttpTransport`] trait a harness call sends through, and
//!   [`NetworkTransport`], the production network path behind it.
//! - [`error`]: the [`RuntimeError`] of load / compile / link failures. Call failures are
//!   `wharf_domain::connector::ConnectorError`.
//! - [`granter`]: deny-by-default egress decisions (host patterns, forbidden addresses).
//! - `bindings`: `bindgen!` output per contract version: `v0_1` (marketplace), `v0_2`
//!   (marketplace, courier, accounting).
//! - `exports`: a marketplace plugin's `channel` exports looked up one per call (the
//!   bindings would load and type-check all of them on each instance).
//! - `convert`: generated WIT types ↔ domain types (the marketplace conversions written
//!   once and expanded per version, so 0.1.0 results are adapted by the same code), and
//!   the output-size estimates.
//! - `state`: the per-call store data (WASI context without grants, HTTP hooks, limits).
//! - `host`: thin host impls of the contract's own imports (`config`, `log`): one
//!   implementation each, one trait impl per supported version.
//! - `egress`: the `wasi:http` send hook (granter + resolution + timeouts).
//! - `limits`: the memory limiter and the epoch ticker behind the wall-clock deadline.
//! - `faults`: wasmtime errors → typed sandbox errors (timeout, memory, panic, trap).
//! - [`native`] (feature `native-plugins`, benchmark builds only): the Shopify connector's
//!   webhook code compiled natively, the sandbox's cost measured against it.

mod bindings;
pub mod config;
pub mod context;
pub mod contract;
mod convert;
mod egress;
pub mod error;
mod exports;
mod faults;
pub mod granter;
mod host;
mod limits;
#[cfg(feature = "native-plugins")]
pub mod native;
pub mod options;
pub mod runtime;
mod state;
pub mod transport;

pub use config::{RuntimeConfig, DEFAULT_INSTANCE_POOL};
pub use context::{CallContext, EgressPolicy, LogSink};
pub use contract::{SUPPORTED_WIT_VERSIONS, WIT_VERSION};
pub use error::RuntimeError;
pub use options::{CallOptions, CallReport, FrozenClock};
pub use runtime::{Plugin, Runtime};
pub use transport::{
    HttpRequest, HttpResponse, HttpTransport, NetworkTransport, TransportError, TransportFuture,
};
pub use wharf_domain::connector::{ConnectorError, ConnectorInfo, LogLevel, Page, WebhookEvent};
