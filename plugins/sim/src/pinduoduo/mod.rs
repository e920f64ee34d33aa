//! A simulated Pinduoduo open platform for one app and one shop: `POST /api/router`
//! (form or JSON body, MD5-signed common parameters) over real HTTP on `127.0.0.1:0`.
//!
//! Layout:
//! - [`config`]: [`PddSimConfig`], [`AmountStyle`].
//! - `api`: the router: parameter parsing, admission (injected failure, client_id,
//!   timestamp, sign, access_token, rate limit), the two order APIs and
//!   `pdd.goods.quantity.update`.
//! - [`error`]: [`PddError`] and its `error_response` body.
//! - `store`: orders by `order_sn` and the newest-first increment listing.
//! - [`goods`]: the shop's goods, SKUs and quantities (seeded from the stored orders or
//!   [`PddSim::add_goods`]) and the log of accepted quantity updates.
//! - `shipping`: `pdd.logistics.online.send` and the log of [`PddShipped`].
//! - [`generate`]: realistic random orders (pure, seedable).
//! - `json`: responses with amounts written as JSON numbers without floats.
//! - this file: the [`PddSim`] handle, PDD's China-time timestamps, signing and the
//!   receiver ciphertext.

pub mod config;
pub mod error;
pub mod generate;
pub mod goods;

mod api;
mod json;
mod shipping;
mod store;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use md5::{Digest, Md5};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

pub use config::{AmountStyle, PddSimConfig};
pub use error::PddError;
pub use goods::QuantityUpdate;
pub use shipping::{PddShipped, COMPANIES};

use crate::{time, SimError};
use goods::Goods;
use store::Store;

/// The host name of the real open platform.
pub const HOST: &str = "gw-api.pinduoduo.com";
/// The router path.
pub const ROUTER_PATH: &str = "/api/router";
/// First serial of generated order numbers (15 digits).
const FIRST_SERIAL: u64 = 100_000_000_000_001;

/// What the next API requests are answered with, before any other check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A bare HTTP status (e.g. 502 from the gateway), not a PDD answer.
    Http(u16),
    /// A PDD `error_response`.
    Pdd(PddError),
}

/// A running simulated platform. Cheap to clone; every clone drives the same shop. The
/// server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct PddSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: PddSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

pub(crate) struct State {
    store: Store,
    goods: Goods,
    failures: VecDeque<Failure>,
    requests: usize,
    /// `type` of every call that passed admission, in order.
    calls: Vec<String>,
    shipments: Vec<PddShipped>,
    token_revoked: bool,
    /// (wall-clock second, calls in it) for the rate limit.
    rate: (i64, u32),
    next_serial: u64,
    next_request_id: u64,
}

pub use crate::common::{format_gmt8 as format_time, md5_sign as sign, parse_gmt8 as parse_time};

