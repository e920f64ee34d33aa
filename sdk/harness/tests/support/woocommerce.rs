//! Record WooCommerce fixtures from the WooCommerce simulator (a real signed delivery it
//! sent, then the suite's traffic over the production egress path with the site's host
//! pinned to the simulator) for either WooCommerce connector: the Rust one or the Python one.

use std::path::{Path, PathBuf};

use serde_json::json;
use wharf_harness::clock::format_clock;
use wharf_harness::fixtures::{WebhookFixture, SPEC_FILE, WEBHOOK_FILE};
use wharf_harness::{run_suite, Report, SuiteHttp, SuiteSpec};
use wharf_sim::woocommerce::{WooSim, WooSimConfig};

use super::shopify::write_json;

pub const HOST: &str = "woo.example.com";
const HOUR: i64 = 3_600_000;

/// `plugins/<dir>/manifest.json`.
pub fn manifest(dir: &str) -> PathBuf {
    super::workspace_root()
        .join("plugins")
        .join(dir)
        .join("manifest.json")
}

/// A simulator with 17 orders modified over the last six hours (some share a second).
pub async fn simulator() -> WooSim {
    let sim = WooSim::start(WooSimConfig {
        site_url: Some(format!("http://{HOST}")),
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(17, 11, now - 6 * HOUR, now - 5 * 60_000);
    sim
}

/// Write fixtures.json + webhook.json into `dir`, then run the suite on `component` in
/// record mode (which writes cassette.json). Returns the recording run's report.
pub async fn record_fixtures(
    sim: &WooSim,
    dir: &Path,
    component: PathBuf,
    manifest: PathBuf,
) -> Report {
    let (url, captured) = super::capture::start().await;
    let order = sim.orders().last().cloned().unwrap();
    let status = sim
        .send_webhook(&url, "order.updated", &order)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (headers, body) = captured.lock().unwrap().take().expect("a delivery");
    let hook = WebhookFixture {
        headers: headers
            .into_iter()
            .filter(|(k, _)| k.starts_with("x-wc-webhook-") || k == "content-type")
            .collect(),
        body: Some(String::from_utf8(body).unwrap()),
        body_base64: None,
    };
    write_json(
        &dir.join(WEBHOOK_FILE),
        &serde_json::to_value(&hook).unwrap(),
    );
    let cfg = sim.config();
    let spec = json!({
        "config": {"site_url": format!("http://{HOST}"), "page_size": 5, "lookback_days": 1},
        "secrets": {"consumer_key": cfg.consumer_key, "consumer_secret": cfg.consumer_secret,
                    "webhook_secret": cfg.webhook_secret},
        "grants": [HOST],
        "clock": format_clock(wharf_sim::time::now_ms()),
        "future_cursor": "{\"after\":253370764800000,\"seen\":[]}",
        "max_pages": 20,
        // A CPython component: 64 MiB of linear memory is the production default; the
        // fuel budget is higher than a Rust plugin needs (the interpreter's start-up).
        "budget": {"fuel": 20_000_000_000u64, "memory_bytes": 67_108_864u64, "wall_time_ms": 20000}
    });
    write_json(&dir.join(SPEC_FILE), &spec);
    run_suite(&SuiteSpec {
        component,
        manifest,
        fixtures: dir.to_path_buf(),
        http: SuiteHttp::Record {
            resolve: vec![(HOST.to_string(), sim.addr())],
        },
    })
    .await
    .unwrap()
}
