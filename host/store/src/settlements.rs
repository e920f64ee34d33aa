//! Settlements: the ONE import of settlement lines and payouts (used by the daily
//! `settlements` job and by the admin import endpoint alike), the merchant's
//! expected-net rule per installation, the variance threshold, SKU unit costs, and the
//! daily import schedule.
//!
//! Lines are keyed by (installation, platform line id) and payouts by (installation,
//! payout id): importing the same records again changes nothing (not even `updated_at`);
//! a record the platform restated is updated in place and counted as changed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wharf_domain::money::is_known_currency;
use wharf_domain::reconcile::{NetRule, DEFAULT_VARIANCE_THRESHOLD};
use wharf_domain::settlement::SettlementPage;

use crate::db::{col, from_json, now_ms, to_json};
use crate::{Backend, Store, StoreError};

/// Rows per multi-row `INSERT` of an import.
const CHUNK: usize = 200;
/// Longest platform id accepted (line, payout, order reference).
const MAX_ID: usize = 200;

/// What one [`Store::import_settlements`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SettlementImport {
    /// Lines new or restated by the platform.
    pub lines_changed: u64,
    /// Lines already stored exactly as given.
    pub lines_unchanged: u64,
    pub payouts_changed: u64,
    pub payouts_unchanged: u64,
}

/// An installation's expected-net rule, and whether it is still the platform default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SettlementRule {
    pub installation_id: i64,
    pub platform: String,
    pub rule: NetRule,
    /// True while the merchant has not set a rule (the platform default applies).
    pub is_default: bool,
    pub updated_at: Option<i64>,
}

/// The merchant's reconciliation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationSettings {
    /// An order whose |actual − expected net| is over this (minor units of the order's
    /// currency) is marked red. Default 500.
    pub variance_threshold_minor: i64,
}

/// A SKU's unit cost, for margins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuCost {
    /// The SKU code as order lines carry it.
    pub sku: String,
    /// Cost of one unit in minor units (≥ 0).
    pub unit_cost_minor: i64,
    pub currency: String,
}

