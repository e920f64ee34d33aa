//! End to end over the real `wharf` binary, the real compiled JD plugin, the JOS
//! simulator on loopback (reached as `api.jd.com` through the operator's `--resolve`) and
//! a real database (SQLite, or PostgreSQL when `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::parse_decimal;
use wharf_sim::jd::{JdSim, JdSimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const HOST: &str = "api.jd.com";
const HOUR: i64 = 3_600_000;

struct Ctx {
    sim: JdSim,
    _wharf: Wharf,
    merchant: Api,
    plugin_id: i64,
}

fn install_body(sim: &JdSim, plugin_id: i64, shop: &str, app_secret: &str) -> Value {
    let cfg = sim.config();
    json!({
        "plugin_id": plugin_id,
        "shop": shop,
        "config": {"api_url": format!("http://{HOST}/routerjson"), "window_minutes": 120,
                   "page_size": 6, "lookback_days": 1, "vender_id": cfg.vender_id},
        "secrets": {"app_key": cfg.app_key, "app_secret": app_secret,
                    "access_token": cfg.access_token},
        "egress_grant": [HOST],
        "consent": wharf_tests::consent("jd"),
        "pull_interval_secs": 3600
    })
}

/// A server (with `extra` flags) with the JD plugin registered, and `n` orders modified
/// over the last six hours waiting on the platform.
async fn setup(n: usize, extra: &[&str]) -> Ctx {
    let sim = JdSim::start(JdSimConfig::default()).await.unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(n, 5, now - 6 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let mut args = vec!["--resolve".to_string(), format!("{HOST}={}", sim.addr())];
    args.extend(extra.iter().map(|s| s.to_string()));
    let wharf = Wharf::start(&db, &args);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/jd/manifest.json")),
            read(paths::plugin("wharf_plugin_jd")),
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
    let (status, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            install_body(&ctx.sim, ctx.plugin_id, shop, app_secret),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

/// The host's status and the plugin's tag for a JD order state (the plugin README's table).
fn expected(state: &str) -> (&'static str, Option<&'static str>) {
    match state {
        "WAIT_SELLER_STOCK_OUT" => ("paid", None),
        "WAIT_SELLER_DELIVERY" => ("paid", Some("overseas")),
        "WAIT_SEND_CODE" => ("paid", Some("loc")),
        "POP_ORDER_PAUSE" | "PAUSE" => ("paid", Some("paused")),
        "LOCKED" => ("paid", Some("locked")),
        "WAIT_GOODS_RECEIVE_CONFIRM" => ("shipped", None),
        "FINISHED_L" => ("completed", None),
        "TRADE_CANCELED" => ("cancelled", None),
        other => panic!("the simulator produced an unknown state {other}"),
    }
}

fn fen(v: &Value) -> i64 {
    parse_decimal(v.as_str().expect("a yuan string"), 2).expect("yuan with 2 decimals")
}

async fn wait_for_orders(ctx: &Ctx, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        (orders.len() >= n).then_some(orders)
    })
    .await
    .unwrap_or_else(|| panic!("{n} orders arrive by the scheduled pull within 60 s"))
}

/// The scheduled pull stores every order once, with exact fen amounts, mapped statuses
/// and state tags, and flags only consignee-less orders; pulling again creates nothing,
/// and no secret shows on the installation.
#[tokio::test]
async fn pulled_orders_land_once_with_exact_fen_and_mapped_statuses() {
    let ctx = setup(40, &[]).await;
    let installation = install(
        &ctx,
        "wharf京东自营店",
        &ctx.sim.config().app_secret.clone(),
    )
    .await;
    let orders = wait_for_orders(&ctx, 40).await;
    assert_eq!(orders.len(), 40);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 40, "each order stored once");

    let mut tagged_seen = 0;
    for jd in ctx.sim.orders() {
        let id = jd["orderId"].as_str().unwrap();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == id)
            .unwrap_or_else(|| panic!("order {id} missing"));
        assert_eq!(stored["platform"], "jd");
        assert_eq!(stored["currency"], "CNY");
        assert_eq!(
            stored["total_paid_minor"].as_i64().unwrap(),
            fen(&jd["orderPayment"]),
            "orderPayment of {id}"
        );
        let state = jd["orderState"].as_str().unwrap();
        let (status, tag) = expected(state);
        assert_eq!(stored["status"], status, "{id}");
        assert_eq!(stored["raw_status"], state);
        let flags: Vec<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if jd.get("consigneeInfo").is_some() {
            assert!(flags.is_empty(), "{id} flagged {flags:?}");
        } else {
            assert_eq!(flags, ["missing_address"]);
        }
        if let Some(tag) = tag {
            tagged_seen += 1;
            let (code, detail) = ctx
                .merchant
                .get(&format!("/v1/orders/{}", stored["id"]))
                .await;
            assert_eq!(code, 200, "{detail}");
            let tags = detail["order"]["tags"].as_array().unwrap();
            assert!(
                tags.iter().any(|t| t == tag),
                "{id} ({state}) lacks {tag}: {tags:?}"
            );
        }
    }
    assert!(tagged_seen > 0, "the seed includes tagged states");

    // Another pull now finds nothing new: the cursor moved with the orders.
    let (status, report) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(ctx.merchant.all_orders("").await.len(), 40);
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(inst["last_error"].is_null(), "{inst}");
    let text = inst.to_string();
    for secret in [&ctx.sim.config().app_secret, &ctx.sim.config().access_token] {
        assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
    }
    // The searches (a verification sweep may also read single orders with order.get).
    let searches: Vec<_> = ctx
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "jingdong.pop.order.search")
        .collect();
    assert!(!searches.is_empty(), "the pull searched");
    assert!(searches
        .iter()
        .all(|c| c.business["sortType"] == "1" && c.business["dateType"] == "0"));
}

