//! Installations (a merchant's connector for one shop): creation, tenancy-scoped reads,
//! enable/disable, secrets, errors, counters, logs and pull scheduling.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use wharf_domain::manifest::valid_host_pattern;

use crate::consent::NewConsent;
use crate::db::{cap, col, from_json, now_ms, to_json};
use crate::error::{is_constraint_violation, is_unique_violation};
use crate::{
    Breaker, Counter, Counters, Installation, LogLine, NewInstallation, Store, StoreError,
};

const INST_COLS: &str = "id, merchant_id, plugin_id, platform, shop, config, egress_grant, \
     enabled, pull_interval_secs, cursor, next_pull_at, last_sync_at, last_error_code, \
     last_error, last_error_at, orders_created, orders_updated, webhooks_accepted, \
     webhooks_rejected, pulls_ok, pulls_failed, consecutive_failures, breaker_open_until, \
     breaker_reason, created_at";

const MAX_MESSAGE_BYTES: usize = 4096;

/// The `secrets` column of an installation row.
fn secrets_from_row(row: &AnyRow) -> Result<BTreeMap<String, String>, StoreError> {
    let text: String = col(row, "secrets")?;
    from_json("secrets", &text)
}

fn installation_from_row(row: &AnyRow) -> Result<Installation, StoreError> {
    let config: String = col(row, "config")?;
    let grant: String = col(row, "egress_grant")?;
    let code: Option<String> = col(row, "last_error_code")?;
    let message: Option<String> = col(row, "last_error")?;
    Ok(Installation {
        id: col(row, "id")?,
        merchant_id: col(row, "merchant_id")?,
        plugin_id: col(row, "plugin_id")?,
        platform: col(row, "platform")?,
        shop: col(row, "shop")?,
        config: from_json("config", &config)?,
        egress_grant: from_json("egress_grant", &grant)?,
        enabled: col::<i64>(row, "enabled")? != 0,
        pull_interval_secs: col(row, "pull_interval_secs")?,
        cursor: col(row, "cursor")?,
        next_pull_at: col(row, "next_pull_at")?,
        last_sync_at: col(row, "last_sync_at")?,
        last_error: match (code, message) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (None, m) => m,
            (Some(c), None) => Some(c),
        },
        last_error_at: col(row, "last_error_at")?,
        breaker: Breaker {
            consecutive_failures: col(row, "consecutive_failures")?,
            open_until: col(row, "breaker_open_until")?,
            reason: col(row, "breaker_reason")?,
        },
        counters: Counters {
            orders_created: col(row, "orders_created")?,
            orders_updated: col(row, "orders_updated")?,
            webhooks_accepted: col(row, "webhooks_accepted")?,
            webhooks_rejected: col(row, "webhooks_rejected")?,
            pulls_ok: col(row, "pulls_ok")?,
            pulls_failed: col(row, "pulls_failed")?,
        },
        created_at: col(row, "created_at")?,
    })
}

fn validate_new(new: &NewInstallation) -> Result<(), StoreError> {
    let bad = |m: String| Err(StoreError::InvalidInput(m));
    if new.shop.trim().is_empty() || new.shop.len() > 255 {
        return bad("shop must be 1-255 bytes".into());
    }
    if new.pull_interval_secs <= 0 {
        return bad("pull_interval_secs must be positive".into());
    }
    if let Some(h) = new.egress_grant.iter().find(|h| !valid_host_pattern(h)) {
        return bad(format!(
            "egress_grant: {h:?} is not a host name or *.suffix pattern"
        ));
    }
    Ok(())
}

impl Store {
    /// Create an installation. Its first pull is due immediately. The same merchant,
    /// plugin name and shop twice is a [`StoreError::Conflict`].
    pub async fn create_installation(
        &self,
        new: NewInstallation,
    ) -> Result<Installation, StoreError> {
        self.create_installation_with_consent(new, None).await
    }

