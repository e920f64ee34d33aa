//! The fulfillment state machine applied to stored orders, and warehouse tasks.
//!
//! Every state change goes through [`move_state`]: the transition is checked against the
//! ONE table in [`wharf_domain::fulfillment::TRANSITIONS`], applied with a conditional
//! `UPDATE … WHERE state = from` under the order's row lock, and audited as an
//! `order_events` row (kind `state`, source = actor, from/to = states, detail = reason) in
//! the same transaction. Transitions reuse the order's event log rather than a table of
//! their own: the merchant reads one chronological history per order (channel updates,
//! inventory holds, state changes, task actions, escalations), and inventory already
//! audits its holds there.
//!
//! - Automatic progression ([`Store::progress`], called inside the ingest transaction): a
//!   paid, cleared order (no review pending or approved, stock held where inventory is
//!   tracked) goes `received → ready → allocated` and gets a pick task; a channel
//!   cancellation before shipping cancels it.
//! - Merchant actions: review (approve / hold), transitions (label, ship, deliver,
//!   exception, return, cancel — cancel releases and ship consumes held stock through
//!   [`crate::reservations`]), and task actions (assign, start, complete, exception).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wharf_domain::fulfillment::{
    check, task_action, PackRecord, SlaStep, State, TaskAction, TaskKind, TaskStatus,
};
use wharf_domain::ChannelStatus;

use crate::audit::{Audit, MAX_TEXT};
use crate::db::{cap, col, now_ms};
use crate::inventory::Tx;
use crate::pending::Pending;
use crate::{Store, StoreError};

/// Actor of automatic progression.
pub const SYSTEM: &str = "system";
/// Actor of changes the channel reported (e.g. a cancellation).
pub const CHANNEL: &str = "channel";
/// Actor of inventory holds and releases.
pub const INVENTORY: &str = "inventory";

/// A requested state change (API: `POST /v1/orders/{id}/transitions`).
#[derive(Debug, Clone)]
pub struct TransitionRequest {
    pub to: State,
    pub reason: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

/// One audited state change of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StateChange {
    pub id: i64,
    /// Host clock, Unix ms.
    pub at: i64,
    /// `system`, `inventory`, `channel`, or `api:<token label>`.
    pub actor: String,
    pub from: String,
    pub to: String,
    pub reason: Option<String>,
}

/// A warehouse task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Task {
    pub id: i64,
    pub order_id: i64,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub assignee: Option<String>,
    pub exception_reason: Option<String>,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// Deadline by the merchant's SLA rule when the task started.
    pub due_at: Option<i64>,
    /// The parcel of a completed pack task.
    pub parcel: Option<PackRecord>,
}

/// Filters of the task list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee: Option<String>,
    pub order_id: Option<i64>,
    pub kind: Option<TaskKind>,
}

/// What a worker does to a task.
#[derive(Debug, Clone)]
pub enum TaskCommand {
    Assign { assignee: String },
    Start,
    Complete { parcel: Option<PackRecord> },
    Exception { reason: String },
}

/// An order's fulfillment at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Fulfillment {
    pub order_id: i64,
    pub state: String,
    /// The merchant's review decision: `approved`, `held`, or none.
    pub review: Option<String>,
    /// When Wharf first saw the order paid (the ship clock starts here).
    pub paid_at: Option<i64>,
    pub ship_due_at: Option<i64>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tasks: Vec<Task>,
    pub transitions: Vec<StateChange>,
}

/// The locked order row the state machine works on.
pub(crate) struct OrderRow {
    pub id: i64,
    pub merchant_id: i64,
    pub installation_id: i64,
    pub status: ChannelStatus,
    pub state: State,
    pub flagged: bool,
    pub review: Option<String>,
    pub paid_at: Option<i64>,
}

fn parse_state(s: &str) -> Result<State, StoreError> {
    State::parse(s).map_err(|e| StoreError::corrupt(format!("orders.state: {e}")))
}

