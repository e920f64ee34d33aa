//! The plugin's login, duplicate check, Save and error mapping, run natively against the
//! Kingdee simulator over real HTTP (reqwest instead of wasi:http; everything else is the
//! plugin's own code).

use wharf_plugin_kingdee::api::{self, Credentials};
use wharf_plugin_kingdee::settings::Settings;
use wharf_sdk::accounting::{Journal, JournalEntry};
use wharf_sdk::types::{ConnectorError, Money};
use wharf_sim::kingdee::{Fault, KingdeeSim, KingdeeSimConfig};
use wharf_sim::native::Transport;

struct Harness {
    net: Transport,
    sim: KingdeeSim,
    settings: Settings,
    creds: Credentials,
}

impl Harness {
    fn new() -> Harness {
        let net = Transport::new();
        let sim = net
            .block_on(KingdeeSim::start(KingdeeSimConfig::default()))
            .unwrap();
        let cfg = sim.config().clone();
        let base = sim.base_url();
        let settings = Settings::from_lookup(|k| match k {
            "base_url" => Some(base.clone()),
            "acct_id" => Some(cfg.acct_id.clone()),
            "account_book" => Some("001".into()),
            _ => None,
        })
        .unwrap();
        Harness {
            net,
            sim,
            settings,
            creds: Credentials {
                username: cfg.username.clone(),
                password: cfg.password.clone(),
            },
        }
    }

    fn post(&self, journal: &Journal) -> Result<wharf_sdk::accounting::Voucher, ConnectorError> {
        api::post_journal(&self.settings, &self.creds, journal, &mut |r| {
            self.net.send(r)
        })
    }
}

fn cny(minor: i64) -> Money {
    Money {
        minor,
        currency: "CNY".into(),
    }
}

fn entry(account: &str, debit: i64, credit: i64) -> JournalEntry {
    JournalEntry {
        account: account.into(),
        debit: cny(debit),
        credit: cny(credit),
        memo: format!("taobao/shop-1 {account}"),
        order_reference: None,
    }
}

fn journal(reference: &str, entries: Vec<JournalEntry>) -> Journal {
    Journal {
        reference: reference.into(),
        period_start: 1_714_492_800_000,
        period_end: 1_714_579_200_000,
        currency: "CNY".into(),
        memo: "Wharf settlements 2024-05-01".into(),
        entries,
    }
}

fn balanced(reference: &str) -> Journal {
    journal(
        reference,
        vec![
            entry("1002", 8_700, 0),
            entry("6601.05", 500, 0),
            entry("6001.99", 1_000, 0),
            entry("6001", 0, 10_000),
            entry("6051", 0, 200),
        ],
    )
}

// A balanced journal becomes one voucher 记-0001 dated the period's last local day, with
// exact amounts, its reference in FBillNo, after one login.
#[test]
fn posts_a_balanced_voucher() {
    let h = Harness::new();
    let v = h.post(&balanced("wharf:1:2024-05-01:CNY")).unwrap();
    assert_eq!(v.number, "记-0001");
    let stored = h.sim.vouchers();
    assert_eq!(stored.len(), 1);
    assert_eq!(v.id, stored[0].id.to_string());
    assert_eq!(stored[0].date, "2024-05-01");
    assert_eq!(stored[0].fields["FBillNo"], "wharf:1:2024-05-01:CNY");
    let amounts: Vec<(i64, i64)> = stored[0]
        .entries
        .iter()
        .map(|e| (e.debit, e.credit))
        .collect();
    assert_eq!(
        amounts,
        [(8_700, 0), (500, 0), (1_000, 0), (0, 10_000), (0, 200)]
    );
    assert_eq!(h.sim.logins(), 1);
}

// Posting the same reference again (a retry) answers the existing voucher and saves
// nothing: the query finds it before any Save.
#[test]
fn duplicate_reference_returns_the_existing_voucher() {
    let h = Harness::new();
    let first = h.post(&balanced("ref-dup")).unwrap();
    let saves = h.sim.count_calls("save");
    let again = h.post(&balanced("ref-dup")).unwrap();
    assert_eq!((again.id, again.number), (first.id, first.number));
    assert_eq!(h.sim.vouchers().len(), 1);
    assert_eq!(h.sim.count_calls("save"), saves, "no second Save");
}

// A Save whose response was lost (committed, then 502) is transient; the retry finds
// the committed voucher by its reference and posts nothing twice.
#[test]
fn retry_after_a_lost_response_posts_once() {
    let h = Harness::new();
    h.sim.push_fault(Fault::LostResponse);
    let err = h.post(&balanced("ref-lost")).unwrap_err();
    assert!(matches!(err, ConnectorError::Transient(_)), "{err:?}");
    assert_eq!(h.sim.vouchers().len(), 1, "the ERP committed it");
    let v = h.post(&balanced("ref-lost")).unwrap();
    assert_eq!(v.number, "记-0001");
    assert_eq!(h.sim.vouchers().len(), 1);
}

// An unbalanced journal is refused as invalid-input before any HTTP request.
#[test]
fn unbalanced_journal_is_refused_before_any_request() {
    let h = Harness::new();
    let j = journal("r", vec![entry("1002", 100, 0), entry("6001", 0, 99)]);
    let err = h.post(&j).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::InvalidInput(m) if m.contains("unbalanced")),
        "{err:?}"
    );
    assert!(h.sim.calls().is_empty(), "{:?}", h.sim.calls());
}

// A session that expires mid-call is re-established once (a second login) and the
// voucher is saved; sessions lost again right after the new login are unauthorized, and
// so is a wrong password (with Kingdee's message).
#[test]
fn session_expiry_logs_in_again_and_bad_login_is_unauthorized() {
    let h = Harness::new();
    h.sim.push_fault(Fault::ExpireSessions);
    let v = h.post(&balanced("ref-exp")).unwrap();
    assert_eq!(v.number, "记-0001");
    assert_eq!(h.sim.logins(), 2);
    h.sim.push_fault(Fault::ExpireSessions);
    h.sim.push_fault(Fault::ExpireSessions);
    let err = h.post(&balanced("ref-exp-2")).unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized(_)), "{err:?}");
    assert_eq!(h.sim.vouchers().len(), 1);
    let mut wrong = Harness::new();
    wrong.creds.password = "wrong".into();
    let err = wrong.post(&balanced("x")).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Unauthorized(m) if m.contains("用户名或密码错误")),
        "{err:?}"
    );
}

// 5xx from the ERP is transient and stores nothing.
#[test]
fn server_errors_are_transient() {
    let h = Harness::new();
    h.sim.push_fault(Fault::Server(503));
    let err = h.post(&balanced("ref-5xx")).unwrap_err();
    assert!(matches!(err, ConnectorError::Transient(_)), "{err:?}");
    assert!(h.sim.vouchers().is_empty());
}

// Kingdee's validation errors (an account the book lacks) are invalid-input carrying
// Kingdee's field and message.
#[test]
fn business_errors_are_invalid_input_with_kingdee_messages() {
    let h = Harness::new();
    let j = journal(
        "ref-acct",
        vec![entry("1002", 100, 0), entry("9999", 0, 100)],
    );
    let err = h.post(&j).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::InvalidInput(m) if m.contains("FACCOUNTID") && m.contains("9999")),
        "{err:?}"
    );
    assert!(h.sim.vouchers().is_empty());
}
