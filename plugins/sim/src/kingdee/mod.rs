//! A simulated Kingdee Cloud Galaxy (金蝶云·星空, K/3 Cloud) WebAPI for one data centre
//! and one account book, over real HTTP on `127.0.0.1:0`.
//!
//! Layout:
//! - `api`: the axum router under `/K3Cloud/`: `…AuthService.ValidateUser.common.kdsvc`
//!   (acctID / username / password / lcid → `LoginResultType`, `KDSVCSessionId` and the
//!   `kdservice-sessionid` cookie), `…DynamicFormService.Save.common.kdsvc` for
//!   `GL_VOUCHER` (book, voucher word, accounts, amounts and balance validated, errors in
//!   Kingdee's `{"Result": {"ResponseStatus": {"IsSuccess", "Errors": [{"FieldName",
//!   "Message"}]}}}` shape) and `…ExecuteBillQuery.common.kdsvc` (rows of the asked
//!   `FieldKeys`, `FilterString` of `field='value'` clauses joined by `and`). Service
//!   names match case-insensitively, as IIS does.
//! - this file: the [`KingdeeSim`] handle: stored vouchers, live sessions, logins, and
//!   injected [`Fault`]s.
//! - `tests`: the simulator over real HTTP.
//!
//! Numbering: a voucher gets internal id 100001, 100002, … and a number per (book,
//! voucher word, month) starting at 1, shown as `记-0001`. Amounts are kept as integer
//! minor units of the book's currency (exponent [`KingdeeSimConfig::digits`]); an amount
//! with more decimals is refused, as a voucher field of that precision would.

mod api;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::SimError;

/// The data centre, user, book and chart of accounts the simulator knows.
#[derive(Debug, Clone)]
pub struct KingdeeSimConfig {
    pub acct_id: String,
    pub username: String,
    pub password: String,
    /// `FAccountBookID.FNumber`.
    pub account_book: String,
    /// Decimal digits of the book's currency (2 for CNY).
    pub digits: u32,
    /// Known account numbers (`FACCOUNTID.FNumber`).
    pub accounts: BTreeSet<String>,
    /// Voucher word number → name (`PRE001` → `记`).
    pub voucher_groups: BTreeMap<String, String>,
    /// A header field whose value must be unique among vouchers (Kingdee's bill-number
    /// uniqueness check), `FBillNo` by default; `None` to accept duplicates.
    pub unique_field: Option<String>,
}

impl Default for KingdeeSimConfig {
    fn default() -> Self {
        KingdeeSimConfig {
            acct_id: "62f0c0a1d2e3f4".into(),
            username: "wharf-api".into(),
            password: "Kd#2024!secret".into(),
            account_book: "001".into(),
            digits: 2,
            accounts: ["1002", "1122", "6001", "6051", "6601.05", "6001.99"]
                .into_iter()
                .map(String::from)
                .collect(),
            voucher_groups: BTreeMap::from([
                ("PRE001".to_string(), "记".to_string()),
                ("PRE002".to_string(), "收".to_string()),
            ]),
            unique_field: Some("FBillNo".into()),
        }
    }
}

/// A failure to inject into the next matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Drop every live session before the next non-login request (it finds its session
    /// gone).
    ExpireSessions,
    /// Answer the next non-login request with this HTTP status (e.g. 503), doing nothing.
    Server(u16),
    /// Commit the next Save, then answer 502 as a gateway that lost the response would.
    LostResponse,
}

/// One entry of a stored voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEntry {
    pub explanation: String,
    pub account: String,
    /// Minor units of the book's currency.
    pub debit: i64,
    pub credit: i64,
}

/// A stored voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimVoucher {
    pub id: i64,
    pub book: String,
    pub group: String,
    /// Number within (book, word, month).
    pub no: u32,
    /// `记-0001`.
    pub number: String,
    pub date: String,
    /// The header's other string fields (e.g. `FBillNo`).
    pub fields: BTreeMap<String, String>,
    pub entries: Vec<SimEntry>,
}

/// A running simulated K/3 Cloud. Cheap to clone; every clone drives the same ERP.
#[derive(Clone)]
pub struct KingdeeSim {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: KingdeeSimConfig,
    addr: SocketAddr,
    state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    sessions: HashSet<String>,
    faults: VecDeque<Fault>,
    vouchers: Vec<SimVoucher>,
    logins: usize,
    /// Service names called (lower case, without `.common.kdsvc`), in order.
    calls: Vec<String>,
    minted: u64,
}

impl KingdeeSim {
    /// Bind `127.0.0.1:0` and serve in the background.
    pub async fn start(cfg: KingdeeSimConfig) -> Result<KingdeeSim, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sim = KingdeeSim {
            inner: Arc::new(Inner {
                cfg,
                addr,
                state: Mutex::new(State::default()),
            }),
        };
        let app = api::router(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("kingdee simulator on {addr} stopped: {e}");
            }
        });
        Ok(sim)
    }

    pub fn config(&self) -> &KingdeeSimConfig {
        &self.inner.cfg
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT/K3Cloud`: the WebAPI base a plugin is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}/K3Cloud", self.inner.addr)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Inject a fault for a coming request (queued in order).
    pub fn push_fault(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// Every stored voucher, oldest first.
    pub fn vouchers(&self) -> Vec<SimVoucher> {
        self.state().vouchers.clone()
    }

    /// Successful and failed logins so far.
    pub fn logins(&self) -> usize {
        self.state().logins
    }

    /// The services called so far (e.g. `kingdee.bos.webapi.servicesstub.dynamicformservice.save`).
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    /// How many calls of a service whose name ends with `suffix` (case-insensitive).
    pub fn count_calls(&self, suffix: &str) -> usize {
        let suffix = suffix.to_ascii_lowercase();
        self.state()
            .calls
            .iter()
            .filter(|c| c.ends_with(&suffix))
            .count()
    }
}
