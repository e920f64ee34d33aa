//! A simulated doudian (抖店) open platform for one app and one shop: POST
//! `/{method with '.' → '/'}` (e.g. `/order/searchList`) over real HTTP on
//! `127.0.0.1:0`, HMAC-SHA256 (or MD5) signed calls, doudian's answer envelope and error
//! codes, and the order and stock methods a connector needs.
//!
//! Layout:
//! - [`config`]: [`DouyinSimConfig`] (app key/secret, access token, shop, limits).
//! - [`protocol`]: canonical `param_json`, the signature, timestamps,
//!   [`protocol::DoudianError`] (`{"code", "msg", "sub_code", "sub_msg", "data", "log_id"}`).
//! - `api`: the axum router: the admission gate (injected faults, path = method,
//!   app key, version, timestamp, signature, access token) and the methods
//!   `order.searchList`, `order.orderDetail`, `sku.syncStock`.
//! - `settle`: settle bills (`order.getSettleBillDetailV3`, cursor paging with
//!   `start_index` / `start_time`) generated from completed and refunded orders.
//! - `store`: orders by id and the update-time window listing (newest first, 0-based
//!   pages); the last stock set per SKU.
//! - `shipping`: `order.logisticsAdd` and the log of [`DouyinShipped`].
//! - [`generate`]: realistic random orders and status transitions (pure, seedable).
//! - `tests`: the gateway over real HTTP.

pub mod config;
pub mod generate;
pub mod protocol;

mod api;
mod settle;
mod shipping;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

pub use config::DouyinSimConfig;
pub use protocol::DoudianError;
pub use shipping::{DouyinShipped, COMPANIES};

use crate::{time, SimError};
use store::Store;

/// The host name of the real open platform.
pub const HOST: &str = "openapi-fxg.jinritemai.com";
/// First shop order id the simulator hands out (doudian ids are 19 digits). Ids step by
/// 10 so the sku orders of a shop order take the ids after it.
const FIRST_ORDER_ID: u64 = 6_919_000_000_000_000_010;

/// A failure to inject before the next API requests are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this doudian error (HTTP 200 + the error envelope), e.g.
    /// [`DoudianError::flow_limited`] or [`DoudianError::service_unavailable`].
    Doudian(DoudianError),
    /// Answer with this HTTP status and a plain-text body (a broken gateway or proxy).
    Http(u16),
}

/// One admitted API call, as the gateway received it (after the signature check).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The query parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// `param_json`, parsed.
    pub params: Value,
}

/// A running simulated platform. Cheap to clone; every clone drives the same shop. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct DouyinSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: DouyinSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    faults: VecDeque<Fault>,
    requests: usize,
    calls: Vec<Call>,
    shipments: Vec<DouyinShipped>,
    next_id: u64,
    settlements: settle::Settlements,
}

impl DouyinSim {
    /// Bind `127.0.0.1:0` and serve the gateway in the background.
    pub async fn start(cfg: DouyinSimConfig) -> Result<DouyinSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = DouyinSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State {
                    store: Store::default(),
                    faults: VecDeque::new(),
                    requests: 0,
                    calls: Vec::new(),
                    shipments: Vec::new(),
                    next_id: FIRST_ORDER_ID,
                    settlements: settle::Settlements::default(),
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("doudian simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &DouyinSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: the API URL to configure a connector with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full order JSON (insert or replace by `order_id`). It needs a digit-string
    /// `order_id` and `create_time` / `update_time` in Unix seconds.
    pub fn insert_order(&self, order: Value) -> Result<u64, SimError> {
        let mut st = self.state();
        let id = st.store.upsert(order)?;
        st.next_id = st.next_id.max((id / 10 + 1) * 10);
        Ok(id)
    }

    /// Change an order with `f`, then bump its `update_time` to now (at least one second
    /// after the previous value, as a real edit is). Returns the new version, or `None`
    /// for an unknown id.
    pub fn update_order(&self, id: u64, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(id)?;
        let mut order = stored.json.clone();
        let bumped = (time::now_ms().div_euclid(1000)).max(stored.update_time + 1);
        f(&mut order);
        order["update_time"] = json!(bumped);
        if let Some(skus) = order["sku_order_list"].as_array_mut() {
            for s in skus {
                s["update_time"] = json!(bumped);
            }
        }
        st.store
            .upsert(order.clone())
            .expect("an edited order keeps its id and times");
        Some(order)
    }

    /// Move an order one step along its life ([`generate::advance`]) and bump
    /// `update_time`. `None` when the id is unknown or the order is final.
    pub fn advance_order(&self, id: u64, seed: u64) -> Option<Value> {
        let mut current = self.order(id)?;
        generate::advance(&mut current, &mut StdRng::seed_from_u64(seed))?;
        self.update_order(id, |o| *o = current)
    }

    /// Generate one order from `seed`, updated at `update_ms`, store and return it.
    pub fn generate_order(&self, seed: u64, update_ms: i64) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), update_ms)
    }

    /// Generate and store `n` orders whose `update_time`s are spread evenly over
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

    fn generate_with(&self, rng: &mut StdRng, update_ms: i64) -> Value {
        let mut st = self.state();
        let id = st.next_id;
        st.next_id += 10;
        let order = generate::order(rng, id, update_ms, self.inner.cfg.shop_id);
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

    /// Make a SKU known to the shop (generated orders register theirs), with merchant
    /// `code` (may be empty).
    pub fn add_sku(&self, sku_id: u64, code: &str) {
        self.state().store.add_sku(sku_id, code);
    }

    /// The last `stock_num` `sku.syncStock` set for a SKU (0 until one is set); `None` for
    /// a SKU the shop does not sell.
    pub fn stock(&self, sku_id: u64) -> Option<i64> {
        self.state().store.stock(sku_id)
    }

    /// Answer the next `n` API requests with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The calls admitted so far (signature, app key and token good), oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}
