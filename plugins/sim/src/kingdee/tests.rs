//! The simulator over real HTTP: login and its cookie, voucher validation in Kingdee's
//! error shape, numbering, the bill query and injected faults.

use serde_json::{json, Value};

use super::*;

async fn post(sim: &KingdeeSim, service: &str, session: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/{service}.common.kdsvc", sim.base_url()))
        .json(&body);
    if let Some(s) = session {
        req = req.header("cookie", format!("kdservice-sessionid={s}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn login(sim: &KingdeeSim) -> String {
    let c = sim.config();
    let (_, v) = post(
        sim,
        "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser",
        None,
        json!({"acctID": c.acct_id, "username": c.username, "password": c.password, "lcid": 2052}),
    )
    .await;
    assert_eq!(v["LoginResultType"], 1, "{v}");
    v["KDSVCSessionId"].as_str().unwrap().to_string()
}

fn voucher(bill: &str, debit: Value, credit: Value, account: &str) -> Value {
    json!({"formid": "GL_VOUCHER", "data": {"Model": {
    "FAccountBookID": {"FNumber": "001"}, "FDate": "2024-05-31",
    "FVOUCHERGROUPID": {"FNumber": "PRE001"}, "FBillNo": bill,
    "FEntity": [
        {"FEXPLANATION": "net", "FACCOUNTID": {"FNumber": "1002"}, "FDEBIT": debit, "FCREDIT": 0},
        {"FEXPLANATION": "sales", "FACCOUNTID": {"FNumber": account}, "FDEBIT": 0, "FCREDIT": credit}
    ]}}})
}

const SAVE: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save";
const QUERY: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery";

// A wrong password is LoginResultType 0; a call without a live session is answered with
// the lost-session message (MsgCode 1).
#[tokio::test]
async fn login_is_required() {
    let sim = KingdeeSim::start(KingdeeSimConfig::default())
        .await
        .unwrap();
    let (_, v) = post(
        &sim,
        "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser",
        None,
        json!({"acctID": sim.config().acct_id, "username": "wharf-api", "password": "nope", "lcid": 2052}),
    )
    .await;
    assert_eq!(v["LoginResultType"], 0);
    let (status, v) = post(
        &sim,
        SAVE,
        Some("forged"),
        voucher("B1", json!(1), json!(1), "6001"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["Result"]["ResponseStatus"]["MsgCode"], 1);
    assert!(sim.vouchers().is_empty());
}

// A balanced voucher is stored and numbered 记-0001; unbalanced, unknown-account and
// duplicate-bill-number vouchers are refused with FieldName/Message errors; the query
// finds the stored one by FBillNo.
#[tokio::test]
async fn validates_stores_and_queries_vouchers() {
    let sim = KingdeeSim::start(KingdeeSimConfig::default())
        .await
        .unwrap();
    let s = login(&sim).await;
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B1", json!(12.34), json!("12.34"), "6001"),
    )
    .await;
    assert_eq!(v["Result"]["ResponseStatus"]["IsSuccess"], true, "{v}");
    assert_eq!(v["Result"]["Number"], "记-0001");
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B2", json!(12.34), json!(12.35), "6001"),
    )
    .await;
    assert!(v["Result"]["ResponseStatus"]["Errors"][0]["Message"]
        .as_str()
        .unwrap()
        .contains("不平衡"));
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B3", json!(1), json!(1), "9999"),
    )
    .await;
    assert_eq!(
        v["Result"]["ResponseStatus"]["Errors"][0]["FieldName"],
        "FACCOUNTID"
    );
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B1", json!(1), json!(1), "6001"),
    )
    .await;
    assert_eq!(
        v["Result"]["ResponseStatus"]["Errors"][0]["FieldName"],
        "FBillNo"
    );
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B4", json!(1.005), json!(1.005), "6001"),
    )
    .await;
    assert_eq!(
        v["Result"]["ResponseStatus"]["IsSuccess"], false,
        "sub-cent amount refused"
    );
    assert_eq!(sim.vouchers().len(), 1);
    assert_eq!(sim.vouchers()[0].entries[0].debit, 1234);
    let (_, rows) = post(
        &sim,
        QUERY,
        Some(&s),
        json!({"data": {"FormId": "GL_VOUCHER",
        "FieldKeys": "FVOUCHERID,FVOUCHERGROUPID.FName,FVOUCHERGROUPNO",
        "FilterString": "FBillNo='B1' and FAccountBookID.FNumber='001'"}}),
    )
    .await;
    assert_eq!(rows, json!([[100001, "记", "1"]]));
    let (_, rows) = post(
        &sim,
        QUERY,
        Some(&s),
        json!({"data": {"FormId": "GL_VOUCHER",
        "FieldKeys": "FVOUCHERID", "FilterString": "FBillNo='B1'' or ''1''=''1'"}}),
    )
    .await;
    assert_eq!(rows, json!([]), "a quoted value is matched literally");
}

// A lost response commits the voucher and answers 502; a server fault answers 503 and
// stores nothing; expired sessions answer the lost-session message.
#[tokio::test]
async fn injected_faults() {
    let sim = KingdeeSim::start(KingdeeSimConfig::default())
        .await
        .unwrap();
    let s = login(&sim).await;
    sim.push_fault(Fault::Server(503));
    let (status, _) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B1", json!(1), json!(1), "6001"),
    )
    .await;
    assert_eq!(status, 503);
    assert!(sim.vouchers().is_empty());
    sim.push_fault(Fault::LostResponse);
    let (status, _) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B1", json!(1), json!(1), "6001"),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(sim.vouchers().len(), 1);
    sim.push_fault(Fault::ExpireSessions);
    let (_, v) = post(
        &sim,
        SAVE,
        Some(&s),
        voucher("B2", json!(1), json!(1), "6001"),
    )
    .await;
    assert_eq!(v["Result"]["ResponseStatus"]["MsgCode"], 1);
}
