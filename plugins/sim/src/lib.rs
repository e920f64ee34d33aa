//! Platform simulators: real HTTP servers on `127.0.0.1:0` that speak a sales channel's
//! API and send its webhooks, for tests and for `wharf demo`.
//!
//! Layout:
//! - [`shopify`]: a Shopify shop (REST Admin API 2024-04 orders, signed webhooks,
//!   leaky-bucket rate limit, injected failures, realistic order generator).
//! - [`time`]: RFC 3339 timestamps with offsets ↔ Unix ms (shared by every simulator).
//! - [`error`]: the crate's one error type, [`SimError`].

pub mod error;
pub mod shopify;
pub mod time;

pub use error::SimError;
pub use shopify::{ShopifySim, ShopifySimConfig};
