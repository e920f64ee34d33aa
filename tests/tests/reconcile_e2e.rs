//! Reconciliation end to end over the real `wharf` binary: orders come in from the
//! simulated Shopify shop through the real plugin; settlements come in through the admin
//! import endpoint (the plugin's own fetch-settlements is covered by
//! `settlements_e2e.rs`); the report, the CSV/XLSX exports
//! (API and CLI), the rules, the threshold and revenue are read back over HTTP.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use serde_json::{json, Value};
use wharf_tests::shopify::{settlements_job_done, setup, wait_for_orders, Ctx};

/// 2024-03-15T12:00Z: inside the period "2024-03-15" (server offset 0).
const SETTLED_AT: i64 = 1_710_504_000_000;
const PERIOD: &str = "2024-03-15";

fn sheet(bytes: Vec<u8>, name: &str) -> calamine::Range<Data> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("a valid xlsx");
    wb.worksheet_range(name).expect("the sheet exists")
}

fn sale(id: &str, order: &str, gross: i64, fee: i64, net: i64, currency: &str) -> Value {
    json!({"line_id": id, "order_external_id": order, "kind": "sale",
           "gross": {"minor": gross, "currency": currency},
           "fee": {"minor": fee, "currency": currency},
           "net": {"minor": net, "currency": currency},
           "settled_at": SETTLED_AT, "payout_id": "PO-1"})
}

/// Orders pulled from the shop, two of them in one currency with a SKU on every line
/// (returned, in order), and a settlement page for them: the first settles exactly
/// (minus a fee), the second is 10.00 short, plus a line for an order Wharf does not
/// know, a line whose net ≠ gross − fee, and a payout one minor unit off its lines.
async fn settled_shop() -> (Ctx, Vec<Value>, Value) {
    let ctx = setup(&["--settlements-daily-at", "off"], 12).await;
    let all = wait_for_orders(&ctx.merchant, 12).await;
    let mut by_currency: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for o in &all {
        let (_, detail) = ctx.merchant.get(&format!("/v1/orders/{}", o["id"])).await;
        let lines = detail["order"]["lines"].as_array().unwrap();
        if lines.iter().all(|l| !l["sku"].as_str().unwrap().is_empty()) {
            by_currency
                .entry(o["currency"].as_str().unwrap().to_string())
                .or_default()
                .push(o.clone());
        }
    }
    let orders = by_currency
        .into_values()
        .find(|v| v.len() >= 2)
        .expect("two orders in one currency");
    let (a, b) = (&orders[0], &orders[1]);
    let cur = a["currency"].as_str().unwrap().to_string();
    let (pa, pb) = (
        a["total_paid_minor"].as_i64().unwrap(),
        b["total_paid_minor"].as_i64().unwrap(),
    );
    let lines = vec![
        sale(
            "L-a",
            a["external_id"].as_str().unwrap(),
            pa,
            30,
            pa - 30,
            &cur,
        ),
        sale(
            "L-b",
            b["external_id"].as_str().unwrap(),
            pb - 1000,
            0,
            pb - 1000,
            &cur,
        ),
        sale("L-ghost", "999999999", 500, 0, 500, &cur),
        sale("L-bad", "888888888", 100, 10, 95, &cur),
    ];
    let lines_net = (pa - 30) + (pb - 1000) + 500 + 95;
    let page = json!({"lines": lines, "payouts": [
        {"payout_id": "PO-1", "amount": {"minor": lines_net + 1, "currency": cur},
         "paid_at": SETTLED_AT + 3_600_000, "status": "paid"}]});
    (ctx, orders[..2].to_vec(), page)
}

