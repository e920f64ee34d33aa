//! Ingest: a batch of normalised orders from one installation, applied in ONE
//! transaction — anomaly flags, dedup upsert, lines, events, counters, and the pull
//! cursor or webhook delivery record.
//!
//! Written for few statements per order, because SQLite's one write connection pays per
//! statement: what the batches of one transaction share is read once and their webhook
//! counters written once (`TxCache`); a new order is inserted in the state the state
//! machine would move it to, ship clock running (`fulfillment::NewOrder`), and its
//! lines, pick task, event rows and delivery record wait in `crate::pending`, written
//! per table for the whole transaction in multi-row statements before it commits.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};
use wharf_domain::anomaly::{self, Flag};
use wharf_domain::inventory::ReduceStockAt;
use wharf_domain::order::supersedes;
use wharf_domain::{ChannelStatus, Order};

use crate::after_sales::Inserted;
use crate::db::{col, now_ms, to_json};
use crate::error::is_constraint_violation;
use crate::fulfillment::{move_state, secs_to_ms, sla_limit_secs_sql, NewOrder, INVENTORY, SYSTEM};
use crate::inventory::Tx;
use crate::pending::{DeliveryKey, Pending};
use crate::reservations::{StockScope, OVERSOLD};
use crate::{IngestReport, IngestSource, Installation, Store, StoreError};
use wharf_domain::fulfillment::{SlaStep, State};

/// The dedup key of the installation the batch belongs to, as stored.
#[derive(Clone)]
struct Scope {
    installation_id: i64,
    merchant_id: i64,
    platform: String,
    shop: String,
}

/// What became of one order: created (and whether it was inserted in its planned state,
/// see [`NewOrder`]), updated to a newer version, or left as it was.
enum Outcome {
    Created(i64, bool),
    Updated(i64),
    Unchanged(i64),
}

/// What the batches applied in one transaction read once — the installations' rows (the
/// first read locks them, so they cannot change before the commit), whether their
/// merchants keep inventory in Wharf, their ship SLAs (all in one read) — and what they write last: the
/// rows held back in [`Pending`] and the counters they add up, written once per
/// installation. [`finish`](Self::finish) writes both before the commit.
#[derive(Default)]
pub(crate) struct TxCache {
    installations: HashMap<i64, (Scope, Option<StockScope>)>,
    ship_limits: HashMap<i64, Option<i64>>,
    counts: BTreeMap<i64, Counts>,
    pending: Pending,
}

/// What webhook and verify ingests add to an installation's counters.
#[derive(Default)]
struct Counts {
    created: i64,
    updated: i64,
    webhooks: i64,
}

