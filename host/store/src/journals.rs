//! Accounting: the merchant's accounting connector and account mapping, the period
//! journals queued for it and their `post_journal` jobs, and the outcome of each post.
//!
//! A journal is unique per (merchant, accounting installation, period, source
//! installation — or all of them —, currency) and by its reference: [`Store::queue_journals`]
//! inserts a period's journals and their jobs in ONE transaction, or answers the journals
//! already there (queued, posted or failed) and adds nothing. The job's unique key is
//! `post_journal:{journal id}`; the plugin checks the reference on the ERP side as well,
//! so a retry after a lost response does not post twice.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wharf_domain::accounting::{Journal, Voucher};
use wharf_domain::journal::{self, AccountMapping};

use crate::db::{cap, col, from_json, now_ms, to_json};
use crate::error::is_unique_violation;
use crate::{Store, StoreError};

/// The job kind that posts one journal (payload `{"journal_id"}`).
pub const POST_JOURNAL: &str = "post_journal";
const MAX_ERROR_BYTES: usize = 4096;

/// The unique key of a journal's post job.
pub fn post_key(journal_id: i64) -> String {
    format!("{POST_JOURNAL}:{journal_id}")
}

/// The merchant's accounting settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountingSettings {
    /// The installation of an accounting plugin that receives the journals.
    pub installation_id: i64,
    /// The merchant's account numbers.
    pub accounts: AccountMapping,
    /// Post the previous local day's journal automatically after each daily settlement
    /// import.
    #[serde(default)]
    pub auto_post: bool,
    /// When the settings were last changed (set by the server; ignored when sent).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// A stored journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JournalRecord {
    pub id: i64,
    pub accounting_installation_id: i64,
    /// The marketplace installation it covers; `null`: all of the merchant's.
    pub source_installation_id: Option<i64>,
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    pub period_start: i64,
    pub period_end: i64,
    pub currency: String,
    pub reference: String,
    /// `queued` | `posted` | `failed`.
    pub state: String,
    pub voucher: Option<Voucher>,
    /// Failed post attempts.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Σ debit (= Σ credit), minor units.
    pub total: i64,
    pub journal: Journal,
    pub created_at: i64,
    pub updated_at: i64,
    pub posted_at: Option<i64>,
}

/// A period's journals to queue.
#[derive(Debug, Clone)]
pub struct NewJournals {
    pub accounting_installation_id: i64,
    pub source_installation_id: Option<i64>,
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    pub period_start: i64,
    pub period_end: i64,
    /// One per currency (validated balanced here again before anything is stored).
    pub journals: Vec<Journal>,
}

/// What [`Store::queue_journals`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// New journals, each with its post job.
    Created(Vec<JournalRecord>),
    /// The period was already queued or posted: these are its journals; nothing added.
    Exists(Vec<JournalRecord>),
}

const COLS: &str = "id, accounting_installation_id, source_installation_id, period, period_start, \
     period_end, currency, reference, journal, state, voucher_id, voucher_number, attempts, \
     last_error, created_at, updated_at, posted_at";

fn record(r: &AnyRow) -> Result<JournalRecord, StoreError> {
    let journal: Journal = from_json("journals.journal", &col::<String>(r, "journal")?)?;
    let voucher = match (
        col::<Option<String>>(r, "voucher_id")?,
        col::<Option<String>>(r, "voucher_number")?,
    ) {
        (Some(id), number) => Some(Voucher {
            number: number.unwrap_or_else(|| id.clone()),
            id,
        }),
        _ => None,
    };
    let total = journal::totals(&journal).0;
    Ok(JournalRecord {
        id: col(r, "id")?,
        accounting_installation_id: col(r, "accounting_installation_id")?,
        source_installation_id: col(r, "source_installation_id")?,
        period: col(r, "period")?,
        period_start: col(r, "period_start")?,
        period_end: col(r, "period_end")?,
        currency: col(r, "currency")?,
        reference: col(r, "reference")?,
        state: col(r, "state")?,
        voucher,
        attempts: col(r, "attempts")?,
        last_error: col(r, "last_error")?,
        total: i64::try_from(total).unwrap_or(i64::MAX),
        journal,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
        posted_at: col(r, "posted_at")?,
    })
}

