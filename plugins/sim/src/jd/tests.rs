//! The simulated gateway over real HTTP: signing, the window rules, newest-first paging,
//! JOS's error codes, injected faults, get and the stock update.

use serde_json::{json, Value};

use super::jos::{self, JosError};
use super::{Fault, JdSim, JdSimConfig};
use crate::time;

const HOUR: i64 = 3_600_000;
const ALL_STATES: &str = "WAIT_SELLER_STOCK_OUT,WAIT_SELLER_DELIVERY,WAIT_SEND_CODE,\
POP_ORDER_PAUSE,PAUSE,LOCKED,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED";

async fn sim() -> JdSim {
    JdSim::start(JdSimConfig::default()).await.unwrap()
}

/// The system parameters of a call with `business` as `360buy_param_json`, signed with
/// `secret`.
fn signed(sim: &JdSim, secret: &str, method: &str, business: &Value) -> Vec<(String, String)> {
    let cfg = sim.config();
    let mut p: Vec<(String, String)> = [
        ("method", method),
        ("app_key", cfg.app_key.as_str()),
        ("access_token", cfg.access_token.as_str()),
        ("timestamp", &jos::format_time(time::now_ms())),
        ("format", "json"),
        ("v", "2.0"),
        ("sign_method", "md5"),
        ("360buy_param_json", &business.to_string()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sign = jos::sign(secret, &p);
    p.push(("sign".into(), sign));
    p
}

async fn post(sim: &JdSim, params: &[(String, String)]) -> Value {
    let r = reqwest::Client::new()
        .post(sim.router_url())
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(
            params
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "JOS answers errors with HTTP 200 too");
    r.json().await.unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn call(sim: &JdSim, method: &str, business: Value) -> Value {
    let secret = sim.config().app_secret.clone();
    post(sim, &signed(sim, &secret, method, &business)).await
}

fn error_code(v: &Value) -> &str {
    v["error_response"]["code"].as_str().unwrap_or("")
}

fn search_args(start: i64, end: i64, page: u32, size: u32) -> Value {
    json!({"start_date": jos::format_time(start), "end_date": jos::format_time(end),
           "order_state": ALL_STATES, "optional_fields": "orderId,modified,orderState",
           "page": page.to_string(), "page_size": size.to_string(),
           "dateType": "0", "sortType": "1"})
}

fn result(v: &Value) -> &Value {
    &v["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
}

fn ids(v: &Value) -> Vec<String> {
    result(v)["orderInfoList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

// A signed search pages a window newest-modified first, counts it, projects the
// optional fields, and records the admitted call with its business parameters.
#[tokio::test]
async fn search_pages_newest_first() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(5, 1, now - 3 * HOUR, now - HOUR);
    let mut expected: Vec<String> = made
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect();
    expected.reverse();
    let p1 = call(
        &sim,
        "jingdong.pop.order.search",
        search_args(now - 4 * HOUR, now, 1, 2),
    )
    .await;
    assert_eq!(p1["jingdong_pop_order_search_responce"]["code"], "0");
    assert_eq!(result(&p1)["apiResult"]["success"], true);
    assert_eq!(result(&p1)["orderTotal"], 5);
    assert_eq!(ids(&p1), expected[..2]);
    let first = &result(&p1)["orderInfoList"][0];
    assert!(first.get("consigneeInfo").is_none(), "only optional_fields");
    let p3 = call(
        &sim,
        "jingdong.pop.order.search",
        search_args(now - 4 * HOUR, now, 3, 2),
    )
    .await;
    assert_eq!(ids(&p3), expected[4..]);
    let mut asc = search_args(now - 4 * HOUR, now, 1, 5);
    asc["sortType"] = json!(0);
    let all = call(&sim, "jingdong.pop.order.search", asc).await;
    assert_eq!(
        ids(&all),
        made.iter()
            .map(|o| o["orderId"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );
    let calls = sim.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].business["page_size"], "2");
}

// Only the listed order states are returned; an unknown state is a business failure.
#[tokio::test]
async fn order_state_filters_and_is_checked() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(30, 2, now - 3 * HOUR, now - HOUR);
    let mut args = search_args(now - 4 * HOUR, now, 1, 100);
    args["order_state"] = json!("LOCKED");
    let got = call(&sim, "jingdong.pop.order.search", args.clone()).await;
    let locked = made.iter().filter(|o| o["orderState"] == "LOCKED").count();
    assert_eq!(result(&got)["orderTotal"], locked);
    args["order_state"] = json!("LOCKED,WAIT_BUYER_PAY");
    let bad = call(&sim, "jingdong.pop.order.search", args).await;
    assert_eq!(result(&bad)["apiResult"]["success"], false);
    assert!(result(&bad)["apiResult"]["englishErrCode"]
        .as_str()
        .unwrap()
        .contains("WAIT_BUYER_PAY"));
}

// A wrong secret is JOS code 12 and is not admitted; a wrong token is code 19; a stale
// timestamp is code 8; an unknown method is code 15.
#[tokio::test]
async fn gateway_errors_have_jos_codes() {
    let sim = sim().await;
    let now = time::now_ms();
    let args = search_args(now - HOUR, now, 1, 10);
    let bad = post(
        &sim,
        &signed(&sim, "wrong", "jingdong.pop.order.search", &args),
    )
    .await;
    assert_eq!(error_code(&bad), "12");
    assert_eq!(bad["error_response"]["en_desc"], "Invalid Signature");
    assert!(bad["error_response"]["zh_desc"].as_str().is_some());
    let secret = sim.config().app_secret.clone();
    let mut p = signed(&sim, &secret, "jingdong.pop.order.search", &args);
    p.retain(|(k, _)| k != "sign");
    for (k, v) in p.iter_mut() {
        if k == "access_token" {
            *v = "expired".into();
        }
    }
    let sign = jos::sign(&secret, &p);
    p.push(("sign".into(), sign));
    assert_eq!(error_code(&post(&sim, &p).await), "19");
    let mut p = signed(&sim, &secret, "jingdong.pop.order.search", &args);
    p.retain(|(k, _)| k != "sign");
    for (k, v) in p.iter_mut() {
        if k == "timestamp" {
            *v = jos::format_time(now - 10 * 60_000);
        }
    }
    let sign = jos::sign(&secret, &p);
    p.push(("sign".into(), sign));
    assert_eq!(error_code(&post(&sim, &p).await), "8");
    assert_eq!(
        error_code(&call(&sim, "jingdong.pop.order.list", args).await),
        "15"
    );
    assert!(sim.calls().is_empty(), "none of these was admitted");
    assert_eq!(sim.requests(), 4);
}

// Windows longer than 30 days, backwards windows and pages over 100 are business failures.
#[tokio::test]
async fn window_and_page_limits_are_enforced() {
    let sim = sim().await;
    let now = time::now_ms();
    for args in [
        search_args(now - 31 * 24 * HOUR, now, 1, 10),
        search_args(now, now - HOUR, 1, 10),
        search_args(now - HOUR, now, 1, 101),
        search_args(now - HOUR, now, 0, 10),
    ] {
        let got = call(&sim, "jingdong.pop.order.search", args.clone()).await;
        assert_eq!(result(&got)["apiResult"]["success"], false, "{args}");
    }
    let ok = call(
        &sim,
        "jingdong.pop.order.search",
        search_args(now - 30 * 24 * HOUR, now, 1, 100),
    )
    .await;
    assert_eq!(result(&ok)["apiResult"]["success"], true);
}

// Injected faults answer before any check, once each, then the gateway serves again.
#[tokio::test]
async fn faults_are_injected() {
    let sim = sim().await;
    let now = time::now_ms();
    sim.fail_next(1, Fault::Jos(JosError::app_call_limited(7)));
    sim.fail_next(1, Fault::Jos(JosError::service_unavailable()));
    sim.fail_next(1, Fault::Http(503));
    let args = search_args(now - HOUR, now, 1, 10);
    let limited = call(&sim, "jingdong.pop.order.search", args.clone()).await;
    assert_eq!(error_code(&limited), "2");
    assert!(limited["error_response"]["en_desc"]
        .as_str()
        .unwrap()
        .contains("7 seconds"));
    let isp = call(&sim, "jingdong.pop.order.search", args.clone()).await;
    assert_eq!(error_code(&isp), "66");
    let secret = sim.config().app_secret.clone();
    let r = reqwest::Client::new()
        .post(sim.router_url())
        .form(&signed(&sim, &secret, "jingdong.pop.order.search", &args))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let ok = call(&sim, "jingdong.pop.order.search", args).await;
    assert_eq!(result(&ok)["apiResult"]["success"], true);
}

// get returns the current order; an unknown id is "order not exist".
#[tokio::test]
async fn get_reads_one_order() {
    let sim = sim().await;
    let o = sim.generate_order(4, time::now_ms() - HOUR);
    let id = o["orderId"].as_str().unwrap();
    let got = call(&sim, "jingdong.pop.order.get", json!({"order_id": id})).await;
    let detail = &got["jingdong_pop_order_get_responce"]["orderDetailInfo"];
    assert_eq!(detail["apiResult"]["success"], true);
    assert_eq!(detail["orderInfo"], o);
    let missing = call(&sim, "jingdong.pop.order.get", json!({"order_id": "1"})).await;
    let detail = &missing["jingdong_pop_order_get_responce"]["orderDetailInfo"];
    assert_eq!(detail["apiResult"]["success"], false);
    assert_eq!(detail["apiResult"]["englishErrCode"], "order not exist");
    assert!(detail.get("orderInfo").is_none());
}

// The stock update keeps the last quantity per SKU; unknown SKUs and bad quantities fail.
#[tokio::test]
async fn stock_updates_are_kept_per_sku() {
    let sim = sim().await;
    sim.add_sku(100_012_345_678);
    assert_eq!(sim.stock(100_012_345_678), None);
    let m = "jingdong.stock.write.updateSkuStock";
    let key = "jingdong_stock_write_updateSkuStock_responce";
    let ok = call(&sim, m, json!({"skuId": 100_012_345_678u64, "stockNum": 7})).await;
    assert_eq!(ok[key]["success"], true);
    let ok = call(&sim, m, json!({"skuId": "100012345678", "stockNum": "3"})).await;
    assert_eq!(ok[key]["success"], true);
    assert_eq!(sim.stock(100_012_345_678), Some(3));
    let unknown = call(&sim, m, json!({"skuId": 5, "stockNum": 1})).await;
    assert_eq!(unknown[key]["success"], false);
    assert!(unknown[key]["message"]
        .as_str()
        .unwrap()
        .contains("not exist"));
    let negative = call(
        &sim,
        m,
        json!({"skuId": 100_012_345_678u64, "stockNum": -1}),
    )
    .await;
    assert_eq!(negative[key]["success"], false);
    assert_eq!(sim.stock(100_012_345_678), Some(3));
}

// Updating an order bumps `modified` past its old value, moving it in the listing.
#[tokio::test]
async fn updates_bump_modified() {
    let sim = sim().await;
    let now = time::now_ms();
    let o = sim.generate_order(9, now - 2 * HOUR);
    let id: u64 = o["orderId"].as_str().unwrap().parse().unwrap();
    let updated = sim
        .update_order(id, |o| o["venderRemark"] = json!("改地址"))
        .unwrap();
    let before = jos::parse_time(o["modified"].as_str().unwrap()).unwrap();
    let after = jos::parse_time(updated["modified"].as_str().unwrap()).unwrap();
    assert!(after > before + HOUR);
    assert_eq!(sim.order(id).unwrap()["venderRemark"], "改地址");
    assert!(sim.update_order(1, |_| {}).is_none());
}
