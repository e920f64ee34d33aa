//! Workload 7, python: the WooCommerce connector written in Python (componentize-py,
//! `plugins/woocommerce-py`) next to the Rust WooCommerce connector, through the
//! production runtime (`wharf_runtime::Runtime`, default limits: 64 MiB, fresh store per
//! call): component size, cold compile (a new runtime loading the bytes: what the first
//! call of a process pays), the cached load, and instantiate + call for `describe` and for
//! `verify-webhook` of a signed WooCommerce order, with the call's peak linear memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_runtime::{CallContext, CallOptions, EgressPolicy, Plugin, Runtime, RuntimeConfig};

use crate::measure;
use crate::report::Report;
use crate::stats::{ms, us, Summary};
use crate::Iters;

const W: &str = "7 python";
const SECRET: &str = "wh_bench_secret";

struct Subject {
    label: &'static str,
    bytes: Vec<u8>,
}

fn context() -> CallContext {
    CallContext {
        installation_id: 1,
        merchant_id: 1,
        config: BTreeMap::from([("site_url".into(), "https://woo.example.com".into())]),
        secrets: BTreeMap::from([
            ("consumer_key".into(), "ck_bench".into()),
            ("consumer_secret".into(), "cs_bench".into()),
            ("webhook_secret".into(), SECRET.into()),
        ]),
        egress: EgressPolicy::default(),
        logs: Arc::new(wharf_runtime::context::TracingLogSink),
    }
}

/// A signed `order.updated` delivery of a generated WooCommerce order.
fn delivery() -> (Vec<(String, String)>, Vec<u8>) {
    let order = wharf_sim::woocommerce::generate::order(
        &mut StdRng::seed_from_u64(7),
        1001,
        1_712_700_000_000,
        "USD",
        120,
    );
    let body = serde_json::to_vec(&order).expect("JSON");
    let headers = vec![
        ("X-WC-Webhook-Topic".into(), "order.updated".into()),
        (
            "X-WC-Webhook-Signature".into(),
            wharf_sdk::sign::hmac_sha256_base64(SECRET.as_bytes(), &body),
        ),
        ("X-WC-Webhook-Delivery-ID".into(), "bench".into()),
    ];
    (headers, body)
}

pub fn run(report: &mut Report, it: Iters) -> Result<()> {
    let subjects = [
        ("Python", "wharf_plugin_woocommerce_py"),
        ("Rust", "wharf_plugin_woocommerce"),
    ]
    .into_iter()
    .map(|(label, file)| {
        let path = wharf_tests::paths::plugin(file);
        Ok(Subject {
            label,
            bytes: std::fs::read(&path).with_context(|| path.display().to_string())?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let exec = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ctx = context();
    let (headers, body) = delivery();
    let calls = (it.iters / 10).max(50);
    for s in &subjects {
        report.row(
            W,
            &format!("{} WooCommerce component size", s.label),
            format!(
                "{:.1} MB ({} bytes)",
                s.bytes.len() as f64 / 1e6,
                s.bytes.len()
            ),
        );
        let mut cold = Vec::new();
        let mut plugin: Option<(Runtime, Plugin)> = None;
        for _ in 0..3 {
            let t = Instant::now();
            let rt = Runtime::new(RuntimeConfig::default())?;
            let p = rt.load(&s.bytes, "0.2.0")?;
            cold.push(t.elapsed());
            plugin = Some((rt, p));
        }
        let cold = Summary::of(cold);
        report.row(
            W,
            &format!(
                "{}: cold compile + link (new runtime, first load in a process)",
                s.label
            ),
            format!(
                "mean {} · max {} (n={})",
                ms(cold.mean),
                ms(cold.max),
                cold.n
            ),
        );
        let (rt, p) = plugin.expect("loaded");
        let cached = measure::each(1, 20, || {
            rt.load(&s.bytes, "0.2.0").map(|_| ()).map_err(Into::into)
        })?;
        report.row(
            W,
            &format!("{}: load again (compiled-component cache hit)", s.label),
            format!("p50 {}", us(cached.p50)),
        );
        let describe = measure::each(3, calls, || {
            let info = exec.block_on(rt.describe(&p, &ctx))?;
            ensure!(info.platform == "woocommerce", "{info:?}");
            Ok(())
        })?;
        let mut peak = 0;
        let verify = measure::each(3, calls, || {
            let (ev, rep) = exec.block_on(rt.verify_webhook_with(
                &p,
                &ctx,
                &CallOptions::default(),
                headers.clone(),
                body.clone(),
            ));
            let ev = ev?;
            ensure!(ev.orders.len() == 1, "{ev:?}");
            peak = peak.max(rep.peak_memory_bytes);
            Ok(())
        })?;
        for (what, sum) in [("describe", &describe), ("verify-webhook", &verify)] {
            report.row(
                W,
                &format!("{}: instantiate + `{what}` (fresh store)", s.label),
                format!(
                    "mean {} · p50 {} · p99 {} (n={})",
                    ms(sum.mean),
                    ms(sum.p50),
                    ms(sum.p99),
                    sum.n
                ),
            );
        }
        report.row(
            W,
            &format!("{}: peak linear memory of a `verify-webhook` call", s.label),
            format!(
                "{:.1} MiB of the {} MiB limit ({} bytes body)",
                peak as f64 / (1024.0 * 1024.0),
                RuntimeConfig::default().memory_bytes / (1024 * 1024),
                body.len()
            ),
        );
    }
    report.note(
        "Python: the component embeds CPython (componentize-py pre-initialises the interpreter \
         and the app's modules at build time, so a call starts from that snapshot); each call \
         still instantiates it in a fresh store, which is what its per-call time is made of.",
    );
    Ok(())
}
