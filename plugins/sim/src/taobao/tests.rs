//! The simulated gateway over real HTTP: signing, the window rules, newest-first paging,
//! TOP's error codes and injected faults.

use serde_json::Value;

use super::top::{self, TopError};
use super::{Fault, TaobaoSim, TaobaoSimConfig};
use crate::time;

const HOUR: i64 = 3_600_000;

async fn sim() -> TaobaoSim {
    TaobaoSim::start(TaobaoSimConfig::default()).await.unwrap()
}

/// The system parameters of a call, plus `extra`, signed with `secret`.
fn signed(
    sim: &TaobaoSim,
    secret: &str,
    method: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let cfg = sim.config();
    let mut p: Vec<(String, String)> = [
        ("method", method),
        ("app_key", cfg.app_key.as_str()),
        ("session", cfg.session.as_str()),
        ("timestamp", &top::format_time(time::now_ms())),
        ("format", "json"),
        ("v", "2.0"),
        ("sign_method", "md5"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sign = top::sign(secret, &p);
    p.push(("sign".into(), sign));
    p
}

async fn post(sim: &TaobaoSim, params: &[(String, String)]) -> Value {
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
    assert_eq!(r.status(), 200, "TOP answers errors with HTTP 200 too");
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

fn code(v: &Value) -> (i64, String) {
    let e = &v["error_response"];
    (
        e["code"].as_i64().unwrap_or(-1),
        e["sub_code"].as_str().unwrap_or("").to_string(),
    )
}

async fn list(sim: &TaobaoSim, start: i64, end: i64, page: u32, size: u32) -> Value {
    let secret = sim.config().app_secret.clone();
    let (s, e, p, n) = (
        top::format_time(start),
        top::format_time(end),
        page.to_string(),
        size.to_string(),
    );
    post(
        sim,
        &signed(
            sim,
            &secret,
            "taobao.trades.sold.increment.get",
            &[
                ("fields", "tid,modified,payment,orders"),
                ("start_modified", &s),
                ("end_modified", &e),
                ("page_no", &p),
                ("page_size", &n),
            ],
        ),
    )
    .await
}

// A request signed with the wrong secret, or altered after signing, is refused with code 25.
#[tokio::test]
async fn bad_signatures_are_rejected() {
    let sim = sim().await;
    let now = time::now_ms();
    let ok = list(&sim, now - HOUR, now, 1, 10).await;
    assert!(
        ok.get("trades_sold_increment_get_response").is_some(),
        "{ok}"
    );

    let extra = [("fields", "tid"), ("tid", "1")];
    let wrong = signed(&sim, "not-the-secret", "taobao.trade.fullinfo.get", &extra);
    assert_eq!(
        code(&post(&sim, &wrong).await),
        (25, "isv.invalid-signature".into())
    );

    let mut tampered = signed(
        &sim,
        &sim.config().app_secret,
        "taobao.trade.fullinfo.get",
        &extra,
    );
    tampered.iter_mut().find(|(k, _)| k == "tid").unwrap().1 = "2".into();
    assert_eq!(code(&post(&sim, &tampered).await).0, 25);

    let mut unsigned = signed(
        &sim,
        &sim.config().app_secret,
        "taobao.trade.fullinfo.get",
        &extra,
    );
    unsigned.retain(|(k, _)| k != "sign");
    assert_eq!(code(&post(&sim, &unsigned).await).0, 24);
    assert_eq!(sim.calls().len(), 1, "only the good call was admitted");
}

// Windows over one day, or ending at or before their start, are isv.invalid-parameter; one day exactly is fine.
#[tokio::test]
async fn windows_longer_than_a_day_are_rejected() {
    let sim = sim().await;
    let end = time::now_ms().div_euclid(1000) * 1000;
    let day = 86_400_000;
    let too_long = list(&sim, end - day - 1000, end, 1, 10).await;
    assert_eq!(
        code(&too_long),
        (15, "isv.invalid-parameter".into()),
        "{too_long}"
    );
    let backwards = list(&sim, end, end, 1, 10).await;
    assert_eq!(code(&backwards), (15, "isv.invalid-parameter".into()));
    let one_day = list(&sim, end - day, end, 1, 10).await;
    assert!(one_day["error_response"].is_null(), "{one_day}");
    let big_page = list(&sim, end - HOUR, end, 1, 101).await;
    assert_eq!(code(&big_page).1, "isv.invalid-parameter");
}

// Pages come newest-modified first with total_results and has_next; pages tile the window.
#[tokio::test]
async fn pages_are_newest_first() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_trades(25, 3, now - 2 * HOUR, now - 60_000);
    let mut seen = Vec::new();
    for (page, has_next) in [(1, true), (2, true), (3, false)] {
        let v = list(&sim, now - 3 * HOUR, now, page, 10).await;
        let r = &v["trades_sold_increment_get_response"];
        assert_eq!(r["total_results"], 25, "{v}");
        assert_eq!(r["has_next"], has_next);
        for t in r["trades"]["trade"].as_array().unwrap() {
            assert!(
                t.get("receiver_name").is_none(),
                "only the requested fields"
            );
            seen.push((
                top::parse_time(t["modified"].as_str().unwrap()).unwrap(),
                t["tid"].as_u64().unwrap(),
            ));
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] >= w[1]),
        "modified DESC: {seen:?}"
    );
    assert_eq!(
        seen[0].1,
        made[24]["tid"].as_u64().unwrap(),
        "the newest first"
    );
    let past_end = list(&sim, now - 3 * HOUR, now, 4, 10).await;
    let r = &past_end["trades_sold_increment_get_response"];
    assert!(
        r.get("trades").is_none() && r["has_next"] == false,
        "{past_end}"
    );

    // With use_has_next=true the count is left out.
    let secret = sim.config().app_secret.clone();
    let (s, e) = (top::format_time(now - 3 * HOUR), top::format_time(now));
    let v = post(
        &sim,
        &signed(
            &sim,
            &secret,
            "taobao.trades.sold.increment.get",
            &[
                ("fields", "tid"),
                ("start_modified", &s),
                ("end_modified", &e),
                ("page_size", "10"),
                ("use_has_next", "true"),
            ],
        ),
    )
    .await;
    let r = &v["trades_sold_increment_get_response"];
    assert!(
        r.get("total_results").is_none() && r["has_next"] == true,
        "{v}"
    );
}

// An edited trade leaves its old window and becomes the newest of a window containing now.
#[tokio::test]
async fn an_update_moves_a_trade_to_page_one() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_trades(5, 4, now - 2 * HOUR, now - HOUR);
    let tid = made[0]["tid"].as_u64().unwrap();
    sim.update_trade(tid, |t| t["buyer_memo"] = "请尽快发货".into())
        .unwrap();
    let old = list(&sim, now - 3 * HOUR, now - HOUR, 1, 10).await;
    assert_eq!(
        old["trades_sold_increment_get_response"]["total_results"],
        4
    );
    let fresh = list(&sim, now - 3 * HOUR, time::now_ms() + 1000, 1, 1).await;
    let first = &fresh["trades_sold_increment_get_response"]["trades"]["trade"][0];
    assert_eq!(first["tid"].as_u64(), Some(tid));
}

