//! A simulated Kuaidi100 (快递100) real-time tracking query for one enterprise account:
//! `POST /poll/query.do` over real HTTP on `127.0.0.1:0`, a form with `customer`, `param`
//! (JSON `{com, num, phone?, resultv2?, order?}`) and `sign` = upper-case hex
//! MD5(param + key + customer); answers `{message, nu, ischeck, condition, com, status:
//! "200", state, data: [{time, ftime, context, location?, status?}]}` or the error shape
//! `{result: false, returnCode, message}`.
//!
//! Layout:
//! - this file: [`Kuaidi100Sim`] and its admin handle ([`Kuaidi100Sim::register`] a
//!   parcel, [`Kuaidi100Sim::advance`] it to a `state`, [`Kuaidi100Sim::return_to_sender`]
//!   scripts a refused-and-returned history, [`Kuaidi100Sim::fail_next`]), [`sign`], the
//!   state words ([`STATES`]).
//! - `api`: the router: the checks (fields, customer, signature, company, phone) in the
//!   platform's `returnCode`s and the query answer.
//! - `tests`: the endpoint over real HTTP.

mod api;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use md5::{Digest, Md5};

use crate::{time, SimError};

/// Every `state` Kuaidi100 documents, with the word its `resultv2` items carry.
pub const STATES: [(&str, &str); 13] = [
    ("0", "在途"),
    ("1", "揽收"),
    ("2", "疑难"),
    ("3", "签收"),
    ("4", "退签"),
    ("5", "派件"),
    ("6", "退回"),
    ("7", "转投"),
    ("10", "待清关"),
    ("11", "清关中"),
    ("12", "已清关"),
    ("13", "清关异常"),
    ("14", "拒签"),
];

/// The company codes the simulator knows (Kuaidi100's lower-case `com` codes).
pub const COMPANIES: [&str; 9] = [
    "shunfeng",
    "yuantong",
    "zhongtong",
    "shentong",
    "yunda",
    "jd",
    "ems",
    "youzhengguonei",
    "jtexpress",
];

/// The enterprise account the simulator serves.
#[derive(Debug, Clone)]
pub struct Kuaidi100SimConfig {
    /// The account's `customer` code.
    pub customer: String,
    /// The authorisation `key`: signs every query, never sent.
    pub key: String,
}

impl Default for Kuaidi100SimConfig {
    fn default() -> Self {
        Kuaidi100SimConfig {
            customer: "WHARFK100CUSTOMER0001".into(),
            key: "sim-kuaidi100-key".into(),
        }
    }
}

/// A failure to inject before the next queries are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer `{result: false, returnCode, message}` (HTTP 200).
    Code { code: String, message: String },
    /// Answer with this HTTP status and a plain-text body.
    Http(u16),
}

impl Fault {
    /// `502 服务器繁忙`: the account is querying too fast.
    pub fn busy() -> Fault {
        Fault::Code {
            code: "502".into(),
            message: "服务器繁忙，请稍后再试".into(),
        }
    }
    /// `501 服务器错误`.
    pub fn server_error() -> Fault {
        Fault::Code {
            code: "501".into(),
            message: "服务器错误".into(),
        }
    }
}

/// One scan of a parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub at_ms: i64,
    /// The Kuaidi100 `state` this scan put the parcel in.
    pub state: String,
    pub context: String,
    pub location: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Parcel {
    phone: Option<String>,
    scans: Vec<Scan>,
}

/// One admitted query (signature good), as received.
#[derive(Debug, Clone)]
pub struct Query {
    pub com: String,
    pub num: String,
    pub phone: Option<String>,
    pub resultv2: Option<String>,
}

/// A running simulated Kuaidi100 endpoint; cheap to clone. The server runs until the
/// Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct Kuaidi100Sim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Kuaidi100SimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    /// (com, num) → parcel.
    parcels: BTreeMap<(String, String), Parcel>,
    faults: VecDeque<Fault>,
    requests: usize,
    queries: Vec<Query>,
}

