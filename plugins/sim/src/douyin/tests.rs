//! The simulated gateway over real HTTP: signing, the window rules, newest-first paging,
//! doudian's error codes, injected faults, order detail and stock sync.

use serde_json::{json, Value};

use super::protocol::{self, DoudianError};
use super::{DouyinSim, DouyinSimConfig, Fault};
use crate::time;

const HOUR: i64 = 3_600;

async fn sim() -> DouyinSim {
    DouyinSim::start(DouyinSimConfig::default()).await.unwrap()
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

/// A signed call of `method` with `param_json` sent verbatim, the query's
/// `overrides` replacing the defaults (sign computed before overriding).
async fn call_raw(
    sim: &DouyinSim,
    secret: &str,
    method: &str,
    param_json: &str,
    overrides: &[(&str, &str)],
) -> Value {
    let cfg = sim.config();
    let ts = (time::now_ms() / 1000).to_string();
    let payload = protocol::sign_string(secret, &cfg.app_key, method, param_json, &ts, "2");
    let sign = protocol::sign_hmac_sha256(secret, &payload);
    let mut q: Vec<(&str, String)> = vec![
        ("app_key", cfg.app_key.clone()),
        ("method", method.into()),
        ("access_token", cfg.access_token.clone()),
        ("param_json", param_json.into()),
        ("timestamp", ts),
        ("v", "2".into()),
        ("sign_method", "hmac-sha256".into()),
        ("sign", sign),
    ];
    for (k, v) in overrides {
        q.retain(|(n, _)| n != k);
        q.push((k, v.to_string()));
    }
    let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    let url = format!(
        "{}/{}?{}",
        sim.base_url(),
        method.replace('.', "/"),
        query.join("&")
    );
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(param_json.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "doudian answers errors with HTTP 200 too");
    r.json().await.unwrap()
}

async fn call(sim: &DouyinSim, method: &str, params: Value) -> Value {
    let secret = sim.config().app_secret.clone();
    call_raw(sim, &secret, method, &protocol::canonical(&params), &[]).await
}

fn code(v: &Value) -> (i64, String) {
    (
        v["code"].as_i64().unwrap_or(-1),
        v["sub_code"].as_str().unwrap_or("").to_string(),
    )
}

async fn list(sim: &DouyinSim, start: i64, end: i64, page: i64, size: i64) -> Value {
    call(
        sim,
        "order.searchList",
        json!({"update_time_start": start, "update_time_end": end, "page": page,
               "size": size, "order_by": "update_time", "order_asc": false}),
    )
    .await
}

// A wrong secret, a parameter altered after signing, or a param_json not in canonical
// form (unsorted keys) is refused with 40004 and doudian's error envelope.
#[tokio::test]
async fn bad_signatures_are_rejected() {
    let sim = sim().await;
    let now = time::now_ms() / 1000;
    let ok = list(&sim, now - HOUR, now, 0, 10).await;
    assert_eq!(ok["code"], 10_000, "{ok}");
    assert_eq!(ok["data"]["total"], 0);

    let p = r#"{"shop_order_id":"1"}"#;
    let wrong = call_raw(&sim, "not-the-secret", "order.orderDetail", p, &[]).await;
    assert_eq!(code(&wrong), (40_004, "isv.signature-invalid".into()));
    assert_eq!(wrong["data"], json!({}));
    assert!(wrong["log_id"].as_str().is_some() && wrong["msg"].as_str().is_some());

    let secret = sim.config().app_secret.clone();
    let tampered = call_raw(
        &sim,
        &secret,
        "order.orderDetail",
        p,
        &[("timestamp", &(now - 5).to_string())],
    )
    .await;
    assert_eq!(code(&tampered).0, 40_004);

    let unsorted = r#"{"size":10,"page":0}"#;
    let v = call_raw(&sim, &secret, "order.searchList", unsorted, &[]).await;
    assert_eq!(code(&v).0, 40_004, "{v}");
    let padded = r#"{"shop_order_id": "1"}"#;
    assert_eq!(
        code(&call_raw(&sim, &secret, "order.orderDetail", padded, &[]).await).0,
        40_004
    );
    assert_eq!(sim.calls().len(), 1, "only the good call was admitted");
}

// Windows over the maximum, backwards windows and pages over 100 are 40002; one day is fine.
#[tokio::test]
async fn windows_and_sizes_are_limited() {
    let sim = sim().await;
    let end = time::now_ms() / 1000;
    let day = sim.config().max_window_secs;
    assert_eq!(
        code(&list(&sim, end - day - 1, end, 0, 10).await),
        (40_002, "isv.parameter-invalid".into())
    );
    assert_eq!(code(&list(&sim, end, end, 0, 10).await).0, 40_002);
    assert_eq!(list(&sim, end - day, end, 0, 10).await["code"], 10_000);
    assert_eq!(code(&list(&sim, end - HOUR, end, 0, 101).await).0, 40_002);
    assert_eq!(code(&list(&sim, end - HOUR, end, -1, 10).await).0, 40_002);
    let missing = call(
        &sim,
        "order.searchList",
        json!({"order_by": "update_time", "size": 10}),
    )
    .await;
    assert_eq!(code(&missing), (40_001, "isv.missing-parameter".into()));
}

// Pages (from 0) come newest-updated first with the window's total; pages tile the window.
#[tokio::test]
async fn pages_are_newest_first() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(25, 3, now - 2 * HOUR * 1000, now - 60_000);
    let mut seen = Vec::new();
    for page in 0..3 {
        let v = list(&sim, now / 1000 - 3 * HOUR, now / 1000, page, 10).await;
        let d = &v["data"];
        assert_eq!(
            (d["total"].as_i64(), d["page"].as_i64(), d["size"].as_i64()),
            (Some(25), Some(page), Some(10)),
            "{v}"
        );
        for o in d["shop_order_list"].as_array().unwrap() {
            seen.push((
                o["update_time"].as_i64().unwrap(),
                o["order_id"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] >= w[1]),
        "update_time DESC: {seen:?}"
    );
    assert_eq!(
        seen[0].1,
        made[24]["order_id"].as_str().unwrap(),
        "the newest first"
    );
    let past = list(&sim, now / 1000 - 3 * HOUR, now / 1000, 3, 10).await;
    assert_eq!(past["data"]["shop_order_list"], json!([]));
    let asc = call(&sim, "order.searchList", json!({"update_time_start": now / 1000 - 3 * HOUR,
        "update_time_end": now / 1000, "page": 0, "size": 1, "order_by": "update_time", "order_asc": true})).await;
    assert_eq!(
        asc["data"]["shop_order_list"][0]["order_id"],
        made[0]["order_id"]
    );
}

// An edited order leaves its old window and becomes the newest of a window containing now.
#[tokio::test]
async fn an_update_moves_an_order_to_page_zero() {
    let sim = sim().await;
    let now = time::now_ms();
    let made = sim.generate_orders(5, 4, now - 2 * HOUR * 1000, now - HOUR * 1000);
    let id: u64 = made[0]["order_id"].as_str().unwrap().parse().unwrap();
    sim.update_order(id, |o| o["seller_words"] = "改地址".into())
        .unwrap();
    let old = list(&sim, now / 1000 - 3 * HOUR, now / 1000 - HOUR, 0, 10).await;
    assert_eq!(old["data"]["total"], 4);
    let fresh = list(&sim, now / 1000 - 3 * HOUR, now / 1000 + 2, 0, 1).await;
    assert_eq!(
        fresh["data"]["shop_order_list"][0]["order_id"],
        made[0]["order_id"]
    );
}

// Token, app key, version, path and timestamp errors carry doudian's codes; injected faults come first.
#[tokio::test]
async fn error_codes_and_faults() {
    let sim = sim().await;
    let secret = sim.config().app_secret.clone();
    let p = r#"{"shop_order_id":"1"}"#;
    assert_eq!(
        code(
            &call_raw(
                &sim,
                &secret,
                "order.orderDetail",
                p,
                &[("access_token", "stale")]
            )
            .await
        ),
        (30_001, "isv.access-token-no-exist".into())
    );
    assert_eq!(
        code(&call_raw(&sim, &secret, "order.orderDetail", p, &[("app_key", "999")]).await).0,
        40_003
    );
    assert_eq!(
        code(&call_raw(&sim, &secret, "order.orderDetail", p, &[("v", "1")]).await).0,
        40_002
    );
    let stale = (time::now_ms() / 1000 - 3600).to_string();
    assert_eq!(
        code(
            &call_raw(
                &sim,
                &secret,
                "order.orderDetail",
                p,
                &[("timestamp", &stale)]
            )
            .await
        )
        .0,
        40_002
    );
    assert_eq!(
        code(
            &call_raw(
                &sim,
                &secret,
                "order.orderDetail",
                p,
                &[("method", "order.searchList")]
            )
            .await
        )
        .0,
        40_002,
        "path and method disagree"
    );
    let missing = call(&sim, "order.orderDetail", json!({"shop_order_id": "1"})).await;
    assert_eq!(
        code(&missing),
        (50_002, "isv.business-failed:order_not_exist".into())
    );

    sim.fail_next(1, Fault::Doudian(DoudianError::flow_limited()));
    sim.fail_next(1, Fault::Doudian(DoudianError::service_unavailable()));
    sim.fail_next(1, Fault::Doudian(DoudianError::token_expired()));
    sim.fail_next(1, Fault::Http(502));
    let good = json!({"shop_order_id": "1"});
    assert_eq!(
        code(&call(&sim, "order.orderDetail", good.clone()).await),
        (90_000, "isp.flow-limit".into())
    );
    assert_eq!(
        code(&call(&sim, "order.orderDetail", good.clone()).await),
        (20_000, "isp.service-error".into())
    );
    assert_eq!(code(&call(&sim, "order.orderDetail", good).await).0, 30_002);
    let r = reqwest::Client::new()
        .post(format!("{}/order/orderDetail", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
}

// orderDetail returns the stored order; the md5 sign method and a Beijing-time timestamp work too.
#[tokio::test]
async fn order_detail_reads_one_order() {
    let sim = sim().await;
    let o = sim.generate_order(9, time::now_ms());
    let id = o["order_id"].as_str().unwrap().to_string();
    let v = call(&sim, "order.orderDetail", json!({"shop_order_id": id})).await;
    assert_eq!(v["data"]["shop_order_detail"], o, "{v}");

    let cfg = sim.config().clone();
    let ts = time::format_offset(time::now_ms(), 480)[..19].replacen('T', " ", 1);
    let pj = protocol::canonical(&json!({"shop_order_id": id}));
    let sign = protocol::sign_md5(&protocol::sign_string(
        &cfg.app_secret,
        &cfg.app_key,
        "order.orderDetail",
        &pj,
        &ts,
        "2",
    ));
    let url = format!(
        "{}/order/orderDetail?app_key={}&method=order.orderDetail&access_token={}&param_json={}&timestamp={}&v=2&sign={sign}",
        sim.base_url(), cfg.app_key, cfg.access_token, enc(&pj), enc(&ts)
    );
    let v: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], 10_000, "{v}");
    assert_eq!(sim.calls().last().unwrap().params["shop_order_id"], id);
}

// syncStock sets (or adds to) a SKU's stock by sku_id or code; an unknown SKU is a business failure.
#[tokio::test]
async fn sync_stock_keeps_the_last_quantity() {
    let sim = sim().await;
    sim.add_sku(1_780_000_000_000_001, "CUP-1");
    let set = |p: Value| call(&sim, "sku.syncStock", p);
    assert_eq!(
        set(json!({"sku_id": 1_780_000_000_000_001u64, "stock_num": 7, "incremental": false}))
            .await["code"],
        10_000
    );
    assert_eq!(sim.stock(1_780_000_000_000_001), Some(7));
    assert_eq!(
        set(json!({"code": "CUP-1", "stock_num": 3, "incremental": true})).await["code"],
        10_000
    );
    assert_eq!(sim.stock(1_780_000_000_000_001), Some(10));
    let unknown = set(json!({"sku_id": 42, "stock_num": 1, "incremental": false})).await;
    assert_eq!(
        code(&unknown),
        (50_002, "isv.business-failed:sku_not_exist".into())
    );
    assert_eq!(
        code(&set(json!({"sku_id": 1_780_000_000_000_001u64, "stock_num": -1})).await).0,
        40_002
    );
    assert_eq!(sim.stock(42), None);
}