// Session, app key, timestamp and method errors carry TOP's codes; injected faults come first.
#[tokio::test]
async fn error_codes_match_top() {
    let sim = sim().await;
    let secret = sim.config().app_secret.clone();
    let extra = [("fields", "tid"), ("tid", "1")];
    let with = |key: &str, value: &str| {
        let mut p = signed(&sim, &secret, "taobao.trade.fullinfo.get", &extra);
        p.retain(|(k, _)| k != "sign" && k != key);
        p.push((key.to_string(), value.to_string()));
        let s = top::sign(&secret, &p);
        p.push(("sign".into(), s));
        p
    };
    assert_eq!(
        code(&post(&sim, &with("session", "stale")).await),
        (27, "invalid-sessionkey".into())
    );
    assert_eq!(code(&post(&sim, &with("app_key", "999")).await).0, 29);
    let stale = top::format_time(time::now_ms() - 3_600_000);
    assert_eq!(code(&post(&sim, &with("timestamp", &stale)).await).0, 31);
    assert_eq!(
        code(&post(&sim, &with("method", "taobao.item.get")).await).0,
        22
    );
    assert_eq!(code(&post(&sim, &with("v", "1.0")).await).0, 34);
    let unknown = post(
        &sim,
        &signed(&sim, &secret, "taobao.trade.fullinfo.get", &extra),
    )
    .await;
    assert_eq!(code(&unknown), (15, "isv.trade-not-exist".into()));

    sim.fail_next(1, Fault::Top(TopError::app_call_limited(3)));
    sim.fail_next(1, Fault::Top(TopError::remote_service_error()));
    sim.fail_next(1, Fault::Http(502));
    let good = signed(&sim, &secret, "taobao.trade.fullinfo.get", &extra);
    let limited = post(&sim, &good).await;
    assert_eq!(
        code(&limited),
        (7, "accesscontrol.limited-by-app-access-count".into())
    );
    assert!(limited["error_response"]["sub_msg"]
        .as_str()
        .unwrap()
        .contains("3 more seconds"));
    assert_eq!(
        code(&post(&sim, &good).await),
        (15, "isp.remote-service-error".into())
    );
    let r = reqwest::Client::new()
        .get(sim.router_url())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
}

