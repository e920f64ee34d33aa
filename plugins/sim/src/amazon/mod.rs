//! A simulated Amazon Selling Partner API (Orders v0, Listings Items 2021-08-01) and its
//! Login with Amazon token endpoint, for one seller, over real HTTP on `127.0.0.1:0`.
//! One server answers for both hosts (`api.amazon.com` and the regional
//! `sellingpartnerapi-*.amazon.com`): tests reach it through a resolver override.
//!
//! Layout:
//! - [`config`]: [`AmazonSimConfig`], the per-operation [`RateLimits`], marketplace
//!   currencies.
//! - `api`: the axum router: `POST /auth/o2/token` (LWA refresh-token grant), the
//!   admission gate of every SP-API call (injected fault, `x-amz-access-token`, the
//!   operation's token bucket) and the operations `getOrders`, `getOrder`,
//!   `getOrderItems`, `patchListingsItem`, answering errors in Amazon's
//!   `{"errors": [{"code", "message", "details"}]}` shape.
//! - `shipping`: `confirmShipment` (`POST …/shipmentConfirmation`), packages per order
//!   ([`AmazonPackage`]).
//! - `store`: orders and the `getOrders` listing (ascending `LastUpdateDate`, keyset
//!   `NextToken`s), token buckets.
//! - [`generate`]: realistic random orders and items, status transitions (pure, seedable).
//! - this file: the [`AmazonSim`] handle: a clock tests can move forward, stored orders,
//!   issued access tokens and `NextToken`s, stored listing quantities, faults.
//! - `tests`: the simulator over real HTTP.
//!
//! Listing order (Amazon does not document it; this simulator fixes it): `getOrders`
//! returns orders ascending by `LastUpdateDate`, ties by `AmazonOrderId`. A `NextToken`
//! remembers the filter it was issued for and the last order returned; the next page
//! continues strictly after that order, so an order that changes (and so leaves a
//! window pinned by `LastUpdatedBefore`) never shifts the orders not yet returned.

pub mod config;
pub mod generate;

mod api;
mod shipping;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

pub use config::{AmazonSimConfig, Limit, RateLimits};
pub use shipping::AmazonPackage;

use crate::{time, SimError};
use store::{Bucket, Key, Store};

/// The Login with Amazon host.
pub const LWA_HOST: &str = "api.amazon.com";
/// The regional SP-API hosts (North America, Europe, Far East).
pub const NA_HOST: &str = "sellingpartnerapi-na.amazon.com";
pub const EU_HOST: &str = "sellingpartnerapi-eu.amazon.com";
pub const FE_HOST: &str = "sellingpartnerapi-fe.amazon.com";

/// Unix ms → `2024-04-01T14:00:00Z` (UTC, whole seconds, as Orders v0 writes times).
pub fn format_time(ms: i64) -> String {
    let s = time::format_offset(ms, 0);
    format!("{}Z", &s[..19])
}

/// A failure to answer the next SP-API requests with, before any other check (the
/// token endpoint is not affected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 5xx with `InternalFailure` / `ServiceUnavailable`.
    Server(u16),
    /// 429 `QuotaExceeded` with the operation's `x-amzn-RateLimit-Limit`.
    QuotaExceeded,
    /// 403 `Unauthorized`.
    Unauthorized,
}

/// One admitted SP-API call (token good, not throttled).
#[derive(Debug, Clone)]
pub struct Call {
    /// `getOrders`, `getOrder`, `getOrderItems` or `patchListingsItem`.
    pub operation: &'static str,
    pub path: String,
    /// The decoded query parameters.
    pub query: BTreeMap<String, String>,
}

/// What a `getOrders` `NextToken` stands for.
#[derive(Debug, Clone)]
pub(crate) struct PageToken {
    /// The query parameters of the request that produced it (`NextToken` excluded).
    pub filter: BTreeMap<String, String>,
    pub window: (i64, i64),
    pub size: usize,
    pub after: Key,
    pub issued_ms: i64,
}

/// A running simulated SP-API. Cheap to clone; every clone drives the same seller. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct AmazonSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: AmazonSimConfig,
    addr: SocketAddr,
    clock_offset_ms: AtomicI64,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    faults: VecDeque<Fault>,
    requests: usize,
    token_requests: usize,
    calls: Vec<Call>,
    packages: Vec<AmazonPackage>,
    /// Access token → expiry (sim ms).
    access_tokens: HashMap<String, i64>,
    next_tokens: HashMap<String, PageToken>,
    buckets: HashMap<&'static str, Bucket>,
    /// (marketplace, SellerSKU) → the last quantity set.
    quantities: BTreeMap<(String, String), i64>,
    listed_skus: BTreeSet<String>,
    serial: u64,
    minted: u64,
}