/// Lock and read an order (scoped by merchant when given).
pub(crate) async fn lock_order(
    store: &Store,
    tx: &mut Tx,
    merchant_id: Option<i64>,
    order_id: i64,
) -> Result<OrderRow, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT id, merchant_id, installation_id, status, state, flagged, review, paid_at \
         FROM orders WHERE id = $1 AND ($2 = 0 OR merchant_id = $2){}",
        store.for_update()
    ))
    .bind(order_id)
    .bind(merchant_id.unwrap_or(0))
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("order {order_id} not found")))?;
    Ok(OrderRow {
        id: col(&row, "id")?,
        merchant_id: col(&row, "merchant_id")?,
        installation_id: col(&row, "installation_id")?,
        status: ChannelStatus::parse(&col::<String>(&row, "status")?)
            .map_err(|e| StoreError::corrupt(format!("orders.status: {e}")))?,
        state: parse_state(&col::<String>(&row, "state")?)?,
        flagged: col::<i64>(&row, "flagged")? != 0,
        review: col(&row, "review")?,
        paid_at: col(&row, "paid_at")?,
    })
}

/// Move an order `from → to` if the table allows it (else `Conflict` with the reason),
/// and audit the change. `from` must be the state read under the row lock.
pub(crate) async fn move_state(
    tx: &mut Tx,
    order_id: i64,
    from: State,
    to: State,
    actor: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    check(from, to).map_err(StoreError::Conflict)?;
    let moved = sqlx::query("UPDATE orders SET state = $1 WHERE id = $2 AND state = $3")
        .bind(to.as_str())
        .bind(order_id)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "order {order_id} is no longer {from}; read it again"
        )));
    }
    append(
        tx,
        order_id,
        now,
        "state",
        actor,
        Some(from.as_str()),
        Some(to.as_str()),
        reason,
    )
    .await
}

/// Append an audit row to the order's event log.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append(
    tx: &mut Tx,
    order_id: i64,
    now: i64,
    kind: &str,
    actor: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    let mut audit = Audit::default();
    audit.push(order_id, now, kind, actor, from, to, Some(detail));
    audit.flush(tx).await
}

/// Move an order along `hops` (each checked against the table, from `from` on) in ONE
/// conditional UPDATE, starting its ship clock on the way when `paid` is given; the
/// changes are queued on `audit`. `Conflict` if a hop is not allowed or the order is no
/// longer `from`.
#[allow(clippy::too_many_arguments)]
async fn move_along(
    tx: &mut Tx,
    order_id: i64,
    from: State,
    hops: &[(State, &str)],
    paid: Option<PaidAt>,
    actor: &str,
    now: i64,
    audit: &mut Audit,
) -> Result<(), StoreError> {
    let at = check_hops(from, hops)?;
    let moved = match paid {
        Some(p) => sqlx::query(
            "UPDATE orders SET state = $1, paid_at = $2, ship_due_at = $3 \
             WHERE id = $4 AND state = $5",
        )
        .bind(at.as_str())
        .bind(p.at)
        .bind(p.ship_due_at),
        None if hops.is_empty() => return Ok(()),
        None => sqlx::query("UPDATE orders SET state = $1 WHERE id = $2 AND state = $3")
            .bind(at.as_str()),
    }
    .bind(order_id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "order {order_id} is no longer {from}; read it again"
        )));
    }
    audit_hops(order_id, from, hops, actor, now, audit);
    Ok(())
}

/// The state `hops` end in from `from`, each hop checked against the table.
fn check_hops(from: State, hops: &[(State, &str)]) -> Result<State, StoreError> {
    let mut at = from;
    for (to, _) in hops {
        check(at, *to).map_err(StoreError::Conflict)?;
        at = *to;
    }
    Ok(at)
}

/// Queue a `state` event for each of `hops`, from `from` on.
fn audit_hops(
    order_id: i64,
    from: State,
    hops: &[(State, &str)],
    actor: &str,
    now: i64,
    audit: &mut Audit,
) {
    let mut at = from;
    for (to, why) in hops {
        audit.push(
            order_id,
            now,
            "state",
            actor,
            Some(at.as_str()),
            Some(to.as_str()),
            Some(why),
        );
        at = *to;
    }
}

