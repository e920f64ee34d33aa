//! Journals end to end over the real `wharf` binary and the compiled Kingdee plugin:
//! orders come in from the simulated Shopify shop, settlements through the admin import,
//! and `POST /v1/journals` queues the period's journal, which the durable
//! `post_journal` job posts as one voucher to the Kingdee simulator — through faults
//! (a 5xx, a lost response) that are retried without posting twice.

use std::time::Duration;

use serde_json::{json, Value};
use wharf_sim::kingdee::{Fault, KingdeeSim, KingdeeSimConfig};
use wharf_tests::shopify::{setup, wait_for_orders, Ctx};
use wharf_tests::{consent, eventually, paths, read};

/// 2024-03-15T12:00Z: inside the period "2024-03-15" (server offset 0).
const SETTLED_AT: i64 = 1_710_504_000_000;
const PERIOD: &str = "2024-03-15";
const ERP_HOST: &str = "erp.example.com";

fn money(minor: i64, currency: &str) -> Value {
    json!({"minor": minor, "currency": currency})
}

fn settlement(id: &str, order: &str, kind: &str, gross: i64, fee: i64, currency: &str) -> Value {
    json!({"line_id": id, "order_external_id": order, "kind": kind,
           "gross": money(gross, currency), "fee": money(fee, currency),
           "net": money(gross - fee, currency), "settled_at": SETTLED_AT, "payout_id": null})
}

struct World {
    ctx: Ctx,
    erp: KingdeeSim,
    ledger: i64,
    currency: String,
    /// Σ net, fees, refunds and gross of the imported lines.
    net: i64,
    fees: i64,
    refunds: i64,
    gross: i64,
}

