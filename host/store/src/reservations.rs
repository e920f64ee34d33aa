//! Stock reservations of orders, applied inside the ingest transaction.
//!
//! Each order line is mapped to a SKU (a listing's channel SKU, then a listing's outer
//! code, then a SKU whose code equals the line's SKU code); a line that maps to nothing
//! flags the order `unmapped_sku`. By the order's status and the channel's
//! stock-reduction mode ([`stock_intent`]) its lines are held, released or consumed. A
//! hold takes the quantity from one warehouse with a conditional
//! `UPDATE … WHERE on_hand − reserved >= qty`: atomic on SQLite (one writer) and on
//! PostgreSQL (the row lock re-checks the condition), and backed by the schema's
//! `reserved <= on_hand`, so concurrent orders for the last unit can never oversell. A
//! line no warehouse can hold is recorded `short`: the order is flagged `oversold` and
//! put on hold for review. Inventory applies to merchants that have SKUs.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;
use wharf_domain::anomaly::Flag;
use wharf_domain::inventory::{order_reduce_mode, stock_intent, ReduceStockAt, StockIntent};
use wharf_domain::Order;

use crate::db::{col, from_json, now_ms};
use crate::inventory::{record_event, EventRow, Tx};
use crate::{Store, StoreError};

/// Flag code of an order a warehouse could not hold stock for.
pub const OVERSOLD: &str = "oversold";
/// Flag code of an order with a line that maps to no SKU.
pub const UNMAPPED_SKU: &str = "unmapped_sku";

/// The installation an order came from, for mapping and the reduction mode.
#[derive(Clone)]
pub(crate) struct StockScope {
    pub merchant_id: i64,
    pub installation_id: i64,
    pub mode: ReduceStockAt,
}

/// One reservation of an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reservation {
    pub line_id: String,
    pub sku: String,
    /// None while short.
    pub warehouse: Option<String>,
    pub quantity: i64,
    /// `held`, `short`, `released` or `consumed`.
    pub state: String,
}

/// An order waiting in an inventory review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueuedOrder {
    pub order_id: i64,
    pub installation_id: i64,
    pub platform: String,
    pub shop: String,
    pub external_id: String,
    pub status: String,
    pub state: String,
    pub flags: Vec<Flag>,
    pub reservations: Vec<Reservation>,
}

/// SQL for 1 when the merchant `merchant` (a column or a parameter) keeps inventory in
/// Wharf — has at least one SKU — else 0: the one definition, for a query of its own or
/// inside another read.
pub(crate) fn tracks_inventory_sql(merchant: &str) -> String {
    format!(
        "CAST(CASE WHEN EXISTS (SELECT 1 FROM skus WHERE skus.merchant_id = {merchant}) \
         THEN 1 ELSE 0 END AS BIGINT)"
    )
}