// fullinfo returns the stored trade (requested fields only) and also works over GET.
#[tokio::test]
async fn fullinfo_reads_one_trade() {
    let sim = sim().await;
    let t = sim.generate_trade(9, time::now_ms());
    let tid = t["tid"].as_u64().unwrap().to_string();
    let secret = sim.config().app_secret.clone();
    let p = signed(
        &sim,
        &secret,
        "taobao.trade.fullinfo.get",
        &[("fields", "tid,payment,orders.oid"), ("tid", &tid)],
    );
    let query: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let v: Value = reqwest::get(format!("{}?{}", sim.router_url(), query.join("&")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got = &v["trade_fullinfo_get_response"]["trade"];
    assert_eq!(got["payment"], t["payment"], "{v}");
    assert_eq!(got["orders"], t["orders"]);
    assert!(got.get("status").is_none());
    assert_eq!(sim.calls()[0].params["tid"], tid);
}

async fn quantity_update(sim: &TaobaoSim, secret: &str, extra: &[(&str, &str)]) -> Value {
    post(
        sim,
        &signed(sim, secret, "taobao.item.quantity.update", extra),
    )
    .await
}

/// A full update sets a SKU's (or a SKU-less item's) quantity, answers TOP's item shape and is logged.
#[tokio::test]
async fn quantity_update_sets_and_logs() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_trades(10, 21, now - 2 * HOUR, now - HOUR);
    let o = made
        .iter()
        .flat_map(|t| t["orders"]["order"].as_array().unwrap().clone())
        .find(|o| o.get("sku_id").is_some())
        .expect("ten trades have a sub-order with a SKU");
    let num_iid = o["num_iid"].as_u64().unwrap();
    let sku: u64 = o["sku_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        sim.quantity(num_iid, Some(sku)),
        Some(super::items::INITIAL_QUANTITY),
        "listed from the trade"
    );
    let secret = sim.config().app_secret.clone();
    let (n, s) = (num_iid.to_string(), sku.to_string());
    let v = quantity_update(
        &sim,
        &secret,
        &[
            ("num_iid", &n),
            ("sku_id", &s),
            ("quantity", "7"),
            ("type", "1"),
        ],
    )
    .await;
    let item = &v["item_quantity_update_response"]["item"];
    assert_eq!(item["num_iid"].as_u64(), Some(num_iid), "{v}");
    assert_eq!(item["skus"]["sku"][0]["sku_id"].as_u64(), Some(sku));
    assert_eq!(item["skus"]["sku"][0]["quantity"], 7);
    assert!(top::parse_time(item["modified"].as_str().unwrap()).is_some());
    assert_eq!(sim.quantity(num_iid, Some(sku)), Some(7));

    sim.add_item(42, None, "MUG-1");
    let v = quantity_update(&sim, &secret, &[("num_iid", "42"), ("quantity", "0")]).await;
    assert_eq!(
        v["item_quantity_update_response"]["item"]["quantity"], 0,
        "{v}"
    );
    let v = quantity_update(
        &sim,
        &secret,
        &[("num_iid", "42"), ("quantity", "3"), ("type", "2")],
    )
    .await;
    assert_eq!(
        v["item_quantity_update_response"]["item"]["quantity"], 3,
        "{v}"
    );
    assert_eq!(sim.quantity(42, None), Some(3));
    let log: Vec<(u64, Option<u64>, u8, i64)> = sim
        .quantity_updates()
        .iter()
        .map(|u| (u.num_iid, u.sku_id, u.update_type, u.quantity))
        .collect();
    assert_eq!(
        log,
        [
            (num_iid, Some(sku), 1, 7),
            (42, None, 1, 0),
            (42, None, 2, 3)
        ]
    );
}

/// Unknown items and SKUs get TOP's code-15 business errors; bad quantities are invalid parameters; none is logged.
#[tokio::test]
async fn quantity_update_refuses_unknown_items() {
    let sim = sim().await;
    sim.add_item(7, Some(70), "TEE-M");
    let secret = sim.config().app_secret.clone();
    let unknown = quantity_update(&sim, &secret, &[("num_iid", "8"), ("quantity", "1")]).await;
    assert_eq!(
        code(&unknown),
        (15, "isv.item-not-exist".into()),
        "{unknown}"
    );
    let bad_sku = quantity_update(
        &sim,
        &secret,
        &[("num_iid", "7"), ("sku_id", "71"), ("quantity", "1")],
    )
    .await;
    assert_eq!(
        code(&bad_sku),
        (15, "isv.item-is-delete:invalid-numIid-or-skuId".into())
    );
    let by_outer = quantity_update(
        &sim,
        &secret,
        &[("num_iid", "7"), ("outer_id", "TEE-M"), ("quantity", "4")],
    )
    .await;
    assert!(by_outer["error_response"].is_null(), "{by_outer}");
    assert_eq!(sim.quantity(7, Some(70)), Some(4), "outer_id finds the SKU");
    let no_sku = quantity_update(&sim, &secret, &[("num_iid", "7"), ("quantity", "1")]).await;
    assert_eq!(code(&no_sku), (15, "isv.invalid-parameter".into()));
    let negative = quantity_update(
        &sim,
        &secret,
        &[("num_iid", "7"), ("sku_id", "70"), ("quantity", "-1")],
    )
    .await;
    assert_eq!(code(&negative), (15, "isv.invalid-parameter".into()));
    let missing = quantity_update(&sim, &secret, &[("num_iid", "7"), ("sku_id", "70")]).await;
    assert_eq!(code(&missing).0, 40);
    assert_eq!(sim.quantity(7, Some(70)), Some(4));
    assert_eq!(
        sim.quantity_updates().len(),
        1,
        "only the good update is logged"
    );
}

/// A quantity update signed with the wrong secret is refused with code 25 and changes nothing.
#[tokio::test]
async fn quantity_update_with_a_bad_signature_is_rejected() {
    let sim = sim().await;
    sim.add_item(9, None, "CUP");
    let v = quantity_update(
        &sim,
        "not-the-secret",
        &[("num_iid", "9"), ("quantity", "5")],
    )
    .await;
    assert_eq!(code(&v), (25, "isv.invalid-signature".into()), "{v}");
    assert_eq!(sim.quantity(9, None), Some(super::items::INITIAL_QUANTITY));
    assert!(sim.quantity_updates().is_empty() && sim.calls().is_empty());
}