/// When Wharf first saw an order paid, and its ship deadline by the merchant's SLA.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PaidAt {
    pub at: i64,
    pub ship_due_at: Option<i64>,
}

/// The ship clock of an order first seen paid `now`, by the merchant's ship SLA (read once
/// per transaction into `ship_limits`).
async fn ship_clock(
    tx: &mut Tx,
    merchant_id: i64,
    ship_limits: &mut HashMap<i64, Option<i64>>,
    now: i64,
) -> Result<PaidAt, StoreError> {
    let limit = match ship_limits.get(&merchant_id) {
        Some(limit) => *limit,
        None => {
            let limit = sla_limit_ms(tx, merchant_id, SlaStep::Ship).await?;
            ship_limits.insert(merchant_id, limit);
            limit
        }
    };
    Ok(PaidAt {
        at: now,
        ship_due_at: limit.map(|ms| now + ms),
    })
}

/// Where a new order stands the moment it is inserted, when its merchant does not track
/// inventory in Wharf: what [`Store::progress`] would make of it right after the insert
/// (nothing to read first), decided before it, so the order is inserted in its state with
/// its ship clock running and needs no UPDATE of its own.
pub(crate) struct NewOrder {
    pub state: State,
    pub paid: Option<PaidAt>,
    hops: Vec<(State, &'static str)>,
    /// Who moved it: the system, or the channel (a cancellation).
    actor: &'static str,
    task: bool,
}

impl NewOrder {
    /// Queue the plan's state events and its pick task for the order inserted as `order_id`.
    pub(crate) fn queue(&self, merchant_id: i64, order_id: i64, now: i64, pending: &mut Pending) {
        let actor = self.actor;
        audit_hops(
            order_id,
            State::Received,
            &self.hops,
            actor,
            now,
            &mut pending.audit,
        );
        if self.task {
            pending.task(merchant_id, order_id, TaskKind::Pick, actor, now);
        }
    }
}

/// Why an order the channel reports cancelled or refunded is cancelled.
fn cancel_reason(status: ChannelStatus) -> &'static str {
    if status == ChannelStatus::Refunded {
        "the channel reports the order refunded"
    } else {
        "the channel reports the order cancelled"
    }
}

/// Whether a paid order may go to the warehouse as far as its state and review go: ready
/// to be, and not held or awaiting review (stock is checked apart).
fn review_clears(status: ChannelStatus, state: State, review: Option<&str>, flagged: bool) -> bool {
    if status != ChannelStatus::Paid
        || !matches!(state, State::Received | State::Ready | State::OnHold)
    {
        return false;
    }
    !(review == Some("held") || (flagged && review != Some("approved")))
}

/// The hops of a cleared order from `from` to `allocated`, with their reasons.
fn hops_when_cleared(from: State, tracks_inventory: bool) -> Vec<(State, &'static str)> {
    let mut hops = Vec::with_capacity(2);
    if from != State::Ready {
        let why = if from == State::OnHold {
            "review approved; stock held"
        } else {
            "paid and cleared for fulfilment"
        };
        hops.push((State::Ready, why));
    }
    let why = if tracks_inventory {
        "every line holds stock; pick task created"
    } else {
        "inventory not tracked in Wharf; pick task created"
    };
    hops.push((State::Allocated, why));
    hops
}

/// The merchant's SLA limit for a step, in ms.
pub(crate) async fn sla_limit_ms(
    tx: &mut Tx,
    merchant_id: i64,
    step: SlaStep,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {} AS limit_secs",
        sla_limit_secs_sql("$1", step)
    ))
    .bind(merchant_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(secs_to_ms(col(&row, "limit_secs")?))
}

/// SQL for the SLA limit of merchant `merchant` (a column or a parameter) for `step`, in
/// seconds, or NULL when it has no rule: the one definition, for a query of its own or
/// inside another read.
pub(crate) fn sla_limit_secs_sql(merchant: &str, step: SlaStep) -> String {
    format!(
        "(SELECT limit_secs FROM sla_rules WHERE sla_rules.merchant_id = {merchant} \
         AND sla_rules.step = '{}')",
        step.as_str()
    )
}

