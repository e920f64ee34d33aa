//! End to end over the real `wharf` binary, the real compiled Taobao plugin, the TOP
//! simulator on loopback (reached as `gw.api.taobao.com` through the operator's
//! `--resolve`) and a real database (SQLite, or PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::parse_decimal;
use wharf_sim::taobao::{TaobaoSim, TaobaoSimConfig};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const HOST: &str = "gw.api.taobao.com";
const HOUR: i64 = 3_600_000;

struct Ctx {
    sim: TaobaoSim,
    _wharf: Wharf,
    merchant: Api,
    plugin_id: i64,
}

fn install_body(sim: &TaobaoSim, plugin_id: i64, shop: &str, app_secret: &str) -> Value {
    let cfg = sim.config();
    json!({
        "plugin_id": plugin_id,
        "shop": shop,
        "config": {"api_url": format!("http://{HOST}/router/rest"), "window_minutes": 120,
                   "page_size": 6, "lookback_days": 1, "seller_nick": cfg.seller_nick},
        "secrets": {"app_key": cfg.app_key, "app_secret": app_secret, "session": cfg.session},
        "egress_grant": [HOST],
        "consent": wharf_tests::consent("taobao"),
        "pull_interval_secs": 3600
    })
}

/// A server with the Taobao plugin registered, and `n` trades modified over the last six
/// hours waiting on the platform.
async fn setup(n: usize) -> Ctx {
    let sim = TaobaoSim::start(TaobaoSimConfig::default()).await.unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_trades(n, 5, now - 6 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(&db, &["--resolve".into(), format!("{HOST}={}", sim.addr())]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/taobao/manifest.json")),
            read(paths::plugin("wharf_plugin_taobao")),
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

/// The host's status for a TOP trade status (the plugin README's table).
fn expected_status(top: &str) -> &'static str {
    match top {
        "TRADE_NO_CREATE_PAY" | "WAIT_BUYER_PAY" | "PAY_PENDING" | "WAIT_PRE_AUTH_CONFIRM" => {
            "pending_payment"
        }
        "WAIT_SELLER_SEND_GOODS" | "PAID_FORBID_CONSIGN" => "paid",
        "SELLER_CONSIGNED_PART" => "partially_shipped",
        "WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED" => "shipped",
        "TRADE_FINISHED" => "completed",
        "TRADE_CLOSED" => "refunded",
        "TRADE_CLOSED_BY_TAOBAO" => "cancelled",
        other => panic!("the simulator produced an unknown status {other}"),
    }
}

fn fen(v: &Value) -> i64 {
    parse_decimal(v.as_str().expect("a yuan string"), 2).expect("yuan with 2 decimals")
}

/// The scheduled pull stores every trade once, with exact fen amounts, mapped statuses,
/// presale stages and deposits, and flags only receiver-less trades; pulling again
/// creates nothing.
#[tokio::test]
async fn pulled_trades_land_once_with_exact_fen_and_mapped_statuses() {
    let ctx = setup(40).await;
    let installation = install(&ctx, "wharf旗舰店", &ctx.sim.config().app_secret.clone()).await;
    let orders = eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        (orders.len() >= 40).then_some(orders)
    })
    .await
    .expect("40 orders arrive by the scheduled pull within 60 s");
    assert_eq!(orders.len(), 40);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 40, "each trade stored once");

    let mut presale_seen = 0;
    for trade in ctx.sim.trades() {
        let tid = trade["tid"].as_u64().unwrap().to_string();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == tid.as_str())
            .unwrap_or_else(|| panic!("trade {tid} missing"));
        assert_eq!(stored["platform"], "taobao");
        assert_eq!(stored["currency"], "CNY");
        assert_eq!(
            stored["total_paid_minor"].as_i64().unwrap(),
            fen(&trade["payment"]),
            "payment of {tid}"
        );
        let top_status = trade["status"].as_str().unwrap();
        assert_eq!(stored["status"], expected_status(top_status), "{tid}");
        let flags: Vec<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if trade.get("receiver_name").is_some() {
            assert!(flags.is_empty(), "{tid} flagged {flags:?}");
        } else {
            assert_eq!(flags, ["missing_address"]);
        }
        if let Some(step) = trade["step_trade_status"].as_str() {
            presale_seen += 1;
            assert_eq!(stored["raw_status"], format!("{top_status}/{step}"));
            let (status, detail) = ctx
                .merchant
                .get(&format!("/v1/orders/{}", stored["id"]))
                .await;
            assert_eq!(status, 200, "{detail}");
            let p = &detail["order"]["presale"];
            let stage = match step {
                "FRONT_NOPAID_FINAL_NOPAID" => "deposit_pending",
                "FRONT_PAID_FINAL_NOPAID" => "deposit_paid",
                _ => "balance_paid",
            };
            assert_eq!(p["stage"], stage, "{detail}");
            assert_eq!(
                p["deposit"]["minor"].as_i64(),
                Some(fen(&trade["step_paid_fee"]))
            );
        } else {
            assert_eq!(stored["raw_status"], top_status);
        }
    }
    assert!(presale_seen > 0, "the seed includes presale trades");

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
    for secret in [&ctx.sim.config().app_secret, &ctx.sim.config().session] {
        assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
    }
}

/// A wrong app secret makes TOP reject the signature (code 25): the pull fails with an
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
    // Recorded by the pull-now, or by the scheduled pull job, which also suspends the
    // installation with the same error as the reason.
    assert!(
        last_error.starts_with("unauthorized")
            || last_error.starts_with("suspended: credentials rejected (unauthorized"),
        "{last_error}"
    );
    assert!(
        last_error.contains("25"),
        "TOP's invalid-signature code: {last_error}"
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
