//! Reads for the warehouse page: find a merchant's orders by a scanned code (order
//! number, the channel's order id, or the tracking number), the warehouse view of one
//! order (lines, destination city, state, tasks and the task open now), and the task
//! boards (the open queue, one worker's live tasks) with each task's order number.

use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wharf_domain::fulfillment::TaskStatus;

use crate::db::col;
use crate::fulfillment::{task_from_row, Task, TaskFilter, TASK_COLS};
use crate::{Store, StoreError};

/// At most this many orders answer one scan.
pub const MAX_SCAN_MATCHES: i64 = 10;
/// Longest code a scan accepts (barcodes are far shorter).
pub const MAX_CODE_BYTES: usize = 200;

/// How a scanned code matched an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanMatch {
    /// The tracking number of its label.
    TrackingNumber,
    /// Its order number (e.g. Shopify's `#1001`; the `#` may be left out).
    Number,
    /// The channel's own order id.
    ExternalId,
}

/// An order line as the picker needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PickLine {
    /// The merchant's SKU code (may be empty when the channel sent none).
    pub sku: String,
    pub channel_sku: String,
    pub title: String,
    pub quantity: u32,
}

/// One order as the warehouse sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WarehouseOrder {
    pub order_id: i64,
    /// How the scanned code matched (absent when the order was read by id).
    pub matched_by: Option<ScanMatch>,
    pub number: String,
    pub external_id: String,
    pub platform: String,
    pub shop: String,
    /// The channel's status, e.g. `paid`.
    pub status: String,
    /// Wharf's fulfillment state, e.g. `allocated`, `picking`, `packed`.
    pub state: String,
    /// Destination city and country of the shipping address.
    pub city: Option<String>,
    pub country: Option<String>,
    pub lines: Vec<PickLine>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// The task to work on now: the order's live task (open, assigned, in progress or
    /// in exception), if any.
    pub open_task: Option<Task>,
    /// All the order's tasks, oldest first.
    pub tasks: Vec<Task>,
}

/// A task with the order it belongs to, for the boards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BoardTask {
    pub task: Task,
    pub order_number: String,
    pub city: Option<String>,
}

/// Which board to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Board {
    /// Tasks nobody took yet, oldest first.
    Open,
    /// One worker's assigned, in-progress and exception tasks, oldest first.
    Mine(String),
}

fn is_live(status: TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Open | TaskStatus::Assigned | TaskStatus::InProgress | TaskStatus::Exception
    )
}

/// City and country from a stored shipping-address JSON.
fn destination(row: &AnyRow) -> Result<(Option<String>, Option<String>), StoreError> {
    let raw: Option<String> = col(row, "shipping_address")?;
    let Some(raw) = raw else {
        return Ok((None, None));
    };
    let addr: serde_json::Value = serde_json::from_str(&raw)
        .map_err(|e| StoreError::corrupt(format!("orders.shipping_address: {e}")))?;
    let field = |k: &str| {
        addr[k]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    Ok((field("city"), field("country")))
}

impl Store {
    /// The merchant's orders a scanned `code` names, newest first: by tracking number,
    /// order number (with or without a leading `#`) or the channel's order id. Empty when
    /// none does; an empty or overlong code is [`StoreError::InvalidInput`].
    pub async fn scan(
        &self,
        merchant_id: i64,
        code: &str,
    ) -> Result<Vec<WarehouseOrder>, StoreError> {
        let code = code.trim();
        if code.is_empty() || code.len() > MAX_CODE_BYTES {
            return Err(StoreError::InvalidInput(format!(
                "a scanned code must be 1-{MAX_CODE_BYTES} bytes"
            )));
        }
        let hashed = if code.starts_with('#') {
            code.to_string()
        } else {
            format!("#{code}")
        };
        let rows = sqlx::query(
            "SELECT id, number, external_id, tracking_number FROM orders WHERE merchant_id = $1 \
             AND (tracking_number = $2 OR number = $2 OR number = $3 OR external_id = $2) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(merchant_id)
        .bind(code)
        .bind(&hashed)
        .bind(MAX_SCAN_MATCHES)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let tracking: Option<String> = col(r, "tracking_number")?;
            let number: String = col(r, "number")?;
            let how = if tracking.as_deref() == Some(code) {
                ScanMatch::TrackingNumber
            } else if number == code || number == hashed {
                ScanMatch::Number
            } else {
                ScanMatch::ExternalId
            };
            let mut view = self.warehouse_order(merchant_id, col(r, "id")?).await?;
            view.matched_by = Some(how);
            out.push(view);
        }
        Ok(out)
    }

    /// The warehouse view of one of the merchant's orders.
    pub async fn warehouse_order(
        &self,
        merchant_id: i64,
        order_id: i64,
    ) -> Result<WarehouseOrder, StoreError> {
        let row = sqlx::query(
            "SELECT id, number, external_id, platform, shop, status, state, shipping_address, \
             carrier, tracking_number FROM orders WHERE id = $1 AND merchant_id = $2",
        )
        .bind(order_id)
        .bind(merchant_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("order {order_id} not found")))?;
        let lines = sqlx::query(
            "SELECT sku, channel_sku, title, quantity FROM order_lines WHERE order_id = $1 \
             ORDER BY line_no",
        )
        .bind(order_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|l| {
            Ok(PickLine {
                sku: col(l, "sku")?,
                channel_sku: col(l, "channel_sku")?,
                title: col(l, "title")?,
                quantity: u32::try_from(col::<i64>(l, "quantity")?)
                    .map_err(|_| StoreError::corrupt("order_lines.quantity out of range"))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let filter = TaskFilter {
            order_id: Some(order_id),
            ..TaskFilter::default()
        };
        let tasks = self.list_tasks(merchant_id, &filter, 100).await?;
        let (city, country) = destination(&row)?;
        Ok(WarehouseOrder {
            order_id,
            matched_by: None,
            number: col(&row, "number")?,
            external_id: col(&row, "external_id")?,
            platform: col(&row, "platform")?,
            shop: col(&row, "shop")?,
            status: col(&row, "status")?,
            state: col(&row, "state")?,
            city,
            country,
            lines,
            carrier: col(&row, "carrier")?,
            tracking_number: col(&row, "tracking_number")?,
            open_task: tasks.iter().rev().find(|t| is_live(t.status)).cloned(),
            tasks,
        })
    }

    /// A task board with each task's order number and destination city.
    pub async fn task_board(
        &self,
        merchant_id: i64,
        board: &Board,
        limit: i64,
    ) -> Result<Vec<BoardTask>, StoreError> {
        let (statuses, assignee) = match board {
            Board::Open => ("('open')", ""),
            Board::Mine(who) => ("('assigned', 'in_progress', 'exception')", who.as_str()),
        };
        let sql = format!(
            "SELECT {TASK_COLS}, (SELECT o.number FROM orders o WHERE o.id = order_id) \
             AS order_number, (SELECT o.shipping_address FROM orders o WHERE o.id = order_id) \
             AS shipping_address FROM warehouse_tasks WHERE merchant_id = $1 \
             AND status IN {statuses} AND ($2 = '' OR assignee = $2) ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(assignee)
            .bind(limit.clamp(1, 500))
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(BoardTask {
                    task: task_from_row(r)?,
                    order_number: col(r, "order_number")?,
                    city: destination(r)?.0,
                })
            })
            .collect()
    }
}