/// Importing through the admin endpoint is idempotent, and the period report matches
/// orders, marks the short one red, lists the unknown lines as unmatched and reports the
/// bad line and the payout as data-quality issues.
#[tokio::test]
async fn import_and_report() {
    let (ctx, orders, page) = settled_shop().await;
    let import = format!("/v1/installations/{}/settlements", ctx.installation);
    let (s, first) = ctx.merchant.post(&import, page.clone()).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["lines_changed"], 4, "{first}");
    assert_eq!(first["payouts_changed"], 1, "{first}");
    let (s, again) = ctx.merchant.post(&import, page.clone()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["lines_changed"], 0,
        "re-importing changes nothing: {again}"
    );
    assert_eq!(again["lines_unchanged"], 4, "{again}");
    assert_eq!(again["payouts_unchanged"], 1, "{again}");

    let (s, r) = ctx
        .merchant
        .get(&format!("/v1/reconciliation/{PERIOD}"))
        .await;
    assert_eq!(s, 200, "{r}");
    let judged = r["orders"].as_array().unwrap();
    assert_eq!(judged.len(), 2, "{r}");
    let find = |ext: &Value| {
        judged
            .iter()
            .find(|o| o["external_id"] == *ext)
            .unwrap()
            .clone()
    };
    let a = find(&orders[0]["external_id"]);
    assert_eq!(a["variance"], 0, "fee as reported: {a}");
    assert_eq!(a["red"], false);
    let b = find(&orders[1]["external_id"]);
    assert_eq!(b["variance"], -1000, "{b}");
    assert_eq!(b["red"], true, "10.00 short is over the 5.00 default");
    let unmatched: Vec<_> = r["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["line"]["line_id"].as_str().unwrap())
        .collect();
    assert_eq!(unmatched.len(), 2);
    assert!(unmatched.contains(&"L-ghost") && unmatched.contains(&"L-bad"));
    let issues: Vec<_> = r["data_quality"]
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
    assert!(issues.contains(&("net_mismatch", "L-bad")), "{issues:?}");
    assert!(issues.contains(&("payout_mismatch", "PO-1")), "{issues:?}");
    assert_eq!(r["payouts"][0]["difference"], 1, "{r}");
    assert_eq!(r["summary"][0]["red_orders"], 1);
    assert_eq!(r["summary"][0]["orders"], 2);

    // A bad period and a malformed import are refused with a reason.
    let (s, _) = ctx.merchant.get("/v1/reconciliation/2024-13").await;
    assert_eq!(s, 400);
    let mut bad = page.clone();
    bad["lines"][0]["gross"]["currency"] = json!("DOLLARS");
    let (s, body) = ctx.merchant.post(&import, bad).await;
    assert_eq!(s, 400, "{body}");
}

