//! End to end over the real `wharf` binary, the real compiled Douyin plugin, the doudian
//! simulator on loopback (reached as `openapi-fxg.jinritemai.com` through the operator's
//! `--resolve`) and a real database (SQLite, or PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use wharf_sim::douyin::{DouyinSim, DouyinSimConfig, HOST};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const HOUR: i64 = 3_600_000;

struct Ctx {
    sim: DouyinSim,
    _wharf: Wharf,
    merchant: Api,
    plugin_id: i64,
}

/// A server with the Douyin plugin registered, and `n` orders updated over the last six
/// hours waiting on the platform.
async fn setup(n: usize) -> Ctx {
    let sim = DouyinSim::start(DouyinSimConfig::default()).await.unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(n, 5, now - 6 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(&db, &["--resolve".into(), format!("{HOST}={}", sim.addr())]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/douyin/manifest.json")),
            read(paths::plugin("wharf_plugin_douyin")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    Ctx {
        sim,
        merchant: wharf.api(&a.token),
        _wharf: wharf,
        plugin_id: plugin["id"].as_i64().unwrap(),
    }
}

async fn install(ctx: &Ctx, shop: &str, app_secret: &str) -> i64 {
    let cfg = ctx.sim.config();
    let (status, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": ctx.plugin_id,
                "shop": shop,
                "config": {"api_url": format!("http://{HOST}"), "window_minutes": 120,
                           "page_size": 6, "lookback_days": 1},
                "secrets": {"app_key": cfg.app_key, "app_secret": app_secret,
                            "access_token": cfg.access_token},
                "egress_grant": [HOST],
                "consent": wharf_tests::consent("douyin"),
                "pull_interval_secs": 3600
            }),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

/// The host's status for a doudian `order_status` (the plugin README's table).
fn expected_status(code: i64) -> &'static str {
    match code {
        1 | 103 => "pending_payment",
        105 | 2 => "paid",
        101 => "partially_shipped",
        3 => "shipped",
        4 => "cancelled",
        5 => "completed",
        21 | 22 | 39 => "refunded",
        other => panic!("the simulator produced an unknown status {other}"),
    }
}

/// The scheduled pull stores every order once, with the exact fen amounts, mapped
/// statuses, the discount split in the tags and encrypted receivers flagged; pulling
/// again creates nothing, and no secret shows on the installation.
#[tokio::test]
async fn pulled_orders_land_once_with_exact_fen_and_mapped_statuses() {
    let ctx = setup(30).await;
    let installation = install(
        &ctx,
        "douyin-e2e-shop",
        &ctx.sim.config().app_secret.clone(),
    )
    .await;
    let orders = eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        (orders.len() >= 30).then_some(orders)
    })
    .await
    .expect("30 orders arrive by the scheduled pull within 60 s");
    assert_eq!(orders.len(), 30);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 30, "each order stored once");

    let mut presales = 0;
    for so in ctx.sim.orders() {
        let id = so["order_id"].as_str().unwrap();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == id)
            .unwrap_or_else(|| panic!("order {id} missing"));
        assert_eq!(stored["platform"], "douyin");
        assert_eq!(stored["currency"], "CNY");
        assert_eq!(
            stored["total_paid_minor"].as_i64(),
            so["pay_amount"].as_i64(),
            "pay_amount of {id}"
        );
        let code = so["order_status"].as_i64().unwrap();
        assert_eq!(stored["status"], expected_status(code), "{id}");
        assert_eq!(stored["raw_status"], code.to_string());
        let flags: Vec<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if so.get("post_addr").is_some() {
            assert_eq!(flags, ["address_needs_decryption"], "{id}");
        } else {
            assert_eq!(flags, ["missing_address"], "{id}");
        }
        let (status, detail) = ctx
            .merchant
            .get(&format!("/v1/orders/{}", stored["id"]))
            .await;
        assert_eq!(status, 200, "{detail}");
        let o = &detail["order"];
        assert_eq!(
            o["shipping_fee"]["minor"].as_i64(),
            so["post_amount"].as_i64()
        );
        let tags: Vec<&str> = o["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for (tag, field) in [
            ("discount.shop", "promotion_shop_amount"),
            ("discount.platform", "promotion_platform_amount"),
            ("discount.influencer", "promotion_talent_amount"),
            ("platform_cost", "platform_cost_amount"),
            ("pre_sale_type", "pre_sale_type"),
        ] {
            assert!(
                tags.contains(&format!("{tag}={}", so[field]).as_str()),
                "{id}: {tag} in {tags:?}"
            );
        }
        if so["pre_sale_type"].as_i64() != Some(0) {
            presales += 1;
            assert!(!o["presale"].is_null(), "{detail}");
            assert_eq!(
                o["presale"]["ship_by"].as_i64(),
                Some(so["exp_ship_time"].as_i64().unwrap() * 1000)
            );
        }
    }
    assert!(presales > 0, "the seed includes presale orders");

    let (status, report) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(ctx.merchant.all_orders("").await.len(), 30);
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(inst["last_error"].is_null(), "{inst}");
    let text = inst.to_string();
    for secret in [&ctx.sim.config().app_secret, &ctx.sim.config().access_token] {
        assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
    }
}

/// A wrong app secret makes doudian reject the signature (40004): the pull fails with an
/// `unauthorized` error recorded on the installation, and nothing is stored.
#[tokio::test]
async fn a_bad_app_secret_fails_the_pull_as_unauthorized() {
    let ctx = setup(5).await;
    let installation = install(&ctx, "wrong-secret-shop", "not-the-secret").await;
    let (status, err) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    // The scheduler may be running the first pull at the same moment (409).
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
        last_error.contains("40004"),
        "doudian's signature code: {last_error}"
    );
    assert!(
        !last_error.contains("not-the-secret"),
        "the secret is not echoed"
    );
    assert!(ctx
        .merchant
        .all_orders(&format!("installation_id={installation}"))
        .await
        .is_empty());
    assert!(
        ctx.sim.calls().is_empty(),
        "the simulator admitted no call with a bad signature"
    );
}
