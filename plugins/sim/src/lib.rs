//! Platform simulators: real HTTP servers on `127.0.0.1:0` that speak a sales channel's
//! API and send its webhooks, for tests and for `wharf demo`.
//!
//! Layout:
//! - [`amazon`]: the Amazon Selling Partner API (LWA token exchange, Orders v0 ascending
//!   `LastUpdateDate` listing with `NextToken`s, per-operation token buckets, Listings stock).
//! - [`shopify`]: a Shopify shop (REST Admin API 2024-04 orders, signed webhooks,
//!   leaky-bucket rate limit, injected failures, realistic order generator).
//! - [`douyin`]: the doudian (抖店) open platform (`/order/searchList` …, HMAC-SHA256-signed
//!   calls, update-time windows newest first, encrypted receivers, stock sync, doudian codes).
//! - [`kuaidi100`]: Kuaidi100 tracking (`/poll/query.do`, MD5(param + key + customer)
//!   signed queries, documented `state` codes, `returnCode` errors, parcels a test advances).
//! - [`sf`]: the SF Express open platform (`/std/service`, Base64-MD5 `msgDigest`, the
//!   `apiResultCode` envelope, e-waybill create / cancel / routes / price query / cloud
//!   print with a real PDF label, route scans a test advances).
//! - [`jd`]: the JD open platform (JOS `/routerjson`, MD5-signed calls with
//!   `360buy_param_json`, 30-day search windows newest first, stock updates, JOS error codes).
//! - [`kingdee`]: Kingdee Cloud Galaxy (金蝶云·星空) WebAPI (ValidateUser session
//!   login, `GL_VOUCHER` Save validated against the book's accounts and balance,
//!   ExecuteBillQuery, vouchers numbered `记-0001`, session expiry / 5xx / lost-response
//!   faults).
//! - [`pinduoduo`]: the Pinduoduo open platform (`/api/router`, MD5-signed calls, 30-minute
//!   increment windows newest first, encrypted receivers, stock updates, PDD error codes).
//! - [`taobao`]: the Taobao open platform (TOP `/router/rest`, MD5-signed calls, one-day
//!   modified windows newest first, item stock updates, TOP error codes, trade generator).
//! - [`woocommerce`]: a WooCommerce store (REST API v3 `/wp-json/wc/v3`, OAuth 1.0a over
//!   HTTP / Basic behind TLS, modified-time listing with numbered pages, stock updates,
//!   signed `X-WC-Webhook-*` deliveries and the creation ping).
//! - `native` (feature `native`): the plugins' native test harness (reqwest under tokio
//!   as the plugin's transport, paging rounds, the host's dedup).
//! - [`common`]: wire pieces of the TOP-style simulators (GMT+8 times, the MD5 signature,
//!   form decoding).
//! - [`time`]: RFC 3339 timestamps with offsets ↔ Unix ms (shared by every simulator).
//! - [`error`]: the crate's one error type, [`SimError`].

pub mod amazon;
pub mod common;
pub mod douyin;
pub mod error;
pub mod jd;
pub mod kingdee;
pub mod kuaidi100;
#[cfg(feature = "native")]
pub mod native;
pub mod pinduoduo;
pub mod sf;
pub mod shopify;
pub mod taobao;
pub mod time;
pub mod woocommerce;

pub use error::SimError;
pub use shopify::{ShopifySim, ShopifySimConfig};
