//! A simulated Shopify shop: the REST Admin API (orders, variants, inventory levels) over real HTTP on
//! `127.0.0.1:0`, and Shopify-style signed webhook deliveries.
//!
//! Layout:
//! - [`config`]: [`ShopifySimConfig`], [`RateLimit`].
//! - `api`: the axum router (`orders.json`, `orders/{id}.json`, `orders/count.json`),
//!   token check, leaky-bucket rate limit, injected failures, `Link` headers.
//! - `inventory`: variants (`variants/{id}.json`) and `inventory_levels/set.json`, with
//!   a log of every accepted set.
//! - `payments`: Shopify Payments balance transactions and payouts (generated for the
//!   shop's orders, with injectable imperfections) and their two listings.
//! - `store`: stored orders and the listing engine (filters, order, keyset pages).
//! - `fulfillment`: fulfillment orders (`orders/{id}/fulfillment_orders.json`) and
//!   `fulfillments.json` (tracking info; the order becomes `fulfilled`).
//! - `page_info`: the opaque `page_info` token.
//! - `rate_limit`: the leaky bucket.
//! - [`generate`]: realistic random orders and status transitions (pure, seedable).
//! - [`webhook`]: signing, one delivery, deliveries retried like Shopify.
//! - `traffic`: a background stream of new orders and updates for demos.

pub mod config;
pub mod generate;
pub mod webhook;

mod api;
mod fulfillment;
mod inventory;
mod page_info;
mod payments;
mod rate_limit;
mod store;
mod traffic;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

pub use config::{RateLimit, ShopifySimConfig};
pub use inventory::InventorySet;
pub use payments::fee_for;
pub use webhook::{Attempt, DeliveryReport, RetryPolicy, WebhookEvent};

use crate::{time, SimError};
use rate_limit::LeakyBucket;
use store::Store;

/// First id the simulator hands out (Shopify ids are large integers).
const FIRST_ORDER_ID: u64 = 5_000_000_000_001;
const FIRST_ORDER_NUMBER: u64 = 1001;

/// A running simulated shop. Cheap to clone; every clone drives the same shop. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct ShopifySim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ShopifySimConfig,
    addr: SocketAddr,
    http: reqwest::Client,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    failures: VecDeque<u16>,
    requests: usize,
    bucket: Option<LeakyBucket>,
    next_id: u64,
    next_number: u64,
    inventory: inventory::Inventory,
    payments: payments::Payments,
    fulfillment: fulfillment::Fulfillments,
}

impl ShopifySim {
    /// Bind `127.0.0.1:0` and serve the shop's API in the background.
    pub async fn start(cfg: ShopifySimConfig) -> Result<ShopifySim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let bucket = cfg.rate_limit.map(|r| LeakyBucket::new(r, Instant::now()));
        let sim = ShopifySim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                http: reqwest::Client::builder().build()?,
                state: Mutex::new(State {
                    store: Store::default(),
                    failures: VecDeque::new(),
                    requests: 0,
                    bucket,
                    next_id: FIRST_ORDER_ID,
                    next_number: FIRST_ORDER_NUMBER,
                    inventory: inventory::Inventory::default(),
                    payments: payments::Payments::default(),
                    fulfillment: fulfillment::Fulfillments::default(),
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("shopify simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &ShopifySimConfig {
        &self.inner.cfg
    }

    /// `http://127.0.0.1:PORT`: the shop URL to configure a connector with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way
        // that matters to a simulator; keep serving.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full Shopify order JSON (insert or replace by `id`). It needs an integer
    /// `id` and RFC 3339 `created_at` / `updated_at`.
    pub fn insert_order(&self, order: Value) -> Result<u64, SimError> {
        let mut st = self.state();
        let id = st.store.upsert(order.clone())?;
        st.next_id = st.next_id.max(id + 1);
        if let Some(n) = order.get("order_number").and_then(Value::as_u64) {
            st.next_number = st.next_number.max(n + 1);
        }
        Ok(id)
    }

    /// Change an order with `f`, then bump its `updated_at` to now (strictly later than
    /// before, as a real edit is). Returns the new version, or `None` for an unknown id.
    pub fn update_order(&self, id: u64, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(id)?;
        let mut json = stored.json.clone();
        let bumped = time::now_ms().max(stored.updated_ms + 1000);
        f(&mut json);
        json["updated_at"] = Value::String(time::format_offset(
            bumped,
            self.inner.cfg.utc_offset_minutes,
        ));
        st.store
            .upsert(json.clone())
            .expect("an edited order keeps its id and timestamps");
        Some(json)
    }

    /// Generate a realistic order from `seed` (see [`generate::order`]), updated now, store
    /// it and return it.
    pub fn generate_order(&self, seed: u64) -> Value {
        let mut rng = StdRng::seed_from_u64(seed);
        self.generate_with(&mut rng, time::now_ms())
    }

    /// Generate and store `n` orders, updated at increasing times ending now.
    pub fn generate_orders(&self, n: usize, seed: u64) -> Vec<Value> {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = time::now_ms();
        (0..n)
            .map(|i| self.generate_with(&mut rng, now - (n - i) as i64 * 1000))
            .collect()
    }

    pub(crate) fn generate_with(&self, rng: &mut StdRng, at_ms: i64) -> Value {
        let mut st = self.state();
        let (id, number) = (st.next_id, st.next_number);
        st.next_id += 1;
        st.next_number += 1;
        let order = generate::order(rng, id, number, at_ms, self.inner.cfg.utc_offset_minutes);
        st.store
            .upsert(order.clone())
            .expect("generated orders are well-formed");
        order
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        self.state().store.get(id).map(|o| o.json.clone())
    }

    /// Every stored order, by id.
    pub fn orders(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// Answer the next `n` API requests with `status` (401, 429 with `Retry-After`, 5xx …)
    /// before any other check.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.state().failures.extend(std::iter::repeat_n(status, n));
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }
}
