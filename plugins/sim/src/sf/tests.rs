//! The simulated SF gateway over real HTTP, driven by a hand-rolled client that signs as
//! SF documents.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::*;
use crate::time::now_ms;

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", java_url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn call_with(sim: &SfSim, service: &str, msg: &Value, check_word: &str) -> Value {
    let msg = msg.to_string();
    let ts = now_ms().to_string();
    let body = form(&[
        ("partnerID", &sim.config().partner_id),
        ("requestID", "req-1"),
        ("serviceCode", service),
        ("timestamp", &ts),
        ("msgData", &msg),
        ("msgDigest", &digest(&msg, &ts, check_word)),
    ]);
    reqwest::Client::new()
        .post(format!("{}/std/service", sim.base_url()))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn call(sim: &SfSim, service: &str, msg: &Value) -> Value {
    call_with(sim, service, msg, &sim.config().check_word.clone()).await
}

/// The parsed `apiResultData` of an A1000 answer.
fn data(v: &Value) -> Value {
    assert_eq!(v["apiResultCode"], "A1000", "{v}");
    serde_json::from_str(v["apiResultData"].as_str().unwrap()).unwrap()
}

fn order(id: &str) -> Value {
    json!({
        "language": "zh-CN", "orderId": id, "monthlyCard": "7551234567", "expressTypeId": 2,
        "cargoDetails": [{"name": "T-shirt", "count": 1}],
        "contactInfoList": [
            {"contactType": 1, "contact": "Warehouse", "mobile": "13800000000",
             "province": "广东省", "city": "深圳市", "county": "南山区", "address": "科技园1号", "country": "CN"},
            {"contactType": 2, "contact": "Ann", "mobile": "13900000000",
             "province": "浙江省", "city": "杭州市", "county": "西湖区", "address": "文三路2号", "country": "CN"}
        ]
    })
}

async fn created(sim: &SfSim, id: &str) -> String {
    let d = data(&call(sim, "EXP_RECE_CREATE_ORDER", &order(id)).await);
    d["msgData"]["waybillNoInfoList"][0]["waybillNo"]
        .as_str()
        .unwrap()
        .to_string()
}

// The digest is Base64(MD5(Java-URL-encoded msgData + timestamp + checkWord)): spaces
// become '+', '*' stays, other bytes are %XX upper-case.
#[test]
fn digest_follows_the_documented_recipe() {
    assert_eq!(java_url_encode("a b*c~/好"), "a+b*c%7E%2F%E5%A5%BD");
    let expected = base64::engine::general_purpose::STANDARD.encode(Md5::digest(
        java_url_encode("{\"k\":\"v w\"}1700000000000cw").as_bytes(),
    ));
    assert_eq!(digest("{\"k\":\"v w\"}", "1700000000000", "cw"), expected);
    assert_ne!(digest("{}", "1", "cw"), digest("{}", "1", "cx"));
}

// A well-signed create books a waybill ("SF" + 13 digits); a second create of the same
// orderId is refused with 8016; a bad digest is A1006 and books nothing.
#[tokio::test]
async fn create_is_signed_and_deduplicated() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let no = created(&sim, "ORD-1").await;
    assert!(no.starts_with("SF") && no.len() == 15, "{no}");
    let again = data(&call(&sim, "EXP_RECE_CREATE_ORDER", &order("ORD-1")).await);
    assert_eq!(
        (again["success"].clone(), again["errorCode"].clone()),
        (json!(false), json!("8016"))
    );
    let bad = call_with(&sim, "EXP_RECE_CREATE_ORDER", &order("ORD-2"), "wrong").await;
    assert_eq!(bad["apiResultCode"], "A1006");
    assert!(bad["apiResultData"].is_null());
    assert_eq!(sim.waybills().len(), 1);
}

// Missing contact data is refused with SF's business codes, naming the party.
#[tokio::test]
async fn create_validates_the_contacts() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let mut o = order("ORD-3");
    o["contactInfoList"][1]["mobile"] = json!("");
    let d = data(&call(&sim, "EXP_RECE_CREATE_ORDER", &o).await);
    assert_eq!(d["errorCode"], "1016");
    let mut o = order("ORD-4");
    o["cargoDetails"] = json!([]);
    assert_eq!(
        data(&call(&sim, "EXP_RECE_CREATE_ORDER", &o).await)["errorCode"],
        "1023"
    );
    let mut o = order("ORD-5");
    o["monthlyCard"] = json!("0000000000");
    assert_eq!(
        data(&call(&sim, "EXP_RECE_CREATE_ORDER", &o).await)["errorCode"],
        "8114"
    );
    assert!(sim.waybills().is_empty());
}

