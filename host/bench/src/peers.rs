//! Workload 5, peers of the translate workload, timed over the same body and iteration
//! count, each checked to produce the same normalised order as the native code before its
//! time is believed:
//! - the Extism plugin (`host/bench/peers/extism`, its own cargo workspace): the Shopify
//!   connector's own `webhook::verify` compiled with `extism-pdk` into a core module and
//!   called through the `extism` host crate on one reused plugin instance, the nearest peer
//!   of the component with its instance reused. Built here on first use into
//!   `target/extism-peer` (the first build compiles Extism's own wasmtime: minutes); when
//!   it cannot be built or run the report says so in a note;
//! - the Python script a small team would write (`host/bench/peers/translate.py`,
//!   CPython + json module, HMAC check included like the plugin's).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::Value;
use wharf_sdk::types::{ChannelStatus, Order, PresaleStage};

use crate::payload::{Delivery, CLIENT_SECRET};
use crate::report::Report;
use crate::stats::{ratio, Summary};
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
    match extism(root, fixture, &t.expected, it) {
        Ok(ex) => {
            rows(
                report,
                "Extism",
                "Extism plugin (extism-pdk)",
                &ex.summary,
                t,
            );
            report.note(format!(
                "Extism peer: extism {} (its own wasmtime {}, Extism's engine defaults, no \
                 WASI; the newest extism, 1.41, needs a newer Rust than the pinned one) \
                 running the Shopify connector's `webhook::verify` built with extism-pdk for \
                 wasm32-unknown-unknown, one plugin instance reused. Each call copies in the \
                 headers + body (a length-prefixed framing), reads the client secret from \
                 the plugin config (a host call, like the component's `config.secret`) and \
                 returns the webhook event as JSON bytes, the whole normalised order; the \
                 host does not parse that JSON inside the timing (in the peer's favour, \
                 where the component's result is lifted into host types).",
                ex.extism_version, ex.wasmtime_version
            ));
        }
        Err(e) => report.note(format!("Extism peer NOT measured: {e:#}")),
    }
    match python(root, fixture, &t.expected, it) {
        Ok(py) => rows(report, "Python", "Python 3 (json + hmac)", &py, t),
        Err(e) => report.note(format!("Python peer NOT measured: {e:#}")),
    }
    Ok(())
}

/// A peer's rows: its timings, its ratio to native, and the target that the Wasm
/// component (instance reused) is faster.
fn rows(report: &mut Report, peer: &str, what: &str, s: &Summary, t: &Translate) {
    report.row(W, &format!("{what}, same verify + normalise"), s.timings());
    report.row(W, &format!("{peer} ÷ native"), ratio(s.p50, t.native.p50));
    report.target(
        W,
        &format!("{peer} ÷ Wasm (instance reused)"),
        ratio(s.p50, t.wasm_reused.p50),
        "Wasm faster (> 1×)",
        s.p50 > t.wasm_reused.p50,
    );
}

/// The Extism peer's own workspace, relative to the workspace root.
const EXTISM_DIR: &str = "host/bench/peers/extism";
/// Where it is built: its own directory under the workspace's target dir (its wasmtime
/// differs from the workspace's, so it shares no build artefacts anyway).
const EXTISM_TARGET_DIR: &str = "target/extism-peer";
/// The target of the plugin: a core module, as Extism loads.
const EXTISM_WASM_TARGET: &str = "wasm32-unknown-unknown";

/// What the Extism runner measured, and with which Extism.
struct Extism {
    summary: Summary,
    extism_version: String,
    wasmtime_version: String,
}