/// Another merchant cannot import into, read the rule of, or filter a report by this
/// merchant's installation (404), and its own report is empty.
#[tokio::test]
async fn other_merchants_see_nothing() {
    let (ctx, _orders, page) = settled_shop().await;
    let import = format!("/v1/installations/{}/settlements", ctx.installation);
    let (s, _) = ctx.merchant.post(&import, page.clone()).await;
    assert_eq!(s, 200);
    let other = &ctx.other_merchant;
    assert_eq!(other.post(&import, page).await.0, 404);
    let rule = format!("/v1/installations/{}/settlement-rule", ctx.installation);
    assert_eq!(other.get(&rule).await.0, 404);
    let filtered = format!(
        "/v1/reconciliation/{PERIOD}?installation_id={}",
        ctx.installation
    );
    assert_eq!(other.get(&filtered).await.0, 404);
    let (s, _, _) = other
        .get_bytes(&format!(
            "/v1/reconciliation/{PERIOD}/variances.csv?installation_id={}",
            ctx.installation
        ))
        .await;
    assert_eq!(s, 404);
    let (s, r) = other.get(&format!("/v1/reconciliation/{PERIOD}")).await;
    assert_eq!(s, 200);
    assert_eq!(r["orders"], json!([]));
    assert_eq!(r["unmatched"], json!([]));
    let (s, rev) = other
        .get(&format!("/v1/revenue?from={PERIOD}&to={PERIOD}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(rev, json!([]));
}

/// The exports: variance detail and summary as CSV and XLSX from the API (the XLSX opens
/// and holds the same numbers), and the summary XLSX through `wharf reconcile export`.
#[tokio::test]
async fn exports_csv_and_xlsx() {
    let (ctx, orders, page) = settled_shop().await;
    let import = format!("/v1/installations/{}/settlements", ctx.installation);
    assert_eq!(ctx.merchant.post(&import, page).await.0, 200);

    let (s, ct, csv) = ctx
        .merchant
        .get_bytes(&format!("/v1/reconciliation/{PERIOD}/variances.csv"))
        .await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("kind,installation_id,platform,shop,reference"),
        "{}",
        rows[0]
    );
    assert_eq!(
        rows.len(),
        1 + 2 + 2,
        "header, 2 orders, 2 unmatched lines:\n{csv}"
    );
    let short = orders[1]["external_id"].as_str().unwrap();
    let row = rows
        .iter()
        .find(|r| r.contains(&format!(",{short},")))
        .unwrap();
    assert!(
        row.starts_with("order,") && row.contains(",-1000,true,"),
        "{row}"
    );

    let (s, ct, xlsx) = ctx
        .merchant
        .get_bytes(&format!("/v1/reconciliation/{PERIOD}/variances.xlsx"))
        .await;
    assert_eq!(s, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let v = sheet(xlsx.clone(), "Variances");
    assert_eq!(v.get_size().0, 5);
    assert_eq!(v.get((0, 0)), Some(&Data::String("kind".into())));
    let variance_col = 17;
    let variances: Vec<f64> = (1..5)
        .filter_map(|r| match v.get((r, variance_col)) {
            Some(Data::Float(f)) => Some(*f),
            _ => None,
        })
        .collect();
    assert!(variances.contains(&-1000.0), "{variances:?}");
    let p = sheet(xlsx.clone(), "Payouts");
    assert_eq!(p.get((1, 1)), Some(&Data::String("PO-1".into())));
    let dq = sheet(xlsx, "Data quality");
    assert_eq!(dq.get_size().0, 3, "net_mismatch + payout_mismatch");

    let (s, _, csv) = ctx
        .merchant
        .get_bytes(&format!("/v1/reconciliation/{PERIOD}/summary.csv"))
        .await;
    assert_eq!(s, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let (s, _, xlsx) = ctx
        .merchant
        .get_bytes(&format!("/v1/reconciliation/{PERIOD}/summary.xlsx"))
        .await;
    assert_eq!(s, 200);
    let sum = sheet(xlsx, "Summary");
    assert_eq!(sum.get((1, 7)), Some(&Data::Float(1.0)), "red_orders");

    let dir = std::env::temp_dir().join(format!("wharf-reconcile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("summary.xlsx");
    wharf_tests::wharf_cli(&[
        "reconcile",
        "export",
        "--api",
        &ctx.wharf.base_url,
        "--token",
        &ctx.merchant.token,
        "--period",
        PERIOD,
        "--report",
        "summary",
        "--format",
        "xlsx",
        "--out",
        out.to_str().unwrap(),
    ]);
    let sum = sheet(std::fs::read(&out).unwrap(), "Summary");
    assert_eq!(sum.get((1, 6)), Some(&Data::Float(2.0)), "orders");
    let csv = wharf_tests::wharf_cli(&[
        "reconcile",
        "export",
        "--api",
        &ctx.wharf.base_url,
        "--token",
        &ctx.merchant.token,
        "--period",
        PERIOD,
        "--report",
        "variances",
    ]);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The expected-net rule defaults per platform, refuses nonsense, and changes the
/// judgement once set; the threshold changes what is red.
#[tokio::test]
async fn rules_and_threshold_steer_the_report() {
    let (ctx, orders, page) = settled_shop().await;
    let import = format!("/v1/installations/{}/settlements", ctx.installation);
    assert_eq!(ctx.merchant.post(&import, page).await.0, 200);
    let rule_path = format!("/v1/installations/{}/settlement-rule", ctx.installation);
    let (s, rule) = ctx.merchant.get(&rule_path).await;
    assert_eq!(s, 200);
    assert_eq!(rule["is_default"], true);
    assert_eq!(rule["rule"]["settle_from"], "shipment");
    let mut bad = rule["rule"].clone();
    bad["refunds"] = json!("plus");
    bad["commission_rate_bps"] = json!(20_000);
    let (s, err) = ctx.merchant.put(&rule_path, bad).await;
    assert_eq!(s, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refunds"),
        "{err}"
    );
    // Commission at 10 %: the exactly settled order now looks 10 % − 0.30 over.
    let mut rated = rule["rule"].clone();
    rated["commission_rate_bps"] = json!(1000);
    let (s, set) = ctx.merchant.put(&rule_path, rated).await;
    assert_eq!(s, 200, "{set}");
    assert_eq!(set["is_default"], false);
    let (_, r) = ctx
        .merchant
        .get(&format!("/v1/reconciliation/{PERIOD}"))
        .await;
    let a = r["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_id"] == orders[0]["external_id"])
        .unwrap();
    let paid = orders[0]["total_paid_minor"].as_i64().unwrap();
    let commission = (paid * 1000 + 5000) / 10_000;
    assert_eq!(a["expected"]["commission"], -commission, "{a}");
    assert_eq!(a["variance"], commission - 30, "{a}");

    let (s, t) = ctx
        .merchant
        .put(
            "/v1/reconciliation/settings",
            json!({"variance_threshold_minor": 100_000_000}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let (_, r) = ctx
        .merchant
        .get(&format!("/v1/reconciliation/{PERIOD}"))
        .await;
    assert_eq!(
        r["summary"][0]["red_orders"], 0,
        "nothing is over a huge threshold"
    );
    let (s, _) = ctx
        .merchant
        .put(
            "/v1/reconciliation/settings",
            json!({"variance_threshold_minor": -1}),
        )
        .await;
    assert_eq!(s, 400);
}

/// Revenue per channel and day: settled amounts, and margin only once every SKU sold has
/// a unit cost (unknown before, never zero); a sale line of an order Wharf does not know
/// makes the cost unknown again.
#[tokio::test]
async fn revenue_per_channel_and_day() {
    let (ctx, orders, page) = settled_shop().await;
    let import = format!("/v1/installations/{}/settlements", ctx.installation);
    let matched = json!({"lines": [page["lines"][0], page["lines"][1]]});
    assert_eq!(ctx.merchant.post(&import, matched).await.0, 200);
    let path = format!("/v1/revenue?from={PERIOD}&to={PERIOD}&group=channel,day");
    let (s, rows) = ctx.merchant.get(&path).await;
    assert_eq!(s, 200, "{rows}");
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let row = &rows[0];
    assert_eq!(row["installation_id"], ctx.installation);
    assert_eq!(row["platform"], "shopify");
    assert_eq!(row["day"], PERIOD);
    assert_eq!(row["lines"], 2);
    assert_eq!(row["fees"], 30);
    let (pa, pb) = (
        orders[0]["total_paid_minor"].as_i64().unwrap(),
        orders[1]["total_paid_minor"].as_i64().unwrap(),
    );
    let net = (pa - 30) + (pb - 1000);
    assert_eq!(row["net"], net);
    assert_eq!(row["gross"], pa + pb - 1000);
    assert_eq!(row["cost_of_goods"], Value::Null, "no costs yet: {row}");
    assert_eq!(row["margin"], Value::Null);

    // Cost every SKU of the two orders at 1.00 a unit.
    let mut skus = std::collections::BTreeSet::new();
    let mut units = 0i64;
    for o in &orders[..2] {
        let (_, detail) = ctx.merchant.get(&format!("/v1/orders/{}", o["id"])).await;
        for l in detail["order"]["lines"].as_array().unwrap() {
            skus.insert(l["sku"].as_str().unwrap().to_string());
            units += l["quantity"].as_i64().unwrap();
        }
    }
    let costs: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku": s, "unit_cost_minor": 100, "currency": orders[0]["currency"]}))
        .collect();
    let (s, body) = ctx
        .merchant
        .put("/v1/sku-costs", json!({"costs": costs}))
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, rows) = ctx.merchant.get(&path).await;
    let row = &rows[0];
    assert_eq!(row["cost_of_goods"], units * 100, "{row}");
    assert_eq!(row["margin"], net - units * 100, "{row}");

    // A sale of an order Wharf does not know: its cost, so the group's, is unknown.
    let ghost = json!({"lines": [page["lines"][2]]});
    assert_eq!(ctx.merchant.post(&import, ghost).await.0, 200);
    let (_, rows) = ctx
        .merchant
        .get(&format!("/v1/revenue?from={PERIOD}&to={PERIOD}&group=day"))
        .await;
    assert_eq!(rows[0]["sales_without_order"], 1, "{rows}");
    assert_eq!(rows[0]["cost_of_goods"], Value::Null);
    assert_eq!(
        rows[0]["installation_id"],
        Value::Null,
        "grouped by day only"
    );

    let (s, _) = ctx
        .merchant
        .get("/v1/revenue?from=2024-03-15&to=2024-03-14")
        .await;
    assert_eq!(s, 400);
    let (s, _) = ctx
        .merchant
        .get("/v1/revenue?from=2024-03-15&to=2024-03-15&group=week")
        .await;
    assert_eq!(s, 400);
}

/// The daily `settlements` job runs for a new installation through the real plugin call
/// path; with no payout on the previous day it completes quietly (no retry, no dead
/// letter, no error on the installation).
#[tokio::test]
async fn daily_job_completes_quietly_with_nothing_to_import() {
    let ctx = setup(&["--settlements-daily-at", "00:00"], 1).await;
    wait_for_orders(&ctx.merchant, 1).await;
    let job = settlements_job_done(&ctx).await;
    assert_eq!(job["attempts"], 0, "{job}");
    assert_eq!(job["runs"], 1, "{job}");
    let end = job["payload"]["end"].as_i64().unwrap();
    assert_eq!(
        job["payload"]["start"].as_i64().unwrap(),
        end - 86_400_000,
        "one day: {job}"
    );
    let (_, dead) = ctx.merchant.get("/v1/jobs?state=dead").await;
    assert!(
        !dead
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "settlements"),
        "{dead}"
    );
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{}", ctx.installation))
        .await;
    assert_eq!(inst["last_error_code"], Value::Null, "{inst}");
}

/// Every reconciliation route is in the OpenAPI document.
#[tokio::test]
async fn openapi_documents_reconciliation() {
    let ctx = setup(&["--settlements-daily-at", "off"], 0).await;
    let (s, doc) = ctx.merchant.get("/v1/openapi.json").await;
    assert_eq!(s, 200);
    for path in [
        "/v1/installations/{id}/settlements",
        "/v1/installations/{id}/settlements/import",
        "/v1/installations/{id}/settlement-rule",
        "/v1/reconciliation/{period}",
        "/v1/reconciliation/{period}/variances.csv",
        "/v1/reconciliation/{period}/variances.xlsx",
        "/v1/reconciliation/{period}/summary.csv",
        "/v1/reconciliation/{period}/summary.xlsx",
        "/v1/reconciliation/settings",
        "/v1/revenue",
        "/v1/sku-costs",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}
