//! Cross-channel stock sync end to end: one SKU listed on a Shopify shop and on a Taobao
//! store (each a real plugin talking to its simulator through the operator's
//! `--resolve`). An order on one channel lowers what EVERY channel offers; a per-channel
//! rule changes only that channel's figure.

use std::time::Duration;

use serde_json::json;
use wharf_sim::taobao::{TaobaoSim, TaobaoSimConfig};
use wharf_tests::shopify::{paid_order, setup, Ctx};
use wharf_tests::{eventually, paths, read};

const TAOBAO_HOST: &str = "gw.api.taobao.com";
const VARIANT: u64 = 44_000_000_202;
const NUM_IID: u64 = 612_345_678_901;
const SKU_ID: u64 = 4_987_654_321;

/// Install the Taobao plugin for merchant A; returns the installation id.
async fn install_taobao(ctx: &Ctx, tb: &TaobaoSim) -> i64 {
    let (status, plugin) = ctx
        .operator
        .upload_plugin(
            read(paths::workspace_root().join("plugins/taobao/manifest.json")),
            read(paths::plugin("wharf_plugin_taobao")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    let cfg = tb.config();
    let (status, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": plugin["id"],
                "shop": "wharf旗舰店",
                "config": {"api_url": format!("http://{TAOBAO_HOST}/router/rest"),
                           "lookback_days": 1, "seller_nick": cfg.seller_nick},
                "secrets": {"app_key": cfg.app_key, "app_secret": cfg.app_secret,
                            "session": cfg.session},
                "egress_grant": [TAOBAO_HOST],
                "consent": wharf_tests::consent("taobao"),
                "pull_interval_secs": 3600
            }),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

/// Wait until the Shopify variant and the Taobao SKU show what is expected.
async fn channels_show(ctx: &Ctx, tb: &TaobaoSim, shopify: i64, taobao: i64) {
    let seen = eventually(Duration::from_secs(20), || async {
        let now = (
            ctx.sim.available(VARIANT),
            tb.quantity(NUM_IID, Some(SKU_ID)),
        );
        (now == (Some(shopify), Some(taobao))).then_some(())
    })
    .await;
    assert!(
        seen.is_some(),
        "Shopify shows {:?} (expected {shopify}), Taobao {:?} (expected {taobao})",
        ctx.sim.available(VARIANT),
        tb.quantity(NUM_IID, Some(SKU_ID))
    );
}

/// A Shopify order takes 3 of 10 units: both the Shopify variant and the Taobao SKU are
/// set to 7; a 50 % rule on Taobao then sets only Taobao to 3; the SKU shows both
/// listings' last pushed values.
#[tokio::test]
async fn an_order_on_one_channel_moves_stock_on_every_channel() {
    let tb = TaobaoSim::start(TaobaoSimConfig::default()).await.unwrap();
    let resolve = format!("{TAOBAO_HOST}={}", tb.addr());
    let ctx = setup(&["--resolve", &resolve, "--stock-push-delay-ms", "200"], 0).await;
    let taobao = install_taobao(&ctx, &tb).await;
    tb.add_item(NUM_IID, Some(SKU_ID), "MUG-1");
    ctx.sim.add_variant(VARIANT, "MUG-1");

    let api = &ctx.merchant;
    assert_eq!(api.post("/v1/skus", json!({"code": "MUG-1"})).await.0, 201);
    let (s, _) = api
        .put(
            "/v1/skus/MUG-1/stock/main",
            json!({"on_hand": 10, "reason": "count"}),
        )
        .await;
    assert_eq!(s, 200);
    for (inst, channel_sku) in [
        (ctx.installation, VARIANT.to_string()),
        (taobao, format!("{NUM_IID}:{SKU_ID}")),
    ] {
        let (s, body) = api
            .post(
                "/v1/listings",
                json!({"installation_id": inst, "sku": "MUG-1", "channel_sku": channel_sku}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    channels_show(&ctx, &tb, 10, 10).await;

    let order = paid_order(&ctx.sim, 31, "MUG-1", VARIANT, 3);
    let status = ctx
        .sim
        .send_webhook(&ctx.webhook_url, "orders/create", &order)
        .await
        .unwrap();
    assert_eq!(status, 200);
    channels_show(&ctx, &tb, 7, 7).await;

    let (s, body) = api
        .put(
            "/v1/sync-rules",
            json!({"installation_id": taobao, "scope": "shop", "ratio_bp": 5000}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    channels_show(&ctx, &tb, 7, 3).await;

    let (_, sku) = api.get("/v1/skus/MUG-1").await;
    let pushed: Vec<(i64, i64)> = sku["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["installation_id"].as_i64().unwrap(),
                l["last_pushed_available"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(pushed, vec![(ctx.installation, 7), (taobao, 3)]);
}