impl Store {
    /// Does the merchant keep inventory in Wharf (has at least one SKU)?
    pub(crate) async fn tracks_inventory(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} AS tracks_inventory",
            tracks_inventory_sql("$1")
        ))
        .bind(merchant_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(col::<i64>(&row, "tracks_inventory")? != 0)
    }

    /// Bring the order's reservations in line with its status; return the inventory flags
    /// the order carries now (unmapped lines, short lines).
    pub(crate) async fn apply_order_stock(
        &self,
        tx: &mut Tx,
        scope: &StockScope,
        order_id: i64,
        order: &Order,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<Vec<Flag>, StoreError> {
        let now = now_ms();
        let mode = order_reduce_mode(order).unwrap_or(scope.mode);
        let intent = stock_intent(order.status, mode);
        let mut unmapped = Vec::new();
        let mut mapped = Vec::new();
        for line in order.lines.iter().filter(|l| l.quantity > 0) {
            match map_line(tx, scope, &line.sku, &line.channel_sku).await? {
                Some(sku_id) => mapped.push((sku_id, line)),
                None => unmapped.push(format!(
                    "line {:?} (sku {:?}, channel sku {:?})",
                    line.line_id, line.sku, line.channel_sku
                )),
            }
        }
        // Stock rows are locked in SKU order, so concurrent orders cannot deadlock.
        mapped.sort_by_key(|(sku_id, _)| *sku_id);
        for (sku_id, line) in mapped {
            let existing = sqlx::query(
                "SELECT id, state, warehouse, quantity FROM reservations \
                 WHERE order_id = $1 AND line_id = $2",
            )
            .bind(order_id)
            .bind(&line.line_id)
            .fetch_optional(&mut **tx)
            .await?;
            let qty = i64::from(line.quantity);
            match (intent, existing) {
                (StockIntent::Hold, None) => {
                    let warehouse = self
                        .hold(tx, scope, order_id, sku_id, qty, now, pushes)
                        .await?;
                    let new = NewReservation {
                        order_id,
                        line_id: &line.line_id,
                        sku_id,
                        warehouse,
                        quantity: qty,
                    };
                    insert_reservation(tx, scope, &new, now).await?;
                }
                (StockIntent::Hold, Some(row)) if col::<String>(&row, "state")? == "short" => {
                    let id: i64 = col(&row, "id")?;
                    let held = self
                        .hold(tx, scope, order_id, sku_id, qty, now, pushes)
                        .await?;
                    if let Some(w) = held {
                        set_reservation(tx, id, "held", Some(&w), now).await?;
                    }
                }
                (StockIntent::Release | StockIntent::Consume, Some(row)) => {
                    let consume = intent == StockIntent::Consume;
                    self.settle_reservation(
                        tx, scope, order_id, sku_id, &row, consume, now, pushes,
                    )
                    .await?;
                }
                _ => {}
            }
        }
        let mut flags = Vec::new();
        if !unmapped.is_empty() {
            flags.push(Flag {
                code: UNMAPPED_SKU.into(),
                reason: format!("no SKU is mapped for {}", unmapped.join(", ")),
            });
        }
        let short = sqlx::query(
            "SELECT r.line_id, s.code, r.quantity FROM reservations r JOIN skus s ON s.id = r.sku_id \
             WHERE r.order_id = $1 AND r.state = 'short' ORDER BY r.id",
        )
        .bind(order_id)
        .fetch_all(&mut **tx)
        .await?;
        if !short.is_empty() {
            let what: Vec<String> = short
                .iter()
                .map(|r| {
                    Ok(format!(
                        "{} × {:?}",
                        col::<i64>(r, "quantity")?,
                        col::<String>(r, "code")?
                    ))
                })
                .collect::<Result<_, StoreError>>()?;
            flags.push(Flag {
                code: OVERSOLD.into(),
                reason: format!(
                    "no warehouse has stock to hold {}; held for review",
                    what.join(", ")
                ),
            });
        }
        Ok(flags)
    }

    /// Release (`consume` false) or consume a reservation row (`id, state, warehouse,
    /// quantity`): a held quantity goes back to the warehouse or out of it, a short line is
    /// simply released. Other states are left alone.
    #[allow(clippy::too_many_arguments)]
    async fn settle_reservation(
        &self,
        tx: &mut Tx,
        scope: &StockScope,
        order_id: i64,
        sku_id: i64,
        row: &sqlx::any::AnyRow,
        consume: bool,
        now: i64,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<(), StoreError> {
        let id: i64 = col(row, "id")?;
        let state: String = col(row, "state")?;
        let held_qty: i64 = col(row, "quantity")?;
        let warehouse: Option<String> = col(row, "warehouse")?;
        match (state.as_str(), warehouse) {
            ("held", Some(w)) => {
                let held = Held {
                    order_id,
                    sku_id,
                    warehouse: &w,
                    quantity: held_qty,
                };
                self.unhold(tx, scope, &held, consume, now, pushes).await?;
                let to = if consume { "consumed" } else { "released" };
                set_reservation(tx, id, to, Some(&w), now).await?;
            }
            ("short", _) if !consume => set_reservation(tx, id, "released", None, now).await?,
            _ => {}
        }
        Ok(())
    }

    /// Host-side settlement of an order's stock, for the fulfillment state machine:
    /// release every held (and short) line of a cancelled order, or consume every held
    /// line of a shipped one — with stock events and listings marked for a push, exactly
    /// as a channel cancellation or shipment does. Returns the rows settled.
    pub(crate) async fn settle_order_stock(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
        installation_id: i64,
        order_id: i64,
        consume: bool,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<u32, StoreError> {
        let now = now_ms();
        let scope = StockScope {
            merchant_id,
            installation_id,
            mode: ReduceStockAt::Payment,
        };
        // Stock rows are locked in SKU order, as in `apply_order_stock`.
        let rows = sqlx::query(
            "SELECT id, sku_id, state, warehouse, quantity FROM reservations \
             WHERE order_id = $1 AND state IN ('held', 'short') ORDER BY sku_id, id",
        )
        .bind(order_id)
        .fetch_all(&mut **tx)
        .await?;
        let mut n = 0;
        for row in &rows {
            let sku_id: i64 = col(row, "sku_id")?;
            self.settle_reservation(tx, &scope, order_id, sku_id, row, consume, now, pushes)
                .await?;
            n += 1;
        }
        Ok(n)
    }

    /// Reserve `qty` of a SKU in the warehouse with the most free stock that can hold it
    /// all; None when none can (the line is short).
    #[allow(clippy::too_many_arguments)]
    async fn hold(
        &self,
        tx: &mut Tx,
        scope: &StockScope,
        order_id: i64,
        sku_id: i64,
        qty: i64,
        now: i64,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<Option<String>, StoreError> {
        // A concurrent hold (PostgreSQL) may take the stock between the read and the
        // conditional update: then the next candidate is tried.
        let candidates = sqlx::query(
            "SELECT warehouse FROM stock WHERE sku_id = $1 AND on_hand - reserved >= $2 \
             ORDER BY on_hand - reserved DESC, warehouse",
        )
        .bind(sku_id)
        .bind(qty)
        .fetch_all(&mut **tx)
        .await?;
        for c in candidates {
            let warehouse: String = col(&c, "warehouse")?;
            let updated = sqlx::query(
                "UPDATE stock SET reserved = reserved + $1, updated_at = $2 \
                 WHERE sku_id = $3 AND warehouse = $4 AND on_hand - reserved >= $1 \
                 RETURNING on_hand, reserved",
            )
            .bind(qty)
            .bind(now)
            .bind(sku_id)
            .bind(&warehouse)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(row) = updated {
                let actor = format!("order:{order_id}");
                let ev = EventRow {
                    merchant_id: scope.merchant_id,
                    sku_id,
                    warehouse: &warehouse,
                    actor: &actor,
                    kind: "reserve",
                    on_hand_delta: 0,
                    reserved_delta: qty,
                    on_hand_after: col(&row, "on_hand")?,
                    reserved_after: col(&row, "reserved")?,
                    reason: "order holds stock",
                    order_id: Some(order_id),
                };
                record_event(tx, &ev, now).await?;
                self.stock_changed(tx, sku_id, now, pushes).await?;
                return Ok(Some(warehouse));
            }
        }
        Ok(None)
    }

    /// Give back (release) or take out (consume) a held quantity.
    async fn unhold(
        &self,
        tx: &mut Tx,
        scope: &StockScope,
        held: &Held<'_>,
        consume: bool,
        now: i64,
        pushes: &mut BTreeSet<i64>,
    ) -> Result<(), StoreError> {
        let Held {
            order_id,
            sku_id,
            warehouse,
            quantity: qty,
        } = *held;
        let on_hand_delta = if consume { -qty } else { 0 };
        let row = sqlx::query(
            "UPDATE stock SET reserved = reserved - $1, on_hand = on_hand + $2, updated_at = $3 \
             WHERE sku_id = $4 AND warehouse = $5 RETURNING on_hand, reserved",
        )
        .bind(qty)
        .bind(on_hand_delta)
        .bind(now)
        .bind(sku_id)
        .bind(warehouse)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            StoreError::corrupt(format!("held stock row {sku_id}/{warehouse} vanished"))
        })?;
        let actor = format!("order:{order_id}");
        let ev = EventRow {
            merchant_id: scope.merchant_id,
            sku_id,
            warehouse,
            actor: &actor,
            kind: if consume { "consume" } else { "release" },
            on_hand_delta,
            reserved_delta: -qty,
            on_hand_after: col(&row, "on_hand")?,
            reserved_after: col(&row, "reserved")?,
            reason: if consume {
                "the order shipped"
            } else {
                "the order was cancelled or refunded"
            },
            order_id: Some(order_id),
        };
        record_event(tx, &ev, now).await?;
        self.stock_changed(tx, sku_id, now, pushes).await
    }

    /// Orders in an inventory review queue: `oversold` (short lines) or `unmapped_sku`.
    pub async fn inventory_queue(
        &self,
        merchant_id: i64,
        flag: &str,
        limit: i64,
    ) -> Result<Vec<QueuedOrder>, StoreError> {
        let pattern = format!("%\"code\":\"{flag}\"%");
        let rows = sqlx::query(
            "SELECT id, installation_id, platform, shop, external_id, status, state, flags \
             FROM orders WHERE merchant_id = $1 AND flagged = 1 AND flags LIKE $2 \
             ORDER BY id LIMIT $3",
        )
        .bind(merchant_id)
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let order_id: i64 = col(r, "id")?;
            out.push(QueuedOrder {
                order_id,
                installation_id: col(r, "installation_id")?,
                platform: col(r, "platform")?,
                shop: col(r, "shop")?,
                external_id: col(r, "external_id")?,
                status: col(r, "status")?,
                state: col(r, "state")?,
                flags: from_json("orders.flags", &col::<String>(r, "flags")?)?,
                reservations: self.reservations(order_id).await?,
            });
        }
        Ok(out)
    }

    /// An order's reservations.
    pub async fn reservations(&self, order_id: i64) -> Result<Vec<Reservation>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.line_id, s.code, r.warehouse, r.quantity, r.state FROM reservations r \
             JOIN skus s ON s.id = r.sku_id WHERE r.order_id = $1 ORDER BY r.id",
        )
        .bind(order_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Reservation {
                    line_id: col(r, "line_id")?,
                    sku: col(r, "code")?,
                    warehouse: col(r, "warehouse")?,
                    quantity: col(r, "quantity")?,
                    state: col(r, "state")?,
                })
            })
            .collect()
    }
}

