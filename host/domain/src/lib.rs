//! Wharf's domain: the normalised order, money, and the rules the host applies to
//! orders. Pure code: no wasmtime, no axum, no sqlx.
//!
//! Layout:
//! - [`money`]: integer minor-unit amounts, ISO 4217 currencies, decimal-string parsing.
//! - [`order`]: the normalised order every channel is translated into, channel status
//!   ranks, and the "does this update supersede the stored one" rule.
//! - [`anomaly`]: rules that flag an order for review (kept, never dropped).
//! - [`connector`]: host-side mirrors of connector results and typed connector errors.
//! - [`manifest`]: plugin manifests, host patterns and configuration validation.
//! - [`breaker`]: the per-installation circuit breaker (threshold, exponential back-off).
//! - [`retry`]: the retry policy of durable jobs, steered by connector error kinds.
//! - [`inventory`]: available-to-sell, sync-rule precedence, reservation intent per
//!   status, the stock CSV format.
//! - [`schedule`]: daily-at-a-time arithmetic in a merchant's UTC offset.
//! - [`error`]: the crate's one error type.

pub mod anomaly;
pub mod breaker;
pub mod connector;
pub mod error;
pub mod inventory;
pub mod manifest;
pub mod money;
pub mod order;
pub mod retry;
pub mod schedule;

pub use error::DomainError;
pub use money::Money;
pub use order::{Address, Buyer, ChannelStatus, Line, Order, Presale, PresaleStage};
