//! Accounting settings, period journals and their post jobs on the real database
//! (SQLite, or PostgreSQL with `WHARF_TEST_DATABASE_URL`).

mod common;

use std::collections::BTreeMap;

use common::{usd, world, World};
use wharf_domain::accounting::{Journal, Voucher};
use wharf_domain::journal::{self, AccountMapping, SourceTotals};
use wharf_domain::manifest::Manifest;
use wharf_store::journals::{post_key, AccountingSettings, NewJournals, Queued, POST_JOURNAL};
use wharf_store::{Installation, NewInstallation, StoreError};

const DAY: i64 = 86_400_000;
/// 2024-01-10T00:00Z.
const START: i64 = 1_704_067_200_000 + 9 * DAY;

fn accounts() -> AccountMapping {
    AccountMapping {
        clearing: "1002".into(),
        fees: "6601.05".into(),
        refunds: "6001.99".into(),
        revenue: "6001".into(),
        other_income: "6051".into(),
    }
}

async fn ledger(w: &World) -> Installation {
    let manifest = Manifest::from_json(
        serde_json::json!({
            "name": "kingdee", "version": "0.1.0", "kind": "accounting", "wit_version": "0.2.0",
            "hosts": ["*.example.com"], "config_schema": {"type": "object", "properties": {}},
            "secrets": ["password"]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let plugin = w
        .store
        .insert_plugin(&manifest, b"\0asm fake accounting component")
        .await
        .unwrap();
    w.store
        .create_installation(NewInstallation {
            merchant_id: w.merchant_id,
            plugin_id: plugin.id,
            shop: "erp".into(),
            config: BTreeMap::new(),
            secrets: BTreeMap::from([("password".into(), "s3cret".into())]),
            egress_grant: vec![],
            pull_interval_secs: 300,
        })
        .await
        .unwrap()
}

fn journals(reference: &str, net: i64) -> Vec<Journal> {
    journal::build(
        reference,
        (START, START + DAY),
        "day",
        &accounts(),
        &[SourceTotals {
            label: "shopify/acme".into(),
            currency: "USD".into(),
            gross: 10_000,
            fees: 300,
            refunds: 0,
            other: 0,
            net,
        }],
    )
}

fn new(acct: i64, source: Option<i64>, journals: Vec<Journal>) -> NewJournals {
    NewJournals {
        accounting_installation_id: acct,
        source_installation_id: source,
        period: "2024-01-10".into(),
        period_start: START,
        period_end: START + DAY,
        journals,
    }
}

/// Settings accept only the merchant's own accounting installation with a complete
/// mapping, and read back as stored.
#[tokio::test]
async fn settings_require_an_accounting_installation() {
    let w = world().await;
    let s = &w.store;
    let acct = ledger(&w).await;
    let mut settings = AccountingSettings {
        installation_id: w.inst.id,
        accounts: accounts(),
        auto_post: true,
        updated_at: None,
    };
    assert!(matches!(
        s.put_accounting_settings(w.merchant_id, &settings).await,
        Err(StoreError::InvalidInput(m)) if m.contains("marketplace")
    ));
    let other = s.create_merchant("Other").await.unwrap();
    settings.installation_id = acct.id;
    assert!(matches!(
        s.put_accounting_settings(other.id, &settings).await,
        Err(StoreError::NotFound(_))
    ));
    settings.accounts.fees = String::new();
    assert!(matches!(
        s.put_accounting_settings(w.merchant_id, &settings).await,
        Err(StoreError::InvalidInput(m)) if m.contains("fees")
    ));
    settings.accounts = accounts();
    let stored = s
        .put_accounting_settings(w.merchant_id, &settings)
        .await
        .unwrap();
    let read = s.accounting_settings(w.merchant_id).await.unwrap().unwrap();
    assert_eq!(read, stored);
    assert!(read.auto_post && read.updated_at.is_some());
    assert_eq!(s.accounting_settings(other.id).await.unwrap(), None);
}

/// A period's journal is queued once with one post job; queueing the same period and
/// source again answers the existing journal and adds no job; another source is its own
/// journal; an unbalanced journal is refused and stores nothing.
#[tokio::test]
async fn a_period_is_queued_once() {
    let w = world().await;
    let s = &w.store;
    let acct = ledger(&w).await;
    let Queued::Created(first) = s
        .queue_journals(
            w.merchant_id,
            &new(acct.id, Some(w.inst.id), journals("r1", 9_700)),
        )
        .await
        .unwrap()
    else {
        panic!("first queue must create");
    };
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].state.as_str(), first[0].total),
        ("queued", 10_000)
    );
    assert_eq!(first[0].reference, "r1:USD");
    let jobs = s
        .list_jobs(w.merchant_id, Some("queued"), 100)
        .await
        .unwrap();
    let posts: Vec<_> = jobs.iter().filter(|j| j.kind == POST_JOURNAL).collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].unique_key.as_deref(),
        Some(post_key(first[0].id).as_str())
    );
    assert_eq!(posts[0].installation_id, Some(acct.id));
    // Same period and source, even under another reference: the existing journal.
    match s
        .queue_journals(
            w.merchant_id,
            &new(acct.id, Some(w.inst.id), journals("r2", 9_700)),
        )
        .await
        .unwrap()
    {
        Queued::Exists(j) => assert_eq!(j, first),
        other => panic!("{other:?}"),
    }
    let jobs = s.list_jobs(w.merchant_id, None, 100).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == POST_JOURNAL).count(), 1);
    // All sources of the same period is a different journal.
    assert!(matches!(
        s.queue_journals(w.merchant_id, &new(acct.id, None, journals("r3", 9_700)))
            .await
            .unwrap(),
        Queued::Created(_)
    ));
    // A reference already used is refused (the schema keeps references unique).
    let mut clash = new(acct.id, None, journals("r1", 9_700));
    clash.period_start += DAY;
    clash.period_end += DAY;
    assert!(matches!(
        s.queue_journals(w.merchant_id, &clash).await,
        Err(StoreError::Conflict(_))
    ));
    let before = s
        .list_journals(w.merchant_id, None, 100)
        .await
        .unwrap()
        .len();
    let mut unbalanced = new(acct.id, None, journals("r4", 9_701));
    unbalanced.period_start += 2 * DAY;
    unbalanced.period_end += 2 * DAY;
    assert!(matches!(
        s.queue_journals(w.merchant_id, &unbalanced).await,
        Err(StoreError::InvalidInput(m)) if m.contains("unbalanced")
    ));
    assert_eq!(
        s.list_journals(w.merchant_id, None, 100)
            .await
            .unwrap()
            .len(),
        before
    );
    let other = s.create_merchant("Other").await.unwrap();
    assert!(s.journal(other.id, first[0].id).await.unwrap().is_none());
}

