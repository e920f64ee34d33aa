//! After-sales tickets: refund and return requests from the channels, worked in a
//! customer-service queue. Tickets open and change inside the ingest transaction
//! ([`sync_order`]) from the order's channel status and `after-sales:*` tags (see
//! [`wharf_domain::after_sales`]); merchants assign, start, resolve, reject and annotate
//! them through the API, every move checked against the domain's one table.
//!
//! Idempotence: at most one live ticket per (order, kind) is unique in the schema, and a
//! new ticket opens for a kind only when the order has none yet or the channel closed the
//! previous request — so a redelivered webhook, a later pull or the sweep changes nothing.

use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wharf_domain::after_sales::{
    act, signals, TicketAction, TicketKind, TicketStatus, DEFAULT_QUEUE,
};
use wharf_domain::{ChannelStatus, Order};

use crate::db::{cap, col, now_ms};
use crate::fulfillment::append;
use crate::inventory::Tx;
use crate::pending::Pending;
use crate::{Store, StoreError};

/// A note on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TicketNote {
    pub id: i64,
    pub at: i64,
    pub author: String,
    pub body: String,
}

/// An after-sales ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub order_id: i64,
    pub kind: TicketKind,
    pub status: TicketStatus,
    pub queue: String,
    pub assignee: Option<String>,
    /// What the channel last said: `requested`, `refunded` or `closed`.
    pub channel_state: String,
    /// What opened it (`after-sales:refund-requested`, `refunded`, …).
    pub opened_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub notes: Vec<TicketNote>,
}

/// Filters of the ticket list.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    pub order_id: Option<i64>,
}

/// What a merchant does to a ticket.
#[derive(Debug, Clone)]
pub enum TicketCommand {
    Assign {
        assignee: String,
        queue: Option<String>,
    },
    Start,
    Resolve {
        note: Option<String>,
    },
    Reject {
        note: Option<String>,
    },
    Note {
        body: String,
    },
}

const COLS: &str = "id, order_id, kind, status, queue, assignee, channel_state, opened_by, \
     created_at, updated_at, closed_at";

fn ticket_from_row(r: &AnyRow) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        id: col(r, "id")?,
        order_id: col(r, "order_id")?,
        kind: TicketKind::parse(&col::<String>(r, "kind")?).map_err(StoreError::corrupt)?,
        status: TicketStatus::parse(&col::<String>(r, "status")?).map_err(StoreError::corrupt)?,
        queue: col(r, "queue")?,
        assignee: col(r, "assignee")?,
        channel_state: col(r, "channel_state")?,
        opened_by: col(r, "opened_by")?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
        closed_at: col(r, "closed_at")?,
        notes: Vec::new(),
    })
}

/// The newest ticket of an order and kind.
async fn latest(
    tx: &mut Tx,
    order_id: i64,
    kind: TicketKind,
) -> Result<Option<Ticket>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM after_sales_tickets WHERE order_id = $1 AND kind = $2 \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(order_id)
    .bind(kind.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(ticket_from_row).transpose()
}

async fn add_note(
    tx: &mut Tx,
    ticket_id: i64,
    author: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO after_sales_notes (ticket_id, at, author, body) VALUES ($1, $2, $3, $4)",
    )
    .bind(ticket_id)
    .bind(now)
    .bind(cap(author, 200))
    .bind(cap(body, 2000))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What ingest knows of an order it inserted in this transaction, so the tickets need no
/// read: its merchant, whether it was inserted paid, and that it has no tickets yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inserted {
    pub merchant_id: i64,
    pub paid: bool,
}

