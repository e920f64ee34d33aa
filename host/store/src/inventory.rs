//! Inventory records and their admin operations: SKUs, stock per warehouse (set, adjust
//! with a reason, CSV import), channel listings (channel SKU / outer code → SKU), sync
//! rules per installation, and the stock-change audit trail. Every stock change writes a
//! `stock_events` row and marks the SKU's listings for a push ([`crate::stock_sync`]) in
//! the same transaction.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use utoipa::ToSchema;
use wharf_domain::inventory::{
    available_to_sell, effective_rule, validate_code, ReduceStockAt, RuleScope, ScopedRule,
    StockRow, SyncRule,
};

use crate::db::{col, now_ms};
use crate::error::is_constraint_violation;
use crate::{Store, StoreError};

pub(crate) type Tx = Transaction<'static, Any>;

/// A SKU with its stock summed over warehouses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Sku {
    pub id: i64,
    pub code: String,
    /// Groups SKUs of one product (for product-level sync rules); may be empty.
    pub product_code: String,
    pub title: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand − reserved`, never negative (the schema keeps reserved ≤ on hand).
    pub available: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A SKU to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSku {
    pub code: String,
    #[serde(default)]
    pub product_code: String,
    #[serde(default)]
    pub title: String,
}

/// Stock of one SKU in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WarehouseStock {
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub updated_at: i64,
}

/// A listing with what the channel may sell and what was last pushed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListingStatus {
    pub listing_id: i64,
    pub installation_id: i64,
    pub platform: String,
    pub shop: String,
    pub channel_sku: String,
    pub outer_code: String,
    /// The rule in force for this SKU on this channel (SKU > product > shop > default).
    pub rule: SyncRule,
    /// Available-to-sell now, by the rule.
    pub available_to_sell: i64,
    /// A change is waiting to be pushed.
    pub dirty: bool,
    pub last_pushed_available: Option<i64>,
    pub last_pushed_at: Option<i64>,
    pub last_push_error: Option<String>,
}

/// A SKU with its warehouses and listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkuDetail {
    pub sku: Sku,
    pub stock: Vec<WarehouseStock>,
    pub listings: Vec<ListingStatus>,
}

/// How to change a warehouse's on-hand quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// Set on-hand to this value (a count).
    Set(i64),
    /// Add this (possibly negative) delta.
    Adjust(i64),
}

/// One audited stock change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockEvent {
    pub id: i64,
    pub sku: String,
    pub warehouse: String,
    pub at: i64,
    /// Who changed it: `api`, `import`, `order:<id>` …
    pub actor: String,
    /// `set`, `adjust`, `import`, `reserve`, `release`, `consume`.
    pub kind: String,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reason: String,
    pub order_id: Option<i64>,
}

/// What a CSV import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub skus_created: usize,
    /// Rows whose on-hand changed.
    pub changed: usize,
}

/// A channel listing of a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Listing {
    pub id: i64,
    pub installation_id: i64,
    pub sku: String,
    pub channel_sku: String,
    pub outer_code: String,
    pub created_at: i64,
}

/// A listing to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewListing {
    pub installation_id: i64,
    /// The merchant's SKU code.
    pub sku: String,
    /// The channel's SKU / variant id (what pushes address).
    pub channel_sku: String,
    /// The outer SKU code the channel reports on order lines, when it differs from the
    /// SKU code; empty if not used.
    #[serde(default)]
    pub outer_code: String,
}

/// A stored sync rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SyncRuleRecord {
    pub id: i64,
    pub installation_id: i64,
    pub scope: RuleScope,
    /// SKU code or product code; empty for a shop rule.
    pub target: String,
    pub safety_stock: i64,
    pub ratio_bp: i64,
    pub updated_at: i64,
}

const SKU_COLS: &str = "s.id, s.code, s.product_code, s.title, s.created_at, s.updated_at, \
     CAST(COALESCE((SELECT SUM(on_hand) FROM stock WHERE sku_id = s.id), 0) AS BIGINT) AS on_hand, \
     CAST(COALESCE((SELECT SUM(reserved) FROM stock WHERE sku_id = s.id), 0) AS BIGINT) AS reserved";

fn sku(row: &AnyRow) -> Result<Sku, StoreError> {
    let on_hand: i64 = col(row, "on_hand")?;
    let reserved: i64 = col(row, "reserved")?;
    Ok(Sku {
        id: col(row, "id")?,
        code: col(row, "code")?,
        product_code: col(row, "product_code")?,
        title: col(row, "title")?,
        on_hand,
        reserved,
        available: (on_hand - reserved).max(0),
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn conflict_or(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_constraint_violation(&e) {
        StoreError::Conflict(what())
    } else {
        e.into()
    }
}

impl Store {
    /// Create a SKU. A code already used by the merchant is a conflict.
    pub async fn create_sku(&self, merchant_id: i64, new: &NewSku) -> Result<Sku, StoreError> {
        validate_code("sku code", &new.code).map_err(StoreError::InvalidInput)?;
        if !new.product_code.is_empty() {
            validate_code("product code", &new.product_code).map_err(StoreError::InvalidInput)?;
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO skus (merchant_id, code, product_code, title, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(merchant_id)
        .bind(&new.code)
        .bind(&new.product_code)
        .bind(&new.title)
        .bind(now)
        .execute(&self.write)
        .await
        .map_err(|e| conflict_or(e, || format!("sku {:?} already exists", new.code)))?;
        self.get_sku(merchant_id, &new.code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("sku {:?}", new.code)))
    }

    /// One SKU of the merchant by code.
    pub async fn get_sku(&self, merchant_id: i64, code: &str) -> Result<Option<Sku>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SKU_COLS} FROM skus s WHERE s.merchant_id = $1 AND s.code = $2"
        ))
        .bind(merchant_id)
        .bind(code)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(sku).transpose()
    }

    /// The merchant's SKUs by code, `limit` after `after_code`.
    pub async fn list_skus(
        &self,
        merchant_id: i64,
        after_code: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Sku>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SKU_COLS} FROM skus s WHERE s.merchant_id = $1 AND s.code > $2 \
             ORDER BY s.code LIMIT $3"
        ))
        .bind(merchant_id)
        .bind(after_code.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(sku).collect()
    }

    /// A SKU with its stock per warehouse and every listing's available-to-sell and push
    /// state.
    pub async fn sku_detail(
        &self,
        merchant_id: i64,
        code: &str,
    ) -> Result<Option<SkuDetail>, StoreError> {
        let Some(s) = self.get_sku(merchant_id, code).await? else {
            return Ok(None);
        };
        let stock = sqlx::query(
            "SELECT warehouse, on_hand, reserved, updated_at FROM stock WHERE sku_id = $1 \
             ORDER BY warehouse",
        )
        .bind(s.id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(WarehouseStock {
                warehouse: col(r, "warehouse")?,
                on_hand: col(r, "on_hand")?,
                reserved: col(r, "reserved")?,
                updated_at: col(r, "updated_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT l.id, l.installation_id, i.platform, i.shop, l.channel_sku, l.outer_code, \
             l.dirty, l.last_pushed_available, l.last_pushed_at, l.last_push_error \
             FROM listings l JOIN installations i ON i.id = l.installation_id \
             WHERE l.sku_id = $1 ORDER BY l.installation_id, l.channel_sku",
        )
        .bind(s.id)
        .fetch_all(&self.read)
        .await?;
        let mut listings = Vec::with_capacity(rows.len());
        // Rows come ordered by installation: read each installation's rules once.
        let mut rules: Option<(i64, Vec<ScopedRule>)> = None;
        for r in &rows {
            let installation_id: i64 = col(r, "installation_id")?;
            if rules.as_ref().is_none_or(|(id, _)| *id != installation_id) {
                rules = Some((installation_id, self.scoped_rules(installation_id).await?));
            }
            let scoped = rules
                .as_ref()
                .map(|(_, r)| r.as_slice())
                .unwrap_or_default();
            let rule = effective_rule(scoped, &s.code, &s.product_code);
            listings.push(ListingStatus {
                listing_id: col(r, "id")?,
                installation_id,
                platform: col(r, "platform")?,
                shop: col(r, "shop")?,
                channel_sku: col(r, "channel_sku")?,
                outer_code: col(r, "outer_code")?,
                rule,
                available_to_sell: available_to_sell(s.on_hand, s.reserved, &rule),
                dirty: col::<i64>(r, "dirty")? != 0,
                last_pushed_available: col(r, "last_pushed_available")?,
                last_pushed_at: col(r, "last_pushed_at")?,
                last_push_error: col(r, "last_push_error")?,
            });
        }
        Ok(Some(SkuDetail {
            sku: s,
            stock,
            listings,
        }))
    }

    /// Set or adjust on-hand of a SKU in a warehouse, audited with `reason`. On-hand can
    /// never drop below what open orders hold: that is a conflict naming the reserved
    /// quantity (cancel or ship those orders first).
    pub async fn change_stock(
        &self,
        merchant_id: i64,
        code: &str,
        warehouse: &str,
        change: StockChange,
        actor: &str,
        reason: &str,
    ) -> Result<WarehouseStock, StoreError> {
        validate_code("warehouse", warehouse).map_err(StoreError::InvalidInput)?;
        if reason.trim().is_empty() {
            return Err(StoreError::InvalidInput(
                "a stock change needs a reason".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let sku_id = sku_id(&mut tx, merchant_id, code)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("sku {code:?}")))?;
        let mut pushes = BTreeSet::new();
        let level = self
            .apply_stock_change(
                &mut tx,
                merchant_id,
                sku_id,
                warehouse,
                change,
                actor,
                reason,
                &mut pushes,
            )
            .await?;
        self.flush_pushes(&mut tx, merchant_id, &pushes, now_ms())
            .await?;
        tx.commit().await?;
        Ok(level)
    }

    /// Import a parsed stock CSV in ONE transaction: every row sets on-hand (creating
    /// missing SKUs); any refused row refuses the whole file.
    pub async fn import_stock(
        &self,
        merchant_id: i64,
        rows: &[StockRow],
        reason: &str,
    ) -> Result<ImportReport, StoreError> {
        let mut tx = self.begin().await?;
        let mut report = ImportReport {
            rows: rows.len(),
            skus_created: 0,
            changed: 0,
        };
        let now = now_ms();
        let mut pushes = BTreeSet::new();
        for row in rows {
            let id = match sku_id(&mut tx, merchant_id, &row.sku).await? {
                Some(id) => id,
                None => {
                    let created = sqlx::query(
                        "INSERT INTO skus (merchant_id, code, product_code, title, created_at, \
                         updated_at) VALUES ($1, $2, '', $3, $4, $4) RETURNING id",
                    )
                    .bind(merchant_id)
                    .bind(&row.sku)
                    .bind(&row.title)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    report.skus_created += 1;
                    col(&created, "id")?
                }
            };
            let before = stock_row(&mut tx, id, &row.warehouse).await?;
            if before.map(|(on_hand, _)| on_hand) == Some(row.on_hand) {
                continue;
            }
            self.apply_stock_change(
                &mut tx,
                merchant_id,
                id,
                &row.warehouse,
                StockChange::Set(row.on_hand),
                "import",
                reason,
                &mut pushes,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) | StoreError::InvalidInput(m) => {
                    StoreError::InvalidInput(format!("line {}: {m}", row.line))
                }
                other => other,
            })?;
            report.changed += 1;
        }
        self.flush_pushes(&mut tx, merchant_id, &pushes, now)
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Apply one on-hand change inside `tx`: audit it and mark listings for a push.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_stock_change(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
        sku_id: i64,
        warehouse: &str,
        change: StockChange,
        actor: &str,
        reason: &str,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<WarehouseStock, StoreError> {
        let now = now_ms();
        let (on_hand, reserved) = stock_row(tx, sku_id, warehouse).await?.unwrap_or((0, 0));
        let target = match change {
            StockChange::Set(v) => v,
            StockChange::Adjust(d) => on_hand.checked_add(d).ok_or_else(|| {
                StoreError::InvalidInput(format!("adjustment {d} overflows on-hand"))
            })?,
        };
        if target < 0 {
            return Err(StoreError::InvalidInput(format!(
                "on-hand in {warehouse:?} would become {target}; it cannot be negative"
            )));
        }
        if target < reserved {
            return Err(StoreError::Conflict(format!(
                "on-hand in {warehouse:?} would become {target}, below the {reserved} units \
                 reserved by open orders"
            )));
        }
        sqlx::query(
            "INSERT INTO stock (sku_id, warehouse, on_hand, reserved, updated_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT (sku_id, warehouse) \
             DO UPDATE SET on_hand = $3, updated_at = $4",
        )
        .bind(sku_id)
        .bind(warehouse)
        .bind(target)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let kind = match (change, actor) {
            (_, "import") => "import",
            (StockChange::Set(_), _) => "set",
            (StockChange::Adjust(_), _) => "adjust",
        };
        let ev = EventRow {
            merchant_id,
            sku_id,
            warehouse,
            actor,
            kind,
            on_hand_delta: target - on_hand,
            reserved_delta: 0,
            on_hand_after: target,
            reserved_after: reserved,
            reason,
            order_id: None,
        };
        record_event(tx, &ev, now).await?;
        self.stock_changed(tx, sku_id, now, pushes).await?;
        Ok(WarehouseStock {
            warehouse: warehouse.to_string(),
            on_hand: target,
            reserved,
            updated_at: now,
        })
    }

    /// The audit trail of a SKU, newest first, `limit` before event id `before`.
    pub async fn stock_events(
        &self,
        merchant_id: i64,
        code: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StockEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, s.code, e.warehouse, e.at, e.actor, e.kind, e.on_hand_delta, \
             e.reserved_delta, e.on_hand_after, e.reserved_after, e.reason, e.order_id \
             FROM stock_events e JOIN skus s ON s.id = e.sku_id \
             WHERE s.merchant_id = $1 AND s.code = $2 AND e.id < $3 ORDER BY e.id DESC LIMIT $4",
        )
        .bind(merchant_id)
        .bind(code)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StockEvent {
                    id: col(r, "id")?,
                    sku: col(r, "code")?,
                    warehouse: col(r, "warehouse")?,
                    at: col(r, "at")?,
                    actor: col(r, "actor")?,
                    kind: col(r, "kind")?,
                    on_hand_delta: col(r, "on_hand_delta")?,
                    reserved_delta: col(r, "reserved_delta")?,
                    on_hand_after: col(r, "on_hand_after")?,
                    reserved_after: col(r, "reserved_after")?,
                    reason: col(r, "reason")?,
                    order_id: col(r, "order_id")?,
                })
            })
            .collect()
    }

    /// Map a channel listing to a SKU. The installation must be the merchant's; the
    /// listing is pushed at once.
    pub async fn create_listing(
        &self,
        merchant_id: i64,
        new: &NewListing,
    ) -> Result<Listing, StoreError> {
        if new.channel_sku.trim().is_empty() || new.channel_sku.len() > 255 {
            return Err(StoreError::InvalidInput(
                "channel_sku must be 1 to 255 bytes".into(),
            ));
        }
        let mut tx = self.begin().await?;
        owned_installation(&mut tx, merchant_id, new.installation_id).await?;
        let sku_id = sku_id(&mut tx, merchant_id, &new.sku)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("sku {:?}", new.sku)))?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO listings (merchant_id, installation_id, sku_id, channel_sku, outer_code, \
             created_at, dirty, dirty_since) VALUES ($1, $2, $3, $4, $5, $6, 1, $6) RETURNING id",
        )
        .bind(merchant_id)
        .bind(new.installation_id)
        .bind(sku_id)
        .bind(&new.channel_sku)
        .bind(&new.outer_code)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_or(e, || {
                format!(
                    "channel sku {:?} is already mapped on installation {}",
                    new.channel_sku, new.installation_id
                )
            })
        })?;
        let id: i64 = col(&row, "id")?;
        self.schedule_push(
            &mut tx,
            merchant_id,
            new.installation_id,
            self.push_due(now),
        )
        .await?;
        tx.commit().await?;
        Ok(Listing {
            id,
            installation_id: new.installation_id,
            sku: new.sku.clone(),
            channel_sku: new.channel_sku.clone(),
            outer_code: new.outer_code.clone(),
            created_at: now,
        })
    }

    /// The merchant's listings, optionally of one installation.
    pub async fn list_listings(
        &self,
        merchant_id: i64,
        installation_id: Option<i64>,
    ) -> Result<Vec<Listing>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.installation_id, s.code, l.channel_sku, l.outer_code, l.created_at \
             FROM listings l JOIN skus s ON s.id = l.sku_id WHERE l.merchant_id = $1 \
             AND ($2 = 0 OR l.installation_id = $2) ORDER BY l.id",
        )
        .bind(merchant_id)
        .bind(installation_id.unwrap_or(0))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Listing {
                    id: col(r, "id")?,
                    installation_id: col(r, "installation_id")?,
                    sku: col(r, "code")?,
                    channel_sku: col(r, "channel_sku")?,
                    outer_code: col(r, "outer_code")?,
                    created_at: col(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Remove a listing mapping (the channel keeps its last pushed quantity).
    pub async fn delete_listing(&self, merchant_id: i64, id: i64) -> Result<(), StoreError> {
        let res = sqlx::query("DELETE FROM listings WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("listing {id}")));
        }
        Ok(())
    }

    /// Create or replace the rule for (installation, scope, target); every listing of the
    /// installation is re-pushed.
    pub async fn put_sync_rule(
        &self,
        merchant_id: i64,
        installation_id: i64,
        scope: RuleScope,
        target: &str,
        rule: SyncRule,
    ) -> Result<SyncRuleRecord, StoreError> {
        rule.validate().map_err(StoreError::InvalidInput)?;
        match scope {
            RuleScope::Shop if !target.is_empty() => {
                return Err(StoreError::InvalidInput(
                    "a shop rule has no target (leave it empty)".into(),
                ))
            }
            RuleScope::Product | RuleScope::Sku => {
                validate_code("target", target).map_err(StoreError::InvalidInput)?
            }
            RuleScope::Shop => {}
        }
        let mut tx = self.begin().await?;
        owned_installation(&mut tx, merchant_id, installation_id).await?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO sync_rules (merchant_id, installation_id, scope, target, safety_stock, \
             ratio_bp, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (installation_id, scope, target) DO UPDATE SET \
             safety_stock = $5, ratio_bp = $6, updated_at = $7 RETURNING id",
        )
        .bind(merchant_id)
        .bind(installation_id)
        .bind(scope.as_str())
        .bind(target)
        .bind(rule.safety_stock)
        .bind(rule.ratio_bp)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = col(&row, "id")?;
        sqlx::query(
            "UPDATE listings SET dirty = 1, change_seq = change_seq + 1, \
             dirty_since = COALESCE(dirty_since, $1) WHERE installation_id = $2",
        )
        .bind(now)
        .bind(installation_id)
        .execute(&mut *tx)
        .await?;
        self.schedule_push(&mut tx, merchant_id, installation_id, self.push_due(now))
            .await?;
        tx.commit().await?;
        Ok(SyncRuleRecord {
            id,
            installation_id,
            scope,
            target: target.to_string(),
            safety_stock: rule.safety_stock,
            ratio_bp: rule.ratio_bp,
            updated_at: now,
        })
    }

    /// The merchant's sync rules, optionally of one installation.
    pub async fn list_sync_rules(
        &self,
        merchant_id: i64,
        installation_id: Option<i64>,
    ) -> Result<Vec<SyncRuleRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, installation_id, scope, target, safety_stock, ratio_bp, updated_at \
             FROM sync_rules WHERE merchant_id = $1 AND ($2 = 0 OR installation_id = $2) \
             ORDER BY installation_id, scope, target",
        )
        .bind(merchant_id)
        .bind(installation_id.unwrap_or(0))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SyncRuleRecord {
                    id: col(r, "id")?,
                    installation_id: col(r, "installation_id")?,
                    scope: RuleScope::parse(&col::<String>(r, "scope")?)
                        .map_err(StoreError::corrupt)?,
                    target: col(r, "target")?,
                    safety_stock: col(r, "safety_stock")?,
                    ratio_bp: col(r, "ratio_bp")?,
                    updated_at: col(r, "updated_at")?,
                })
            })
            .collect()
    }

    /// Delete a sync rule; the installation's listings are re-pushed.
    pub async fn delete_sync_rule(&self, merchant_id: i64, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "DELETE FROM sync_rules WHERE merchant_id = $1 AND id = $2 RETURNING installation_id",
        )
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("sync rule {id}")))?;
        let installation_id: i64 = col(&row, "installation_id")?;
        let now = now_ms();
        sqlx::query(
            "UPDATE listings SET dirty = 1, change_seq = change_seq + 1, \
             dirty_since = COALESCE(dirty_since, $1) WHERE installation_id = $2",
        )
        .bind(now)
        .bind(installation_id)
        .execute(&mut *tx)
        .await?;
        self.schedule_push(&mut tx, merchant_id, installation_id, self.push_due(now))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When an installation's channel takes stock for an order.
    pub async fn set_reduce_stock_at(
        &self,
        merchant_id: i64,
        installation_id: i64,
        mode: ReduceStockAt,
    ) -> Result<(), StoreError> {
        let res = sqlx::query(
            "UPDATE installations SET reduce_stock_at = $1 WHERE merchant_id = $2 AND id = $3",
        )
        .bind(mode.as_str())
        .bind(merchant_id)
        .bind(installation_id)
        .execute(&self.write)
        .await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "installation {installation_id}"
            )));
        }
        Ok(())
    }

    /// The installation's stock-reduction mode.
    pub async fn reduce_stock_at(
        &self,
        merchant_id: i64,
        installation_id: i64,
    ) -> Result<ReduceStockAt, StoreError> {
        let row = sqlx::query(
            "SELECT reduce_stock_at FROM installations WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant_id)
        .bind(installation_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("installation {installation_id}")))?;
        ReduceStockAt::parse(&col::<String>(&row, "reduce_stock_at")?).map_err(StoreError::corrupt)
    }

    /// An installation's rules, for [`effective_rule`].
    pub(crate) async fn scoped_rules(
        &self,
        installation_id: i64,
    ) -> Result<Vec<ScopedRule>, StoreError> {
        let rows = sqlx::query(
            "SELECT scope, target, safety_stock, ratio_bp FROM sync_rules WHERE installation_id = $1",
        )
        .bind(installation_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ScopedRule {
                    scope: RuleScope::parse(&col::<String>(r, "scope")?)
                        .map_err(StoreError::corrupt)?,
                    target: col(r, "target")?,
                    rule: SyncRule {
                        safety_stock: col(r, "safety_stock")?,
                        ratio_bp: col(r, "ratio_bp")?,
                    },
                })
            })
            .collect()
    }
}

/// The id of the merchant's SKU `code`.
pub(crate) async fn sku_id(
    tx: &mut Tx,
    merchant_id: i64,
    code: &str,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id FROM skus WHERE merchant_id = $1 AND code = $2")
        .bind(merchant_id)
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| col(&r, "id")).transpose()
}

/// (on_hand, reserved) of a SKU in a warehouse, if the row exists.
pub(crate) async fn stock_row(
    tx: &mut Tx,
    sku_id: i64,
    warehouse: &str,
) -> Result<Option<(i64, i64)>, StoreError> {
    let row =
        sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku_id = $1 AND warehouse = $2")
            .bind(sku_id)
            .bind(warehouse)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|r| Ok((col(&r, "on_hand")?, col(&r, "reserved")?)))
        .transpose()
}

async fn owned_installation(
    tx: &mut Tx,
    merchant_id: i64,
    installation_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM installations WHERE merchant_id = $1 AND id = $2")
        .bind(merchant_id)
        .bind(installation_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("installation {installation_id}")))
}

/// One stock-change audit row.
pub(crate) struct EventRow<'a> {
    pub merchant_id: i64,
    pub sku_id: i64,
    pub warehouse: &'a str,
    pub actor: &'a str,
    pub kind: &'a str,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reason: &'a str,
    pub order_id: Option<i64>,
}

pub(crate) async fn record_event(tx: &mut Tx, e: &EventRow<'_>, at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stock_events (merchant_id, sku_id, warehouse, at, actor, kind, on_hand_delta, \
         reserved_delta, on_hand_after, reserved_after, reason, order_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.merchant_id)
    .bind(e.sku_id)
    .bind(e.warehouse)
    .bind(at)
    .bind(e.actor)
    .bind(e.kind)
    .bind(e.on_hand_delta)
    .bind(e.reserved_delta)
    .bind(e.on_hand_after)
    .bind(e.reserved_after)
    .bind(e.reason)
    .bind(e.order_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