impl Store {
    /// The merchant's accounting settings, if set.
    pub async fn accounting_settings(
        &self,
        merchant_id: i64,
    ) -> Result<Option<AccountingSettings>, StoreError> {
        let row = sqlx::query(
            "SELECT installation_id, accounts, auto_post, updated_at FROM accounting_settings \
             WHERE merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(AccountingSettings {
                installation_id: col(&r, "installation_id")?,
                accounts: from_json(
                    "accounting_settings.accounts",
                    &col::<String>(&r, "accounts")?,
                )?,
                auto_post: col::<i64>(&r, "auto_post")? != 0,
                updated_at: Some(col(&r, "updated_at")?),
            })
        })
        .transpose()
    }

    /// Set the merchant's accounting settings: the installation must be the merchant's
    /// and run an accounting plugin; the mapping must be complete.
    pub async fn put_accounting_settings(
        &self,
        merchant_id: i64,
        settings: &AccountingSettings,
    ) -> Result<AccountingSettings, StoreError> {
        settings
            .accounts
            .validate()
            .map_err(|e| StoreError::InvalidInput(e.join("; ")))?;
        let kind = sqlx::query(
            "SELECT p.kind FROM installations i JOIN plugins p ON p.id = i.plugin_id \
             WHERE i.id = $1 AND i.merchant_id = $2",
        )
        .bind(settings.installation_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .map(|r| col::<String>(&r, "kind"))
        .transpose()?
        .ok_or_else(|| {
            StoreError::NotFound(format!("installation {}", settings.installation_id))
        })?;
        if kind != "accounting" {
            return Err(StoreError::InvalidInput(format!(
                "installation {} runs a {kind} plugin, not an accounting one",
                settings.installation_id
            )));
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO accounting_settings (merchant_id, installation_id, accounts, auto_post, \
             updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (merchant_id) DO UPDATE SET \
             installation_id = excluded.installation_id, accounts = excluded.accounts, \
             auto_post = excluded.auto_post, updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(settings.installation_id)
        .bind(to_json(&settings.accounts)?)
        .bind(i64::from(settings.auto_post))
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(AccountingSettings {
            updated_at: Some(now),
            ..settings.clone()
        })
    }

    /// The journals of one period and source for an accounting installation.
    async fn period_journals(
        &self,
        merchant_id: i64,
        new: &NewJournals,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM journals WHERE merchant_id = $1 AND accounting_installation_id = $2 \
             AND period_start = $3 AND period_end = $4 AND source_key = $5 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(new.accounting_installation_id)
            .bind(new.period_start)
            .bind(new.period_end)
            .bind(new.source_installation_id.unwrap_or(0))
            .fetch_all(&self.write)
            .await?;
        rows.iter().map(record).collect()
    }

    /// Queue a period's journals with one `post_journal` job each, in ONE transaction, or
    /// answer the period's existing journals (any state) and add nothing. Each journal is
    /// validated balanced first (`invalid input` naming what is wrong).
    pub async fn queue_journals(
        &self,
        merchant_id: i64,
        new: &NewJournals,
    ) -> Result<Queued, StoreError> {
        for j in &new.journals {
            journal::validate(j).map_err(|e| {
                StoreError::InvalidInput(format!("journal {}: {}", j.reference, e.join("; ")))
            })?;
        }
        let existing = self.period_journals(merchant_id, new).await?;
        if !existing.is_empty() {
            return Ok(Queued::Exists(existing));
        }
        if new.journals.is_empty() {
            return Err(StoreError::InvalidInput(
                "nothing to post: no settled money in the period".into(),
            ));
        }
        match self.insert_journals(merchant_id, new).await {
            Ok(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.push(self.journal(merchant_id, id).await?.ok_or_else(|| {
                        StoreError::corrupt(format!("journal {id} vanished after insert"))
                    })?);
                }
                Ok(Queued::Created(out))
            }
            // Another request queued the same period first, or a reference is reused.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                let existing = self.period_journals(merchant_id, new).await?;
                if existing.is_empty() {
                    return Err(StoreError::Conflict(
                        "a journal reference of this period is already used by another journal"
                            .into(),
                    ));
                }
                Ok(Queued::Exists(existing))
            }
            Err(e) => Err(e),
        }
    }

    async fn insert_journals(
        &self,
        merchant_id: i64,
        new: &NewJournals,
    ) -> Result<Vec<i64>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(new.journals.len());
        for j in &new.journals {
            let row = sqlx::query(
                "INSERT INTO journals (merchant_id, accounting_installation_id, source_installation_id, \
                 source_key, period, period_start, period_end, currency, reference, journal, state, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', \
                 $11, $11) RETURNING id",
            )
            .bind(merchant_id)
            .bind(new.accounting_installation_id)
            .bind(new.source_installation_id)
            .bind(new.source_installation_id.unwrap_or(0))
            .bind(&new.period)
            .bind(new.period_start)
            .bind(new.period_end)
            .bind(&j.currency)
            .bind(&j.reference)
            .bind(to_json(j)?)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = col(&row, "id")?;
            sqlx::query(
                "INSERT INTO jobs (merchant_id, installation_id, kind, payload, unique_key, state, \
                 run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6, $6) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(merchant_id)
            .bind(new.accounting_installation_id)
            .bind(POST_JOURNAL)
            .bind(to_json(&serde_json::json!({ "journal_id": id }))?)
            .bind(post_key(id))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// One of the merchant's journals.
    pub async fn journal(
        &self,
        merchant_id: i64,
        id: i64,
    ) -> Result<Option<JournalRecord>, StoreError> {
        let sql = format!("SELECT {COLS} FROM journals WHERE merchant_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// A journal by id alone (the job runner's view), with its merchant.
    pub async fn journal_unscoped(
        &self,
        id: i64,
    ) -> Result<Option<(i64, JournalRecord)>, StoreError> {
        let sql = format!("SELECT merchant_id, {COLS} FROM journals WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| Ok((col(&r, "merchant_id")?, record(&r)?)))
            .transpose()
    }

    /// The merchant's journals, newest first, at most `limit`, ids below `before`.
    pub async fn list_journals(
        &self,
        merchant_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<JournalRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM journals WHERE merchant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(record).collect()
    }

    /// Record the voucher of a posted journal. A journal already posted keeps its first
    /// voucher (returns false).
    pub async fn journal_posted(&self, id: i64, voucher: &Voucher) -> Result<bool, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "UPDATE journals SET state = 'posted', voucher_id = $1, voucher_number = $2, \
             last_error = NULL, posted_at = $3, updated_at = $3 WHERE id = $4 AND state <> 'posted'",
        )
        .bind(&voucher.id)
        .bind(&voucher.number)
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Record a failed post attempt; `dead` marks the journal `failed` (its job was
    /// dead-lettered: the reason is shown on the journal). A posted journal is left as is.
    pub async fn journal_attempt_failed(
        &self,
        id: i64,
        error: &str,
        dead: bool,
    ) -> Result<(), StoreError> {
        let state = if dead { "failed" } else { "queued" };
        sqlx::query(
            "UPDATE journals SET attempts = attempts + 1, last_error = $1, state = $2, \
             updated_at = $3 WHERE id = $4 AND state <> 'posted'",
        )
        .bind(cap(error, MAX_ERROR_BYTES))
        .bind(state)
        .bind(now_ms())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
