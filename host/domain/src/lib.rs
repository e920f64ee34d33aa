//! Wharf's domain: the normalised order, money, and the rules the host applies to
//! orders. Pure code: no wasmtime, no axum, no sqlx.
//!
//! Layout:
//! - [`money`]: integer minor-unit amounts, ISO 4217 currencies, decimal-string parsing.
//! - [`order`]: the normalised order every channel is translated into, channel status
//!   ranks, and the "does this update supersede the stored one" rule.
//! - [`anomaly`]: rules that flag an order for review (kept, never dropped).
//! - [`connector`]: host-side mirrors of connector results and typed connector errors.
//! - [`courier`], [`accounting`]: host-side mirrors of the courier (quotes, waybills,
//!   tracking) and accounting (journals, vouchers) contracts of WIT 0.2.0.
//! - [`manifest`]: plugin manifests, host patterns and configuration validation.
//! - [`breaker`]: the per-installation circuit breaker (threshold, exponential back-off).
//! - [`retry`]: the retry policy of durable jobs, steered by connector error kinds.
//! - [`fulfillment`]: the order state machine (ONE transition table), warehouse-task
//!   life cycle, parcel records and SLA steps.
//! - [`inventory`]: available-to-sell, sync-rule precedence, reservation intent per
//!   status, the stock CSV format.
//! - [`carrier`]: carrier selection — the ordered rule list (region, weight → fixed
//!   courier or cheapest quote), validation, the cheapest-quote tie rules.
//! - [`after_sales`]: after-sales ticket life cycle (one table) and the channel signals
//!   (status + `after-sales:*` tags) that open and close tickets.
//! - [`schedule`]: daily-at-a-time arithmetic in a merchant's UTC offset.
//! - [`settlement`]: host-side mirrors of the contract's settlement lines, payouts, pages.
//! - [`journal`]: period journals from settled money (account mapping, entries per
//!   source, the balance check, exact minor-unit → decimal text).
//! - [`reconcile`]: reconciliation maths — largest-remainder allocation, the expected-net
//!   rule per installation, variance threshold, data-quality checks, reporting periods.
//! - [`error`]: the crate's one error type.

pub mod accounting;
pub mod after_sales;
pub mod anomaly;
pub mod breaker;
pub mod carrier;
pub mod connector;
pub mod courier;
pub mod error;
pub mod fulfillment;
pub mod inventory;
pub mod journal;
pub mod manifest;
pub mod money;
pub mod order;
pub mod reconcile;
pub mod retry;
pub mod schedule;
pub mod settlement;

pub use error::DomainError;
pub use money::Money;
pub use order::{Address, Buyer, ChannelStatus, Line, Order, Presale, PresaleStage};
