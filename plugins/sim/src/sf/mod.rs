//! A simulated SF Express open platform (顺丰开放平台, "sfapi" standard service) for one
//! customer (`partnerID`): `POST /std/service` over real HTTP on `127.0.0.1:0`, forms with
//! `partnerID`, `requestID`, `serviceCode`, `timestamp`, `msgData` (a JSON string) and
//! `msgDigest` = Base64(MD5(URLEncode(msgData + timestamp + checkWord))), answered in SF's
//! envelope `{apiResultCode, apiErrorMsg, apiResponseID, apiResultData}` whose
//! `apiResultData` is itself a JSON string `{success, errorCode, errorMsg, msgData}`.
//!
//! Layout:
//! - this file: [`SfSim`] (start, the admin handle: [`SfSim::advance`] appends a route
//!   scan, [`SfSim::return_to_sender`] scripts a failed-delivery-and-return history,
//!   [`SfSim::fail_next`] injects faults), [`SfSimConfig`], [`digest`].
//! - `api`: the router: the admission gate (injected faults, required parameters,
//!   partner, service code, timestamp, digest) and the services
//!   `EXP_RECE_CREATE_ORDER`, `EXP_RECE_SEARCH_ORDER_RESP`, `EXP_RECE_UPDATE_ORDER`,
//!   `EXP_RECE_SEARCH_ROUTES`, `EXP_RECE_QUERY_DELIVERTM`, `COM_RECE_CLOUD_PRINT_WAYBILLS`
//!   and the label download `GET /print-file/{file}` (header `X-Auth-token`).
//! - [`pdf`]: the minimal real PDF the cloud print renders.
//! - `tests`: the gateway over real HTTP.

mod api;
pub mod pdf;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::Value;

use crate::{time, SimError};

/// The first waybill number handed out: "SF" + 13 digits, like SF's own.
const FIRST_WAYBILL: u64 = 1_440_000_000_001;

/// The customer the simulator serves.
#[derive(Debug, Clone)]
pub struct SfSimConfig {
    /// 顾客编码 (`partnerID`).
    pub partner_id: String,
    /// 校验码 (`checkWord`): signs every request, never sent.
    pub check_word: String,
    /// The monthly account (月结卡号); when set, a `monthlyCard` other than it is refused.
    pub month_card: Option<String>,
    /// How far `timestamp` may be from the simulator's clock (A1002 beyond).
    pub max_clock_skew_ms: i64,
}

impl Default for SfSimConfig {
    fn default() -> Self {
        SfSimConfig {
            partner_id: "WHARFSFTEST".into(),
            check_word: "sim-check-word-0123456789abcdef".into(),
            month_card: Some("7551234567".into()),
            max_clock_skew_ms: 10 * 60_000,
        }
    }
}

/// A failure to inject before the next requests are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this platform result code (HTTP 200), e.g. `A1005` 流量受控.
    Api { code: String, message: String },
    /// Answer with this HTTP status and a plain-text body (a broken gateway).
    Http(u16),
}

impl Fault {
    /// `A1005 流量受控`: the per-interface flow limit.
    pub fn flow_limited() -> Fault {
        Fault::Api {
            code: "A1005".into(),
            message: "流量受控".into(),
        }
    }
    /// `A1099 系统异常`.
    pub fn system_error() -> Fault {
        Fault::Api {
            code: "A1099".into(),
            message: "系统异常".into(),
        }
    }
}

/// One admitted call (digest good), as received.
#[derive(Debug, Clone)]
pub struct Call {
    pub service_code: String,
    pub request_id: String,
    /// `msgData`, parsed (`null` when not JSON).
    pub msg_data: Value,
}

/// One route scan of a waybill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub accept_ms: i64,
    pub accept_address: String,
    pub remark: String,
    pub op_code: String,
}

/// A booked shipment as the simulator keeps it.
#[derive(Debug, Clone)]
pub struct Waybill {
    pub order_id: String,
    pub waybill_no: String,
    pub express_type_id: String,
    /// The `contactInfoList` entries as sent (sender `contactType` 1, receiver 2).
    pub sender: Value,
    pub receiver: Value,
    pub monthly_card: Option<String>,
    pub cancelled: bool,
    pub routes: Vec<Route>,
}

