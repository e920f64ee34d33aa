//! End to end with the WooCommerce connector written in Python (`plugins/woocommerce-py`,
//! a componentize-py component): uploaded to a real `wharf serve`, installed for a shop
//! served by the WooCommerce simulator (reached as `woo.example.com` through `--resolve`,
//! OAuth 1.0a-signed over plain HTTP), it ingests every order with exact amounts, and its
//! webhooks verify; on SQLite, or PostgreSQL when `WHARF_TEST_DATABASE_URL` is set.

use std::time::Duration;

use serde_json::json;
use wharf_domain::money::parse_decimal;
use wharf_sim::woocommerce::{WooSim, WooSimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Wharf};

const HOST: &str = "woo.example.com";
const HOUR: i64 = 3_600_000;

// The scheduled pull of the Python connector stores every simulated order once with its
// exact total and mapped status; a signed webhook is stored, a tampered one refused with 401.
#[tokio::test]
async fn the_python_connector_ingests_orders_in_a_real_server() {
    let sim = WooSim::start(WooSimConfig {
        site_url: Some(format!("http://{HOST}")),
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(23, 3, now - 5 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(&db, &["--resolve".into(), format!("{HOST}={}", sim.addr())]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/woocommerce-py/manifest.json")),
            read(paths::plugin("wharf_plugin_woocommerce_py")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    let merchant = wharf.api(&a.token);
    let cfg = sim.config();
    let (status, inst) = merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": plugin["id"],
                "shop": HOST,
                "config": {"site_url": format!("http://{HOST}"), "page_size": 6, "lookback_days": 1},
                "secrets": {"consumer_key": cfg.consumer_key, "consumer_secret": cfg.consumer_secret,
                            "webhook_secret": cfg.webhook_secret},
                "egress_grant": [HOST],
                "consent": wharf_tests::consent("woocommerce-py"),
                "pull_interval_secs": 3600
            }),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    let installation = inst["id"].as_i64().unwrap();
    let orders = eventually(Duration::from_secs(90), || async {
        let orders = merchant.all_orders("").await;
        (orders.len() >= 23).then_some(orders)
    })
    .await
    .expect("23 orders arrived within 90 s");
    assert_eq!(orders.len(), 23, "each order stored once");
    for o in sim.orders() {
        let id = o["id"].to_string();
        let stored = orders
            .iter()
            .find(|s| s["external_id"] == id.as_str())
            .unwrap_or_else(|| panic!("order {id} missing"));
        // The host names the channel after the plugin (its manifest name).
        assert_eq!(stored["platform"], "woocommerce-py");
        let total = parse_decimal(o["total"].as_str().unwrap(), 2).unwrap();
        assert_eq!(stored["total_paid_minor"].as_i64().unwrap(), total, "{id}");
        assert_eq!(stored["raw_status"], o["status"], "{id}");
    }
    let (_, inst) = merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(inst["last_error"].is_null(), "{inst}");

    // A webhook: a new order delivered signed lands; the same with a bad signature is 401.
    let url = format!("{}/v1/hooks/{installation}", wharf.base_url);
    let fresh = sim.generate_order(99, wharf_sim::time::now_ms() - 60_000);
    assert_eq!(
        sim.send_bad_signature(&url, "order.created", &fresh)
            .await
            .unwrap(),
        401
    );
    assert_eq!(
        sim.send_webhook(&url, "order.created", &fresh)
            .await
            .unwrap(),
        200
    );
    let fresh_id = fresh["id"].to_string();
    let all = merchant.all_orders("").await;
    assert!(
        all.iter().any(|o| o["external_id"] == fresh_id.as_str()),
        "the webhook's order {fresh_id} is stored when acknowledged"
    );
    assert_eq!(
        sim.send_ping(&url).await.unwrap(),
        200,
        "the creation ping is accepted"
    );
}
