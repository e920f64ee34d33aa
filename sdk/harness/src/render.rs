//! Call results as JSON (the `run` output and the suite's details).

use serde_json::{json, Value};
use wharf_domain::Order;
use wharf_runtime::{CallReport, ConnectorError, LogLevel, Page, WebhookEvent};

pub fn page(p: &Page) -> Value {
    json!({"orders": p.orders, "cursor": p.cursor, "more": p.more})
}

pub fn event(e: &WebhookEvent) -> Value {
    json!({"delivery_id": e.delivery_id, "topic": e.topic, "orders": e.orders})
}

pub fn order(o: &Option<Order>) -> Value {
    json!(o)
}

/// `{"kind": "rate_limited", "detail": 2000, "message": "rate limited: retry after 2000 ms"}`.
pub fn error(e: &ConnectorError) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({"kind": e.code()}));
    v["message"] = Value::from(e.to_string());
    v
}

/// `{"fuel": …, "peak_memory_bytes": …, "wall_time_ms": …}` (fuel null when unmetered).
pub fn report(r: &CallReport) -> Value {
    json!({
        "fuel": r.fuel_used,
        "peak_memory_bytes": r.peak_memory_bytes,
        "wall_time_ms": (r.wall_time.as_micros() as f64) / 1000.0,
    })
}

pub fn logs(lines: &[(LogLevel, String)]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|(l, m)| json!({"level": l.as_str(), "message": m}))
            .collect(),
    )
}
