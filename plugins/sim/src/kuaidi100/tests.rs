//! The simulated Kuaidi100 query over real HTTP, signed by hand as Kuaidi100 documents.

use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::*;

async fn post(sim: &Kuaidi100Sim, param: &Value, key: &str) -> Value {
    let param = param.to_string();
    let customer = sim.config().customer.clone();
    let body = format!(
        "customer={customer}&sign={}&param={}",
        sign(&param, key, &customer),
        crate::sf::java_url_encode(&param)
    );
    reqwest::Client::new()
        .post(format!("{}/poll/query.do", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

// The signature is upper-case hex MD5 of param + key + customer.
#[test]
fn sign_is_upper_md5_of_param_key_customer() {
    let s = sign("{\"com\":\"yunda\"}", "k", "C");
    assert_eq!(s, hex::encode_upper(Md5::digest(b"{\"com\":\"yunda\"}kC")));
    assert!(s.chars().all(|c| !c.is_ascii_lowercase()));
}

// A signed query answers the parcel's scans newest first with the latest state; with
// resultv2 each item carries its state word; ischeck is 1 once signed.
#[tokio::test]
async fn answers_scans_newest_first() {
    let sim = Kuaidi100Sim::start(Kuaidi100SimConfig::default())
        .await
        .unwrap();
    sim.register("yuantong", "YT100", None).unwrap();
    for s in ["1", "0", "5", "3"] {
        sim.advance("YT100", s).unwrap();
    }
    let key = sim.config().key.clone();
    let r = post(
        &sim,
        &json!({"com": "yuantong", "num": "YT100", "resultv2": "1"}),
        &key,
    )
    .await;
    assert_eq!(
        (
            r["status"].clone(),
            r["state"].clone(),
            r["ischeck"].clone()
        ),
        (json!("200"), json!("3"), json!("1"))
    );
    let words: Vec<&str> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["签收", "派件", "在途", "揽收"]);
    assert!(crate::common::parse_gmt8(r["data"][0]["time"].as_str().unwrap()).is_some());
}

// Errors use returnCodes: 503 bad signature, 400 unknown company, 500 no result, 408 a
// shunfeng phone mismatch, and injected 502/501 and HTTP 500.
#[tokio::test]
async fn errors_use_return_codes() {
    let sim = Kuaidi100Sim::start(Kuaidi100SimConfig::default())
        .await
        .unwrap();
    let key = sim.config().key.clone();
    sim.register("shunfeng", "SF1", Some("13812345678"))
        .unwrap();
    sim.advance("SF1", "1").unwrap();
    let code = |v: Value| v["returnCode"].as_str().unwrap_or("").to_string();
    let q = json!({"com": "shunfeng", "num": "SF1", "phone": "5678"});
    assert_eq!(code(post(&sim, &q, "wrong").await), "503");
    assert_eq!(post(&sim, &q, &key).await["state"], "1");
    assert_eq!(
        code(
            post(
                &sim,
                &json!({"com": "shunfeng", "num": "SF1", "phone": "0000"}),
                &key
            )
            .await
        ),
        "408"
    );
    assert_eq!(
        code(post(&sim, &json!({"com": "nope", "num": "SF1"}), &key).await),
        "400"
    );
    assert_eq!(
        code(post(&sim, &json!({"com": "yunda", "num": "X"}), &key).await),
        "500"
    );
    sim.fail_next(1, Fault::busy());
    sim.fail_next(1, Fault::server_error());
    assert_eq!(code(post(&sim, &q, &key).await), "502");
    assert_eq!(code(post(&sim, &q, &key).await), "501");
    sim.fail_next(1, Fault::Http(500));
    let r = reqwest::Client::new()
        .post(format!("{}/poll/query.do", sim.base_url()))
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(
        sim.advance("SF1", "99").is_err(),
        "undocumented states are refused"
    );
}