/// A shop with two settled orders in one two-digit currency (a sale each with a fee,
/// a commission line, a refund), the Kingdee plugin installed against the simulator,
/// and the account mapping set to `fees_account` for fees.
async fn world(fees_account: &str) -> World {
    let erp = KingdeeSim::start(KingdeeSimConfig::default())
        .await
        .unwrap();
    let resolve = format!("{ERP_HOST}={}", erp.addr());
    let ctx = setup(
        &[
            "--settlements-daily-at",
            "off",
            "--retry-policy",
            "post_journal=1,1,1",
            "--resolve",
            &resolve,
        ],
        12,
    )
    .await;
    let all = wait_for_orders(&ctx.merchant, 12).await;
    let mut by_currency: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for o in &all {
        let c = o["currency"].as_str().unwrap().to_string();
        if wharf_domain::money::minor_digits(&c) == Some(2) {
            by_currency.entry(c).or_default().push(o.clone());
        }
    }
    let (currency, orders) = by_currency
        .into_iter()
        .find(|(_, v)| v.len() >= 2)
        .expect("two orders in one two-digit currency");
    let (a, b) = (&orders[0], &orders[1]);
    let ext = |o: &Value| o["external_id"].as_str().unwrap().to_string();
    let (pa, pb) = (
        a["total_paid_minor"].as_i64().unwrap(),
        b["total_paid_minor"].as_i64().unwrap(),
    );
    let lines = vec![
        settlement("L-a", &ext(a), "sale", pa, 31, &currency),
        settlement("L-b", &ext(b), "sale", pb, 17, &currency),
        settlement("L-c", &ext(a), "commission", -45, 0, &currency),
        settlement("L-r", &ext(b), "refund", -250, 0, &currency),
    ];
    let (s, r) = ctx
        .merchant
        .post(
            &format!("/v1/installations/{}/settlements", ctx.installation),
            json!({"lines": lines, "payouts": []}),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    let (s, plugin) = ctx
        .operator
        .upload_plugin(
            read(paths::manifest("kingdee")),
            read(paths::plugin("wharf_plugin_kingdee")),
        )
        .await;
    assert_eq!(s, 201, "{plugin}");
    let cfg = erp.config().clone();
    let (s, inst) = ctx
        .merchant
        .post(
            "/v1/installations",
            json!({
                "plugin_id": plugin["id"],
                "shop": "erp",
                "config": {"base_url": format!("http://{ERP_HOST}/K3Cloud"), "acct_id": cfg.acct_id,
                           "account_book": "001", "currency": currency},
                "secrets": {"username": cfg.username, "password": cfg.password},
                "egress_grant": [ERP_HOST],
                "consent": consent("kingdee"),
                "pull_interval_secs": 86400
            }),
        )
        .await;
    assert_eq!(s, 201, "{inst}");
    let ledger = inst["id"].as_i64().unwrap();
    let (s, r) = ctx
        .merchant
        .put(
            "/v1/accounting/settings",
            json!({"installation_id": ledger, "accounts": {
                "clearing": "1002", "fees": fees_account, "refunds": "6001.99",
                "revenue": "6001", "other_income": "6051"}}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    World {
        ctx,
        erp,
        ledger,
        currency,
        net: pa - 31 + pb - 17 - 45 - 250,
        fees: 31 + 17 + 45,
        refunds: 250,
        gross: pa + pb,
    }
}

async fn wait_journal(w: &World, id: i64, state: &str) -> Value {
    let path = format!("/v1/journals/{id}");
    eventually(Duration::from_secs(60), || async {
        let (_, j) = w.ctx.merchant.get(&path).await;
        (j["state"] == state).then_some(j)
    })
    .await
    .unwrap_or_else(|| panic!("journal {id} never reached {state}"))
}

/// The period's journal is posted by the durable job through the Wasm plugin as ONE
/// balanced voucher, after a 5xx and a lost response were retried; a second POST for
/// the period is 409 with the same journal, and the ERP still has one voucher.
#[tokio::test]
async fn journal_posts_one_balanced_voucher_through_faults() {
    let w = world("6601.05").await;
    // The first post's duplicate query gets a 503; the retry's Save commits and answers 502.
    w.erp.push_fault(Fault::Server(503));
    w.erp.push_fault(Fault::LostResponse);
    let (s, created) = w
        .ctx
        .merchant
        .post("/v1/journals", json!({"period": PERIOD}))
        .await;
    assert_eq!(s, 201, "{created}");
    let journals = created["journals"].as_array().unwrap();
    assert_eq!(journals.len(), 1, "{created}");
    let id = journals[0]["id"].as_i64().unwrap();
    assert_eq!(journals[0]["currency"], w.currency.as_str());
    assert_eq!(journals[0]["accounting_installation_id"], w.ledger);

    let posted = wait_journal(&w, id, "posted").await;
    assert_eq!(posted["voucher"]["number"], "记-0001", "{posted}");
    assert_eq!(posted["attempts"], 2, "a 503 and a lost response: {posted}");
    let vouchers = w.erp.vouchers();
    assert_eq!(vouchers.len(), 1, "posted exactly once");
    let v = &vouchers[0];
    assert_eq!(posted["voucher"]["id"], v.id.to_string());
    assert_eq!(v.fields["FBillNo"], posted["reference"].as_str().unwrap());
    let debit: i64 = v.entries.iter().map(|e| e.debit).sum();
    let credit: i64 = v.entries.iter().map(|e| e.credit).sum();
    assert_eq!(debit, credit, "balanced voucher: {v:?}");
    let side = |account: &str| -> (i64, i64) {
        let e = v.entries.iter().find(|e| e.account == account).unwrap();
        (e.debit, e.credit)
    };
    assert_eq!(side("1002"), (w.net, 0));
    assert_eq!(side("6601.05"), (w.fees, 0));
    assert_eq!(side("6001.99"), (w.refunds, 0));
    assert_eq!(side("6001"), (0, w.gross));

    let (s, again) = w
        .ctx
        .merchant
        .post("/v1/journals", json!({"period": PERIOD}))
        .await;
    assert_eq!(s, 409, "{again}");
    assert_eq!(again["journals"][0]["id"], id);
    assert_eq!(again["journals"][0]["state"], "posted");
    assert_eq!(w.erp.vouchers().len(), 1);

    let (s, list) = w.ctx.merchant.get("/v1/journals").await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (s, _) = w
        .ctx
        .other_merchant
        .get(&format!("/v1/journals/{id}"))
        .await;
    assert_eq!(s, 404, "another merchant cannot read the journal");
    let (_, jobs) = w.ctx.merchant.get("/v1/jobs").await;
    let post = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "post_journal")
        .unwrap();
    assert_eq!(post["state"], "done", "{post}");
}

/// Kingdee refusing the voucher (an account the book lacks) dead-letters the job and
/// marks the journal failed with Kingdee's message; nothing is stored in the ERP.
#[tokio::test]
async fn refused_voucher_fails_with_the_reason() {
    let w = world("6602").await;
    let (s, created) = w
        .ctx
        .merchant
        .post(
            "/v1/journals",
            json!({"period": PERIOD, "installation_id": w.ctx.installation}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["journals"][0]["id"].as_i64().unwrap();
    assert_eq!(
        created["journals"][0]["source_installation_id"],
        w.ctx.installation
    );
    let failed = wait_journal(&w, id, "failed").await;
    let reason = failed["last_error"].as_str().unwrap();
    assert!(
        reason.contains("FACCOUNTID") && reason.contains("6602"),
        "{reason}"
    );
    assert!(w.erp.vouchers().is_empty());
    // The journal is marked failed by the job's handler, and the job is dead-lettered
    // just after the handler returns: wait for that second write.
    let dead = eventually(Duration::from_secs(30), || async {
        let (_, dead) = w.ctx.merchant.get("/v1/jobs?state=dead").await;
        dead.as_array()?
            .iter()
            .any(|j| j["kind"] == "post_journal")
            .then_some(())
    })
    .await;
    assert!(dead.is_some(), "the post_journal job was not dead-lettered");
    // A period not over yet, a malformed period and a foreign installation are refused.
    let (s, _) = w
        .ctx
        .merchant
        .post("/v1/journals", json!({"period": "2999-01"}))
        .await;
    assert_eq!(s, 400);
    let (s, _) = w
        .ctx
        .merchant
        .post("/v1/journals", json!({"period": "2024-13"}))
        .await;
    assert_eq!(s, 400);
    let (s, _) = w
        .ctx
        .other_merchant
        .post("/v1/journals", json!({"period": PERIOD}))
        .await;
    assert_eq!(s, 409, "no accounting connector set for the other merchant");
}

/// Per-SKU revenue over HTTP adds up to the per-channel totals to the minor unit; the
/// accounting routes are in the OpenAPI document.
#[tokio::test]
async fn per_sku_revenue_adds_up() {
    let w = world("6601.05").await;
    let q = format!("/v1/revenue?from={PERIOD}&to={PERIOD}");
    let (s, channels) = w.ctx.merchant.get(&format!("{q}&group=channel")).await;
    assert_eq!(s, 200, "{channels}");
    let (s, skus) = w.ctx.merchant.get(&format!("{q}&group=channel,sku")).await;
    assert_eq!(s, 200, "{skus}");
    let channel = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["installation_id"] == w.ctx.installation)
        .unwrap();
    let rows: Vec<&Value> = skus
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["installation_id"] == w.ctx.installation)
        .collect();
    assert!(
        rows.iter().all(|r| !r["sku"].is_null()),
        "every line is attributed: {skus}"
    );
    for field in ["gross", "fees", "refunds", "net"] {
        let sum: i64 = rows.iter().map(|r| r[field].as_i64().unwrap()).sum();
        assert_eq!(sum, channel[field].as_i64().unwrap(), "{field}: {skus}");
    }
    assert_eq!(channel["net"], w.net);
    let (s, _) = w.ctx.merchant.get(&format!("{q}&group=day,sku")).await;
    assert_eq!(s, 400);
    let (s, doc) = w.ctx.merchant.get("/v1/openapi.json").await;
    assert_eq!(s, 200);
    for path in [
        "/v1/accounting/settings",
        "/v1/journals",
        "/v1/journals/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}