impl TxCache {
    /// Write the held-back rows, then add the counted orders and deliveries to their
    /// installations (one UPDATE each). A row a store constraint refuses is bad input.
    pub(crate) async fn finish(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        self.pending.flush(tx).await.map_err(|e| match e {
            StoreError::Database(db) if is_constraint_violation(&db) => StoreError::InvalidInput(
                format!("a row of the batch was refused by a store constraint: {db}"),
            ),
            other => other,
        })?;
        for (id, c) in std::mem::take(&mut self.counts) {
            sqlx::query(
                "UPDATE installations SET orders_created = orders_created + $1, \
                 orders_updated = orders_updated + $2, \
                 webhooks_accepted = webhooks_accepted + $3 WHERE id = $4",
            )
            .bind(c.created)
            .bind(c.updated)
            .bind(c.webhooks)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Once [`finish`](Self::finish) has run: mark `report` a redelivery when its
    /// webhook's delivery record turned out to be stored already.
    pub(crate) fn mark_redelivery(
        &self,
        installation_id: i64,
        source: &IngestSource,
        report: &mut IngestReport,
    ) {
        if let Some(key) = delivery_key(installation_id, source) {
            report.duplicate_delivery |= self.pending.stored_before(&key);
        }
    }
}

/// The delivery record a webhook batch writes, if its channel gave a delivery id.
fn delivery_key(installation_id: i64, source: &IngestSource) -> Option<DeliveryKey> {
    match source {
        IngestSource::Webhook {
            delivery_id: Some(delivery),
            ..
        } => Some((installation_id, delivery.clone())),
        _ => None,
    }
}

/// A stable fingerprint of everything the channel told us about an order, to tell a
/// real update from a redelivery of the same version.
fn fingerprint(order: &Order) -> Result<String, StoreError> {
    Ok(hex::encode(Sha256::digest(to_json(order)?.as_bytes())))
}

fn source_label(source: &IngestSource) -> String {
    match source {
        IngestSource::Webhook { topic, .. } => format!("webhook:{topic}"),
        IngestSource::Pull { .. } => "pull".into(),
        IngestSource::Verify => "verify".into(),
    }
}

fn validate(order: &Order) -> Result<(), StoreError> {
    let bad = |m: &str| {
        Err(StoreError::InvalidInput(format!(
            "order {:?}: {m}",
            order.external_id
        )))
    };
    if order.external_id.trim().is_empty() {
        return bad("external_id is empty");
    }
    if order.external_id.len() > 255 {
        return bad("external_id is longer than 255 bytes");
    }
    let mut line_ids = BTreeSet::new();
    for line in &order.lines {
        if !line_ids.insert(line.line_id.as_str()) {
            return bad(&format!("line id {:?} appears twice", line.line_id));
        }
    }
    Ok(())
}

impl Store {
    /// Apply a batch of orders from `inst` in one transaction (see the module docs).
    /// Either everything — orders, lines, events, counters, cursor, delivery record —
    /// commits, or nothing does.
    pub async fn ingest(
        &self,
        inst: &Installation,
        orders: &[Order],
        source: IngestSource,
    ) -> Result<IngestReport, StoreError> {
        let mut tx = self.begin().await?;
        let report = self.ingest_counted(&mut tx, inst, orders, &source).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// One batch on its own inside `tx` (which the caller commits): [`ingest_in`](Self::ingest_in)
    /// with a cache of its own, finished before returning.
    pub(crate) async fn ingest_counted(
        &self,
        tx: &mut Tx,
        inst: &Installation,
        orders: &[Order],
        source: &IngestSource,
    ) -> Result<IngestReport, StoreError> {
        let mut cache = TxCache::default();
        let mut report = self.ingest_in(tx, &mut cache, inst, orders, source).await?;
        cache.finish(tx).await?;
        cache.mark_redelivery(inst.id, source, &mut report);
        Ok(report)
    }

    /// The body of [`ingest`](Self::ingest) inside a transaction the caller owns and
    /// commits: one transaction per batch, or several batches of a group commit
    /// ([`crate::group_commit`]). Webhook and verify counters and the held-back rows go
    /// to `cache`: the caller writes them ([`TxCache::finish`]) before it commits, and
    /// then marks a redelivery ([`TxCache::mark_redelivery`]).
    pub(crate) async fn ingest_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        cache: &mut TxCache,
        inst: &Installation,
        orders: &[Order],
        source: &IngestSource,
    ) -> Result<IngestReport, StoreError> {
        let (scope, stock) = self.installation_scope(tx, cache, inst.id).await?;
        let now = now_ms();
        let mut report = IngestReport::default();
        let mut pushes = BTreeSet::new();

        if let (Some(key), IngestSource::Webhook { topic, .. }) =
            (delivery_key(scope.installation_id, source), source)
        {
            // Already queued in this transaction: a redelivery.
            report.duplicate_delivery = !cache.pending.delivery(key, topic, now);
        }

        let label = source_label(source);
        for order in orders {
            validate(order)?;
            let flags = anomaly::check(order);
            let plan = match stock {
                Some(_) => None,
                None => Some(
                    self.plan_new_order(
                        tx,
                        scope.merchant_id,
                        order.status,
                        !flags.is_empty(),
                        &mut cache.ship_limits,
                        now,
                    )
                    .await?,
                ),
            };
            let outcome = self
                .upsert_order(
                    tx,
                    &scope,
                    order,
                    &flags,
                    plan.as_ref(),
                    &label,
                    now,
                    &mut cache.pending,
                )
                .await
                .map_err(|e| match e {
                    StoreError::Database(db) if is_constraint_violation(&db) => {
                        StoreError::InvalidInput(format!(
                            "order {:?} was refused by a store constraint (e.g. duplicate \
                             line ids)",
                            order.external_id
                        ))
                    }
                    other => other,
                })?;
            let id = match outcome {
                Outcome::Created(id, _) | Outcome::Updated(id) => id,
                Outcome::Unchanged(id) => {
                    report.unchanged += 1;
                    report.order_ids.push(id);
                    continue;
                }
            };
            if let Some(stock) = &stock {
                // Inventory reads the order's lines and writes its holds to the event log
                // directly.
                cache.pending.flush(tx).await?;
                let inventory = self
                    .apply_order_stock(tx, stock, id, order, &mut pushes)
                    .await?;
                set_inventory_flags(tx, id, &flags, inventory, now).await?;
            }
            // The fulfillment state machine moves in the same transaction, so a paid
            // order's pick task is visible the moment the webhook is acknowledged. A new
            // order inserted in its planned state has moved already.
            if !matches!(outcome, Outcome::Created(_, true)) {
                self.progress(
                    tx,
                    id,
                    stock.is_some(),
                    &mut cache.ship_limits,
                    SYSTEM,
                    now,
                    &mut cache.pending,
                )
                .await?;
            }
            // A new order inserted in its planned state: its merchant and payment are
            // known (a stock merchant's new order, without a plan, may have been paid by
            // `progress`).
            let inserted = match (&outcome, &plan) {
                (Outcome::Created(..), Some(p)) => Some(Inserted {
                    merchant_id: scope.merchant_id,
                    paid: p.paid.is_some(),
                }),
                _ => None,
            };
            crate::after_sales::sync_order(tx, id, order, inserted, now, &mut cache.pending)
                .await?;
            if let Outcome::Created(..) = outcome {
                report.created += 1;
            } else {
                report.updated += 1;
            }
            report.order_ids.push(id);
        }

        let created = i64::from(report.created);
        let updated = i64::from(report.updated);
        match source {
            IngestSource::Pull { cursor } => {
                sqlx::query(
                    "UPDATE installations SET orders_created = orders_created + $1, \
                     orders_updated = orders_updated + $2, cursor = COALESCE($3, cursor), \
                     last_sync_at = $4, pulls_ok = pulls_ok + 1 WHERE id = $5",
                )
                .bind(created)
                .bind(updated)
                .bind(cursor.clone())
                .bind(now)
                .bind(scope.installation_id)
                .execute(&mut **tx)
                .await?;
            }
            IngestSource::Webhook { .. } | IngestSource::Verify => {
                let c = cache.counts.entry(scope.installation_id).or_default();
                c.created += created;
                c.updated += updated;
                c.webhooks += i64::from(matches!(source, IngestSource::Webhook { .. }));
            }
        }
        self.flush_pushes(tx, scope.merchant_id, &pushes, now)
            .await?;
        Ok(report)
    }

    /// The installation's dedup scope and stock mode, read (and on PostgreSQL locked) on
    /// the transaction's first batch for it; its merchant's ship SLA goes to the cache.
    async fn installation_scope(
        &self,
        tx: &mut Tx,
        cache: &mut TxCache,
        id: i64,
    ) -> Result<(Scope, Option<StockScope>), StoreError> {
        if let Some(known) = cache.installations.get(&id) {
            return Ok(known.clone());
        }
        // Whether the merchant tracks inventory and its ship SLA come with the same read.
        let merchant = "installations.merchant_id";
        let row = sqlx::query(&format!(
            "SELECT merchant_id, platform, shop, reduce_stock_at, {} AS tracks_inventory, \
             {} AS ship_limit_secs FROM installations WHERE id = $1{}",
            crate::reservations::tracks_inventory_sql(merchant),
            sla_limit_secs_sql(merchant, SlaStep::Ship),
            self.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("installation {id}")))?;
        let scope = Scope {
            installation_id: id,
            merchant_id: col(&row, "merchant_id")?,
            platform: col(&row, "platform")?,
            shop: col(&row, "shop")?,
        };
        let stock = if col::<i64>(&row, "tracks_inventory")? != 0 {
            let mode = col::<String>(&row, "reduce_stock_at")?;
            Some(StockScope {
                merchant_id: scope.merchant_id,
                installation_id: scope.installation_id,
                mode: ReduceStockAt::parse(&mode).map_err(StoreError::corrupt)?,
            })
        } else {
            None
        };
        cache
            .ship_limits
            .entry(scope.merchant_id)
            .or_insert(secs_to_ms(col(&row, "ship_limit_secs")?));
        cache
            .installations
            .insert(id, (scope.clone(), stock.clone()));
        Ok((scope, stock))
    }

    /// Insert the order — in `plan`'s state when given — or, when it exists, update it if
    /// this version supersedes the stored one. `flags` are its anomaly rules' findings.
    #[allow(clippy::too_many_arguments)]
    async fn upsert_order(
        &self,
        tx: &mut Transaction<'static, Any>,
        scope: &Scope,
        order: &Order,
        flags: &[Flag],
        plan: Option<&NewOrder>,
        source: &str,
        now: i64,
        pending: &mut Pending,
    ) -> Result<Outcome, StoreError> {
        let hash = fingerprint(order)?;
        let state = plan.map_or(State::Received, |p| p.state);
        let paid = plan.and_then(|p| p.paid);
        let inserted = sqlx::query(
            "INSERT INTO orders (merchant_id, installation_id, platform, shop, external_id, \
             number, status, raw_status, currency, created_at, updated_at, buyer, \
             shipping_address, shipping_fee_minor, shipping_fee_currency, discount_minor, \
             discount_currency, tax_minor, tax_currency, total_paid_minor, total_paid_currency, \
             presale, tags, flagged, flags, content_sha256, ingested_at, last_ingested_at, \
             state, paid_at, ship_due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) \
             ON CONFLICT (merchant_id, platform, shop, external_id) DO NOTHING RETURNING id",
        )
        .bind(scope.merchant_id)
        .bind(scope.installation_id)
        .bind(&scope.platform)
        .bind(&scope.shop)
        .bind(&order.external_id)
        .bind(&order.number)
        .bind(order.status.as_str())
        .bind(&order.raw_status)
        .bind(&order.currency)
        .bind(order.created_at)
        .bind(order.updated_at)
        .bind(order.buyer.as_ref().map(to_json).transpose()?)
        .bind(order.shipping_address.as_ref().map(to_json).transpose()?)
        .bind(order.shipping_fee.minor)
        .bind(&order.shipping_fee.currency)
        .bind(order.discount.minor)
        .bind(&order.discount.currency)
        .bind(order.tax.minor)
        .bind(&order.tax.currency)
        .bind(order.total_paid.minor)
        .bind(&order.total_paid.currency)
        .bind(order.presale.as_ref().map(to_json).transpose()?)
        .bind(to_json(&order.tags)?)
        .bind(i64::from(!flags.is_empty()))
        .bind(to_json(&flags)?)
        .bind(&hash)
        .bind(now)
        .bind(now)
        .bind(state.as_str())
        .bind(paid.map(|p| p.at))
        .bind(paid.and_then(|p| p.ship_due_at))
        .fetch_optional(&mut **tx)
        .await?;

        if let Some(row) = inserted {
            let id: i64 = col(&row, "id")?;
            pending.lines(id, &order.lines);
            let to = Some(order.status.as_str());
            pending
                .audit
                .push(id, now, "created", source, None, to, None);
            if let Some(plan) = plan {
                plan.queue(scope.merchant_id, id, now, pending);
            }
            return Ok(Outcome::Created(id, plan.is_some()));
        }

        // The order exists, and may be one created earlier in this transaction: what is
        // held back for it is written before it is read.
        pending.flush(tx).await?;
        // Lock it and decide whether this version supersedes it.
        let row = sqlx::query(&format!(
            "SELECT id, status, updated_at, content_sha256 FROM orders WHERE merchant_id = $1 \
             AND platform = $2 AND shop = $3 AND external_id = $4{}",
            self.for_update()
        ))
        .bind(scope.merchant_id)
        .bind(&scope.platform)
        .bind(&scope.shop)
        .bind(&order.external_id)
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = col(&row, "id")?;
        let stored_status = ChannelStatus::parse(&col::<String>(&row, "status")?)
            .map_err(|e| StoreError::corrupt(format!("orders.status: {e}")))?;
        let stored_updated_at: i64 = col(&row, "updated_at")?;
        let stored_hash: String = col(&row, "content_sha256")?;
        if stored_hash == hash
            || !supersedes(
                order.updated_at,
                order.status,
                stored_updated_at,
                stored_status,
            )
        {
            return Ok(Outcome::Unchanged(id));
        }

        update_order(tx, id, order, flags, &hash, now).await?;
        sqlx::query("DELETE FROM order_lines WHERE order_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        pending.lines(id, &order.lines);
        let detail = format!("updated_at {stored_updated_at} -> {}", order.updated_at);
        let (from, to) = (stored_status.as_str(), order.status.as_str());
        pending.audit.push(
            id,
            now,
            "updated",
            source,
            Some(from),
            Some(to),
            Some(&detail),
        );
        Ok(Outcome::Updated(id))
    }
}

/// Merge the order's inventory flags into its anomaly flags (`anomaly`) as stored, and
/// hold an oversold order for review (`on_hold`) — or release the hold once its stock is
/// reserved.
async fn set_inventory_flags(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    anomaly: &[Flag],
    inventory: Vec<Flag>,
    now: i64,
) -> Result<(), StoreError> {
    let oversold = inventory.iter().any(|f| f.code == OVERSOLD);
    if !inventory.is_empty() {
        let mut flags = anomaly.to_vec();
        flags.extend(inventory);
        sqlx::query("UPDATE orders SET flagged = 1, flags = $1 WHERE id = $2")
            .bind(to_json(&flags)?)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let (from, to, why) = if oversold {
        (State::Received, State::OnHold, "oversold: held for review")
    } else {
        (
            State::OnHold,
            State::Received,
            "stock reserved: hold released",
        )
    };
    // Through the state machine's table and audit; a merchant's own hold (review
    // `held`) is only released by the merchant.
    let row = sqlx::query("SELECT state, review FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let review: Option<String> = col(&row, "review")?;
    if col::<String>(&row, "state")? == from.as_str() && review.as_deref() != Some("held") {
        move_state(tx, id, from, to, INVENTORY, why, now).await?;
    }
    Ok(())
}

async fn update_order(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    order: &Order,
    flags: &[Flag],
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE orders SET number = $1, status = $2, raw_status = $3, currency = $4, \
         created_at = $5, updated_at = $6, buyer = $7, shipping_address = $8, \
         shipping_fee_minor = $9, shipping_fee_currency = $10, discount_minor = $11, \
         discount_currency = $12, tax_minor = $13, tax_currency = $14, total_paid_minor = $15, \
         total_paid_currency = $16, presale = $17, tags = $18, flagged = $19, flags = $20, \
         content_sha256 = $21, last_ingested_at = $22 WHERE id = $23",
    )
    .bind(&order.number)
    .bind(order.status.as_str())
    .bind(&order.raw_status)
    .bind(&order.currency)
    .bind(order.created_at)
    .bind(order.updated_at)
    .bind(order.buyer.as_ref().map(to_json).transpose()?)
    .bind(order.shipping_address.as_ref().map(to_json).transpose()?)
    .bind(order.shipping_fee.minor)
    .bind(&order.shipping_fee.currency)
    .bind(order.discount.minor)
    .bind(&order.discount.currency)
    .bind(order.tax.minor)
    .bind(&order.tax.currency)
    .bind(order.total_paid.minor)
    .bind(&order.total_paid.currency)
    .bind(order.presale.as_ref().map(to_json).transpose()?)
    .bind(to_json(&order.tags)?)
    .bind(i64::from(!flags.is_empty()))
    .bind(to_json(&flags)?)
    .bind(hash)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
