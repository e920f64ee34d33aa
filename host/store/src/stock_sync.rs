//! Cross-channel stock sync: a stock change marks every listing of the SKU dirty and
//! enqueues ONE push job per installation (unique key `push_inventory:<id>`, due after
//! the coalescing window), in the transaction of the change. When the job runs it reads
//! the dirty listings, computes available-to-sell by the installation's rules, and
//! records what the channel answered. A listing changed again while its push was in
//! flight stays dirty (`change_seq` moved), and a sweep re-enqueues installations whose
//! listings stayed dirty with no job, so no change is ever left unpushed.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;
use wharf_domain::connector::StockLevel;
use wharf_domain::inventory::{available_to_sell, effective_rule};

use crate::db::{cap, col, now_ms, to_json};
use crate::inventory::Tx;
use crate::{Store, StoreError};

/// The job kind that pushes an installation's dirty listings.
pub const PUSH_INVENTORY: &str = "push_inventory";

/// The unique key of an installation's push job.
pub fn push_key(installation_id: i64) -> String {
    format!("{PUSH_INVENTORY}:{installation_id}")
}

/// One listing to push: what to send, and the change it reflects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPush {
    pub listing_id: i64,
    pub change_seq: i64,
    pub level: StockLevel,
    /// The channel already shows this value (last push succeeded with it).
    pub unchanged: bool,
}

/// What happened to one pending push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The channel took the value.
    Pushed,
    /// The channel refused this listing (the message says why): the reason is kept and
    /// the listing is not retried until it changes again.
    Refused(String),
    /// The call failed as a whole: the reason is kept and the listing stays dirty for
    /// the job's retry.
    Failed(String),
}

/// Listings of one installation, for the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DirtyInstallation {
    pub merchant_id: i64,
    pub installation_id: i64,
}

const MAX_PUSH_ERROR_BYTES: usize = 1024;