/// A post job whose first attempt lost its response is retried and records the voucher
/// once: the failure is kept as last_error with the attempt counted, the retry posts,
/// and a late second success cannot replace the first voucher.
#[tokio::test]
async fn job_retried_after_a_lost_response_posts_once() {
    let w = world().await;
    let s = &w.store;
    let acct = ledger(&w).await;
    let Queued::Created(created) = s
        .queue_journals(w.merchant_id, &new(acct.id, None, journals("lost", 9_700)))
        .await
        .unwrap()
    else {
        panic!("must create");
    };
    let id = created[0].id;
    let job = s.claim_jobs("node-a", 60_000, 10).await.unwrap();
    let job = job.into_iter().find(|j| j.kind == POST_JOURNAL).unwrap();
    assert_eq!(job.payload["journal_id"], id);
    s.journal_attempt_failed(id, "transient: HTTP 502", false)
        .await
        .unwrap();
    assert!(s
        .retry_job(job.id, "node-a", 0, true, "transient", "HTTP 502")
        .await
        .unwrap());
    let j = s.journal(w.merchant_id, id).await.unwrap().unwrap();
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 1));
    assert_eq!(j.last_error.as_deref(), Some("transient: HTTP 502"));
    let again = s.claim_jobs("node-b", 60_000, 10).await.unwrap();
    assert!(
        again.iter().any(|x| x.id == job.id),
        "the same job runs again"
    );
    let voucher = Voucher {
        id: "100001".into(),
        number: "记-0001".into(),
    };
    assert!(s.journal_posted(id, &voucher).await.unwrap());
    assert!(s.complete_job(job.id, "node-b").await.unwrap());
    let late = Voucher {
        id: "100002".into(),
        number: "记-0002".into(),
    };
    assert!(!s.journal_posted(id, &late).await.unwrap());
    // A failure reported after posting does not undo it.
    s.journal_attempt_failed(id, "late", true).await.unwrap();
    let j = s.journal(w.merchant_id, id).await.unwrap().unwrap();
    assert_eq!(j.state, "posted");
    assert_eq!(j.voucher, Some(voucher));
    assert!(j.posted_at.is_some() && j.last_error.is_none());
    assert_eq!(
        j.journal.entries.len(),
        3,
        "entries read back: clearing, fees, revenue"
    );
    assert_eq!(j.journal.entries[0].debit, usd(9_700));
}

/// A dead-lettered attempt marks the journal failed with the reason shown.
#[tokio::test]
async fn a_dead_attempt_marks_the_journal_failed() {
    let w = world().await;
    let s = &w.store;
    let acct = ledger(&w).await;
    let Queued::Created(created) = s
        .queue_journals(w.merchant_id, &new(acct.id, None, journals("dead", 9_700)))
        .await
        .unwrap()
    else {
        panic!("must create");
    };
    s.journal_attempt_failed(created[0].id, "invalid_input: FACCOUNTID: 科目不存在", true)
        .await
        .unwrap();
    let j = s
        .journal(w.merchant_id, created[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, "failed");
    assert!(j.last_error.unwrap().contains("科目不存在"));
    let listed = s.list_journals(w.merchant_id, None, 10).await.unwrap();
    assert_eq!(listed[0].id, j.id);
}
