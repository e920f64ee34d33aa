//! SLA rules, breach detection and escalations, and the merchant's notification webhook.
//!
//! Deadlines are stored when a clock starts (a task's `due_at` when it starts, an order's
//! `ship_due_at` when Wharf first sees it paid), by the merchant's rule at that moment, so
//! detection needs nothing in memory and survives restarts. [`Store::detect_breaches`]
//! (run from the scheduler tick, on any number of nodes) inserts one escalation per breach
//! — the breach key (`task:<id>:<step>:<due_at>` / `order:<id>:ship:<due_at>`) is unique in
//! the schema — and, in the same transaction, the `notify` job that sends it to the
//! merchant's webhook.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_domain::fulfillment::{validate_sla_limit, SlaStep};

use crate::db::{col, now_ms, to_json};
use crate::fulfillment::append;
use crate::{Store, StoreError};

/// The job kind that delivers one escalation to the merchant's webhook.
pub const NOTIFY: &str = "notify";

/// A time limit for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaRule {
    /// `pick` (task start → done), `pack` (task start → done) or `ship` (payment →
    /// shipped).
    pub step: SlaStep,
    pub limit_secs: i64,
}

/// One breach of an SLA, recorded once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Escalation {
    pub id: i64,
    pub merchant_id: i64,
    pub order_id: i64,
    pub task_id: Option<i64>,
    pub step: String,
    pub breach_key: String,
    pub due_at: i64,
    pub detected_at: i64,
    pub detail: String,
}

/// The merchant's notification webhook as the API shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NotificationSettings {
    pub url: String,
    pub secret_set: bool,
    pub updated_at: i64,
}