/// Open or update the order's tickets from what the channel now says (inside the ingest
/// transaction; the order's events are queued on `pending`, after its others).
/// Idempotent (see the module docs).
pub(crate) async fn sync_order(
    tx: &mut Tx,
    order_id: i64,
    order: &Order,
    inserted: Option<Inserted>,
    now: i64,
    pending: &mut Pending,
) -> Result<(), StoreError> {
    // Most orders carry no after-sales signal: nothing to read or write.
    let any = signals(order.status, &order.tags, true);
    if !(any.refund_requested || any.return_requested || any.refunded || any.closed) {
        return Ok(());
    }
    let (merchant_id, paid) = match inserted {
        Some(i) => (i.merchant_id, i.paid),
        None => {
            let row = sqlx::query("SELECT merchant_id, paid_at FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_one(&mut **tx)
                .await?;
            (
                col::<i64>(&row, "merchant_id")?,
                col::<Option<i64>>(&row, "paid_at")?.is_some(),
            )
        }
    };
    let was_paid = paid
        || matches!(
            order.status,
            ChannelStatus::PartiallyShipped | ChannelStatus::Shipped | ChannelStatus::Completed
        );
    let s = signals(order.status, &order.tags, was_paid);
    let wants = [
        (
            TicketKind::Refund,
            s.refund_requested || s.refunded,
            if s.refund_requested {
                "after-sales:refund-requested"
            } else {
                "refunded"
            },
        ),
        (
            TicketKind::Return,
            s.return_requested,
            "after-sales:return-requested",
        ),
    ];
    for (kind, requested, why) in wants {
        // An order inserted in this transaction has no tickets yet.
        let current = match inserted {
            Some(_) => None,
            None => latest(tx, order_id, kind).await?,
        };
        if s.closed {
            if let Some(t) = current.filter(|t| t.channel_state != "closed") {
                let status = match act(t.status, TicketAction::ChannelClose) {
                    Ok(to) => to,
                    Err(_) => t.status,
                };
                sqlx::query(
                    "UPDATE after_sales_tickets SET status = $1, channel_state = 'closed', \
                     updated_at = $2, closed_at = COALESCE(closed_at, $2) WHERE id = $3",
                )
                .bind(status.as_str())
                .bind(now)
                .bind(t.id)
                .execute(&mut **tx)
                .await?;
                add_note(tx, t.id, "channel", "the channel closed the request", now).await?;
            }
            continue;
        }
        if !requested {
            continue;
        }
        let channel_state = if kind == TicketKind::Refund && s.refunded {
            "refunded"
        } else {
            "requested"
        };
        match current {
            Some(t) if t.channel_state != "closed" => {
                if t.channel_state != channel_state {
                    sqlx::query(
                        "UPDATE after_sales_tickets SET channel_state = $1, updated_at = $2 WHERE id = $3",
                    )
                    .bind(channel_state)
                    .bind(now)
                    .bind(t.id)
                    .execute(&mut **tx)
                    .await?;
                    let note = format!("the channel now reports the request {channel_state}");
                    add_note(tx, t.id, "channel", &note, now).await?;
                }
            }
            _ => {
                let row = sqlx::query(
                    "INSERT INTO after_sales_tickets (merchant_id, order_id, kind, status, queue, \
                     channel_state, opened_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(merchant_id)
                .bind(order_id)
                .bind(kind.as_str())
                .bind(DEFAULT_QUEUE)
                .bind(channel_state)
                .bind(why)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(r) = row {
                    let id: i64 = col(&r, "id")?;
                    let detail = format!("{} ticket {id} opened ({why})", kind.as_str());
                    pending.audit.push(
                        order_id,
                        now,
                        "after_sales",
                        "channel",
                        None,
                        None,
                        Some(&detail),
                    );
                }
            }
        }
    }
    Ok(())
}

impl Store {
    /// A merchant's tickets, oldest first.
    pub async fn list_tickets(
        &self,
        merchant_id: i64,
        f: &TicketFilter,
        limit: i64,
    ) -> Result<Vec<Ticket>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM after_sales_tickets WHERE merchant_id = $1 AND ($2 = '' OR status = $2) \
             AND ($3 = '' OR queue = $3) AND ($4 = '' OR assignee = $4) AND ($5 = 0 OR order_id = $5) \
             ORDER BY id LIMIT $6"
        ))
        .bind(merchant_id)
        .bind(f.status.map(|s| s.as_str()).unwrap_or(""))
        .bind(f.queue.as_deref().unwrap_or(""))
        .bind(f.assignee.as_deref().unwrap_or(""))
        .bind(f.order_id.unwrap_or(0))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// One ticket with its notes.
    pub async fn get_ticket(&self, merchant_id: i64, id: i64) -> Result<Ticket, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM after_sales_tickets WHERE id = $1 AND merchant_id = $2"
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("ticket {id} not found")))?;
        let mut t = ticket_from_row(&row)?;
        let notes = sqlx::query(
            "SELECT id, at, author, body FROM after_sales_notes WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        t.notes = notes
            .iter()
            .map(|r| {
                Ok(TicketNote {
                    id: col(r, "id")?,
                    at: col(r, "at")?,
                    author: col(r, "author")?,
                    body: col(r, "body")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(t)
    }

    /// Act on a ticket. An action the table does not allow is `Conflict` with the reason.
    pub async fn act_on_ticket(
        &self,
        merchant_id: i64,
        id: i64,
        cmd: &TicketCommand,
        actor: &str,
    ) -> Result<Ticket, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM after_sales_tickets WHERE id = $1 AND merchant_id = $2{}",
            self.for_update()
        ))
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("ticket {id} not found")))?;
        let t = ticket_from_row(&row)?;
        let text = |s: &str, what: &str, max: usize| -> Result<String, StoreError> {
            let s = s.trim();
            if s.is_empty() || s.len() > max {
                return Err(StoreError::InvalidInput(format!(
                    "{what} must be 1-{max} bytes"
                )));
            }
            Ok(s.to_string())
        };
        let conflict = |e: String| StoreError::Conflict(format!("ticket {id}: {e}"));
        let (action, note) = match cmd {
            TicketCommand::Assign { assignee, queue } => {
                let to = act(t.status, TicketAction::Assign).map_err(conflict)?;
                let assignee = text(assignee, "assignee", 100)?;
                let queue = match queue {
                    Some(q) => text(q, "queue", 100)?,
                    None => t.queue.clone(),
                };
                sqlx::query(
                    "UPDATE after_sales_tickets SET status = $1, assignee = $2, queue = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(to.as_str())
                .bind(&assignee)
                .bind(&queue)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (
                    "assigned",
                    Some(format!("assigned to {assignee} in {queue}")),
                )
            }
            TicketCommand::Note { body } => ("noted", Some(text(body, "note", 2000)?)),
            TicketCommand::Start | TicketCommand::Resolve { .. } | TicketCommand::Reject { .. } => {
                let (action, name, note) = match cmd {
                    TicketCommand::Start => (TicketAction::Start, "started", None),
                    TicketCommand::Resolve { note } => {
                        (TicketAction::Resolve, "resolved", note.clone())
                    }
                    TicketCommand::Reject { note } => {
                        (TicketAction::Reject, "rejected", note.clone())
                    }
                    _ => unreachable!("matched above"),
                };
                let to = act(t.status, action).map_err(conflict)?;
                let note = note.map(|n| text(&n, "note", 2000)).transpose()?;
                sqlx::query(
                    "UPDATE after_sales_tickets SET status = $1, updated_at = $2, \
                     closed_at = CASE WHEN $3 = 1 THEN $2 ELSE closed_at END WHERE id = $4",
                )
                .bind(to.as_str())
                .bind(now)
                .bind(i64::from(!to.is_live()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (name, note)
            }
        };
        if let Some(n) = &note {
            add_note(&mut tx, id, actor, n, now).await?;
        }
        if action != "noted" {
            let detail = format!("{} ticket {id} {action}", t.kind.as_str());
            append(
                &mut tx,
                t.order_id,
                now,
                "after_sales",
                actor,
                None,
                None,
                &detail,
            )
            .await?;
        }
        tx.commit().await?;
        self.get_ticket(merchant_id, id).await
    }
}
