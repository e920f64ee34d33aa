//! What the plugins' native tests (`plugins/*/tests/against_sim.rs`) run a plugin against
//! a simulator with: the plugin's own code, with reqwest under a tokio runtime as its
//! transport instead of `wasi:http`, and the host's order deduplication. Behind the
//! `native` feature (plugins enable it in their dev-dependencies).
//!
//! ```no_run
//! use wharf_sim::native::{self, Transport};
//! use wharf_sim::{ShopifySim, ShopifySimConfig};
//! let net = Transport::new();
//! let sim = net.block_on(ShopifySim::start(ShopifySimConfig::default())).unwrap();
//! // api::pull_orders(&settings, cursor, now_ms, &mut |r| net.send(r)) in a plugin test;
//! // native::pull_round(|cursor| …, None, |_page| {}) pulls until `more` is false.
//! # let _ = sim;
//! ```

use std::collections::BTreeMap;
use std::future::Future;

use tokio::runtime::Runtime;
use wharf_domain::order::supersedes;
use wharf_domain::ChannelStatus;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::types::{self as wit, ConnectorError, Order, Page};

/// A blocking HTTP transport for a plugin's native tests: a tokio runtime (which also
/// runs the simulator) and a reqwest client.
pub struct Transport {
    rt: Runtime,
    client: reqwest::Client,
    https_as_http: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    pub fn new() -> Transport {
        Transport {
            rt: Runtime::new().expect("a tokio runtime"),
            client: reqwest::Client::new(),
            https_as_http: false,
        }
    }

    /// Send `https://` URLs over plain HTTP, as a TLS-terminating proxy in front of the
    /// simulator would forward them.
    pub fn https_as_http(mut self) -> Transport {
        self.https_as_http = true;
        self
    }

    /// Run a future (a simulator's start, a mutation) on the runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Send one request as `wharf_sdk::http::send` would; a connection failure is
    /// `transient`.
    pub fn send(&self, req: Request) -> Result<Response, ConnectorError> {
        let url = if self.https_as_http {
            req.url.replacen("https://", "http://", 1)
        } else {
            req.url.clone()
        };
        self.rt.block_on(async {
            let mut b = self
                .client
                .request(req.method.parse().unwrap(), url.as_str())
                .body(req.body.clone());
            for (k, v) in &req.headers {
                b = b.header(k, v);
            }
            let r = b
                .send()
                .await
                .map_err(|e| ConnectorError::Transient(e.to_string()))?;
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let body = r.bytes().await.unwrap().to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }
}

/// Pull pages with `pull(cursor)` from `cursor` until `more` is false, calling `between`
/// after every page. Returns the orders in arrival order and the final cursor. Panics on
/// an error or after 500 pages.
pub fn pull_round(
    mut pull: impl FnMut(Option<&str>) -> Result<Page, ConnectorError>,
    cursor: Option<String>,
    mut between: impl FnMut(&Page),
) -> (Vec<Order>, Option<String>) {
    let mut cursor = cursor;
    let mut seen = Vec::new();
    for _ in 0..500 {
        let page = pull(cursor.as_deref()).unwrap();
        between(&page);
        cursor = page.cursor.clone();
        let more = page.more;
        seen.extend(page.orders);
        if !more {
            return (seen, cursor);
        }
    }
    panic!("paging must end");
}

/// Fetch settlement pages with `fetch(cursor)` from `cursor` until `more` is false.
/// Returns every page in order. Panics on an error or after 500 pages.
pub fn settlement_round(
    mut fetch: impl FnMut(Option<&str>) -> Result<wit::SettlementPage, ConnectorError>,
    cursor: Option<String>,
) -> Vec<wit::SettlementPage> {
    let mut cursor = cursor;
    let mut pages = Vec::new();
    for _ in 0..500 {
        let page = fetch(cursor.as_deref()).unwrap();
        cursor = page.cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
    panic!("paging must end");
}

/// The contract's name of a settlement kind (`platform-discount` …).
pub fn kind_name(k: wit::SettlementKind) -> &'static str {
    match k {
        wit::SettlementKind::Sale => "sale",
        wit::SettlementKind::Refund => "refund",
        wit::SettlementKind::Commission => "commission",
        wit::SettlementKind::PlatformDiscount => "platform-discount",
        wit::SettlementKind::ShippingSubsidy => "shipping-subsidy",
        wit::SettlementKind::Adjustment => "adjustment",
    }
}

/// The contract's status as the domain's.
pub fn channel_status(s: wit::ChannelStatus) -> ChannelStatus {
    match s {
        wit::ChannelStatus::PendingPayment => ChannelStatus::PendingPayment,
        wit::ChannelStatus::Paid => ChannelStatus::Paid,
        wit::ChannelStatus::PartiallyShipped => ChannelStatus::PartiallyShipped,
        wit::ChannelStatus::Shipped => ChannelStatus::Shipped,
        wit::ChannelStatus::Completed => ChannelStatus::Completed,
        wit::ChannelStatus::Cancelled => ChannelStatus::Cancelled,
        wit::ChannelStatus::Refunded => ChannelStatus::Refunded,
    }
}

/// The host's dedup: one entry per external id, a version replacing the stored one only
/// when `supersedes` says so. Returns id → (updated-at, status) of the version kept.
pub fn dedup(orders: &[Order]) -> BTreeMap<String, (i64, ChannelStatus)> {
    let mut kept: BTreeMap<String, (i64, ChannelStatus)> = BTreeMap::new();
    for o in orders {
        let incoming = (o.updated_at, channel_status(o.status));
        match kept.get(&o.external_id) {
            Some(&(at, st)) if !supersedes(incoming.0, incoming.1, at, st) => {}
            _ => {
                kept.insert(o.external_id.clone(), incoming);
            }
        }
    }
    kept
}
