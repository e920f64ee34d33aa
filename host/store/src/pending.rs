//! Rows of a transaction's new orders held back and written together before it commits:
//! the orders' lines, their pick tasks, their event rows and the webhook delivery
//! records, each table in multi-row statements for the whole transaction (a group commit
//! of many webhooks) instead of one statement per order.
//!
//! The rule that keeps this invisible: held-back rows belong to orders created in this
//! transaction and to its deliveries, and whatever reads or writes such rows otherwise
//! flushes first — ingest before it touches an order that already exists (it may be one
//! created earlier in the same transaction) and before inventory works on an order, and
//! every caller before it commits. Code that only adds events for such an order queues
//! them on [`Pending::audit`], behind the order's others.

use std::collections::{BTreeMap, BTreeSet};

use wharf_domain::fulfillment::TaskKind;
use wharf_domain::order::Line;

use crate::audit::Audit;
use crate::db::{col, pow2_chunks, values_list};
use crate::inventory::Tx;
use crate::StoreError;

/// Most rows per statement: the largest has 11 parameters a row, far below SQLite's
/// 32,766 and PostgreSQL's 65,535.
const MAX_ROWS: usize = 256;

/// A webhook delivery's key: its installation and the channel's delivery id.
pub(crate) type DeliveryKey = (i64, String);

struct TaskRow {
    merchant_id: i64,
    order_id: i64,
    kind: TaskKind,
    actor: String,
    at: i64,
}

/// Rows waiting to be written (see the module docs).
#[derive(Default)]
pub(crate) struct Pending {
    /// Event rows, in the order things happened.
    pub audit: Audit,
    lines: Vec<(i64, i64, Line)>,
    tasks: Vec<TaskRow>,
    deliveries: BTreeMap<DeliveryKey, (String, i64)>,
    /// Deliveries found already stored when they were written: redeliveries.
    stored_before: BTreeSet<DeliveryKey>,
}

impl Pending {
    /// Queue an order's lines (numbered from 0, as the channel sent them).
    pub(crate) fn lines(&mut self, order_id: i64, lines: &[Line]) {
        self.lines.extend(
            lines
                .iter()
                .enumerate()
                .map(|(n, l)| (order_id, n as i64, l.clone())),
        );
    }

    /// Queue a warehouse task for an order; it is created (and its `task` event queued)
    /// unless the order already has one of that kind.
    pub(crate) fn task(
        &mut self,
        merchant_id: i64,
        order_id: i64,
        kind: TaskKind,
        actor: &str,
        at: i64,
    ) {
        self.tasks.push(TaskRow {
            merchant_id,
            order_id,
            kind,
            actor: actor.to_string(),
            at,
        });
    }

    /// Queue a webhook delivery record; `false` when the same delivery is already queued
    /// in this transaction (a redelivery).
    pub(crate) fn delivery(&mut self, key: DeliveryKey, topic: &str, at: i64) -> bool {
        if self.deliveries.contains_key(&key) {
            return false;
        }
        self.deliveries.insert(key, (topic.to_string(), at));
        true
    }

    /// Whether a delivery written by [`flush`](Self::flush) was already stored.
    pub(crate) fn stored_before(&self, key: &DeliveryKey) -> bool {
        self.stored_before.contains(key)
    }

    /// Write everything queued (nothing when nothing is) and empty the queues.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        self.flush_lines(tx).await?;
        self.flush_tasks(tx).await?;
        self.audit.flush(tx).await?;
        self.flush_deliveries(tx).await
    }

    async fn flush_lines(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        for chunk in pow2_chunks(&self.lines, MAX_ROWS) {
            let sql = format!(
                "INSERT INTO order_lines (order_id, line_no, line_id, sku, channel_sku, title, \
                 quantity, unit_price_minor, unit_price_currency, discount_minor, \
                 discount_currency) VALUES {}",
                values_list(chunk.len(), 11)
            );
            let mut q = sqlx::query(&sql);
            for (order_id, n, line) in chunk {
                q = q
                    .bind(*order_id)
                    .bind(*n)
                    .bind(&line.line_id)
                    .bind(&line.sku)
                    .bind(&line.channel_sku)
                    .bind(&line.title)
                    .bind(i64::from(line.quantity))
                    .bind(line.unit_price.minor)
                    .bind(&line.unit_price.currency)
                    .bind(line.discount.minor)
                    .bind(&line.discount.currency);
            }
            q.execute(&mut **tx).await?;
        }
        self.lines.clear();
        Ok(())
    }

    /// The tasks, then a `task` event for each one created (after the order's other
    /// events, as it happened).
    async fn flush_tasks(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        let tasks = std::mem::take(&mut self.tasks);
        for chunk in pow2_chunks(&tasks, MAX_ROWS) {
            let sql = format!(
                "INSERT INTO warehouse_tasks (merchant_id, order_id, kind, status, created_at, \
                 updated_at) VALUES {} ON CONFLICT (order_id, kind) DO NOTHING \
                 RETURNING id, order_id, kind",
                values_list(chunk.len(), 6)
            );
            let mut q = sqlx::query(&sql);
            for t in chunk {
                q = q
                    .bind(t.merchant_id)
                    .bind(t.order_id)
                    .bind(t.kind.as_str())
                    .bind("open")
                    .bind(t.at)
                    .bind(t.at);
            }
            let created = q.fetch_all(&mut **tx).await?;
            let mut ids = BTreeMap::new();
            for r in &created {
                ids.insert(
                    (col::<i64>(r, "order_id")?, col::<String>(r, "kind")?),
                    col::<i64>(r, "id")?,
                );
            }
            for t in chunk {
                if let Some(id) = ids.remove(&(t.order_id, t.kind.as_str().to_string())) {
                    let detail = format!("{} task {id} created", t.kind.as_str());
                    self.audit.push(
                        t.order_id,
                        t.at,
                        "task",
                        &t.actor,
                        None,
                        None,
                        Some(&detail),
                    );
                }
            }
        }
        Ok(())
    }

    async fn flush_deliveries(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        let deliveries: Vec<_> = std::mem::take(&mut self.deliveries).into_iter().collect();
        for chunk in pow2_chunks(&deliveries, MAX_ROWS) {
            let sql = format!(
                "INSERT INTO webhook_deliveries (installation_id, delivery_id, topic, \
                 received_at) VALUES {} ON CONFLICT (installation_id, delivery_id) DO NOTHING \
                 RETURNING installation_id, delivery_id",
                values_list(chunk.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for ((installation_id, delivery_id), (topic, at)) in chunk {
                q = q
                    .bind(*installation_id)
                    .bind(delivery_id)
                    .bind(topic)
                    .bind(*at);
            }
            let inserted = q.fetch_all(&mut **tx).await?;
            let mut new = BTreeSet::new();
            for r in &inserted {
                new.insert((
                    col::<i64>(r, "installation_id")?,
                    col::<String>(r, "delivery_id")?,
                ));
            }
            for (key, _) in chunk {
                if !new.contains(key) {
                    self.stored_before.insert(key.clone());
                }
            }
        }
        Ok(())
    }
}
