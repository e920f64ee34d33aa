//! End to end over the real `wharf` binary, the real compiled WooCommerce plugin, the
//! WooCommerce simulator on loopback (reached as `woo.example.com` through the operator's
//! `--resolve`, over plain HTTP, so every request is OAuth 1.0a-signed and verified) and a
//! real database (SQLite, or PostgreSQL when `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::parse_decimal;
use wharf_sim::woocommerce::{WooSim, WooSimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const HOST: &str = "woo.example.com";
const HOUR: i64 = 3_600_000;

struct Ctx {
    sim: WooSim,
    wharf: Wharf,
    merchant: Api,
    plugin_id: i64,
}

fn install_body(sim: &WooSim, plugin_id: i64, shop: &str, consumer_secret: &str) -> Value {
    let cfg = sim.config();
    json!({
        "plugin_id": plugin_id,
        "shop": shop,
        "config": {"site_url": format!("http://{HOST}"), "page_size": 7, "lookback_days": 1},
        "secrets": {"consumer_key": cfg.consumer_key, "consumer_secret": consumer_secret,
                    "webhook_secret": cfg.webhook_secret},
        "egress_grant": [HOST],
        "consent": wharf_tests::consent("woocommerce"),
        "pull_interval_secs": 3600
    })
}

/// A server with the WooCommerce plugin registered, and `n` orders modified over the last
/// six hours waiting in the store.
async fn setup(n: usize) -> Ctx {
    let sim = WooSim::start(WooSimConfig {
        site_url: Some(format!("http://{HOST}")),
        ..WooSimConfig::default()
    })
    .await
    .unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(n, 5, now - 6 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(&db, &["--resolve".into(), format!("{HOST}={}", sim.addr())]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/woocommerce/manifest.json")),
            read(paths::plugin("wharf_plugin_woocommerce")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    Ctx {
        sim,
        merchant: wharf.api(&a.token),
        wharf,
        plugin_id: plugin["id"].as_i64().unwrap(),
    }
}

async fn install(ctx: &Ctx, shop: &str, consumer_secret: &str) -> i64 {
    let (status, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            install_body(&ctx.sim, ctx.plugin_id, shop, consumer_secret),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

/// The host's status for a WooCommerce status (the plugin README's table).
fn expected_status(wc: &str) -> &'static str {
    match wc {
        "pending" | "on-hold" | "checkout-draft" => "pending_payment",
        "processing" => "paid",
        "completed" => "completed",
        "cancelled" | "failed" | "trash" => "cancelled",
        "refunded" => "refunded",
        other => panic!("the simulator produced an unknown status {other}"),
    }
}

fn cents(v: &Value) -> i64 {
    parse_decimal(v.as_str().expect("a decimal string"), 2).expect("two decimals")
}

async fn wait_for(api: &Api, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(60), || async {
        let orders = api.all_orders("").await;
        (orders.len() >= n).then_some(orders)
    })
    .await
    .unwrap_or_else(|| panic!("{n} orders did not arrive within 60 s"))
}

/// The scheduled pull stores every order once, with exact amounts and mapped statuses,
/// flags only virtual (address-less) orders, and pulling again creates nothing.
#[tokio::test]
async fn pulled_orders_land_once_with_exact_amounts_and_mapped_statuses() {
    let ctx = setup(30).await;
    let installation = install(&ctx, HOST, &ctx.sim.config().consumer_secret.clone()).await;
    let orders = wait_for(&ctx.merchant, 30).await;
    assert_eq!(orders.len(), 30);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 30, "each order stored once");
    let mut statuses = BTreeSet::new();
    for o in ctx.sim.orders() {
        let id = o["id"].to_string();
        let stored = orders
            .iter()
            .find(|s| s["external_id"] == id.as_str())
            .unwrap_or_else(|| panic!("order {id} missing"));
        assert_eq!(stored["platform"], "woocommerce");
        assert_eq!(stored["currency"], "USD");
        assert_eq!(
            stored["total_paid_minor"].as_i64().unwrap(),
            cents(&o["total"]),
            "{id}"
        );
        let wc = o["status"].as_str().unwrap();
        assert_eq!(stored["status"], expected_status(wc), "{id}");
        assert_eq!(stored["raw_status"], wc);
        statuses.insert(wc.to_string());
        let flags: Vec<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if o["shipping"]["address_1"] != "" {
            assert!(flags.is_empty(), "{id} flagged {flags:?}");
        } else {
            assert_eq!(flags, ["missing_address"]);
        }
    }
    assert!(statuses.len() >= 4, "a mix of statuses: {statuses:?}");
    let calls = ctx.sim.calls();
    // Only the order listings: the verification sweep may also read single orders.
    let lists: Vec<_> = calls
        .iter()
        .filter(|c| c.method == "GET" && c.path.ends_with("/orders"))
        .collect();
    assert!(!lists.is_empty(), "the pull listed orders");
    assert!(
        lists.iter().all(|c| c.param("page") == Some("1")),
        "every list request is page 1 of a keyset: {lists:?}"
    );

    let (status, report) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 0, "{report}");
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(inst["last_error"].is_null(), "{inst}");
    let text = inst.to_string();
    for secret in [
        &ctx.sim.config().consumer_secret,
        &ctx.sim.config().webhook_secret,
    ] {
        assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
    }
}

/// Signed webhooks are stored before they are acknowledged; a redelivery, the creation
/// ping and order.deleted store nothing new; a bad signature is 401 with nothing stored;
/// two events sharing WooCommerce's per-second delivery id both land.
#[tokio::test]
async fn webhooks_are_verified_and_stored_once() {
    let ctx = setup(0).await;
    let installation = install(&ctx, HOST, &ctx.sim.config().consumer_secret.clone()).await;
    let url = format!("{}/v1/hooks/{installation}", ctx.wharf.base_url);
    // Let the first scheduled pull (of an empty store) finish, so only webhooks store orders.
    let path = format!("/v1/installations/{installation}");
    eventually(Duration::from_secs(30), || async {
        let (_, inst) = ctx.merchant.get(&path).await;
        inst["last_sync_at"].as_i64()
    })
    .await
    .expect("the first scheduled pull finished");
    assert_eq!(
        ctx.sim.send_ping(&url).await.unwrap(),
        200,
        "the ping is accepted"
    );
    assert!(ctx.merchant.all_orders("").await.is_empty());

    let now = wharf_sim::time::now_ms();
    let order = ctx
        .sim
        .generate_order_with_status(1, now - 120_000, "processing");
    let bad = ctx
        .sim
        .send_bad_signature(&url, "order.created", &order)
        .await
        .unwrap();
    assert_eq!(bad, 401);
    assert!(
        ctx.merchant.all_orders("").await.is_empty(),
        "nothing stored on a bad signature"
    );

    let delivery = ctx.sim.delivery("order.created", &order);
    assert_eq!(
        ctx.sim.post_delivery(&url, &delivery, true).await.unwrap(),
        200
    );
    let all = ctx.merchant.all_orders("").await;
    assert_eq!(all.len(), 1, "acknowledged means stored");
    assert_eq!(all[0]["status"], "paid");
    assert_eq!(
        all[0]["total_paid_minor"].as_i64().unwrap(),
        cents(&order["total"])
    );
    assert_eq!(
        ctx.sim.post_delivery(&url, &delivery, true).await.unwrap(),
        200
    );
    assert_eq!(
        ctx.sim
            .send_webhook(&url, "order.deleted", &order)
            .await
            .unwrap(),
        200
    );
    let all = ctx.merchant.all_orders("").await;
    assert_eq!(
        all.len(),
        1,
        "a redelivery and order.deleted create nothing"
    );
    let (_, detail) = ctx
        .merchant
        .get(&format!("/v1/orders/{}", all[0]["id"]))
        .await;
    let created = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created")
        .count();
    assert_eq!(created, 1, "{detail}");

    // Two different orders delivered within one second share WooCommerce's delivery id.
    let (a, b) = loop {
        let a = ctx
            .sim
            .generate_order_with_status(2, now - 60_000, "pending");
        let b = ctx
            .sim
            .generate_order_with_status(3, now - 60_000, "completed");
        let (da, db) = (
            ctx.sim.delivery("order.created", &a),
            ctx.sim.delivery("order.created", &b),
        );
        if da.delivery_id == db.delivery_id {
            break (da, db);
        }
    };
    assert_eq!(ctx.sim.post_delivery(&url, &a, true).await.unwrap(), 200);
    assert_eq!(ctx.sim.post_delivery(&url, &b, true).await.unwrap(), 200);
    let stored: BTreeSet<String> = ctx
        .merchant
        .all_orders("")
        .await
        .iter()
        .map(|o| o["external_id"].as_str().unwrap().to_string())
        .collect();
    for d in [&a, &b] {
        let id = serde_json::from_slice::<Value>(&d.body).unwrap()["id"].to_string();
        assert!(
            stored.contains(&id),
            "order {id} of a same-second delivery landed: {stored:?}"
        );
    }
    assert_eq!(stored.len(), 3);
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(
        inst["counters"]["webhooks_rejected"].as_i64().unwrap() >= 1,
        "{inst}"
    );
}

/// A wrong consumer secret makes WooCommerce reject the OAuth signature: the pull fails
/// as unauthorized, recorded on the installation without echoing the secret, and
/// nothing is stored.
#[tokio::test]
async fn a_bad_consumer_secret_fails_the_pull_as_unauthorized() {
    let ctx = setup(5).await;
    let installation = install(&ctx, "wrong-secret-shop", "cs_not_the_secret").await;
    let (status, err) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    assert!(status == 502 || status == 409, "{status} {err}");
    if status == 502 {
        assert_eq!(err["error"]["code"], "unauthorized", "{err}");
    }
    let path = format!("/v1/installations/{installation}");
    let last_error = eventually(Duration::from_secs(30), || async {
        let (_, inst) = ctx.merchant.get(&path).await;
        inst["last_error"].as_str().map(str::to_string)
    })
    .await
    .expect("the failure is recorded on the installation");
    assert!(
        last_error.starts_with("unauthorized")
            || last_error.starts_with("suspended: credentials rejected (unauthorized"),
        "{last_error}"
    );
    assert!(
        last_error.contains("woocommerce_rest_authentication_error"),
        "{last_error}"
    );
    assert!(
        !last_error.contains("cs_not_the_secret"),
        "the secret is not echoed"
    );
    assert!(ctx
        .merchant
        .all_orders(&format!("installation_id={installation}"))
        .await
        .is_empty());
    assert!(
        ctx.sim.calls().is_empty(),
        "no request was admitted with a bad signature"
    );
}
