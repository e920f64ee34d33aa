//! Platform simulators: real HTTP servers on `127.0.0.1:0` that speak a sales channel's
//! API and send its webhooks, for tests and for `wharf demo`.
//!
//! Layout:
//! - [`shopify`]: a Shopify shop (REST Admin API 2024-04 orders, signed webhooks,
//!   leaky-bucket rate limit, injected failures, realistic order generator).
//! - [`pinduoduo`]: the Pinduoduo open platform (`/api/router`, MD5-signed calls, 30-minute
//!   increment windows newest first, encrypted receivers, PDD error codes).
//! - [`taobao`]: the Taobao open platform (TOP `/router/rest`, MD5-signed calls, one-day
//!   modified windows newest first, TOP error codes, trade generator).
//! - [`time`]: RFC 3339 timestamps with offsets ↔ Unix ms (shared by every simulator).
//! - [`error`]: the crate's one error type, [`SimError`].

pub mod error;
pub mod pinduoduo;
pub mod shopify;
pub mod taobao;
pub mod time;

pub use error::SimError;
pub use shopify::{ShopifySim, ShopifySimConfig};
