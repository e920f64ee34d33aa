//! Settlements end to end over the real `wharf` binary and the real Wasm plugins: orders
//! are ingested from a simulator, the day's settlements are imported through the
//! plugin's `fetch-settlements` (the daily job, or the admin trigger that runs the same
//! import), and the reconciliation report matches every line to its order with exact
//! variances and reports the simulator's injected data-quality issues. A second run of the
//! same day changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_domain::money::parse_money;
use wharf_tests::shopify::{settlements_job_done, setup, setup_with, wait_for_orders, Ctx};
use wharf_tests::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

const DATE: &str = "2024-03-15";

fn minor(v: &Value, cur: &str) -> i64 {
    parse_money(v.as_str().unwrap(), cur).unwrap().minor
}

/// The simulator's balance rows that are settlement lines (payout rows are not).
fn line_rows(ctx: &Ctx) -> Vec<Value> {
    ctx.sim
        .balance_transactions()
        .into_iter()
        .filter(|t| t["type"] != "payout")
        .collect()
}

/// Σ net of each order's rows: what the report's actual net must be.
fn net_by_order(rows: &[Value]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for t in rows {
        let cur = t["currency"].as_str().unwrap();
        *out.entry(t["source_order_id"].to_string()).or_insert(0) += minor(&t["net"], cur);
    }
    out
}

async fn import(api: &Api, installation: i64, date: &str) -> (u16, Value) {
    api.post(
        &format!("/v1/installations/{installation}/settlements/import"),
        json!({ "date": date }),
    )
    .await
}

/// Check a day's report against the simulator's rows: every line matched, each order's
/// actual net = Σ its rows' net, variance = actual − (paid − fees − refunds) exactly.
async fn assert_report(ctx: &Ctx, date: &str, rows: &[Value], orders: &[Value]) -> Value {
    let (s, r) = ctx
        .merchant
        .get(&format!("/v1/reconciliation/{date}"))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["unmatched"].as_array().unwrap().len(), 0, "{r}");
    let nets = net_by_order(rows);
    let judged = r["orders"].as_array().unwrap();
    assert_eq!(judged.len(), nets.len(), "{r}");
    for o in judged {
        let ext = o["external_id"].as_str().unwrap().to_string();
        let want_actual = nets[&ext];
        assert_eq!(o["actual_net"], want_actual, "{o}");
        // Expected: what the buyer paid − the charge's fee − refunds, as reported.
        let order = orders
            .iter()
            .find(|x| x["external_id"] == ext.as_str())
            .unwrap();
        let paid = order["total_paid_minor"].as_i64().unwrap();
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|t| t["source_order_id"].to_string() == ext)
            .collect();
        let cur = order["currency"].as_str().unwrap();
        let fees: i64 = mine.iter().map(|t| minor(&t["fee"], cur)).sum();
        let refunds: i64 = mine
            .iter()
            .filter(|t| t["type"] == "refund")
            .map(|t| -minor(&t["amount"], cur))
            .sum();
        assert_eq!(o["paid"], paid, "{o}");
        assert_eq!(o["expected"]["total"], paid - fees - refunds, "{o}");
        assert_eq!(o["variance"], want_actual - (paid - fees - refunds), "{o}");
    }
    r
}

/// The admin trigger imports the day through the real plugin page by page; the report
/// matches every line with exact variances (one row 0.07 short, as corrupted), lists the
/// corrupted row and payout as data-quality issues, and a second run changes nothing.
#[tokio::test]
async fn shopify_day_imported_and_reconciled() {
    let ctx = setup(&["--settlements-daily-at", "off"], 12).await;
    let orders = wait_for_orders(&ctx.merchant, 12).await;
    assert!(ctx.sim.record_payments() > 0);
    let payouts = ctx.sim.pay_out(DATE, "paid");
    let charge = line_rows(&ctx)
        .into_iter()
        .find(|t| t["type"] == "charge")
        .unwrap();
    let (charge_id, payout_id) = (
        charge["id"].as_u64().unwrap(),
        charge["payout_id"].as_u64().unwrap(),
    );
    assert!(ctx.sim.corrupt_transaction_net(charge_id, -7));
    assert!(ctx.sim.corrupt_payout_amount(payout_id, 11));
    let rows = line_rows(&ctx);

    let (s, first) = import(&ctx.merchant, ctx.installation, DATE).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["lines_changed"], rows.len(), "{first}");
    assert_eq!(first["payouts_changed"], payouts.len(), "{first}");
    assert!(
        first["pages"].as_u64().unwrap() >= 2,
        "payouts, then transactions: {first}"
    );
    let (s, again) = import(&ctx.merchant, ctx.installation, DATE).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["lines_changed"], 0,
        "a second run changes nothing: {again}"
    );
    assert_eq!(again["payouts_changed"], 0, "{again}");
    assert_eq!(again["lines_unchanged"], rows.len(), "{again}");

    let r = assert_report(&ctx, DATE, &rows, &orders).await;
    let corrupted = r["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_id"] == charge["source_order_id"].to_string().as_str())
        .unwrap();
    assert_eq!(corrupted["variance"], -7, "{corrupted}");
    let mut issues: Vec<(String, String)> = r["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().into(),
                d["reference"].as_str().unwrap().into(),
            )
        })
        .collect();
    issues.sort();
    assert_eq!(
        issues,
        vec![
            ("net_mismatch".to_string(), charge_id.to_string()),
            ("payout_mismatch".to_string(), payout_id.to_string()),
        ],
        "{r}"
    );
    for p in r["payouts"].as_array().unwrap() {
        let want = if p["payout_id"] == payout_id.to_string().as_str() {
            18
        } else {
            0
        };
        assert_eq!(
            p["difference"], want,
            "the payout is 0.11 over and its row 0.07 short: {p}"
        );
    }

    // An unknown day format is refused; another merchant cannot trigger this installation.
    let (s, _) = import(&ctx.merchant, ctx.installation, "15/03/2024").await;
    assert_eq!(s, 400);
    let (s, _) = import(&ctx.other_merchant, ctx.installation, DATE).await;
    assert_eq!(s, 404);
}

