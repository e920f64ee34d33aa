//! End to end over the real `wharf` binary, the real compiled Pinduoduo plugin, the PDD
//! open-platform simulator on loopback (reached as `gw-api.pinduoduo.com` through the
//! operator's `--resolve`) and a real database (SQLite, or PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::parse_decimal;
use wharf_sim::pinduoduo::{PddSim, PddSimConfig, HOST};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const SHOP: &str = "pdd-e2e-shop";

struct Ctx {
    sim: PddSim,
    _wharf: Wharf,
    merchant: Api,
    installation: i64,
}

/// A server with the Pinduoduo plugin registered and installed (one-day look-back, pages
/// of 10), and `n` orders updated over the last six hours waiting on the platform.
async fn setup(n: usize) -> Ctx {
    let sim = PddSim::start(PddSimConfig::default()).await.unwrap();
    sim.generate_orders(n, 7);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(&db, &["--resolve".into(), format!("{HOST}={}", sim.addr())]);
    let (status, plugin) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join("plugins/pinduoduo/manifest.json")),
            read(paths::plugin("wharf_plugin_pinduoduo")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    let cfg = sim.config();
    let merchant = wharf.api(&a.token);
    let (status, inst) = merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": plugin["id"],
                "shop": SHOP,
                "config": {"api_url": format!("http://{HOST}/api/router"), "page_size": 10,
                           "lookback_days": 1},
                "secrets": {"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                            "access_token": cfg.access_token},
                "egress_grant": [HOST],
                "consent": wharf_tests::consent("pinduoduo"),
                "pull_interval_secs": 3600
            }),
        )
        .await;
    assert_eq!(status, 201, "{inst}");
    Ctx {
        sim,
        _wharf: wharf,
        merchant,
        installation: inst["id"].as_i64().unwrap(),
    }
}

fn fen(v: &Value) -> i64 {
    parse_decimal(v.as_str().unwrap(), 2).unwrap()
}

/// The scheduled pull walks a day of 30-minute windows and stores every order once, with
/// exact amounts and PDD's raw status; orders awaiting shipment (encrypted receivers) are
/// flagged address_needs_decryption and nothing else is flagged. A second pull adds nothing.
#[tokio::test]
async fn pulled_orders_land_once_with_exact_amounts_and_encrypted_addresses_flagged() {
    let ctx = setup(25).await;
    let sim_orders = ctx.sim.orders();
    let awaiting = sim_orders.iter().filter(|o| o["order_status"] == 1).count();
    assert!(
        awaiting > 0 && awaiting < 25,
        "the seed gives both kinds: {awaiting}"
    );
    let orders = eventually(Duration::from_secs(60), || async {
        let orders = ctx.merchant.all_orders("").await;
        (orders.len() >= 25).then_some(orders)
    })
    .await
    .expect("25 orders arrived by the scheduled pull");
    assert_eq!(orders.len(), 25);
    let ids: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 25, "every order once");
    for so in &sim_orders {
        let sn = so["order_sn"].as_str().unwrap();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == sn)
            .unwrap_or_else(|| panic!("order {sn} missing"));
        assert_eq!(stored["platform"], "pinduoduo");
        assert_eq!(stored["currency"], "CNY");
        assert_eq!(
            stored["total_paid_minor"].as_i64().unwrap(),
            fen(&so["pay_amount"]),
            "{sn}"
        );
        assert_eq!(
            stored["raw_status"]
                .as_str()
                .unwrap()
                .split(";confirm_status")
                .next()
                .unwrap(),
            format!(
                "order_status={};refund_status={};after_sales_status={}",
                so["order_status"], so["refund_status"], so["after_sales_status"]
            )
        );
        let codes: Vec<&str> = stored["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        if so["order_status"] == 1 {
            assert_eq!(codes, ["address_needs_decryption"], "{sn}");
        } else {
            assert!(codes.is_empty(), "{sn}: {codes:?}");
        }
        // The full order: discount, postage, lines and the address exactly as sent.
        let (status, detail) = ctx
            .merchant
            .get(&format!("/v1/orders/{}", stored["id"]))
            .await;
        assert_eq!(status, 200, "{detail}");
        let o = &detail["order"];
        assert_eq!(
            o["discount"]["minor"].as_i64().unwrap(),
            fen(&so["discount_amount"])
        );
        assert_eq!(
            o["shipping_fee"]["minor"].as_i64().unwrap(),
            fen(&so["postage"])
        );
        let items = so["item_list"].as_array().unwrap();
        let lines = o["lines"].as_array().unwrap();
        assert_eq!(lines.len(), items.len());
        for (l, it) in lines.iter().zip(items) {
            assert_eq!(
                l["unit_price"]["minor"].as_i64().unwrap(),
                fen(&it["goods_price"])
            );
            assert_eq!(l["quantity"], it["goods_count"]);
        }
        let addr = &o["shipping_address"];
        assert_eq!(addr["encrypted"], so["order_status"] == 1, "{sn}");
        if so["order_status"] == 1 {
            let name = addr["name"].as_str().unwrap();
            assert!(
                name.starts_with('~') && name != so["receiver_name"],
                "{name}"
            );
        } else {
            assert_eq!(addr["name"], so["receiver_name"]);
        }
    }
    let path = format!("/v1/installations/{}/pull", ctx.installation);
    let (status, report) = ctx.merchant.post(&path, json!({})).await;
    assert!(status == 200 || status == 409, "{status} {report}");
    if status == 200 {
        assert_eq!(report["created"], 0, "{report}");
    }
    assert_eq!(ctx.merchant.all_orders("").await.len(), 25, "no duplicates");
}

