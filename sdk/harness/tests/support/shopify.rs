//! Record Shopify fixtures from the Shopify simulator: a real signed webhook delivery the
//! simulator sent, and the suite's pulls / get-order recorded over the production egress
//! path with the platform host pinned to the simulator.

use std::path::Path;

use serde_json::json;
use wharf_harness::clock::format_clock;
use wharf_harness::fixtures::{WebhookFixture, SPEC_FILE, WEBHOOK_FILE};
use wharf_harness::{run_suite, Report, SuiteHttp, SuiteSpec};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};

pub const SHOP: &str = "demo.myshopify.com";

/// Write fixtures.json + webhook.json into `dir`, then run the suite in record mode
/// (which writes cassette.json). Returns the recording run's report.
pub async fn record_fixtures(dir: &Path) -> Report {
    let sim = ShopifySim::start(ShopifySimConfig {
        shop_domain: SHOP.into(),
        ..ShopifySimConfig::default()
    })
    .await
    .unwrap();
    sim.generate_orders(12, 7);
    // One real delivery, captured as the simulator sent it.
    let (url, captured) = super::capture::start().await;
    let order = sim.orders().last().cloned().unwrap();
    let status = sim
        .send_webhook(&url, "orders/updated", &order)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (headers, body) = captured.lock().unwrap().take().expect("a delivery");
    let hook = WebhookFixture {
        headers: headers
            .into_iter()
            .filter(|(k, _)| k.starts_with("x-shopify-") || k == "content-type")
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
        "config": {"shop_url": format!("http://{SHOP}"), "page_size": 5},
        "secrets": {"access_token": cfg.access_token, "client_secret": cfg.client_secret},
        "grants": [SHOP],
        "clock": format_clock(wharf_sim::time::now_ms()),
        "future_cursor": "{\"since\":\"9999-01-01T00:00:00Z\"}",
        "max_pages": 20,
        "budget": {"fuel": 2_000_000_000u64, "memory_bytes": 33_554_432u64, "wall_time_ms": 5000}
    });
    write_json(&dir.join(SPEC_FILE), &spec);
    run_suite(&SuiteSpec {
        component: super::plugin("wharf_plugin_shopify"),
        manifest: super::shopify_manifest(),
        fixtures: dir.to_path_buf(),
        http: SuiteHttp::Record {
            resolve: vec![(SHOP.to_string(), sim.addr())],
        },
    })
    .await
    .unwrap()
}

pub fn write_json(path: &Path, v: &serde_json::Value) {
    let mut text = serde_json::to_string_pretty(v).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}