fn extism(root: &Path, fixture: &Delivery, expected: &Order, it: Iters) -> Result<Extism> {
    let (runner, plugin) = build_extism(root)?;
    let fixture_file =
        std::env::temp_dir().join(format!("wharf-bench-extism-{}.json", std::process::id()));
    let body = std::str::from_utf8(&fixture.body).context("the fixture body is not UTF-8")?;
    std::fs::write(
        &fixture_file,
        serde_json::to_vec(&serde_json::json!({
            "headers": fixture.headers,
            "body": body,
            "secret": CLIENT_SECRET,
        }))?,
    )?;
    let out = Command::new(&runner)
        .arg(&plugin)
        .arg(&fixture_file)
        .arg(it.warmup.to_string())
        .arg(it.translate_iters.to_string())
        // A failure's message, not a backtrace, goes into the report's note.
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .with_context(|| format!("running {}", runner.display()));
    std::fs::remove_file(&fixture_file).ok();
    let out = out?;
    ensure!(
        out.status.success(),
        "the Extism runner failed ({}): {}",
        out.status,
        one_line(&String::from_utf8_lossy(&out.stderr))
    );
    let v: Value = serde_json::from_slice(&out.stdout).context("the Extism runner's output")?;

    // The event the plugin returned: the fixture's topic and delivery id, one order equal
    // to the native one on every field.
    let ev = &v["output"];
    let header = |name: &str| {
        fixture
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    ensure!(
        ev["topic"].as_str() == header("X-Shopify-Topic")
            && ev["delivery_id"].as_str() == header("X-Shopify-Webhook-Id"),
        "the Extism peer's topic / delivery id differ from the delivery's: {ev}"
    );
    let orders = ev["orders"]
        .as_array()
        .ok_or_else(|| anyhow!("no orders in the Extism peer's output: {ev}"))?;
    ensure!(orders.len() == 1, "expected one order from the Extism peer");
    same_order("Extism", &orders[0], &full_order_value(expected))?;

    let samples = samples_of(&v, it)?;
    let summary = Summary::of(samples);
    ensure!(
        v["p50_ns"].as_u64() == Some(summary.p50.as_nanos() as u64),
        "the Extism runner's p50 disagrees with its samples"
    );
    Ok(Extism {
        summary,
        extism_version: v["extism"].as_str().unwrap_or("?").to_string(),
        wasmtime_version: locked_version(&root.join(EXTISM_DIR).join("Cargo.lock"), "wasmtime")
            .unwrap_or_else(|| "?".into()),
    })
}

/// Build the Extism runner (native) and plugin (Wasm) with their own lock file into
/// `target/extism-peer`; returns their paths. Cargo makes this a no-op once built.
fn build_extism(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let dir = root.join(EXTISM_DIR);
    let target_dir = root.join(EXTISM_TARGET_DIR);
    ensure_rust_target(root, EXTISM_WASM_TARGET)?;
    println!(
        "peers: building the Extism peer into {EXTISM_TARGET_DIR} (the first build takes minutes)"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = dir.join("Cargo.toml");
    for (package, target) in [
        ("wharf-extism-runner", None),
        ("wharf-extism-shopify", Some(EXTISM_WASM_TARGET)),
    ] {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&dir)
            .args(["build", "--release", "--manifest-path"])
            .arg(&manifest)
            .args(["--package", package])
            .env("CARGO_TARGET_DIR", &target_dir);
        if let Some(t) = target {
            cmd.args(["--target", t]);
        }
        let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            bail!(
                "building {package} failed ({}): {}",
                out.status,
                first_error(&out)
            );
        }
    }
    let runner = target_dir.join("release/wharf-extism-runner");
    let plugin = target_dir.join(format!(
        "{EXTISM_WASM_TARGET}/release/wharf_extism_shopify.wasm"
    ));
    for p in [&runner, &plugin] {
        ensure!(p.exists(), "{} is missing after the build", p.display());
    }
    Ok((runner, plugin))
}

/// The first `error` line of a failed cargo run and the few after it, on one line.
fn first_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines
        .iter()
        .position(|l| l.starts_with("error"))
        .unwrap_or(lines.len().saturating_sub(4));
    let msg = one_line(&lines[from..lines.len().min(from + 4)].join("\n"));
    if msg.is_empty() {
        "cargo printed nothing".into()
    } else {
        msg
    }
}

/// A multi-line message as one line of the report's notes.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Add a rustup target when it is missing (like `cargo xtask plugins` does for
/// `wasm32-wasip2`); without rustup, trust the toolchain to have it.
fn ensure_rust_target(root: &Path, target: &str) -> Result<()> {
    let Ok(out) = Command::new("rustup")
        .current_dir(root)
        .args(["target", "list", "--installed"])
        .output()
    else {
        return Ok(());
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    let status = Command::new("rustup")
        .current_dir(root)
        .args(["target", "add", target])
        .status()
        .context("running rustup target add")?;
    ensure!(
        status.success(),
        "`rustup target add {target}` failed ({status})"
    );
    Ok(())
}

/// The version of `package` in a Cargo.lock (the first entry of that name).
fn locked_version(lock: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let mut lines = text.lines();
    let wanted = format!("name = \"{package}\"");
    lines.find(|l| l.trim() == wanted)?;
    let version = lines.next()?.trim().strip_prefix("version = \"")?;
    Some(version.trim_end_matches('"').to_string())
}

/// `samples_ns` of a peer's output, which must hold one sample per iteration.
fn samples_of(v: &Value, it: Iters) -> Result<Vec<Duration>> {
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
    Ok(samples)
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
    same_order("Python", &v["order"], &order_value(expected))?;
    Ok(Summary::of(samples_of(&v, it)?))
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

/// The order as the Python peer writes it: the fields its mapping covers, money as
/// integer minor units.
fn order_value(o: &Order) -> Value {
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
    serde_json::json!({
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
    })
}

/// The order as the Extism peer writes it: every field of the contract's `Order` (money
/// as integer minor units of the order's currency).
fn full_order_value(o: &Order) -> Value {
    let mut v = order_value(o);
    v["buyer"] = serde_json::json!(o.buyer.as_ref().map(|b| serde_json::json!({
        "id": b.id, "name": b.name, "email": b.email, "phone": b.phone,
    })));
    if let Some(a) = &o.shipping_address {
        v["shipping_address"]["district"] = a.district.clone().into();
        v["shipping_address"]["encrypted"] = a.encrypted.into();
    }
    v["presale"] = serde_json::json!(o.presale.as_ref().map(|p| serde_json::json!({
        "stage": match p.stage {
            PresaleStage::DepositPending => "deposit-pending",
            PresaleStage::DepositPaid => "deposit-paid",
            PresaleStage::BalancePaid => "balance-paid",
        },
        "deposit": p.deposit.as_ref().map(|m| m.minor),
        "balance": p.balance.as_ref().map(|m| m.minor),
        "ship_by": p.ship_by,
    })));
    v
}

/// The peer's normalised order must equal the plugin's (native) on every field it writes.
fn same_order(peer: &str, got: &Value, expected: &Value) -> Result<()> {
    ensure!(
        got == expected,
        "the {peer} peer's order differs from the plugin's:\n {peer}: {got}\n plugin: {expected}"
    );
    Ok(())
}