/// A running simulated SF gateway. Cheap to clone; every clone drives the same customer.
/// The server runs until the Tokio runtime that started it shuts down.
#[derive(Clone)]
pub struct SfSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: SfSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    /// waybill number → shipment.
    waybills: BTreeMap<String, Waybill>,
    /// customer order id → waybill number.
    by_order: BTreeMap<String, String>,
    /// print-file token → waybill number.
    print_tokens: BTreeMap<String, String>,
    faults: VecDeque<Fault>,
    requests: usize,
    calls: Vec<Call>,
    next_no: u64,
}

/// The standard description and place of a route scan the simulator writes for `op_code`.
pub fn route_text(op_code: &str) -> (&'static str, &'static str) {
    match op_code {
        "50" => ("顺丰速运 已收取快件", "深圳市"),
        "30" => ("快件在【深圳华南中转场】完成分拣，准备发往下一站", "深圳市"),
        "36" => (
            "快件离开【深圳华南中转场】，已发往【杭州转运中心】",
            "深圳市",
        ),
        "31" => ("快件到达【杭州转运中心】", "杭州市"),
        "130" => ("快件到达【杭州西湖营业点】", "杭州市"),
        "44" => ("正在派送途中，请您准备签收", "杭州市"),
        "204" => ("快件派送中", "杭州市"),
        "80" => ("已签收，感谢使用顺丰，期待再次为您服务", "杭州市"),
        "70" => ("快件派送不成功，收方客户拒收", "杭州市"),
        "33" => ("快件派送异常，已滞留网点", "杭州市"),
        "99" => ("快件已退回", "深圳市"),
        "648" => ("快件已退回，正在返回寄件人", "杭州市"),
        "8000" => ("订单已完结", "深圳市"),
        _ => ("快件状态更新", "深圳市"),
    }
}

/// SF's digest: Base64(MD5(URLEncode(msgData + timestamp + checkWord))), the URL encoding
/// being Java's `URLEncoder` in UTF-8 (space as `+`; `*`, `-`, `.`, `_` kept).
pub fn digest(msg_data: &str, timestamp: &str, check_word: &str) -> String {
    let text = java_url_encode(&format!("{msg_data}{timestamp}{check_word}"));
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(text.as_bytes()))
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl SfSim {
    /// Bind `127.0.0.1:0` and serve `/std/service` in the background.
    pub async fn start(cfg: SfSimConfig) -> Result<SfSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = SfSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State {
                    next_no: FIRST_WAYBILL,
                    ..State::default()
                }),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("sf simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &SfSimConfig {
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

    /// The shipment behind a waybill number.
    pub fn waybill(&self, waybill_no: &str) -> Option<Waybill> {
        self.state().waybills.get(waybill_no).cloned()
    }

    /// Every shipment, by waybill number.
    pub fn waybills(&self) -> Vec<Waybill> {
        self.state().waybills.values().cloned().collect()
    }

    /// Append a route scan with `op_code` (SF's operation code, e.g. "50" collected, "44"
    /// out for delivery, "80" signed) one minute after the previous one. Refused for an
    /// unknown or cancelled waybill.
    pub fn advance(&self, waybill_no: &str, op_code: &str) -> Result<Route, SimError> {
        let mut st = self.state();
        let w = st
            .waybills
            .get_mut(waybill_no)
            .ok_or_else(|| SimError::InvalidOrder(format!("no waybill {waybill_no}")))?;
        if w.cancelled {
            return Err(SimError::InvalidOrder(format!(
                "waybill {waybill_no} is cancelled"
            )));
        }
        let (remark, place) = route_text(op_code);
        let at = w
            .routes
            .last()
            .map(|r| r.accept_ms + 60_000)
            .unwrap_or_else(|| time::now_ms() - 3_600_000)
            / 1000
            * 1000;
        let route = Route {
            accept_ms: at,
            accept_address: place.into(),
            remark: remark.into(),
            op_code: op_code.into(),
        };
        w.routes.push(route.clone());
        Ok(route)
    }

    /// Script a refused delivery and the return to the sender: collected, sorted, out for
    /// delivery, refused (70), returned (99), order closed (8000).
    pub fn return_to_sender(&self, waybill_no: &str) -> Result<(), SimError> {
        for op in ["50", "30", "31", "44", "70", "99", "8000"] {
            self.advance(waybill_no, op)?;
        }
        Ok(())
    }

    /// Answer the next `n` requests with `fault`, before any other check.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.state().faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Requests received so far (including refused ones and label downloads).
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The calls admitted so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}
