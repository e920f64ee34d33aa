//! A simulated JD open platform (JOS) gateway for one POP seller: `/routerjson` over real
//! HTTP on `127.0.0.1:0`, MD5-signed requests whose business parameters travel as one
//! JSON string `360buy_param_json`, JOS's `{method}_responce` envelopes and error codes,
//! and the three methods a connector needs.
//!
//! Layout:
//! - [`config`]: [`JdSimConfig`] (app key/secret, access token, vender, limits).
//! - [`jos`]: the protocol pieces: GMT+8 times, the MD5 signature, form decoding,
//!   [`jos::JosError`] (`{"error_response": …}`) and the business `apiResult`.
//! - `api`: the axum router: the admission gate (injected faults, system parameters,
//!   app key, timestamp, signature, access token) and the methods
//!   `jingdong.pop.order.search`, `jingdong.pop.order.get` and
//!   `jingdong.stock.write.updateSkuStock`.
//! - `store`: stored orders and the window listing (newest `modified` first by default,
//!   numbered pages).
//! - [`generate`]: realistic random orders and state transitions (pure, seedable).
//! - `tests`: the gateway over real HTTP.

pub mod config;
pub mod generate;
pub mod jos;

mod api;
mod shipping;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

pub use config::JdSimConfig;
pub use jos::JosError;
pub use shipping::{JdShipped, CARRIERS};

use crate::{time, SimError};
use store::Store;

/// First orderId the simulator hands out (JD order ids are 12–13 digit integers).
const FIRST_ORDER_ID: u64 = 2_300_000_000_001;

/// A failure to inject before the next API requests are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this gateway error (HTTP 200 + `error_response`), e.g.
    /// [`JosError::app_call_limited`] or [`JosError::service_unavailable`].
    Jos(JosError),
    /// Answer with this HTTP status and a plain-text body (a broken gateway or proxy).
    Http(u16),
}

/// One admitted API call, as the gateway received it (after the signature check).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Every form/query parameter, decoded (`360buy_param_json` as its raw text).
    pub params: BTreeMap<String, String>,
    /// `360buy_param_json`, parsed (`null` when absent or not JSON).
    pub business: Value,
}

/// A running simulated gateway. Cheap to clone; every clone drives the same seller. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct JdSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: JdSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    /// The seller's SKUs: skuId → the stock last set through the API (`None`: never set).
    skus: BTreeMap<u64, Option<i64>>,
    faults: VecDeque<Fault>,
    requests: usize,
    calls: Vec<Call>,
    shipments: Vec<JdShipped>,
    next_id: u64,
}

impl JdSim {
    /// Bind `127.0.0.1:0` and serve `/routerjson` in the background.
    pub async fn start(cfg: JdSimConfig) -> Result<JdSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = JdSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State {
                    store: Store::default(),
                    skus: BTreeMap::new(),
                    faults: VecDeque::new(),
                    requests: 0,
                    calls: Vec::new(),
                    shipments: Vec::new(),
                    next_id: FIRST_ORDER_ID,
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("jd simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &JdSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/routerjson`: the API URL to configure a connector with.
    pub fn router_url(&self) -> String {
        format!("{}/routerjson", self.base_url())
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full order JSON (insert or replace by `orderId`); its SKUs become the
    /// seller's. It needs a positive integer `orderId` and `modified` / `orderStartTime`
    /// in `yyyy-MM-dd HH:mm:ss` (GMT+8).
    pub fn insert_order(&self, order: Value) -> Result<u64, SimError> {
        let mut st = self.state();
        let skus = generate::sku_ids(&order);
        let id = st.store.upsert(order)?;
        for sku in skus {
            st.skus.entry(sku).or_insert(None);
        }
        st.next_id = st.next_id.max(id + 1);
        Ok(id)
    }

    /// Change an order with `f`, then bump its `modified` to now (at least one second
    /// after the previous value). Returns the new version, or `None` for an unknown id.
    pub fn update_order(&self, order_id: u64, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(order_id)?;
        let mut json = stored.json.clone();
        let bumped = time::now_ms().max(stored.modified_ms + 1000);
        f(&mut json);
        json["modified"] = Value::String(jos::format_time(bumped));
        st.store
            .upsert(json.clone())
            .expect("an edited order keeps its id and timestamps");
        Some(json)
    }

    /// Move an order one step along its life ([`generate::advance`]) and bump `modified`.
    /// `None` when the id is unknown or the order is final.
    pub fn advance_order(&self, order_id: u64, seed: u64) -> Option<Value> {
        let mut current = self.order(order_id)?;
        generate::advance(&mut current, &mut StdRng::seed_from_u64(seed))?;
        self.update_order(order_id, |o| *o = current)
    }

    /// Generate one order from `seed`, modified at `modified_ms`, store and return it.
    pub fn generate_order(&self, seed: u64, modified_ms: i64) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), modified_ms)
    }

    /// Generate and store `n` orders whose `modified` times are spread evenly over
    /// `[oldest_ms, newest_ms]` (oldest first).
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

    fn generate_with(&self, rng: &mut StdRng, modified_ms: i64) -> Value {
        let id = {
            let mut st = self.state();
            st.next_id += 1;
            st.next_id - 1
        };
        let order = generate::order(rng, id, modified_ms, &self.inner.cfg.vender_id);
        self.insert_order(order.clone())
            .expect("generated orders are well-formed");
        order
    }

    pub fn order(&self, order_id: u64) -> Option<Value> {
        self.state().store.get(order_id).map(|o| o.json.clone())
    }

    /// Every stored order, by id.
    pub fn orders(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// Make `sku_id` one of the seller's SKUs (its stock not set yet).
    pub fn add_sku(&self, sku_id: u64) {
        self.state().skus.entry(sku_id).or_insert(None);
    }

    /// The stock last set for `sku_id` through `jingdong.stock.write.updateSkuStock`;
    /// `None` when never set (or not the seller's SKU).
    pub fn stock(&self, sku_id: u64) -> Option<i64> {
        self.state().skus.get(&sku_id).copied().flatten()
    }

    /// Answer the next `n` API requests with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The calls admitted so far (signature, app key and access token good), oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}