impl Store {
    /// A SKU's stock changed: mark its listings dirty and collect their installations
    /// into `pushes`; [`Store::flush_pushes`] schedules them at the end of the
    /// transaction (job rows last, in id order, so concurrent transactions on
    /// PostgreSQL lock in one order and cannot deadlock on them).
    pub(crate) async fn stock_changed(
        &self,
        tx: &mut Tx,
        sku_id: i64,
        now: i64,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "UPDATE listings SET dirty = 1, change_seq = change_seq + 1, \
             dirty_since = COALESCE(dirty_since, $1) WHERE sku_id = $2 RETURNING installation_id",
        )
        .bind(now)
        .bind(sku_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            pushes.insert(col(r, "installation_id")?);
        }
        Ok(())
    }

    /// Schedule the push jobs collected by [`Store::stock_changed`].
    pub(crate) async fn flush_pushes(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
        pushes: &BTreeSet<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        for inst in pushes {
            self.schedule_push(tx, merchant_id, *inst, self.push_due(now))
                .await?;
        }
        Ok(())
    }

    /// Enqueue the installation's push job, due at `run_at`, unless one is already queued
    /// or running.
    pub(crate) async fn schedule_push(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
        installation_id: i64,
        run_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (merchant_id, installation_id, kind, payload, unique_key, state, \
             run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(merchant_id)
        .bind(installation_id)
        .bind(PUSH_INVENTORY)
        .bind(to_json(&serde_json::json!({}))?)
        .bind(push_key(installation_id))
        .bind(run_at)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// When a push for a change at `now` is due: after the coalescing window.
    pub(crate) fn push_due(&self, now: i64) -> i64 {
        now + self.stock_push_delay_ms
    }

    /// Up to `limit` dirty listings of an installation with the value to push now.
    pub async fn pending_pushes(
        &self,
        installation_id: i64,
        limit: i64,
    ) -> Result<Vec<PendingPush>, StoreError> {
        let rules = self.scoped_rules(installation_id).await?;
        let rows = sqlx::query(
            "SELECT l.id, l.change_seq, l.channel_sku, l.last_pushed_available, \
             l.last_push_error, s.code, s.product_code, \
             CAST(COALESCE((SELECT SUM(on_hand) FROM stock WHERE sku_id = s.id), 0) AS BIGINT) AS on_hand, \
             CAST(COALESCE((SELECT SUM(reserved) FROM stock WHERE sku_id = s.id), 0) AS BIGINT) AS reserved \
             FROM listings l JOIN skus s ON s.id = l.sku_id \
             WHERE l.installation_id = $1 AND l.dirty = 1 ORDER BY l.id LIMIT $2",
        )
        .bind(installation_id)
        .bind(limit)
        .fetch_all(&self.write)
        .await?;
        rows.iter()
            .map(|r| {
                let code: String = col(r, "code")?;
                let product: String = col(r, "product_code")?;
                let rule = effective_rule(&rules, &code, &product);
                let available = available_to_sell(col(r, "on_hand")?, col(r, "reserved")?, &rule);
                let last: Option<i64> = col(r, "last_pushed_available")?;
                let last_error: Option<String> = col(r, "last_push_error")?;
                Ok(PendingPush {
                    listing_id: col(r, "id")?,
                    change_seq: col(r, "change_seq")?,
                    level: StockLevel {
                        sku: code,
                        channel_sku: col(r, "channel_sku")?,
                        available,
                    },
                    unchanged: last == Some(available) && last_error.is_none(),
                })
            })
            .collect()
    }

    /// Record the outcome of pushes. A pushed listing becomes clean unless it changed
    /// again meanwhile; a refused one keeps its error and stays dirty.
    pub async fn record_pushes(
        &self,
        results: &[(PendingPush, PushOutcome)],
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        for (p, outcome) in results {
            match outcome {
                PushOutcome::Pushed => {
                    sqlx::query(
                        "UPDATE listings SET last_pushed_available = $1, last_pushed_at = $2, \
                         last_push_error = NULL, \
                         dirty = CASE WHEN change_seq = $3 THEN 0 ELSE 1 END, \
                         dirty_since = CASE WHEN change_seq = $3 THEN NULL ELSE dirty_since END \
                         WHERE id = $4",
                    )
                    .bind(p.level.available)
                    .bind(now)
                    .bind(p.change_seq)
                    .bind(p.listing_id)
                    .execute(&mut *tx)
                    .await?;
                }
                PushOutcome::Refused(msg) => {
                    sqlx::query(
                        "UPDATE listings SET last_push_error = $1, \
                         dirty = CASE WHEN change_seq = $2 THEN 0 ELSE 1 END, \
                         dirty_since = CASE WHEN change_seq = $2 THEN NULL ELSE dirty_since END \
                         WHERE id = $3",
                    )
                    .bind(cap(msg, MAX_PUSH_ERROR_BYTES))
                    .bind(p.change_seq)
                    .bind(p.listing_id)
                    .execute(&mut *tx)
                    .await?;
                }
                PushOutcome::Failed(msg) => {
                    sqlx::query("UPDATE listings SET last_push_error = $1 WHERE id = $2")
                        .bind(cap(msg, MAX_PUSH_ERROR_BYTES))
                        .bind(p.listing_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Installations with a listing dirty since before `older_than` and no push job
    /// queued or running (nor dead-lettered since the change: a dead push waits for the
    /// merchant's re-drive or the next change): the sweep re-enqueues them.
    pub async fn unscheduled_pushes(
        &self,
        older_than: i64,
    ) -> Result<Vec<DirtyInstallation>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT l.merchant_id, l.installation_id FROM listings l \
             WHERE l.dirty = 1 AND l.dirty_since < $1 AND NOT EXISTS ( \
               SELECT 1 FROM jobs j WHERE j.unique_key = $2 || CAST(l.installation_id AS TEXT) \
               AND (j.state IN ('queued', 'running') \
                    OR (j.state = 'dead' AND j.updated_at >= l.dirty_since)))",
        )
        .bind(older_than)
        .bind(format!("{PUSH_INVENTORY}:"))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DirtyInstallation {
                    merchant_id: col(r, "merchant_id")?,
                    installation_id: col(r, "installation_id")?,
                })
            })
            .collect()
    }

    /// Enqueue an installation's push job now (sweep, or a merchant's "push now").
    pub async fn enqueue_push(
        &self,
        merchant_id: i64,
        installation_id: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        self.schedule_push(&mut tx, merchant_id, installation_id, now_ms())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