/// The daily `settlements` job imports the previous day through the real plugin on its
/// own: the day's report is complete, and re-running that day by hand changes nothing.
#[tokio::test]
async fn shopify_daily_job_imports_yesterday() {
    let now = wharf_sim::time::now_ms();
    let yesterday = wharf_domain::reconcile::local_day(now - 86_400_000, 0);
    let day = yesterday.clone();
    let ctx = setup_with(&["--settlements-daily-at", "00:00"], 10, move |sim| {
        sim.record_payments();
        assert!(!sim.pay_out(&day, "paid").is_empty());
    })
    .await;
    let orders = wait_for_orders(&ctx.merchant, 10).await;
    let job = settlements_job_done(&ctx).await;
    assert_eq!(job["attempts"], 0, "{job}");
    let rows = line_rows(&ctx);
    assert_report(&ctx, &yesterday, &rows, &orders).await;
    let (s, again) = import(&ctx.merchant, ctx.installation, &yesterday).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["lines_changed"], 0, "{again}");
    assert_eq!(again["lines_unchanged"], rows.len(), "{again}");
}

// --- Taobao and Douyin -----------------------------------------------------------------

/// 2024-03-15T01:00:00Z: when the Chinese simulators settle, inside [`DATE`].
const SETTLE_MS: i64 = 1_710_464_400_000;
const HOUR: i64 = 3_600_000;

/// A server resolving `host` to a simulator, with `plugin` registered and installed for a
/// merchant through `install(plugin_id)`.
struct Channel {
    _wharf: Wharf,
    merchant: Api,
    installation: i64,
}

async fn channel(
    host: &str,
    addr: std::net::SocketAddr,
    plugin: &str,
    install: impl FnOnce(i64) -> Value,
) -> Channel {
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let wharf = Wharf::start(
        &db,
        &[
            "--resolve".into(),
            format!("{host}={addr}"),
            "--settlements-daily-at".into(),
            "off".into(),
        ],
    );
    let (status, p) = wharf
        .api(&op)
        .upload_plugin(
            read(paths::workspace_root().join(format!("plugins/{plugin}/manifest.json"))),
            read(paths::plugin(&format!("wharf_plugin_{plugin}"))),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let merchant = wharf.api(&a.token);
    let (status, inst) = merchant
        .post("/v1/installations", install(p["id"].as_i64().unwrap()))
        .await;
    assert_eq!(status, 201, "{inst}");
    Channel {
        installation: inst["id"].as_i64().unwrap(),
        merchant,
        _wharf: wharf,
    }
}

/// Import [`DATE`] twice (the second changes nothing) and read its report: no unmatched
/// line, each order's actual net = `actual[external id]`, variance 0 except
/// `off_by` for its one order. Returns the report.
async fn import_and_check(
    ch: &Channel,
    n_orders: usize,
    actual: &BTreeMap<String, i64>,
    off_by: (&str, i64),
) -> Value {
    eventually(Duration::from_secs(60), || async {
        (ch.merchant.all_orders("").await.len() >= n_orders).then_some(())
    })
    .await
    .expect("the orders arrive by the scheduled pull");
    let (s, first) = import(&ch.merchant, ch.installation, DATE).await;
    assert_eq!(s, 200, "{first}");
    assert!(first["lines_changed"].as_u64().unwrap() > 0, "{first}");
    let (s, again) = import(&ch.merchant, ch.installation, DATE).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["lines_changed"], 0,
        "a second run changes nothing: {again}"
    );
    assert_eq!(again["lines_unchanged"], first["lines_changed"], "{again}");
    let (s, r) = ch.merchant.get(&format!("/v1/reconciliation/{DATE}")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["unmatched"].as_array().unwrap().len(), 0, "{r}");
    let judged = r["orders"].as_array().unwrap();
    assert_eq!(judged.len(), actual.len(), "{r}");
    for o in judged {
        let ext = o["external_id"].as_str().unwrap();
        assert_eq!(o["actual_net"], actual[ext], "{o}");
        let want = if ext == off_by.0 { off_by.1 } else { 0 };
        assert_eq!(o["variance"], want, "{o}");
    }
    r
}

