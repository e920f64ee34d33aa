//! End to end over the real `wharf` binary, the real compiled Amazon plugin, the SP-API
//! simulator on loopback (reached as `api.amazon.com` and
//! `sellingpartnerapi-eu.amazon.com` through the operator's `--resolve`) and a real
//! database (SQLite, or PostgreSQL when `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::{minor_digits, parse_decimal};
use wharf_sim::amazon::{AmazonSim, AmazonSimConfig, EU_HOST, LWA_HOST};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const HOUR: i64 = 3_600_000;

struct Ctx {
    sim: AmazonSim,
    _wharf: Wharf,
    merchant: Api,
    plugin_id: i64,
}

fn install_body(sim: &AmazonSim, plugin_id: i64, shop: &str, client_secret: &str) -> Value {
    let cfg = sim.config();
    json!({
        "plugin_id": plugin_id,
        "shop": shop,
        "config": {"region": "eu", "endpoint": format!("http://{EU_HOST}"),
                   "token_url": format!("http://{LWA_HOST}/auth/o2/token"),
                   "marketplace_ids": cfg.marketplace_ids.join(","),
                   "seller_id": cfg.seller_id, "page_size": 10, "lookback_days": 1},
        "secrets": {"client_id": cfg.client_id, "client_secret": client_secret,
                    "refresh_token": cfg.refresh_token},
        "egress_grant": [LWA_HOST, EU_HOST],
        "consent": wharf_tests::consent("amazon"),
        "pull_interval_secs": 3600
    })
}

/// A server with the Amazon plugin registered, and `n` orders updated over the last six
/// hours waiting on the platform, which throttles with Amazon's published usage plans.
async fn setup(n: usize) -> Ctx {
    let sim = AmazonSim::start(AmazonSimConfig::default()).await.unwrap();
    let now = sim.now_ms();
    sim.generate_orders(n, 9, now - 6 * HOUR, now - 3 * 60_000);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let resolve = format!("{LWA_HOST}={addr},{EU_HOST}={addr}", addr = sim.addr());
    let wharf = Wharf::start(&db, &["--resolve".into(), resolve]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/amazon/manifest.json")),
            read(paths::plugin("wharf_plugin_amazon")),
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

async fn install(ctx: &Ctx, shop: &str, client_secret: &str) -> i64 {
    let (status, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            install_body(&ctx.sim, ctx.plugin_id, shop, client_secret),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    inst["id"].as_i64().unwrap()
}

/// The host's status for an Amazon OrderStatus (the plugin README's table).
fn expected_status(raw: &str) -> &'static str {
    match raw {
        "PendingAvailability" | "Pending" => "pending_payment",
        "Unshipped" => "paid",
        "PartiallyShipped" => "partially_shipped",
        "Shipped" | "InvoiceUnconfirmed" => "shipped",
        "Canceled" | "Unfulfillable" => "cancelled",
        other => panic!("the simulator produced an unknown status {other}"),
    }
}

fn minor(m: &Value) -> i64 {
    let digits = minor_digits(m["CurrencyCode"].as_str().unwrap()).unwrap();
    parse_decimal(m["Amount"].as_str().unwrap(), digits).unwrap()
}

/// The scheduled pull stores every order once, with exact minor units (EUR and GBP),
/// mapped statuses and raw statuses, pre-orders as presale, and flags only what Amazon
/// left out (prices of Pending orders, restricted addresses); pulling again creates
/// nothing, and no secret shows on the installation.
#[tokio::test]
async fn pulled_orders_land_once_with_exact_amounts_and_mapped_statuses() {
    let ctx = setup(25).await;
    let secret = ctx.sim.config().client_secret.clone();
    let installation = install(&ctx, "amazon-eu-shop", &secret).await;
    let orders = eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        (orders.len() >= 25).then_some(orders)
    })
    .await
    .expect("25 orders arrive by the scheduled pull within 60 s");
    assert_eq!(orders.len(), 25);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 25, "each order stored once");

    let mut currencies = BTreeSet::new();
    let mut statuses = BTreeSet::new();
    for so in ctx.sim.orders() {
        let id = so["AmazonOrderId"].as_str().unwrap();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == id)
            .unwrap_or_else(|| panic!("order {id} missing"));
        let raw = so["OrderStatus"].as_str().unwrap();
        assert_eq!(stored["platform"], "amazon");
        assert_eq!(stored["status"], expected_status(raw), "{id}");
        assert_eq!(stored["raw_status"], raw);
        statuses.insert(raw.to_string());
        let mut expected_flags = BTreeSet::new();
        match so.get("OrderTotal") {
            Some(t) => {
                assert_eq!(stored["currency"], t["CurrencyCode"]);
                assert_eq!(
                    stored["total_paid_minor"].as_i64().unwrap(),
                    minor(t),
                    "{id}"
                );
                currencies.insert(t["CurrencyCode"].as_str().unwrap().to_string());
            }
            None => {
                assert_eq!(stored["total_paid_minor"], 0, "{id}: Pending has no price");
                expected_flags.insert("non_positive_amount");
            }
        }
        match so.get("ShippingAddress") {
            None => {
                expected_flags.insert("missing_address");
            }
            Some(a) if a.get("Name").is_none() => {
                expected_flags.insert("incomplete_address");
            }
            Some(_) => {}
        }
        let flags: BTreeSet<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(flags, expected_flags, "{id}");
        let (status, detail) = ctx
            .merchant
            .get(&format!("/v1/orders/{}", stored["id"]))
            .await;
        assert_eq!(status, 200, "{detail}");
        let lines = detail["order"]["lines"].as_array().unwrap();
        assert_eq!(lines.len(), ctx.sim.items(id).unwrap().len(), "{id}");
        if raw == "PendingAvailability" {
            assert_eq!(
                detail["order"]["presale"]["stage"], "deposit_pending",
                "{detail}"
            );
        }
    }
    assert_eq!(currencies.len(), 2, "EUR and GBP: {currencies:?}");
    assert!(statuses.len() >= 4, "a mix of statuses: {statuses:?}");

    // Another pull now finds nothing new: the cursor moved with the orders.
    let (status, report) = ctx
        .merchant
        .post(&format!("/v1/installations/{installation}/pull"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(ctx.merchant.all_orders("").await.len(), 25);
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{installation}"))
        .await;
    assert!(inst["last_error"].is_null(), "{inst}");
    let text = inst.to_string();
    for secret in [
        &ctx.sim.config().client_secret,
        &ctx.sim.config().refresh_token,
    ] {
        assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
    }
    assert!(
        ctx.sim.token_requests() >= 2,
        "every call exchanges the refresh token"
    );
}

/// A wrong client secret makes Login with Amazon answer `invalid_client`: the pull fails
/// with an `unauthorized` error recorded on the installation, nothing is stored, and no
/// SP-API call is made.
#[tokio::test]
async fn a_bad_client_secret_fails_the_pull_as_unauthorized() {
    let ctx = setup(5).await;
    let installation = install(&ctx, "wrong-secret-shop", "amzn1.oa2-cs.v1.not-the-secret").await;
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
        last_error.contains("invalid_client"),
        "LWA's error code: {last_error}"
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
    assert_eq!(ctx.sim.requests(), 0, "no SP-API call without a token");
}