/// An SLA limit read by [`sla_limit_secs_sql`], in ms.
pub(crate) fn secs_to_ms(limit_secs: Option<i64>) -> Option<i64> {
    limit_secs.map(|s| s * 1000)
}

pub(crate) const TASK_COLS: &str =
    "id, order_id, kind, status, assignee, exception_reason, created_at, \
     assigned_at, started_at, completed_at, due_at, weight_g, length_mm, width_mm, height_mm";

pub(crate) fn task_from_row(r: &AnyRow) -> Result<Task, StoreError> {
    let weight: Option<i64> = col(r, "weight_g")?;
    let parcel = match weight {
        Some(weight_g) => Some(PackRecord {
            weight_g,
            length_mm: col::<Option<i64>>(r, "length_mm")?.unwrap_or_default(),
            width_mm: col::<Option<i64>>(r, "width_mm")?.unwrap_or_default(),
            height_mm: col::<Option<i64>>(r, "height_mm")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Task {
        id: col(r, "id")?,
        order_id: col(r, "order_id")?,
        kind: TaskKind::parse(&col::<String>(r, "kind")?).map_err(StoreError::corrupt)?,
        status: TaskStatus::parse(&col::<String>(r, "status")?).map_err(StoreError::corrupt)?,
        assignee: col(r, "assignee")?,
        exception_reason: col(r, "exception_reason")?,
        created_at: col(r, "created_at")?,
        assigned_at: col(r, "assigned_at")?,
        started_at: col(r, "started_at")?,
        completed_at: col(r, "completed_at")?,
        due_at: col(r, "due_at")?,
        parcel,
    })
}

/// End the live tasks of an order that was cancelled.
async fn cancel_tasks(tx: &mut Tx, order_id: i64, actor: &str, now: i64) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "UPDATE warehouse_tasks SET status = 'cancelled', updated_at = $1 \
         WHERE order_id = $2 AND status IN ('open', 'assigned', 'in_progress', 'exception') \
         RETURNING id, kind",
    )
    .bind(now)
    .bind(order_id)
    .fetch_all(&mut **tx)
    .await?;
    for r in &rows {
        let detail = format!(
            "{} task {} cancelled with the order",
            col::<String>(r, "kind")?,
            col::<i64>(r, "id")?
        );
        append(tx, order_id, now, "task", actor, None, None, &detail).await?;
    }
    Ok(())
}