/// When the shop revokes the app's authorisation, pulls that worked before fail with an
/// unauthorized error recorded on the installation (PDD code 10019, no secret in it), and
/// nothing more is stored.
#[tokio::test]
async fn a_revoked_access_token_fails_the_pull_as_unauthorized() {
    let ctx = setup(3).await;
    let inst_path = format!("/v1/installations/{}", ctx.installation);
    eventually(Duration::from_secs(60), || async {
        (ctx.merchant.all_orders("").await.len() == 3).then_some(())
    })
    .await
    .expect("the first scheduled pull brought the 3 orders");
    ctx.sim.revoke_access_token();
    ctx.sim.generate_orders(2, 8);
    // A pull only calls PDD once a new second is past the previous horizon: pull until one
    // does, and its failure is recorded.
    let recorded = eventually(Duration::from_secs(30), || async {
        let (status, err) = ctx
            .merchant
            .post(&format!("{inst_path}/pull"), json!({}))
            .await;
        assert!([200, 409, 502].contains(&status), "{status} {err}");
        let (_, inst) = ctx.merchant.get(&inst_path).await;
        inst["last_error"]
            .as_str()
            // Either this pull-now recorded it, or a scheduled pull job got there first and
            // suspended the installation with the same error as the reason.
            .filter(|e| {
                e.starts_with("unauthorized")
                    || e.starts_with("suspended: credentials rejected (unauthorized")
            })
            .map(str::to_string)
    })
    .await;
    let (_, inst) = ctx.merchant.get(&inst_path).await;
    let recorded = recorded.unwrap_or_else(|| panic!("no unauthorized error recorded: {inst}"));
    assert!(
        recorded.contains("10019") && recorded.contains("revoked"),
        "{recorded}"
    );
    assert!(
        !recorded.contains(&ctx.sim.config().access_token),
        "no secret in the error"
    );
    assert!(
        inst["counters"]["pulls_failed"].as_i64().unwrap_or(0) >= 1,
        "{inst}"
    );
    assert_eq!(
        ctx.merchant.all_orders("").await.len(),
        3,
        "nothing more stored"
    );
}