impl AmazonSim {
    /// Bind `127.0.0.1:0` and serve in the background.
    pub async fn start(cfg: AmazonSimConfig) -> Result<AmazonSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = AmazonSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                clock_offset_ms: AtomicI64::new(0),
                state: Mutex::new(State {
                    store: Store::default(),
                    faults: VecDeque::new(),
                    requests: 0,
                    token_requests: 0,
                    calls: Vec::new(),
                    packages: Vec::new(),
                    access_tokens: HashMap::new(),
                    next_tokens: HashMap::new(),
                    buckets: HashMap::new(),
                    quantities: BTreeMap::new(),
                    listed_skus: generate::SKUS.iter().map(|s| s.to_string()).collect(),
                    serial: 1,
                    minted: 0,
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("amazon simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &AmazonSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: both the LWA and the SP-API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The simulator's clock: wall-clock now plus whatever [`AmazonSim::advance_clock`]
    /// added. Every rule (the two-minute lag, expiries, buckets, update times) uses it.
    pub fn now_ms(&self) -> i64 {
        time::now_ms() + self.inner.clock_offset_ms.load(Ordering::SeqCst)
    }

    /// Move the simulator's clock forward by `ms`.
    pub fn advance_clock(&self, ms: i64) {
        self.inner.clock_offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store an order and its items (insert or replace by `AmazonOrderId`). It needs an
    /// `AmazonOrderId`, an ISO 8601 `LastUpdateDate` and a `MarketplaceId`.
    pub fn insert_order(&self, order: Value, items: Vec<Value>) -> Result<String, SimError> {
        self.state().store.upsert(order, items)
    }

    /// Change an order and its items with `f`, then bump `LastUpdateDate` to the
    /// simulator's now (at least one second after the previous value, on a whole
    /// second). Returns the new order, or `None` for an unknown id.
    pub fn update_order(
        &self,
        id: &str,
        f: impl FnOnce(&mut Value, &mut Vec<Value>),
    ) -> Option<Value> {
        let now = self.now_ms();
        let mut st = self.state();
        let stored = st.store.get(id)?.clone();
        let (mut order, mut items) = (stored.order, stored.items);
        f(&mut order, &mut items);
        let bumped = now.max(stored.updated_ms + 1000).div_euclid(1000) * 1000;
        order["LastUpdateDate"] = Value::String(format_time(bumped));
        st.store
            .upsert(order.clone(), items)
            .expect("an edited order keeps its id and marketplace");
        Some(order)
    }

    /// Move an order one step along its life ([`generate::advance`]) and bump its
    /// `LastUpdateDate`. `None` when the id is unknown or the order is final.
    pub fn advance_order(&self, id: &str, seed: u64) -> Option<Value> {
        let stored = self.state().store.get(id)?.clone();
        let (mut order, mut items) = (stored.order, stored.items);
        generate::advance(&mut order, &mut items, &mut StdRng::seed_from_u64(seed))?;
        self.update_order(id, |o, i| {
            *o = order;
            *i = items;
        })
    }

    /// Generate one order from `seed`, last updated at `updated_ms`, store and return it.
    pub fn generate_order(&self, seed: u64, updated_ms: i64) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), updated_ms)
    }

    /// Generate and store `n` orders whose `LastUpdateDate`s are spread evenly over
    /// `[oldest_ms, newest_ms]` (oldest first), over the configured marketplaces.
    pub fn generate_orders(
        &self,
        n: usize,
        seed: u64,
        oldest_ms: i64,
        newest_ms: i64,
    ) -> Vec<Value> {
        let mut rng = StdRng::seed_from_u64(seed);
        let span = (newest_ms - oldest_ms).max(0);
        (0..n)
            .map(|i| {
                let at = if n <= 1 {
                    newest_ms
                } else {
                    oldest_ms + span * i as i64 / (n as i64 - 1)
                };
                self.generate_with(&mut rng, at)
            })
            .collect()
    }

    fn generate_with(&self, rng: &mut StdRng, updated_ms: i64) -> Value {
        let mut st = self.state();
        let serial = st.serial;
        st.serial += 1;
        let markets = &self.inner.cfg.marketplace_ids;
        let market = markets[serial as usize % markets.len().max(1)].clone();
        let id = generate::order_id(serial, rng);
        let (order, items) = generate::order(rng, &id, &market, updated_ms);
        st.store
            .upsert(order.clone(), items)
            .expect("generated orders are well-formed");
        order
    }

    pub fn order(&self, id: &str) -> Option<Value> {
        self.state().store.get(id).map(|s| s.order.clone())
    }

    pub fn items(&self, id: &str) -> Option<Vec<Value>> {
        self.state().store.get(id).map(|s| s.items.clone())
    }

    /// Every stored order, by id.
    pub fn orders(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// Answer the next `n` SP-API requests with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Expire every access token issued so far (the next SP-API call gets 403).
    pub fn expire_access_tokens(&self) {
        self.state().access_tokens.clear();
    }

    /// Expire every `NextToken` issued so far (the next use gets 400 `InvalidInput`).
    pub fn expire_next_tokens(&self) {
        self.state().next_tokens.clear();
    }

    /// SP-API requests received (including refused ones); the token endpoint not counted.
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// Requests to the LWA token endpoint.
    pub fn token_requests(&self) -> usize {
        self.state().token_requests
    }

    /// The SP-API calls admitted so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The quantity last set for `sku` in `marketplace` through the Listings API.
    pub fn quantity(&self, marketplace: &str, sku: &str) -> Option<i64> {
        self.state()
            .quantities
            .get(&(marketplace.to_string(), sku.to_string()))
            .copied()
    }

    /// Create a listing for `sku` (the generator's SKUs are listed from the start).
    pub fn add_listing(&self, sku: &str) {
        self.state().listed_skus.insert(sku.to_string());
    }
}