impl Store {
    /// Automatic progression of an order just written by ingest (same transaction): a
    /// channel cancellation before shipping cancels it; a paid, cleared order goes
    /// `received → ready → allocated` and gets a pick task. `tracks_inventory` says
    /// whether the merchant keeps stock in Wharf (then every line must hold stock). The
    /// order is read under its lock; `ship_limits` caches the merchants' ship SLAs over the
    /// transaction. State changes and task creations are queued on `pending`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn progress(
        &self,
        tx: &mut Tx,
        order_id: i64,
        tracks_inventory: bool,
        ship_limits: &mut HashMap<i64, Option<i64>>,
        actor: &str,
        now: i64,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let o = lock_order(self, tx, None, order_id).await?;
        if matches!(o.status, ChannelStatus::Cancelled | ChannelStatus::Refunded)
            && o.state.before_shipped()
        {
            // These write events and read tasks directly: what is queued goes first.
            pending.flush(tx).await?;
            let why = cancel_reason(o.status);
            move_state(tx, o.id, o.state, State::Cancelled, CHANNEL, why, now).await?;
            cancel_tasks(tx, o.id, CHANNEL, now).await?;
            return Ok(());
        }
        if o.status != ChannelStatus::Paid {
            return Ok(());
        }
        let paid = match o.paid_at {
            Some(_) => None,
            None => Some(ship_clock(tx, o.merchant_id, ship_limits, now).await?),
        };
        self.advance(tx, &o, tracks_inventory, paid, actor, now, pending)
            .await
    }

    /// [`NewOrder`]: the plan for a new order of `status` (flagged by its anomaly rules or
    /// not) whose merchant does not track inventory in Wharf.
    pub(crate) async fn plan_new_order(
        &self,
        tx: &mut Tx,
        merchant_id: i64,
        status: ChannelStatus,
        flagged: bool,
        ship_limits: &mut HashMap<i64, Option<i64>>,
        now: i64,
    ) -> Result<NewOrder, StoreError> {
        let mut plan = NewOrder {
            state: State::Received,
            paid: None,
            hops: Vec::new(),
            actor: SYSTEM,
            task: false,
        };
        if matches!(status, ChannelStatus::Cancelled | ChannelStatus::Refunded) {
            // No task to cancel yet: it is inserted cancelled.
            plan.hops = vec![(State::Cancelled, cancel_reason(status))];
            plan.actor = CHANNEL;
            plan.state = check_hops(State::Received, &plan.hops)?;
            return Ok(plan);
        }
        if status != ChannelStatus::Paid {
            return Ok(plan);
        }
        plan.paid = Some(ship_clock(tx, merchant_id, ship_limits, now).await?);
        if review_clears(status, State::Received, None, flagged) {
            plan.hops = hops_when_cleared(State::Received, false);
            plan.task = true;
        }
        plan.state = check_hops(State::Received, &plan.hops)?;
        Ok(plan)
    }

    /// Take a paid order as far as it may go on its own: `received|on_hold → ready →
    /// allocated` + pick task, when it is cleared — in one UPDATE that also starts the
    /// ship clock when `paid` is given (which it does even when the order is not cleared).
    #[allow(clippy::too_many_arguments)]
    async fn advance(
        &self,
        tx: &mut Tx,
        o: &OrderRow,
        tracks_inventory: bool,
        paid: Option<PaidAt>,
        actor: &str,
        now: i64,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let cleared = self.cleared(tx, o, tracks_inventory).await?;
        let hops = if cleared {
            hops_when_cleared(o.state, tracks_inventory)
        } else {
            Vec::new()
        };
        move_along(
            tx,
            o.id,
            o.state,
            &hops,
            paid,
            actor,
            now,
            &mut pending.audit,
        )
        .await?;
        if cleared {
            pending.task(o.merchant_id, o.id, TaskKind::Pick, actor, now);
        }
        Ok(())
    }

    /// Whether a paid order may go to the warehouse on its own: ready to be, not held or
    /// awaiting review, and every line holding stock where inventory is tracked.
    async fn cleared(
        &self,
        tx: &mut Tx,
        o: &OrderRow,
        tracks_inventory: bool,
    ) -> Result<bool, StoreError> {
        if !review_clears(o.status, o.state, o.review.as_deref(), o.flagged) {
            return Ok(false);
        }
        if tracks_inventory {
            let short = sqlx::query(
                "SELECT 1 AS one FROM reservations WHERE order_id = $1 AND state = 'short' LIMIT 1",
            )
            .bind(o.id)
            .fetch_optional(&mut **tx)
            .await?;
            if short.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A merchant's review of a flagged or held order: `approve` clears it (it progresses
    /// when paid and its stock is held), `hold` puts it on hold until approved.
    pub async fn review_order(
        &self,
        merchant_id: i64,
        order_id: i64,
        approve: bool,
        reason: &str,
        actor: &str,
    ) -> Result<Fulfillment, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
        let decision = if approve { "approved" } else { "held" };
        if approve {
            if !matches!(o.state, State::Received | State::Ready | State::OnHold) {
                return Err(StoreError::Conflict(format!(
                    "an order that is {} is past review",
                    o.state
                )));
            }
        } else if o.state != State::OnHold {
            move_state(&mut tx, o.id, o.state, State::OnHold, actor, reason, now).await?;
        }
        sqlx::query("UPDATE orders SET review = $1 WHERE id = $2")
            .bind(decision)
            .bind(o.id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            o.id,
            now,
            "review",
            actor,
            None,
            None,
            &format!("{decision}: {reason}"),
        )
        .await?;
        if approve {
            let tracks = self.tracks_inventory(&mut tx, merchant_id).await?;
            let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
            if o.status == ChannelStatus::Paid {
                let mut pending = Pending::default();
                self.advance(&mut tx, &o, tracks, None, actor, now, &mut pending)
                    .await?;
                pending.flush(&mut tx).await?;
            } else if o.state == State::OnHold {
                let why = "review approved; waiting for payment";
                move_state(&mut tx, o.id, o.state, State::Received, actor, why, now).await?;
            }
        }
        tx.commit().await?;
        self.fulfillment(merchant_id, order_id).await
    }

    /// A merchant-requested transition. Warehouse steps (`allocated`, `picking`,
    /// `packed`) move with their tasks and `ready`/`on_hold` with reviews; `labelled`
    /// needs a carrier and tracking number; `shipped` consumes held stock and
    /// `cancelled` releases it.
    pub async fn transition_order(
        &self,
        merchant_id: i64,
        order_id: i64,
        req: &TransitionRequest,
        actor: &str,
    ) -> Result<Fulfillment, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let o = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
        check(o.state, req.to).map_err(StoreError::Conflict)?;
        let guidance = match req.to {
            State::Allocated => Some("Wharf allocates a paid order once its stock is held"),
            State::Picking => Some("picking starts with the pick task: POST /v1/tasks/{id}/start"),
            State::Packed => Some(
                "packed requires a pack record: complete the pack task with the parcel's \
                 weight and dimensions",
            ),
            State::Ready | State::OnHold | State::Received => {
                Some("holds and releases are reviews: POST /v1/orders/{id}/review")
            }
            _ => None,
        };
        if let Some(g) = guidance {
            return Err(StoreError::Conflict(format!(
                "an order cannot be moved to {} by hand; {g}",
                req.to
            )));
        }
        let mut pushes = BTreeSet::new();
        let mut why = req.reason.clone();
        match req.to {
            State::Labelled => {
                let carrier = req.carrier.as_deref().map(str::trim).unwrap_or_default();
                let tracking = req
                    .tracking_number
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or_default();
                if carrier.is_empty() || tracking.is_empty() {
                    return Err(StoreError::InvalidInput(
                        "labelled needs a carrier and a tracking_number".into(),
                    ));
                }
                if carrier.len() > 100 || tracking.len() > 100 {
                    return Err(StoreError::InvalidInput(
                        "carrier and tracking_number are at most 100 bytes".into(),
                    ));
                }
                sqlx::query("UPDATE orders SET carrier = $1, tracking_number = $2 WHERE id = $3")
                    .bind(carrier)
                    .bind(tracking)
                    .bind(o.id)
                    .execute(&mut *tx)
                    .await?;
                why = format!("{why} (carrier {carrier}, tracking {tracking})");
            }
            State::Shipped => {
                self.settle_order_stock(
                    &mut tx,
                    merchant_id,
                    o.installation_id,
                    o.id,
                    true,
                    &mut pushes,
                )
                .await?;
                crate::shipping::on_shipped(&mut tx, merchant_id, o.id, o.installation_id, now)
                    .await?;
            }
            State::Cancelled => {
                self.settle_order_stock(
                    &mut tx,
                    merchant_id,
                    o.installation_id,
                    o.id,
                    false,
                    &mut pushes,
                )
                .await?;
                cancel_tasks(&mut tx, o.id, actor, now).await?;
            }
            _ => {}
        }
        move_state(&mut tx, o.id, o.state, req.to, actor, &why, now).await?;
        self.flush_pushes(&mut tx, merchant_id, &pushes, now)
            .await?;
        tx.commit().await?;
        self.fulfillment(merchant_id, order_id).await
    }

    /// An order's fulfillment: state, review, clocks, label, tasks and audited
    /// transitions.
    pub async fn fulfillment(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<Fulfillment, StoreError> {
        let row = sqlx::query(
            "SELECT state, review, paid_at, ship_due_at, carrier, tracking_number FROM orders \
             WHERE id = $1 AND merchant_id = $2",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("order {order_id} not found")))?;
        let filter = TaskFilter {
            order_id: Some(order_id),
            ..TaskFilter::default()
        };
        Ok(Fulfillment {
            order_id,
            state: col(&row, "state")?,
            review: col(&row, "review")?,
            paid_at: col(&row, "paid_at")?,
            ship_due_at: col(&row, "ship_due_at")?,
            carrier: col(&row, "carrier")?,
            tracking_number: col(&row, "tracking_number")?,
            tasks: self.list_tasks(merchant_id, &filter, 100).await?,
            transitions: self.state_changes(merchant_id, order_id).await?,
        })
    }

    /// The audited state changes of an order, oldest first.
    pub async fn state_changes(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<Vec<StateChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.at, e.source, e.from_status, e.to_status, e.detail FROM order_events e \
             JOIN orders o ON o.id = e.order_id WHERE e.order_id = $1 AND o.merchant_id = $2 \
             AND e.kind = 'state' ORDER BY e.id",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StateChange {
                    id: col(r, "id")?,
                    at: col(r, "at")?,
                    actor: col(r, "source")?,
                    from: col::<Option<String>>(r, "from_status")?.unwrap_or_default(),
                    to: col::<Option<String>>(r, "to_status")?.unwrap_or_default(),
                    reason: col(r, "detail")?,
                })
            })
            .collect()
    }

    /// A merchant's warehouse tasks, oldest first.
    pub async fn list_tasks(
        &self,
        merchant_id: i64,
        filter: &TaskFilter,
        limit: i64,
    ) -> Result<Vec<Task>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLS} FROM warehouse_tasks WHERE merchant_id = $1 \
             AND ($2 = '' OR status = $2) AND ($3 = '' OR assignee = $3) \
             AND ($4 = 0 OR order_id = $4) AND ($5 = '' OR kind = $5) ORDER BY id LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(filter.status.map(|s| s.as_str()).unwrap_or(""))
            .bind(filter.assignee.as_deref().unwrap_or(""))
            .bind(filter.order_id.unwrap_or(0))
            .bind(filter.kind.map(|k| k.as_str()).unwrap_or(""))
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// One task of a merchant.
    pub async fn get_task(&self, merchant_id: i64, task_id: i64) -> Result<Task, StoreError> {
        let sql =
            format!("SELECT {TASK_COLS} FROM warehouse_tasks WHERE id = $1 AND merchant_id = $2");
        let row = sqlx::query(&sql)
            .bind(task_id)
            .bind(merchant_id)
            .fetch_optional(&self.read)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("task {task_id} not found")))?;
        task_from_row(&row)
    }

    /// Act on a task. Starting the pick moves the order to `picking` and starts the pick
    /// clock; completing it opens the pack task; completing the pack task needs the parcel
    /// record and moves the order to `packed`.
    pub async fn act_on_task(
        &self,
        merchant_id: i64,
        task_id: i64,
        cmd: &TaskCommand,
        actor: &str,
    ) -> Result<Task, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT order_id, kind, status FROM warehouse_tasks WHERE id = $1 AND merchant_id = $2{}",
            self.for_update()
        ))
        .bind(task_id)
        .bind(merchant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("task {task_id} not found")))?;
        let order_id: i64 = col(&row, "order_id")?;
        let kind = TaskKind::parse(&col::<String>(&row, "kind")?).map_err(StoreError::corrupt)?;
        let status =
            TaskStatus::parse(&col::<String>(&row, "status")?).map_err(StoreError::corrupt)?;
        let action = match cmd {
            TaskCommand::Assign { .. } => TaskAction::Assign,
            TaskCommand::Start => TaskAction::Start,
            TaskCommand::Complete { .. } => TaskAction::Complete,
            TaskCommand::Exception { .. } => TaskAction::ReportException,
        };
        let to = task_action(status, action)
            .map_err(|e| StoreError::Conflict(format!("task {task_id}: {e}")))?;
        let order = lock_order(self, &mut tx, Some(merchant_id), order_id).await?;
        let detail = match cmd {
            TaskCommand::Assign { assignee } => {
                let assignee = assignee.trim();
                if assignee.is_empty() || assignee.len() > 100 {
                    return Err(StoreError::InvalidInput(
                        "assignee must be 1-100 bytes".into(),
                    ));
                }
                sqlx::query(
                    "UPDATE warehouse_tasks SET status = $1, assignee = $2, assigned_at = $3, \
                     exception_reason = NULL, updated_at = $3 WHERE id = $4",
                )
                .bind(to.as_str())
                .bind(assignee)
                .bind(now)
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
                format!("{} task {task_id} assigned to {assignee}", kind.as_str())
            }
            TaskCommand::Start => {
                let step = match kind {
                    TaskKind::Pick => SlaStep::Pick,
                    TaskKind::Pack => SlaStep::Pack,
                };
                if kind == TaskKind::Pick {
                    let why = format!("pick task {task_id} started");
                    move_state(
                        &mut tx,
                        order_id,
                        order.state,
                        State::Picking,
                        actor,
                        &why,
                        now,
                    )
                    .await?;
                } else if order.state != State::Picking {
                    return Err(StoreError::Conflict(format!(
                        "the pack task starts while the order is picking; it is {}",
                        order.state
                    )));
                }
                let due = sla_limit_ms(&mut tx, merchant_id, step)
                    .await?
                    .map(|ms| now + ms);
                sqlx::query(
                    "UPDATE warehouse_tasks SET status = $1, started_at = $2, due_at = $3, \
                     updated_at = $2 WHERE id = $4",
                )
                .bind(to.as_str())
                .bind(now)
                .bind(due)
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
                format!("{} task {task_id} started", kind.as_str())
            }
            TaskCommand::Complete { parcel } => {
                let parcel = match (kind, parcel) {
                    (TaskKind::Pack, None) => {
                        return Err(StoreError::InvalidInput(
                            "completing the pack task needs the parcel: weight_g, length_mm, \
                             width_mm, height_mm"
                                .into(),
                        ))
                    }
                    (TaskKind::Pack, Some(p)) => {
                        p.validate().map_err(StoreError::InvalidInput)?;
                        Some(*p)
                    }
                    (TaskKind::Pick, _) => None,
                };
                if kind == TaskKind::Pack {
                    // Checked before writing, so a refused move leaves the task as it was.
                    check(order.state, State::Packed).map_err(StoreError::Conflict)?;
                }
                sqlx::query(
                    "UPDATE warehouse_tasks SET status = $1, completed_at = $2, updated_at = $2, \
                     weight_g = $3, length_mm = $4, width_mm = $5, height_mm = $6 WHERE id = $7",
                )
                .bind(to.as_str())
                .bind(now)
                .bind(parcel.map(|p| p.weight_g))
                .bind(parcel.map(|p| p.length_mm))
                .bind(parcel.map(|p| p.width_mm))
                .bind(parcel.map(|p| p.height_mm))
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
                match (kind, parcel) {
                    (TaskKind::Pick, _) => {
                        let mut pending = Pending::default();
                        pending.task(merchant_id, order_id, TaskKind::Pack, actor, now);
                        pending.flush(&mut tx).await?;
                        format!("pick task {task_id} completed")
                    }
                    (TaskKind::Pack, Some(p)) => {
                        let why = format!(
                            "pack task {task_id} completed: {} g, {}×{}×{} mm",
                            p.weight_g, p.length_mm, p.width_mm, p.height_mm
                        );
                        move_state(
                            &mut tx,
                            order_id,
                            order.state,
                            State::Packed,
                            actor,
                            &why,
                            now,
                        )
                        .await?;
                        crate::shipping::enqueue_waybill(&mut tx, merchant_id, order_id, now)
                            .await?;
                        why
                    }
                    (TaskKind::Pack, None) => unreachable!("checked above"),
                }
            }
            TaskCommand::Exception { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(StoreError::InvalidInput(
                        "an exception needs a reason".into(),
                    ));
                }
                sqlx::query(
                    "UPDATE warehouse_tasks SET status = $1, exception_reason = $2, updated_at = $3 \
                     WHERE id = $4",
                )
                .bind(to.as_str())
                .bind(cap(reason, MAX_TEXT))
                .bind(now)
                .bind(task_id)
                .execute(&mut *tx)
                .await?;
                format!("{} task {task_id} exception: {reason}", kind.as_str())
            }
        };
        append(&mut tx, order_id, now, "task", actor, None, None, &detail).await?;
        tx.commit().await?;
        self.get_task(merchant_id, task_id).await
    }
}
