//! Workload 5, peers of the translate workload, timed over the same body and iteration
//! count: the Python script a small team would write (`host/bench/peers/translate.py`,
//! CPython + json module, HMAC check included like the plugin's), checked to produce the
//! same normalised order as the native code before its time is believed. The Extism peer
//! is not built yet (see the note it leaves in the report).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use serde_json::Value;
use wharf_sdk::types::{ChannelStatus, Order};

use crate::payload::{Delivery, CLIENT_SECRET};
use crate::report::Report;
use crate::stats::{rate, ratio, us, Summary};
use crate::translate::Translate;
use crate::Iters;

const W: &str = "5 peers";

pub fn run(
    report: &mut Report,
    root: &Path,
    fixture: &Delivery,
    t: &Translate,
    it: Iters,
) -> Result<()> {
    match python(root, fixture, &t.expected, it) {
        Ok(py) => {
            report.row(
                W,
                "Python 3 (json + hmac), same verify + normalise",
                format!(
                    "mean {} · p50 {} · p99 {} · {} (n={})",
                    us(py.mean),
                    us(py.p50),
                    us(py.p99),
                    rate(py.per_sec()),
                    py.n
                ),
            );
            report.row(W, "Python ÷ native", ratio(py.p50, t.native.p50));
            report.target(
                W,
                "Python ÷ Wasm (instance reused)",
                ratio(py.p50, t.wasm_reused.p50),
                "Wasm faster (> 1×)",
                py.p50 > t.wasm_reused.p50,
            );
        }
        Err(e) => report.note(format!("Python peer NOT measured: {e:#}")),
    }
    report.note(
        "Extism peer NOT measured yet: not built in this change. The `extism` host crate \
         (1.41) embeds wasmtime 49, so it means compiling a second wasmtime beside the \
         workspace's 48.",
    );
    Ok(())
}

fn python(root: &Path, fixture: &Delivery, expected: &Order, it: Iters) -> Result<Summary> {
    let script = root.join("host/bench/peers/translate.py");
    let body_file =
        std::env::temp_dir().join(format!("wharf-bench-body-{}.json", std::process::id()));
    std::fs::write(&body_file, &fixture.body)?;
    let out = Command::new("python3")
        .arg(&script)
        .arg(&body_file)
        .arg(CLIENT_SECRET)
        .arg(it.warmup.to_string())
        .arg(it.translate_iters.to_string())
        .output()
        .context("running python3")?;
    std::fs::remove_file(&body_file).ok();
    ensure!(
        out.status.success(),
        "translate.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).context("translate.py output")?;
    same_order(&v["order"], expected)?;
    let samples: Vec<Duration> = v["samples_ns"]
        .as_array()
        .ok_or_else(|| anyhow!("no samples_ns"))?
        .iter()
        .filter_map(Value::as_u64)
        .map(Duration::from_nanos)
        .collect();
    ensure!(
        samples.len() == it.translate_iters,
        "wrong number of samples"
    );
    Ok(Summary::of(samples))
}

fn status_name(s: ChannelStatus) -> &'static str {
    match s {
        ChannelStatus::PendingPayment => "pending-payment",
        ChannelStatus::Paid => "paid",
        ChannelStatus::PartiallyShipped => "partially-shipped",
        ChannelStatus::Shipped => "shipped",
        ChannelStatus::Completed => "completed",
        ChannelStatus::Cancelled => "cancelled",
        ChannelStatus::Refunded => "refunded",
    }
}

/// The peer's normalised order must equal the plugin's on every mapped field.
fn same_order(py: &Value, o: &Order) -> Result<()> {
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "line_id": l.line_id, "sku": l.sku, "channel_sku": l.channel_sku,
                "title": l.title, "quantity": l.quantity,
                "unit_price": l.unit_price.minor, "discount": l.discount.minor,
            })
        })
        .collect();
    let address = o.shipping_address.as_ref().map(|a| {
        serde_json::json!({
            "name": a.name, "phone": a.phone, "country": a.country, "province": a.province,
            "city": a.city, "street": a.street, "postal_code": a.postal_code,
        })
    });
    let expected = serde_json::json!({
        "external_id": o.external_id,
        "number": o.number,
        "status": status_name(o.status),
        "raw_status": o.raw_status,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
        "currency": o.currency,
        "lines": lines,
        "shipping_fee": o.shipping_fee.minor,
        "discount": o.discount.minor,
        "tax": o.tax.minor,
        "total_paid": o.total_paid.minor,
        "tags": o.tags,
        "shipping_address": address,
    });
    ensure!(
        py == &expected,
        "the Python peer's order differs from the plugin's:\n python: {py}\n plugin: {expected}"
    );
    Ok(())
}
