//! The order event log (`order_events`) written in bulk: rows collected while an order is
//! processed and inserted in ONE multi-row statement, in the order they were pushed (so
//! their ids keep the history's order). Ingest writes three or four per new order — the
//! `created` row, its state changes, its pick task — and statements, not rows, are what
//! a write transaction pays for.
//!
//! Whoever collects rows flushes them before writing any event directly, so the log's ids
//! stay in the order things happened.

use crate::db::{cap, insert_json_rows, JsonCol::*};
use crate::inventory::Tx;
use crate::StoreError;

/// Longest actor (source) and detail text kept in an event row, in bytes.
pub(crate) const MAX_TEXT: usize = 500;

struct Event {
    order_id: i64,
    at: i64,
    kind: String,
    source: String,
    from: Option<String>,
    to: Option<String>,
    detail: Option<String>,
}

/// Event rows waiting to be inserted.
#[derive(Default)]
pub(crate) struct Audit(Vec<Event>);

impl Audit {
    /// Queue one row; `source` (the actor) and `detail` are capped at [`MAX_TEXT`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        order_id: i64,
        at: i64,
        kind: &str,
        source: &str,
        from: Option<&str>,
        to: Option<&str>,
        detail: Option<&str>,
    ) {
        self.0.push(Event {
            order_id,
            at,
            kind: kind.to_string(),
            source: cap(source, MAX_TEXT).to_string(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            detail: detail.map(|d| cap(d, MAX_TEXT).to_string()),
        });
    }

    /// Insert the queued rows (nothing when none are queued) and empty the queue.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<(), StoreError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = self
            .0
            .iter()
            .map(|e| {
                (
                    e.order_id, e.at, &e.kind, &e.source, &e.from, &e.to, &e.detail,
                )
            })
            .collect();
        insert_json_rows(
            tx,
            "order_events (order_id, at, kind, source, from_status, to_status, detail)",
            &[Int, Int, Text, Text, Text, Text, Text],
            "",
            &rows,
        )
        .await?;
        self.0.clear();
        Ok(())
    }
}