/// Taobao: bills listed through the real plugin (signed TOP calls, one-day windows) match
/// every trade with exact fen — sale, commissions, subsidies and refunds per the account
/// table — and a restated bill shows as exactly its difference.
#[tokio::test]
async fn taobao_day_imported_and_reconciled() {
    use wharf_sim::taobao::{TaobaoSim, TaobaoSimConfig, BILL_ACCOUNTS};
    let sim = TaobaoSim::start(TaobaoSimConfig::default()).await.unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_trades(40, 5, now - 6 * HOUR, now - 3 * 60_000);
    let bills = sim.record_bills(SETTLE_MS);
    assert!(!bills.is_empty());
    let income = bills.iter().find(|b| b["account_id"] == 10_001).unwrap();
    let amount = income["amount"].as_i64().unwrap();
    assert!(sim.corrupt_bill_amount(income["bid"].as_u64().unwrap(), amount - 25));
    let mut actual: BTreeMap<String, i64> = BTreeMap::new();
    for b in sim.bills() {
        let (_, _, _, kind, _) = BILL_ACCOUNTS
            .iter()
            .find(|a| a.0 == b["account_id"].as_u64().unwrap())
            .unwrap();
        let sign = if (3..=5).contains(kind) { -1 } else { 1 };
        *actual
            .entry(b["trade_id"].as_str().unwrap().to_string())
            .or_default() += sign * b["amount"].as_i64().unwrap();
    }
    let cfg = sim.config().clone();
    let host = "gw.api.taobao.com";
    let ch = channel(host, sim.addr(), "taobao", |plugin_id| {
        json!({"plugin_id": plugin_id, "shop": "wharf旗舰店",
               "config": {"api_url": format!("http://{host}/router/rest"), "window_minutes": 720,
                          "page_size": 40, "lookback_days": 1},
               "secrets": {"app_key": cfg.app_key, "app_secret": cfg.app_secret, "session": cfg.session},
               "egress_grant": [host], "consent": wharf_tests::consent("taobao"),
               "pull_interval_secs": 3600})
    })
    .await;
    let r = import_and_check(
        &ch,
        40,
        &actual,
        (income["trade_id"].as_str().unwrap(), -25),
    )
    .await;
    assert_eq!(
        r["data_quality"].as_array().unwrap().len(),
        0,
        "bills are single movements: {r}"
    );
}

/// Douyin: settle rows fetched through the real plugin (HMAC-signed, start_index paging)
/// match every order with exact fen, and a row whose settle_amount disagrees with its
/// parts is reported as a data-quality issue and shows as exactly its gap.
#[tokio::test]
async fn douyin_day_imported_and_reconciled() {
    use wharf_sim::douyin::{DouyinSim, DouyinSimConfig};
    let sim = DouyinSim::start(DouyinSimConfig::default()).await.unwrap();
    let now = wharf_sim::time::now_ms();
    sim.generate_orders(40, 5, now - 6 * HOUR, now - 3 * 60_000);
    let rows = sim.record_settlements(SETTLE_MS);
    let sale = rows.iter().find(|r| r["trade_type"] == 0).unwrap();
    let request_no = sale["request_no"].as_str().unwrap().to_string();
    assert!(sim.corrupt_settle_amount(&request_no, -13));
    let mut actual: BTreeMap<String, i64> = BTreeMap::new();
    for r in sim.settle_rows() {
        *actual
            .entry(r["shop_order_id"].as_str().unwrap().to_string())
            .or_default() += r["settle_amount"].as_i64().unwrap();
    }
    let cfg = sim.config().clone();
    let host = wharf_sim::douyin::HOST;
    let ch = channel(host, sim.addr(), "douyin", |plugin_id| {
        json!({"plugin_id": plugin_id, "shop": "wharf-douyin",
               "config": {"api_url": format!("http://{host}"), "window_minutes": 720,
                          "page_size": 7, "lookback_days": 1},
               "secrets": {"app_key": cfg.app_key, "app_secret": cfg.app_secret,
                           "access_token": cfg.access_token},
               "egress_grant": [host], "consent": wharf_tests::consent("douyin"),
               "pull_interval_secs": 3600})
    })
    .await;
    let r = import_and_check(
        &ch,
        40,
        &actual,
        (sale["shop_order_id"].as_str().unwrap(), -13),
    )
    .await;
    let issues: Vec<(&str, &str)> = r["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["reference"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(issues, vec![("net_mismatch", request_no.as_str())], "{r}");
}