/// The SKU an order line maps to, if any.
async fn map_line(
    tx: &mut Tx,
    scope: &StockScope,
    sku: &str,
    channel_sku: &str,
) -> Result<Option<i64>, StoreError> {
    if !channel_sku.is_empty() {
        let row = sqlx::query(
            "SELECT sku_id FROM listings WHERE installation_id = $1 AND channel_sku = $2",
        )
        .bind(scope.installation_id)
        .bind(channel_sku)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = row {
            return Ok(Some(col(&r, "sku_id")?));
        }
    }
    if sku.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT sku_id FROM listings WHERE installation_id = $1 AND outer_code = $2 \
         ORDER BY id LIMIT 1",
    )
    .bind(scope.installation_id)
    .bind(sku)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = row {
        return Ok(Some(col(&r, "sku_id")?));
    }
    crate::inventory::sku_id(tx, scope.merchant_id, sku).await
}

/// A held quantity of an order line.
#[derive(Clone, Copy)]
struct Held<'a> {
    order_id: i64,
    sku_id: i64,
    warehouse: &'a str,
    quantity: i64,
}

/// A reservation row to insert (`warehouse` None = short).
struct NewReservation<'a> {
    order_id: i64,
    line_id: &'a str,
    sku_id: i64,
    warehouse: Option<String>,
    quantity: i64,
}

async fn insert_reservation(
    tx: &mut Tx,
    scope: &StockScope,
    new: &NewReservation<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let state = if new.warehouse.is_some() {
        "held"
    } else {
        "short"
    };
    sqlx::query(
        "INSERT INTO reservations (merchant_id, order_id, line_id, sku_id, warehouse, quantity, \
         state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(scope.merchant_id)
    .bind(new.order_id)
    .bind(new.line_id)
    .bind(new.sku_id)
    .bind(new.warehouse.as_deref())
    .bind(new.quantity)
    .bind(state)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_reservation(
    tx: &mut Tx,
    id: i64,
    state: &str,
    warehouse: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE reservations SET state = $1, warehouse = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(warehouse)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
