//! A simulated Taobao open platform (TOP) gateway for one seller: `/router/rest` over
//! real HTTP on `127.0.0.1:0`, MD5-signed requests, TOP's JSON envelopes and error
//! codes, the two trade methods a connector needs and the stock update.
//!
//! Layout:
//! - [`config`]: [`TaobaoSimConfig`] (app key/secret, session, seller, limits).
//! - [`top`]: the protocol pieces: GMT+8 times, the MD5 signature, form decoding,
//!   [`top::TopError`] (`{"error_response": …}`).
//! - `api`: the axum router: the admission gate (injected faults, common parameters,
//!   app key, timestamp, signature, session) and the methods
//!   `taobao.trades.sold.increment.get`, `taobao.trade.fullinfo.get` and
//!   `taobao.item.quantity.update`, and the bill methods of `bills`.
//! - `bills`: the seller's 费用科目 and 账单明细 (`taobao.bill.accounts.get`,
//!   `taobao.bill.bills.get`), billed from finished and refunded trades.
//! - `store`: stored trades and the window listing (newest `modified` first, numbered
//!   pages).
//! - [`items`]: the seller's items, SKUs and quantities (seeded from the stored trades
//!   or [`TaobaoSim::add_item`]) and the log of accepted quantity updates.
//! - `shipping`: `taobao.logistics.offline.send` (whole or split shipments) and the
//!   after-sales edits ([`TaobaoSim::set_refund_status`]); the log of [`Shipped`].
//! - [`generate`]: realistic random trades and status transitions (pure, seedable).
//! - `tests`: the gateway over real HTTP.

pub mod config;
pub mod generate;
pub mod items;
pub mod top;

mod api;
mod bills;
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

pub use bills::ACCOUNTS as BILL_ACCOUNTS;
pub use config::TaobaoSimConfig;
pub use items::QuantityUpdate;
pub use shipping::{Shipped, COMPANIES};
pub use top::TopError;

use crate::{time, SimError};
use items::Items;
use store::Store;

/// First tid the simulator hands out (TOP tids are large integers).
const FIRST_TID: u64 = 3_900_000_000_000_001;

/// A failure to inject before the next API requests are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this TOP error (HTTP 200 + `error_response`), e.g.
    /// [`TopError::app_call_limited`] or [`TopError::remote_service_error`].
    Top(TopError),
    /// Answer with this HTTP status and a plain-text body (a broken gateway or proxy).
    Http(u16),
}

/// One admitted API call, as the gateway received it (after the signature check).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Every parameter, system and business, decoded.
    pub params: BTreeMap<String, String>,
}

/// A running simulated gateway. Cheap to clone; every clone drives the same seller. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct TaobaoSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: TaobaoSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    items: Items,
    faults: VecDeque<Fault>,
    requests: usize,
    calls: Vec<Call>,
    shipments: Vec<Shipped>,
    next_tid: u64,
    bills: bills::Bills,
}

impl TaobaoSim {
    /// Bind `127.0.0.1:0` and serve `/router/rest` in the background.
    pub async fn start(cfg: TaobaoSimConfig) -> Result<TaobaoSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = TaobaoSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State {
                    store: Store::default(),
                    items: Items::default(),
                    faults: VecDeque::new(),
                    requests: 0,
                    calls: Vec::new(),
                    shipments: Vec::new(),
                    next_tid: FIRST_TID,
                    bills: bills::Bills::default(),
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("taobao simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &TaobaoSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/router/rest`: the API URL to configure a connector with.
    pub fn router_url(&self) -> String {
        format!("{}/router/rest", self.base_url())
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way
        // that matters to a simulator; keep serving.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full trade JSON (insert or replace by `tid`). It needs a positive integer
    /// `tid` and a `modified` in TOP's `yyyy-MM-dd HH:mm:ss` (GMT+8). Its sub-orders'
    /// items are listed (see [`items`]).
    pub fn insert_trade(&self, trade: Value) -> Result<u64, SimError> {
        let mut st = self.state();
        let tid = st.store.upsert(trade.clone())?;
        st.items.add_from_trade(&trade, time::now_ms());
        st.next_tid = st.next_tid.max(tid + 1);
        Ok(tid)
    }

    /// Change a trade with `f`, then bump its `modified` to now (at least one second
    /// after the previous value, as a real edit is). Returns the new version, or `None`
    /// for an unknown tid.
    pub fn update_trade(&self, tid: u64, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(tid)?;
        let mut json = stored.json.clone();
        let bumped = time::now_ms().max(stored.modified_ms + 1000);
        f(&mut json);
        json["modified"] = Value::String(top::format_time(bumped));
        st.store
            .upsert(json.clone())
            .expect("an edited trade keeps its tid and timestamps");
        Some(json)
    }

    /// Move a trade one step along its life ([`generate::advance`]) and bump `modified`.
    /// `None` when the tid is unknown or the trade is final.
    pub fn advance_trade(&self, tid: u64, seed: u64) -> Option<Value> {
        let mut current = self.trade(tid)?;
        generate::advance(&mut current, &mut StdRng::seed_from_u64(seed))?;
        self.update_trade(tid, |t| *t = current)
    }

    /// Generate one trade from `seed`, modified at `modified_ms`, store and return it.
    pub fn generate_trade(&self, seed: u64, modified_ms: i64) -> Value {
        self.generate_with(&mut StdRng::seed_from_u64(seed), modified_ms)
    }

    /// Generate and store `n` trades whose `modified` times are spread evenly over
    /// `[oldest_ms, newest_ms]` (oldest first).
    pub fn generate_trades(
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
        let mut st = self.state();
        let tid = st.next_tid;
        st.next_tid += 1;
        let trade = generate::trade(rng, tid, modified_ms, &self.inner.cfg.seller_nick);
        st.items.add_from_trade(&trade, time::now_ms());
        st.store
            .upsert(trade.clone())
            .expect("generated trades are well-formed");
        trade
    }

    pub fn trade(&self, tid: u64) -> Option<Value> {
        self.state().store.get(tid).map(|t| t.json.clone())
    }

    /// Every stored trade, by tid.
    pub fn trades(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// Answer the next `n` API requests with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The calls admitted so far (signature, app key and session good), oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}