/// A wrong app secret makes JOS reject the signature (code 12): the pull fails with an
/// `unauthorized` error recorded on the installation, and nothing is stored.
#[tokio::test]
async fn a_bad_app_secret_fails_the_pull_as_unauthorized() {
    let ctx = setup(5, &[]).await;
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
        last_error.contains("12"),
        "JOS's invalid-signature code: {last_error}"
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

/// get-order through the host's verification sweep: after the first pull, JD moves an
/// order on (no pull runs: hourly), and the sweep re-reads it with
/// `jingdong.pop.order.get` and stores the new state with source `verify`.
#[tokio::test]
async fn the_verification_sweep_repairs_an_order_through_get_order() {
    let ctx = setup(
        0,
        &[
            "--verify-interval-secs",
            "1",
            "--verify-stale-after-secs",
            "0",
        ],
    )
    .await;
    let now = wharf_sim::time::now_ms();
    // A paid order waiting to ship (seed chosen to generate that state) …
    let order = (0..200)
        .map(|seed| ctx.sim.generate_order(1000 + seed, now - HOUR))
        .find(|o| o["orderState"] == "WAIT_SELLER_STOCK_OUT")
        .expect("some seed makes a WAIT_SELLER_STOCK_OUT order");
    let id = order["orderId"].as_str().unwrap().to_string();
    install(&ctx, "verify-shop", &ctx.sim.config().app_secret.clone()).await;
    let stored = eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        orders.into_iter().find(|o| o["external_id"] == id.as_str())
    })
    .await
    .expect("the first pull stores the order");
    assert_eq!(stored["status"], "paid");
    // … is shipped on JD; nothing pulls again within the test.
    ctx.sim
        .update_order(id.parse().unwrap(), |o| {
            o["orderState"] = json!("WAIT_GOODS_RECEIVE_CONFIRM");
            o["orderStateRemark"] = json!("等待确认收货");
        })
        .unwrap();
    let order_id = stored["id"].as_i64().unwrap();
    let repaired = eventually(Duration::from_secs(30), || async {
        let (_, detail) = ctx.merchant.get(&format!("/v1/orders/{order_id}")).await;
        (detail["summary"]["status"] == "shipped").then_some(detail)
    })
    .await
    .expect("the sweep repaired the order within 30 s");
    let events = repaired["events"].as_array().unwrap();
    let repair = events
        .iter()
        .find(|e| e["kind"] == "updated")
        .expect("an update event");
    assert_eq!(repair["source"], "verify", "{repair}");
    assert_eq!(repair["to_status"], "shipped");
    assert!(ctx
        .sim
        .calls()
        .iter()
        .any(|c| c.method == "jingdong.pop.order.get" && c.business["order_id"] == id.as_str()));
}