// Injected faults answer in SF's shapes: A1005 flow control, A1099, and a bare HTTP 503;
// a missing field is A1001 and an unknown service A1004.
#[tokio::test]
async fn faults_and_gate_errors_use_platform_codes() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    sim.fail_next(1, Fault::flow_limited());
    sim.fail_next(1, Fault::system_error());
    sim.fail_next(1, Fault::Http(503));
    let o = order("ORD-6");
    assert_eq!(
        call(&sim, "EXP_RECE_CREATE_ORDER", &o).await["apiResultCode"],
        "A1005"
    );
    assert_eq!(
        call(&sim, "EXP_RECE_CREATE_ORDER", &o).await["apiResultCode"],
        "A1099"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/std/service", sim.base_url()))
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let missing = reqwest::Client::new()
        .post(format!("{}/std/service", sim.base_url()))
        .body(form(&[("partnerID", "WHARFSFTEST")]))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(missing["apiResultCode"], "A1001");
    assert_eq!(
        call(&sim, "EXP_RECE_NOPE", &o).await["apiResultCode"],
        "A1004"
    );
}

// Cancel (dealType 2) works before collection, answers 8037 when repeated, and is refused
// with 8038 once the parcel was collected.
#[tokio::test]
async fn cancel_is_refused_after_collection() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    created(&sim, "ORD-7").await;
    let cancel = |id: &str| json!({"orderId": id, "dealType": 2});
    assert_eq!(
        data(&call(&sim, "EXP_RECE_UPDATE_ORDER", &cancel("ORD-7")).await)["msgData"]["resStatus"],
        2
    );
    assert_eq!(
        data(&call(&sim, "EXP_RECE_UPDATE_ORDER", &cancel("ORD-7")).await)["errorCode"],
        "8037"
    );
    let no = created(&sim, "ORD-8").await;
    sim.advance(&no, "50").unwrap();
    assert_eq!(
        data(&call(&sim, "EXP_RECE_UPDATE_ORDER", &cancel("ORD-8")).await)["errorCode"],
        "8038"
    );
    assert!(!sim.waybill(&no).unwrap().cancelled);
    assert_eq!(
        data(&call(&sim, "EXP_RECE_UPDATE_ORDER", &cancel("NOPE")).await)["errorCode"],
        "8018"
    );
}

// Routes come back per waybill in scan order with GMT+8 times; the label is a PDF
// download that needs the token the cloud print issued.
#[tokio::test]
async fn routes_and_label_download() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let no = created(&sim, "ORD-9").await;
    sim.return_to_sender(&no).unwrap();
    let d = data(
        &call(
            &sim,
            "EXP_RECE_SEARCH_ROUTES",
            &json!({"trackingType": "1", "trackingNumber": [no], "methodType": "1"}),
        )
        .await,
    );
    let routes = d["msgData"]["routeResps"][0]["routes"]
        .as_array()
        .unwrap()
        .clone();
    let ops: Vec<&str> = routes
        .iter()
        .map(|r| r["opCode"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["50", "30", "31", "44", "70", "99", "8000"]);
    assert!(crate::common::parse_gmt8(routes[0]["acceptTime"].as_str().unwrap()).is_some());

    let template = format!("fm_76130_standard_{}", sim.config().partner_id);
    let p = data(
        &call(
            &sim,
            "COM_RECE_CLOUD_PRINT_WAYBILLS",
            &json!({"templateCode": template,
        "version": "2.0", "fileType": "pdf", "sync": true,
        "documents": [{"masterWaybillNo": no}]}),
        )
        .await,
    );
    assert_eq!(p["success"], true, "{p}");
    let file = &p["obj"]["files"][0];
    let url = file["url"].as_str().unwrap();
    let denied = reqwest::get(url).await.unwrap();
    assert_eq!(denied.status(), 401);
    let pdf = reqwest::Client::new()
        .get(url)
        .header("X-Auth-token", file["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf).contains(&no));
}

// The price query offers each product with a fee per started kg and refuses a missing
// destination.
#[tokio::test]
async fn price_query_prices_by_weight() {
    let sim = SfSim::start(SfSimConfig::default()).await.unwrap();
    let addr = json!({"province": "浙江省", "city": "杭州市"});
    let d = data(
        &call(
            &sim,
            "EXP_RECE_QUERY_DELIVERTM",
            &json!({"weight": 2.5, "searchPrice": "1",
        "srcAddress": addr, "destAddress": addr}),
        )
        .await,
    );
    let fees: Vec<(String, i64)> = d["msgData"]["deliverTmDto"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["businessType"].as_str().unwrap().to_string(),
                x["fee"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fees,
        [
            ("1".to_string(), 23 + 2 * 13),
            ("2".to_string(), 18 + 2 * 10)
        ]
    );
    let e = data(
        &call(
            &sim,
            "EXP_RECE_QUERY_DELIVERTM",
            &json!({"srcAddress": addr}),
        )
        .await,
    );
    assert_eq!(e["errorCode"], "S0002");
}
