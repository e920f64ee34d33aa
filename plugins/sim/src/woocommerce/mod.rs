//! A simulated WooCommerce store: the REST API v3 (`/wp-json/wc/v3`) over real HTTP on
//! `127.0.0.1:0`, authenticated as WooCommerce does (OAuth 1.0a over plain HTTP, Basic
//! behind TLS), WordPress REST errors, and signed webhook deliveries.
//!
//! Layout:
//! - [`config`]: [`WooSimConfig`] (keys, webhook secret, site URL, TLS, currency, limits).
//! - [`oauth`]: WooCommerce's OAuth 1.0a base string and signatures (verifier and a
//!   client-side signer for tests).
//! - `api`: the axum router: the gate (injected faults, authentication) and the routes
//!   `GET /orders` (filters, `orderby`, numbered pages, `X-WP-Total`, `Link`),
//!   `GET /orders/{id}`, `PUT /products/{id}` and `/products/{id}/variations/{vid}`.
//! - `shipping`: `PUT /orders/{id}` (status) and the Shipment Tracking extension's
//!   `/wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`.
//! - `store`: orders, products and the listing engine.
//! - [`generate`]: realistic random orders in the REST v3 shape (pure, seedable).
//! - [`webhook`]: signed `X-WC-Webhook-*` deliveries, bad signatures, the creation ping.
//! - `tests`: the store over real HTTP.

pub mod config;
pub mod generate;
pub mod oauth;
pub mod webhook;

mod api;
mod shipping;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

pub use api::WooError;
pub use config::WooSimConfig;
pub use store::Stock;
pub use webhook::Delivery;

use crate::{time, SimError};
use store::{Product, Store};

/// First order id the simulator hands out.
const FIRST_ORDER_ID: u64 = 1001;

/// A failure to inject before the next API requests are admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 401 `woocommerce_rest_authentication_error` ("Consumer key is invalid.").
    Unauthorized,
    /// 429 with `Retry-After: N` (a host's or security plugin's limiter).
    RateLimited(u64),
    /// 500 (PHP fatal, `internal_server_error`) or 503 (maintenance, `Retry-After`).
    Status(u16),
}

/// One admitted API call (after authentication), without the OAuth parameters.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
}

impl Call {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A running simulated store. Cheap to clone; every clone drives the same store. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct WooSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: WooSimConfig,
    addr: SocketAddr,
    http: reqwest::Client,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    faults: VecDeque<Fault>,
    requests: usize,
    calls: Vec<Call>,
    /// Shipment Tracking items by order id.
    trackings: std::collections::BTreeMap<u64, Vec<Value>>,
    nonces: BTreeSet<String>,
    /// Every stock write: (product, variation, quantity after).
    stock_log: Vec<(u64, Option<u64>, Option<i64>)>,
    next_id: u64,
}

impl WooSim {
    /// Bind `127.0.0.1:0`, seed the catalog ([`generate::CATALOG`]) and serve in the
    /// background.
    pub async fn start(cfg: WooSimConfig) -> Result<WooSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut store = Store::default();
        for (id, name, sku, _, variations) in generate::CATALOG {
            let stock = Stock {
                manage_stock: false,
                stock_quantity: None,
            };
            store.products.insert(
                id,
                Product {
                    name: name.into(),
                    sku: sku.into(),
                    stock: stock.clone(),
                    variations: variations
                        .iter()
                        .map(|(vid, vsku, _)| (*vid, (vsku.to_string(), stock.clone())))
                        .collect::<BTreeMap<_, _>>(),
                },
            );
        }
        let sim = WooSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                http: reqwest::Client::builder().build()?,
                state: Mutex::new(State {
                    store,
                    faults: VecDeque::new(),
                    requests: 0,
                    calls: Vec::new(),
                    trackings: Default::default(),
                    nonces: BTreeSet::new(),
                    stock_log: Vec::new(),
                    next_id: FIRST_ORDER_ID,
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("woocommerce simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &WooSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: the site URL to configure a connector with (unless a
    /// host name is resolved to [`WooSim::addr`]).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way
        // that matters to a simulator; keep serving.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full order JSON (insert or replace by `id`). It needs a positive integer
    /// `id` and naive GMT `date_created_gmt` / `date_modified_gmt`.
    pub fn insert_order(&self, order: Value) -> Result<u64, SimError> {
        let mut st = self.state();
        let id = st.store.upsert(order)?;
        st.next_id = st.next_id.max(id + 1);
        Ok(id)
    }

    /// Change an order with `f`, then bump `date_modified(_gmt)` to now (at least one
    /// second after the previous value, as a real save is). `None` for an unknown id.
    pub fn update_order(&self, id: u64, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(id)?;
        let mut json = stored.json.clone();
        let bumped = time::now_ms().max(stored.modified_ms + 1000);
        f(&mut json);
        json["date_modified_gmt"] = Value::String(generate::naive(bumped, 0));
        json["date_modified"] =
            Value::String(generate::naive(bumped, self.inner.cfg.utc_offset_minutes));
        st.store
            .upsert(json.clone())
            .expect("an edited order keeps its id and dates");
        Some(json)
    }

    /// Set an order's status (e.g. `trash`), bumping its modified time.
    pub fn set_status(&self, id: u64, status: &str) -> Option<Value> {
        self.update_order(id, |o| o["status"] = Value::String(status.into()))
    }

    /// Generate one order from `seed`, modified at `modified_ms`, store and return it.
    pub fn generate_order(&self, seed: u64, modified_ms: i64) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), modified_ms, None)
    }

    /// Generate one order with `status`.
    pub fn generate_order_with_status(&self, seed: u64, modified_ms: i64, status: &str) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), modified_ms, Some(status))
    }

    /// Generate and store `n` orders modified at times spread evenly over
    /// `[oldest_ms, newest_ms]` (oldest first; several may share a second).
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
                self.generate_with(&mut rng, at, None)
            })
            .collect()
    }

    fn generate_with(&self, rng: &mut StdRng, modified_ms: i64, status: Option<&str>) -> Value {
        let mut st = self.state();
        let id = st.next_id;
        st.next_id += 1;
        let cfg = &self.inner.cfg;
        let order = match status {
            Some(s) => generate::order_with_status(
                rng,
                id,
                modified_ms,
                &cfg.currency,
                cfg.utc_offset_minutes,
                s,
            ),
            None => generate::order(rng, id, modified_ms, &cfg.currency, cfg.utc_offset_minutes),
        };
        st.store
            .upsert(order.clone())
            .expect("generated orders are well-formed");
        order
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        self.state().store.get(id).map(|o| o.json.clone())
    }

    /// Every stored order (trash included), by id.
    pub fn orders(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// The stock of a product (or one of its variations): what the last update set.
    pub fn stock(&self, product_id: u64, variation_id: Option<u64>) -> Option<Stock> {
        let st = self.state();
        let p = st.store.products.get(&product_id)?;
        match variation_id {
            None => Some(p.stock.clone()),
            Some(v) => p.variations.get(&v).map(|(_, s)| s.clone()),
        }
    }

    /// Every stock write so far: (product, variation, quantity after), oldest first.
    pub fn stock_updates(&self) -> Vec<(u64, Option<u64>, Option<i64>)> {
        self.state().stock_log.clone()
    }

    /// Answer the next `n` API requests with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The calls admitted so far (authenticated), oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}