fn check_id(what: &str, id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > MAX_ID {
        return Err(StoreError::InvalidInput(format!(
            "{what} must be 1 to {MAX_ID} bytes, got {:?}",
            id.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

fn check_currency(what: &str, c: &str) -> Result<(), StoreError> {
    if !is_known_currency(c) {
        return Err(StoreError::InvalidInput(format!(
            "{what}: unknown currency {c:?}"
        )));
    }
    Ok(())
}

/// Refuse a page that cannot be stored as given (amounts that do not add up are NOT
/// refused: reconciliation reports them).
pub fn validate_page(page: &SettlementPage) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for l in &page.lines {
        check_id("line_id", &l.line_id)?;
        if let Some(o) = &l.order_external_id {
            check_id("order_external_id", o)?;
        }
        if let Some(p) = &l.payout_id {
            check_id("payout_id", p)?;
        }
        for (what, m) in [("gross", &l.gross), ("fee", &l.fee), ("net", &l.net)] {
            check_currency(&format!("line {} {what}", l.line_id), &m.currency)?;
        }
        if !seen.insert(l.line_id.as_str()) {
            return Err(StoreError::InvalidInput(format!(
                "line {:?} appears twice in one page",
                l.line_id
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in &page.payouts {
        check_id("payout_id", &p.payout_id)?;
        check_currency(&format!("payout {}", p.payout_id), &p.amount.currency)?;
        if p.status.len() > MAX_ID {
            return Err(StoreError::InvalidInput("payout status is too long".into()));
        }
        if !seen.insert(p.payout_id.as_str()) {
            return Err(StoreError::InvalidInput(format!(
                "payout {:?} appears twice in one page",
                p.payout_id
            )));
        }
    }
    Ok(())
}

/// `$k, $k+1, …` placeholders for `rows` rows of `cols` columns.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    fn distinct(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "IS NOT",
            Backend::Postgres => "IS DISTINCT FROM",
        }
    }

    /// Store one page of settlement lines and payouts for an installation of the
    /// merchant, in ONE transaction. Idempotent per (installation, platform id).
    pub async fn import_settlements(
        &self,
        merchant_id: i64,
        installation_id: i64,
        page: &SettlementPage,
    ) -> Result<SettlementImport, StoreError> {
        validate_page(page)?;
        let mut tx = self.begin().await?;
        let owner = sqlx::query("SELECT id FROM installations WHERE id = $1 AND merchant_id = $2")
            .bind(installation_id)
            .bind(merchant_id)
            .fetch_optional(&mut *tx)
            .await?;
        if owner.is_none() {
            return Err(StoreError::NotFound(format!(
                "installation {installation_id}"
            )));
        }
        let now = now_ms();
        let ne = self.distinct();
        let mut report = SettlementImport::default();
        for chunk in page.lines.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO settlement_lines (merchant_id, installation_id, line_id, \
                 order_external_id, kind, gross_minor, gross_currency, fee_minor, fee_currency, \
                 net_minor, net_currency, settled_at, payout_id, imported_at, updated_at) \
                 VALUES {} ON CONFLICT (installation_id, line_id) DO UPDATE SET \
                 order_external_id = excluded.order_external_id, kind = excluded.kind, \
                 gross_minor = excluded.gross_minor, gross_currency = excluded.gross_currency, \
                 fee_minor = excluded.fee_minor, fee_currency = excluded.fee_currency, \
                 net_minor = excluded.net_minor, net_currency = excluded.net_currency, \
                 settled_at = excluded.settled_at, payout_id = excluded.payout_id, \
                 updated_at = excluded.updated_at \
                 WHERE settlement_lines.order_external_id {ne} excluded.order_external_id \
                 OR settlement_lines.kind <> excluded.kind \
                 OR settlement_lines.gross_minor <> excluded.gross_minor \
                 OR settlement_lines.gross_currency <> excluded.gross_currency \
                 OR settlement_lines.fee_minor <> excluded.fee_minor \
                 OR settlement_lines.fee_currency <> excluded.fee_currency \
                 OR settlement_lines.net_minor <> excluded.net_minor \
                 OR settlement_lines.net_currency <> excluded.net_currency \
                 OR settlement_lines.settled_at <> excluded.settled_at \
                 OR settlement_lines.payout_id {ne} excluded.payout_id",
                placeholders(chunk.len(), 15)
            );
            let mut q = sqlx::query(&sql);
            for l in chunk {
                q = q
                    .bind(merchant_id)
                    .bind(installation_id)
                    .bind(&l.line_id)
                    .bind(&l.order_external_id)
                    .bind(l.kind.as_str())
                    .bind(l.gross.minor)
                    .bind(&l.gross.currency)
                    .bind(l.fee.minor)
                    .bind(&l.fee.currency)
                    .bind(l.net.minor)
                    .bind(&l.net.currency)
                    .bind(l.settled_at)
                    .bind(&l.payout_id)
                    .bind(now)
                    .bind(now);
            }
            let changed = q.execute(&mut *tx).await?.rows_affected();
            report.lines_changed += changed;
            report.lines_unchanged += chunk.len() as u64 - changed;
        }
        for chunk in page.payouts.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO payouts (merchant_id, installation_id, payout_id, amount_minor, \
                 currency, paid_at, status, imported_at, updated_at) VALUES {} \
                 ON CONFLICT (installation_id, payout_id) DO UPDATE SET \
                 amount_minor = excluded.amount_minor, currency = excluded.currency, \
                 paid_at = excluded.paid_at, status = excluded.status, \
                 updated_at = excluded.updated_at \
                 WHERE payouts.amount_minor <> excluded.amount_minor \
                 OR payouts.currency <> excluded.currency OR payouts.paid_at <> excluded.paid_at \
                 OR payouts.status <> excluded.status",
                placeholders(chunk.len(), 9)
            );
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q
                    .bind(merchant_id)
                    .bind(installation_id)
                    .bind(&p.payout_id)
                    .bind(p.amount.minor)
                    .bind(&p.amount.currency)
                    .bind(p.paid_at)
                    .bind(&p.status)
                    .bind(now)
                    .bind(now);
            }
            let changed = q.execute(&mut *tx).await?.rows_affected();
            report.payouts_changed += changed;
            report.payouts_unchanged += chunk.len() as u64 - changed;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// The platform of one of the merchant's installations (404 for anyone else's).
    async fn installation_platform(
        &self,
        merchant_id: i64,
        installation_id: i64,
    ) -> Result<String, StoreError> {
        let row =
            sqlx::query("SELECT platform FROM installations WHERE id = $1 AND merchant_id = $2")
                .bind(installation_id)
                .bind(merchant_id)
                .fetch_optional(&self.read)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("installation {installation_id}")))?;
        col(&row, "platform")
    }

    /// The installation's expected-net rule (the platform default until one is set).
    pub async fn settlement_rule(
        &self,
        merchant_id: i64,
        installation_id: i64,
    ) -> Result<SettlementRule, StoreError> {
        let platform = self
            .installation_platform(merchant_id, installation_id)
            .await?;
        let row =
            sqlx::query("SELECT rule, updated_at FROM settlement_rules WHERE installation_id = $1")
                .bind(installation_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(match row {
            Some(r) => SettlementRule {
                installation_id,
                rule: from_json("settlement_rules.rule", &col::<String>(&r, "rule")?)?,
                platform,
                is_default: false,
                updated_at: Some(col(&r, "updated_at")?),
            },
            None => SettlementRule {
                installation_id,
                rule: NetRule::default_for(&platform),
                platform,
                is_default: true,
                updated_at: None,
            },
        })
    }

    /// Set the installation's expected-net rule after validating it.
    pub async fn put_settlement_rule(
        &self,
        merchant_id: i64,
        installation_id: i64,
        rule: &NetRule,
    ) -> Result<SettlementRule, StoreError> {
        rule.validate()
            .map_err(|errors| StoreError::InvalidInput(errors.join("; ")))?;
        self.installation_platform(merchant_id, installation_id)
            .await?;
        sqlx::query(
            "INSERT INTO settlement_rules (installation_id, merchant_id, rule, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (installation_id) DO UPDATE SET \
             rule = excluded.rule, updated_at = excluded.updated_at",
        )
        .bind(installation_id)
        .bind(merchant_id)
        .bind(to_json(rule)?)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        self.settlement_rule(merchant_id, installation_id).await
    }

    /// The merchant's reconciliation settings (defaults until set).
    pub async fn reconciliation_settings(
        &self,
        merchant_id: i64,
    ) -> Result<ReconciliationSettings, StoreError> {
        let row = sqlx::query(
            "SELECT variance_threshold_minor FROM reconciliation_settings WHERE merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(ReconciliationSettings {
            variance_threshold_minor: match row {
                Some(r) => col(&r, "variance_threshold_minor")?,
                None => DEFAULT_VARIANCE_THRESHOLD,
            },
        })
    }

    /// Replace the merchant's reconciliation settings.
    pub async fn put_reconciliation_settings(
        &self,
        merchant_id: i64,
        settings: &ReconciliationSettings,
    ) -> Result<ReconciliationSettings, StoreError> {
        if settings.variance_threshold_minor < 0 {
            return Err(StoreError::InvalidInput(
                "variance_threshold_minor must be ≥ 0".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO reconciliation_settings (merchant_id, variance_threshold_minor, updated_at) \
             VALUES ($1, $2, $3) ON CONFLICT (merchant_id) DO UPDATE SET \
             variance_threshold_minor = excluded.variance_threshold_minor, \
             updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(settings.variance_threshold_minor)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        self.reconciliation_settings(merchant_id).await
    }

    /// Set unit costs (upsert per SKU) in one transaction; all or nothing.
    pub async fn put_sku_costs(
        &self,
        merchant_id: i64,
        costs: &[SkuCost],
    ) -> Result<Vec<SkuCost>, StoreError> {
        for c in costs {
            check_id("sku", &c.sku)?;
            check_currency(&format!("sku {}", c.sku), &c.currency)?;
            if c.unit_cost_minor < 0 {
                return Err(StoreError::InvalidInput(format!(
                    "sku {}: unit_cost_minor must be ≥ 0",
                    c.sku
                )));
            }
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        for c in costs {
            sqlx::query(
                "INSERT INTO sku_costs (merchant_id, sku, unit_cost_minor, currency, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (merchant_id, sku) DO UPDATE SET \
                 unit_cost_minor = excluded.unit_cost_minor, currency = excluded.currency, \
                 updated_at = excluded.updated_at",
            )
            .bind(merchant_id)
            .bind(&c.sku)
            .bind(c.unit_cost_minor)
            .bind(&c.currency)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.sku_costs(merchant_id).await
    }

    /// The merchant's SKU unit costs, by SKU.
    pub async fn sku_costs(&self, merchant_id: i64) -> Result<Vec<SkuCost>, StoreError> {
        let rows = sqlx::query(
            "SELECT sku, unit_cost_minor, currency FROM sku_costs WHERE merchant_id = $1 ORDER BY sku",
        )
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SkuCost {
                    sku: col(r, "sku")?,
                    unit_cost_minor: col(r, "unit_cost_minor")?,
                    currency: col(r, "currency")?,
                })
            })
            .collect()
    }

    /// Enabled marketplace installations whose daily settlement import is due.
    pub async fn due_settlements(&self, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM installations WHERE enabled = 1 AND next_settlement_at <= $1 \
             AND plugin_id IN (SELECT id FROM plugins WHERE kind = 'marketplace') \
             ORDER BY next_settlement_at, id",
        )
        .bind(now_ms)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| col(r, "id")).collect()
    }

    /// Set when the installation's next settlement import is due.
    pub async fn schedule_next_settlement(
        &self,
        installation_id: i64,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET next_settlement_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(installation_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
