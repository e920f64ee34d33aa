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
use crate::db::{col, insert_json_rows, JsonCol::*};
use crate::inventory::Tx;
use crate::StoreError;

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
        if self.lines.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = self
            .lines
            .iter()
            .map(|(order_id, n, l)| {
                (
                    order_id,
                    n,
                    &l.line_id,
                    &l.sku,
                    &l.channel_sku,
                    &l.title,
                    l.quantity,
                    l.unit_price.minor,
                    &l.unit_price.currency,
                    l.discount.minor,
                    &l.discount.currency,
                )
            })
            .collect();
        insert_json_rows(
            tx,
            "order_lines (order_id, line_no, line_id, sku, channel_sku, title, quantity, \
             unit_price_minor, unit_price_currency, discount_minor, discount_currency)",
            &[Int, Int, Text, Text, Text, Text, Int, Int, Text, Int, Text],
            "",
            &rows,
        )
        .await?;
        self.lines.clear();
        Ok(())
    }

    /// The tasks, then a `task` event for each one created (after the order's other
    /// events, as it happened).
    async fn flush_tasks(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        let tasks = std::mem::take(&mut self.tasks);
        if tasks.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = tasks
            .iter()
            .map(|t| {
                (
                    t.merchant_id,
                    t.order_id,
                    t.kind.as_str(),
                    "open",
                    t.at,
                    t.at,
                )
            })
            .collect();
        let created = insert_json_rows(
            tx,
            "warehouse_tasks (merchant_id, order_id, kind, status, created_at, updated_at)",
            &[Int, Int, Text, Text, Int, Int],
            "ON CONFLICT (order_id, kind) DO NOTHING RETURNING id, order_id, kind",
            &rows,
        )
        .await?;
        let mut ids = BTreeMap::new();
        for r in &created {
            ids.insert(
                (col::<i64>(r, "order_id")?, col::<String>(r, "kind")?),
                col::<i64>(r, "id")?,
            );
        }
        for t in &tasks {
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
        Ok(())
    }

    async fn flush_deliveries(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        let deliveries: Vec<_> = std::mem::take(&mut self.deliveries).into_iter().collect();
        if deliveries.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = deliveries
            .iter()
            .map(|((installation_id, delivery_id), (topic, at))| {
                (installation_id, delivery_id, topic, at)
            })
            .collect();
        let inserted = insert_json_rows(
            tx,
            "webhook_deliveries (installation_id, delivery_id, topic, received_at)",
            &[Int, Text, Text, Int],
            "ON CONFLICT (installation_id, delivery_id) DO NOTHING \
             RETURNING installation_id, delivery_id",
            &rows,
        )
        .await?;
        let mut new = BTreeSet::new();
        for r in &inserted {
            new.insert((
                col::<i64>(r, "installation_id")?,
                col::<String>(r, "delivery_id")?,
            ));
        }
        for (key, _) in deliveries {
            if !new.contains(&key) {
                self.stored_before.insert(key);
            }
        }
        Ok(())
    }
}