/// Kuaidi100's query signature: MD5(param + key + customer), upper-case hex.
pub fn sign(param: &str, key: &str, customer: &str) -> String {
    hex::encode_upper(Md5::digest(format!("{param}{key}{customer}").as_bytes()))
}

/// The word of a `state` code (`None` for a code Kuaidi100 does not document).
pub fn state_word(state: &str) -> Option<&'static str> {
    STATES.iter().find(|(c, _)| *c == state).map(|(_, w)| *w)
}

fn scan_text(state: &str) -> (&'static str, &'static str) {
    match state {
        "1" => ("【深圳市】快递员 已揽收", "深圳市"),
        "0" => ("【杭州市】快件已到达 杭州转运中心", "杭州市"),
        "2" => ("【杭州市】快件地址不详，请联系收件人", "杭州市"),
        "3" => ("【杭州市】已签收，签收人：本人", "杭州市"),
        "4" => ("【深圳市】退回件已签收", "深圳市"),
        "5" => ("【杭州市】快递员正在派件", "杭州市"),
        "6" => ("【杭州市】快件已退回，正在返回寄件人", "杭州市"),
        "7" => ("【杭州市】快件已转投其他网点", "杭州市"),
        "14" => ("【杭州市】收件人拒签", "杭州市"),
        "10" => ("【上海市】快件待清关", "上海市"),
        "11" => ("【上海市】快件清关中", "上海市"),
        "12" => ("【上海市】快件已清关", "上海市"),
        "13" => ("【上海市】快件清关异常", "上海市"),
        _ => ("快件状态更新", ""),
    }
}

impl Kuaidi100Sim {
    /// Bind `127.0.0.1:0` and serve `/poll/query.do` in the background.
    pub async fn start(cfg: Kuaidi100SimConfig) -> Result<Kuaidi100Sim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = Kuaidi100Sim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State::default()),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("kuaidi100 simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &Kuaidi100SimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: the `base_url` to configure a connector with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Make a parcel of company `com` known (no scans yet: queries answer 500 查询无结果
    /// until it is advanced). `phone` is what a `shunfeng` query must match (last four
    /// digits suffice).
    pub fn register(&self, com: &str, num: &str, phone: Option<&str>) -> Result<(), SimError> {
        if !COMPANIES.contains(&com) {
            return Err(SimError::InvalidOrder(format!("unknown company {com}")));
        }
        self.state()
            .parcels
            .entry((com.to_string(), num.to_string()))
            .or_default()
            .phone = phone.map(String::from);
        Ok(())
    }

    /// Append a scan putting parcel `num` in `state` (a documented Kuaidi100 state code),
    /// one minute after the previous scan. Refused for an unknown parcel or state.
    pub fn advance(&self, num: &str, state: &str) -> Result<Scan, SimError> {
        if state_word(state).is_none() {
            return Err(SimError::InvalidOrder(format!("unknown state {state}")));
        }
        let mut st = self.state();
        let parcel = st
            .parcels
            .iter_mut()
            .find(|((_, n), _)| n == num)
            .map(|(_, p)| p)
            .ok_or_else(|| SimError::InvalidOrder(format!("no parcel {num}")))?;
        let at = parcel
            .scans
            .last()
            .map(|s| s.at_ms + 60_000)
            .unwrap_or_else(|| time::now_ms() - 3_600_000)
            / 1000
            * 1000;
        let (context, location) = scan_text(state);
        let scan = Scan {
            at_ms: at,
            state: state.into(),
            context: context.into(),
            location: location.into(),
        };
        parcel.scans.push(scan.clone());
        Ok(scan)
    }

    /// Script a refused delivery and its return: collected, in transit, out for delivery,
    /// refused (14), returned (6), returned-signed (4).
    pub fn return_to_sender(&self, num: &str) -> Result<(), SimError> {
        for s in ["1", "0", "5", "14", "6", "4"] {
            self.advance(num, s)?;
        }
        Ok(())
    }

    /// Answer the next `n` queries with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Queries received so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The queries admitted so far, oldest first.
    pub fn queries(&self) -> Vec<Query> {
        self.state().queries.clone()
    }
}