    /// [`create_installation`](Self::create_installation), recording the merchant's
    /// consent ([`crate::consent`]) in the same transaction.
    pub async fn create_installation_with_consent(
        &self,
        new: NewInstallation,
        consent: Option<NewConsent>,
    ) -> Result<Installation, StoreError> {
        validate_new(&new)?;
        let mut tx = self.begin().await?;
        let merchant = sqlx::query("SELECT id FROM merchants WHERE id = $1")
            .bind(new.merchant_id)
            .fetch_optional(&mut *tx)
            .await?;
        if merchant.is_none() {
            return Err(StoreError::NotFound(format!(
                "merchant {}",
                new.merchant_id
            )));
        }
        let plugin = sqlx::query("SELECT name FROM plugins WHERE id = $1")
            .bind(new.plugin_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(plugin) = plugin else {
            return Err(StoreError::NotFound(format!("plugin {}", new.plugin_id)));
        };
        let platform: String = col(&plugin, "name")?;
        let now = now_ms();
        let res = sqlx::query(
            "INSERT INTO installations (merchant_id, plugin_id, platform, shop, config, secrets, \
             egress_grant, enabled, pull_interval_secs, next_pull_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10) RETURNING id",
        )
        .bind(new.merchant_id)
        .bind(new.plugin_id)
        .bind(&platform)
        .bind(&new.shop)
        .bind(to_json(&new.config)?)
        .bind(to_json(&new.secrets)?)
        .bind(to_json(&new.egress_grant)?)
        .bind(new.pull_interval_secs)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let row = match res {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "merchant {} already has a {platform} installation for shop {:?}",
                    new.merchant_id, new.shop
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let id: i64 = col(&row, "id")?;
        let row = sqlx::query(&format!(
            "SELECT {INST_COLS} FROM installations WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let inst = installation_from_row(&row)?;
        if let Some(c) = &consent {
            crate::consent::put(&mut tx, new.merchant_id, id, c).await?;
        }
        tx.commit().await?;
        Ok(inst)
    }

    /// One of a merchant's installations; `None` if it does not exist or belongs to
    /// another merchant.
    pub async fn get_installation(
        &self,
        merchant_id: i64,
        id: i64,
    ) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INST_COLS} FROM installations WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// An installation regardless of merchant: for webhook ingress and the scheduler,
    /// never for merchant-facing reads.
    pub async fn get_installation_unscoped(
        &self,
        id: i64,
    ) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INST_COLS} FROM installations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(installation_from_row).transpose()
    }

    /// An installation regardless of merchant together with its secrets, in one read:
    /// webhook ingress needs both for every delivery. Never log the secrets.
    pub async fn get_installation_with_secrets(
        &self,
        id: i64,
    ) -> Result<Option<(Installation, BTreeMap<String, String>)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INST_COLS}, secrets FROM installations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((
            installation_from_row(&row)?,
            secrets_from_row(&row)?,
        )))
    }

    /// A merchant's installations, oldest first.
    pub async fn list_installations(
        &self,
        merchant_id: i64,
    ) -> Result<Vec<Installation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INST_COLS} FROM installations WHERE merchant_id = $1 ORDER BY id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(installation_from_row).collect()
    }

    /// Enable or disable an installation. `false` = no such installation for this merchant.
    pub async fn set_installation_enabled(
        &self,
        merchant_id: i64,
        id: i64,
        enabled: bool,
    ) -> Result<bool, StoreError> {
        let res =
            sqlx::query("UPDATE installations SET enabled = $1 WHERE id = $2 AND merchant_id = $3")
                .bind(i64::from(enabled))
                .bind(id)
                .bind(merchant_id)
                .execute(&self.write)
                .await?;
        Ok(res.rows_affected() > 0)
    }

    /// The installation's secrets, for the runtime's `config.secret` only. Never log them.
    pub async fn installation_secrets(
        &self,
        id: i64,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let row = sqlx::query("SELECT secrets FROM installations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("installation {id}")))?;
        secrets_from_row(&row)
    }

    /// Record the installation's latest error (shown to the merchant as `code: message`).
    pub async fn record_error(
        &self,
        installation_id: i64,
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let res = sqlx::query(
            "UPDATE installations SET last_error_code = $1, last_error = $2, last_error_at = $3 \
             WHERE id = $4",
        )
        .bind(cap(code, 64))
        .bind(cap(message, MAX_MESSAGE_BYTES))
        .bind(now_ms())
        .bind(installation_id)
        .execute(&self.write)
        .await?;
        found(res.rows_affected(), installation_id)
    }

    /// Add one to a counter.
    pub async fn bump_counter(
        &self,
        installation_id: i64,
        counter: Counter,
    ) -> Result<(), StoreError> {
        let c = counter.column();
        let res = sqlx::query(&format!(
            "UPDATE installations SET {c} = {c} + 1 WHERE id = $1"
        ))
        .bind(installation_id)
        .execute(&self.write)
        .await?;
        found(res.rows_affected(), installation_id)
    }

    /// Append a line to the installation's log (messages are capped at 4 KiB).
    pub async fn append_log(
        &self,
        installation_id: i64,
        level: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let res = sqlx::query(
            "INSERT INTO installation_logs (installation_id, at, level, message) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(installation_id)
        .bind(now_ms())
        .bind(cap(level, 16))
        .bind(cap(message, MAX_MESSAGE_BYTES))
        .execute(&self.write)
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_constraint_violation(&e) => Err(StoreError::NotFound(format!(
                "installation {installation_id}"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The newest `limit` (1-1000) log lines of one of the merchant's installations,
    /// newest first. Another merchant's installation yields nothing.
    pub async fn list_logs(
        &self,
        merchant_id: i64,
        installation_id: i64,
        limit: u32,
    ) -> Result<Vec<LogLine>, StoreError> {
        let limit = i64::from(limit.clamp(1, 1000));
        let rows = sqlx::query(
            "SELECT l.id, l.installation_id, l.at, l.level, l.message \
             FROM installation_logs l JOIN installations i ON i.id = l.installation_id \
             WHERE l.installation_id = $1 AND i.merchant_id = $2 ORDER BY l.id DESC LIMIT $3",
        )
        .bind(installation_id)
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LogLine {
                    id: col(r, "id")?,
                    installation_id: col(r, "installation_id")?,
                    at: col(r, "at")?,
                    level: col(r, "level")?,
                    message: col(r, "message")?,
                })
            })
            .collect()
    }

    /// Enabled marketplace installations (couriers and ledgers are never pulled) whose next pull is due at `now_ms`, most overdue first.
    pub async fn due_pulls(&self, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM installations WHERE enabled = 1 AND next_pull_at <= $1 \
             AND plugin_id IN (SELECT id FROM plugins WHERE kind = 'marketplace') \
             ORDER BY next_pull_at, id",
        )
        .bind(now_ms)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| col(r, "id")).collect()
    }

    /// Set when the installation's next pull is due.
    pub async fn schedule_next_pull(
        &self,
        installation_id: i64,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let res = sqlx::query("UPDATE installations SET next_pull_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(installation_id)
            .execute(&self.write)
            .await?;
        found(res.rows_affected(), installation_id)
    }
}

fn found(rows: u64, installation_id: i64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(format!(
            "installation {installation_id}"
        )))
    } else {
        Ok(())
    }
}