/// Where to send a merchant's notifications, with the signing secret. `Debug` hides it.
#[derive(Clone)]
pub struct NotificationTarget {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for NotificationTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationTarget")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

const ESC_COLS: &str =
    "id, merchant_id, order_id, task_id, step, breach_key, due_at, detected_at, detail";

fn escalation(r: &sqlx::any::AnyRow) -> Result<Escalation, StoreError> {
    Ok(Escalation {
        id: col(r, "id")?,
        merchant_id: col(r, "merchant_id")?,
        order_id: col(r, "order_id")?,
        task_id: col(r, "task_id")?,
        step: col(r, "step")?,
        breach_key: col(r, "breach_key")?,
        due_at: col(r, "due_at")?,
        detected_at: col(r, "detected_at")?,
        detail: col(r, "detail")?,
    })
}

/// A breach found by the scan, not yet recorded.
struct Breach {
    merchant_id: i64,
    order_id: i64,
    task_id: Option<i64>,
    step: String,
    key: String,
    due_at: i64,
    detail: String,
}

impl Store {
    /// Replace the merchant's SLA rules (steps not listed have no limit). Limits apply
    /// to clocks started after the change.
    pub async fn put_sla_rules(
        &self,
        merchant_id: i64,
        rules: &[SlaRule],
    ) -> Result<Vec<SlaRule>, StoreError> {
        for r in rules {
            validate_sla_limit(r.limit_secs).map_err(StoreError::InvalidInput)?;
        }
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|o| o.step == r.step) {
                return Err(StoreError::InvalidInput(format!(
                    "step {} is listed twice",
                    r.step.as_str()
                )));
            }
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sla_rules WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        for r in rules {
            sqlx::query(
                "INSERT INTO sla_rules (merchant_id, step, limit_secs, updated_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(merchant_id)
            .bind(r.step.as_str())
            .bind(r.limit_secs)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.sla_rules(merchant_id).await
    }

    /// The merchant's SLA rules.
    pub async fn sla_rules(&self, merchant_id: i64) -> Result<Vec<SlaRule>, StoreError> {
        let rows = sqlx::query(
            "SELECT step, limit_secs FROM sla_rules WHERE merchant_id = $1 ORDER BY step",
        )
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SlaRule {
                    step: SlaStep::parse(&col::<String>(r, "step")?)
                        .map_err(StoreError::corrupt)?,
                    limit_secs: col(r, "limit_secs")?,
                })
            })
            .collect()
    }

    /// Record every breach due by `now` that has no escalation yet — one escalation per
    /// breach, with its `notify` job when the merchant has a webhook — and return the
    /// new escalations. Safe to run on several nodes at once.
    pub async fn detect_breaches(&self, now: i64) -> Result<Vec<Escalation>, StoreError> {
        let mut found = Vec::new();
        let tasks = sqlx::query(
            "SELECT t.id, t.merchant_id, t.order_id, t.kind, t.due_at, t.assignee FROM warehouse_tasks t \
             WHERE t.status = 'in_progress' AND t.due_at IS NOT NULL AND t.due_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.merchant_id = t.merchant_id \
             AND e.breach_key = 'task:' || CAST(t.id AS TEXT) || ':' || t.kind || ':' || CAST(t.due_at AS TEXT)) \
             ORDER BY t.due_at LIMIT 500",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        for r in &tasks {
            let id: i64 = col(r, "id")?;
            let kind: String = col(r, "kind")?;
            let due_at: i64 = col(r, "due_at")?;
            let assignee: Option<String> = col(r, "assignee")?;
            found.push(Breach {
                merchant_id: col(r, "merchant_id")?,
                order_id: col(r, "order_id")?,
                task_id: Some(id),
                key: format!("task:{id}:{kind}:{due_at}"),
                detail: format!(
                    "{kind} task {id} ({}) was due at {due_at} and is not done",
                    assignee.as_deref().unwrap_or("unassigned")
                ),
                step: kind,
                due_at,
            });
        }
        let orders = sqlx::query(
            "SELECT o.id, o.merchant_id, o.ship_due_at, o.state FROM orders o \
             WHERE o.ship_due_at IS NOT NULL AND o.ship_due_at <= $1 \
             AND o.state IN ('received', 'ready', 'on_hold', 'allocated', 'picking', 'packed', 'labelled') \
             AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.merchant_id = o.merchant_id \
             AND e.breach_key = 'order:' || CAST(o.id AS TEXT) || ':ship:' || CAST(o.ship_due_at AS TEXT)) \
             ORDER BY o.ship_due_at LIMIT 500",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        for r in &orders {
            let id: i64 = col(r, "id")?;
            let due_at: i64 = col(r, "ship_due_at")?;
            let state: String = col(r, "state")?;
            found.push(Breach {
                merchant_id: col(r, "merchant_id")?,
                order_id: id,
                task_id: None,
                step: SlaStep::Ship.as_str().into(),
                key: format!("order:{id}:ship:{due_at}"),
                due_at,
                detail: format!("order {id} was due to ship at {due_at} and is still {state}"),
            });
        }
        let mut out = Vec::new();
        for b in found {
            if let Some(e) = self.record_breach(&b, now).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Insert one escalation (nothing if another node did) with its audit row and notify
    /// job, in one transaction.
    async fn record_breach(&self, b: &Breach, now: i64) -> Result<Option<Escalation>, StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO escalations (merchant_id, order_id, task_id, step, breach_key, due_at, \
             detected_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (merchant_id, breach_key) DO NOTHING RETURNING {ESC_COLS}"
        ))
        .bind(b.merchant_id)
        .bind(b.order_id)
        .bind(b.task_id)
        .bind(&b.step)
        .bind(&b.key)
        .bind(b.due_at)
        .bind(now)
        .bind(&b.detail)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let e = escalation(&row)?;
        append(
            &mut tx,
            b.order_id,
            now,
            "escalation",
            "system",
            None,
            None,
            &b.detail,
        )
        .await?;
        let has_target =
            sqlx::query("SELECT 1 AS one FROM notification_settings WHERE merchant_id = $1")
                .bind(b.merchant_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if has_target {
            sqlx::query(
                "INSERT INTO jobs (merchant_id, installation_id, kind, payload, unique_key, state, \
                 run_at, created_at, updated_at) VALUES ($1, NULL, $2, $3, $4, 'queued', $5, $5, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(b.merchant_id)
            .bind(NOTIFY)
            .bind(to_json(&serde_json::json!({"escalation_id": e.id}))?)
            .bind(format!("{NOTIFY}:escalation:{}", e.id))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(e))
    }

    /// The merchant's escalations, newest first.
    pub async fn escalations(
        &self,
        merchant_id: i64,
        limit: i64,
    ) -> Result<Vec<Escalation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ESC_COLS} FROM escalations WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(merchant_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(escalation).collect()
    }

    /// One escalation, for the notify job (which carries only its id).
    pub async fn get_escalation(&self, id: i64) -> Result<Option<Escalation>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ESC_COLS} FROM escalations WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(escalation).transpose()
    }

    /// Set the merchant's notification webhook. Only `http(s)://` URLs are taken; the
    /// secret must be 16-200 bytes.
    pub async fn put_notification_settings(
        &self,
        merchant_id: i64,
        url: &str,
        secret: &str,
    ) -> Result<NotificationSettings, StoreError> {
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(StoreError::InvalidInput(
                "url must be an http:// or https:// URL of at most 2000 bytes".into(),
            ));
        }
        if !(16..=200).contains(&secret.len()) {
            return Err(StoreError::InvalidInput(
                "secret must be 16-200 bytes".into(),
            ));
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO notification_settings (merchant_id, url, secret, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id) DO UPDATE SET url = $2, \
             secret = $3, updated_at = $4",
        )
        .bind(merchant_id)
        .bind(url)
        .bind(secret)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(NotificationSettings {
            url: url.to_string(),
            secret_set: true,
            updated_at: now,
        })
    }

    /// The merchant's notification webhook, without the secret.
    pub async fn notification_settings(
        &self,
        merchant_id: i64,
    ) -> Result<Option<NotificationSettings>, StoreError> {
        let row =
            sqlx::query("SELECT url, updated_at FROM notification_settings WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| {
            Ok(NotificationSettings {
                url: col(&r, "url")?,
                secret_set: true,
                updated_at: col(&r, "updated_at")?,
            })
        })
        .transpose()
    }

    /// Where (and with which secret) to send the merchant's notifications.
    pub async fn notification_target(
        &self,
        merchant_id: i64,
    ) -> Result<Option<NotificationTarget>, StoreError> {
        let row =
            sqlx::query("SELECT url, secret FROM notification_settings WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| {
            Ok(NotificationTarget {
                url: col(&r, "url")?,
                secret: col(&r, "secret")?,
            })
        })
        .transpose()
    }
}