/// Deterministic ciphertext in PDD's shapes: `$…$` for phones, `~…~` otherwise.
pub fn encrypt(field: &str, plain: &str) -> String {
    if plain.is_empty() {
        return String::new();
    }
    let digest = Md5::digest(format!("{field}:{plain}").as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD
        .encode([&[2u8, 0, 0, 0, 0, 0][..], &digest[..]].concat());
    let tag = hex::encode(&digest[..4]);
    let d = if field.contains("phone") { '$' } else { '~' };
    format!("{d}{b64}{d}{tag}{d}1{d}{d}")
}

/// The receiver fields PDD encrypts.
pub const ENCRYPTED_FIELDS: [&str; 4] = [
    "receiver_name",
    "receiver_phone",
    "address",
    "receiver_address",
];

/// An order as the API shows it: with `encrypt_awaiting_shipment`, the receiver fields of
/// an order awaiting shipment (`order_status` 1) are replaced by their ciphertext.
pub fn present(mut order: Value, encrypt_awaiting_shipment: bool) -> Value {
    let awaiting = order.get("order_status").and_then(Value::as_i64) == Some(1);
    if encrypt_awaiting_shipment && awaiting {
        for field in ENCRYPTED_FIELDS {
            if let Some(plain) = order.get(field).and_then(Value::as_str) {
                let cipher = encrypt(field, plain);
                order[field] = Value::String(cipher);
            }
        }
    }
    order
}

/// Serialise a response value as the simulator sends it (amounts per `style`).
pub fn render(v: &Value, style: AmountStyle) -> String {
    json::to_string(v, style)
}

impl PddSim {
    /// Bind `127.0.0.1:0` and serve the router in the background.
    pub async fn start(cfg: PddSimConfig) -> Result<PddSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = PddSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State {
                    store: Store::default(),
                    goods: Goods::default(),
                    failures: VecDeque::new(),
                    requests: 0,
                    calls: Vec::new(),
                    shipments: Vec::new(),
                    token_revoked: false,
                    rate: (0, 0),
                    next_serial: FIRST_SERIAL,
                    next_request_id: 1,
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("pinduoduo simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &PddSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/api/router`: the `api_url` to configure a connector with.
    pub fn router_url(&self) -> String {
        format!("{}{ROUTER_PATH}", self.base_url())
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Store a full order JSON (insert or replace by `order_sn`); receivers in plaintext.
    /// Its `item_list` SKUs are listed (see [`goods`]).
    pub fn insert_order(&self, order: Value) -> Result<String, SimError> {
        let mut st = self.state();
        let sn = st.store.upsert(order.clone())?;
        st.goods.add_from_order(&order);
        Ok(sn)
    }

    /// Change an order with `f`, then bump its `updated_at` to now (at least one second
    /// later than before, as a real change is). Returns the new version, or `None` for an
    /// unknown order number.
    pub fn update_order(&self, sn: &str, f: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut st = self.state();
        let stored = st.store.get(sn)?;
        let mut json = stored.json.clone();
        let bumped_s = (time::now_ms().div_euclid(1000)).max(stored.updated_s + 1);
        f(&mut json);
        json["updated_at"] = Value::String(format_time(bumped_s * 1000));
        st.store
            .upsert(json.clone())
            .expect("an edited order keeps its number and timestamps");
        Some(json)
    }

    /// Generate one order (see [`generate::order`]) updated at `updated_ms`, store it and
    /// return it.
    pub fn generate_order_at(&self, seed: u64, updated_ms: i64) -> Value {
        let mut rng = StdRng::seed_from_u64(seed);
        self.generate_with(&mut rng, updated_ms)
    }

    /// Generate and store `n` orders updated at evenly spread times in
    /// `[from_ms, to_ms)`, oldest first.
    pub fn generate_orders_between(
        &self,
        n: usize,
        seed: u64,
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<Value> {
        let mut rng = StdRng::seed_from_u64(seed);
        let span = (to_ms - from_ms).max(1);
        (0..n)
            .map(|i| self.generate_with(&mut rng, from_ms + span * i as i64 / n.max(1) as i64))
            .collect()
    }

    /// Generate and store `n` orders updated over the last six hours, ending ten minutes
    /// ago (so a pull with its safety lag sees them all).
    pub fn generate_orders(&self, n: usize, seed: u64) -> Vec<Value> {
        let now = time::now_ms();
        self.generate_orders_between(n, seed, now - 6 * 3_600_000, now - 600_000)
    }

    fn generate_with(&self, rng: &mut StdRng, updated_ms: i64) -> Value {
        let mut st = self.state();
        let serial = st.next_serial;
        st.next_serial += 1;
        let date = format_time(updated_ms);
        let sn = format!("{}{}{}-{serial}", &date[2..4], &date[5..7], &date[8..10]);
        let order = generate::order(rng, &sn, updated_ms);
        st.goods.add_from_order(&order);
        st.store
            .upsert(order.clone())
            .expect("generated orders are well-formed");
        order
    }

    /// An order as stored (receivers in plaintext).
    pub fn order(&self, sn: &str) -> Option<Value> {
        self.state().store.get(sn).map(|o| o.json.clone())
    }

    /// Every stored order, by order number.
    pub fn orders(&self) -> Vec<Value> {
        self.state().store.all()
    }

    /// Answer the next `n` API requests with `failure` before any other check.
    pub fn fail_next(&self, n: usize, failure: Failure) {
        self.state()
            .failures
            .extend(std::iter::repeat_n(failure, n));
    }

    /// The merchant revoked the app's authorisation: every later call is error 10019.
    pub fn revoke_access_token(&self) {
        self.state().token_revoked = true;
    }

    /// API requests received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The `type` of every call that passed admission, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // China time formats and parses back to the same instant, eight hours ahead of UTC.
    #[test]
    fn china_time_round_trips() {
        let ms = 1_711_936_800_000; // 2024-04-01T02:00:00Z
        assert_eq!(format_time(ms), "2024-04-01 10:00:00");
        assert_eq!(parse_time("2024-04-01 10:00:00"), Some(ms));
        for bad in [
            "2024-04-01T10:00:00",
            "2024-04-01 10:00",
            "2024-04-01 10:00:00Z",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    // The signature ignores `sign` itself and the order of parameters.
    #[test]
    fn sign_sorts_and_skips_sign() {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let a = sign("s", &p(&[("b", "2"), ("a", "1")]));
        let b = sign("s", &p(&[("a", "1"), ("sign", "X"), ("b", "2")]));
        assert_eq!(a, b);
        assert_eq!(a, hex::encode_upper(Md5::digest(b"sa1b2s")));
    }

    // Ciphertext is deterministic, in PDD's delimiters, and never contains the plaintext.
    #[test]
    fn ciphertext_shapes() {
        let name = encrypt("receiver_name", "张伟");
        assert!(
            name.starts_with("~AgAAAA") && name.ends_with("~~"),
            "{name}"
        );
        assert_eq!(name, encrypt("receiver_name", "张伟"));
        assert!(!name.contains("张伟"));
        let phone = encrypt("receiver_phone", "13800138000");
        assert!(phone.starts_with('$') && phone.ends_with('$') && !phone.contains("13800138000"));
        assert_eq!(encrypt("address", ""), "");
    }
}
