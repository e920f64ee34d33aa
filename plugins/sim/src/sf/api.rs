//! The `/std/service` gateway of the simulated SF open platform and the label download.
//!
//! Every request passes the gate in this order: injected fault; the required form fields
//! `partnerID`, `requestID`, `serviceCode`, `timestamp`, `msgData`, `msgDigest` (A1001);
//! the partner and a service it may call (A1004); `timestamp` in ms within the allowed
//! skew (A1002); the digest recomputed over `msgData + timestamp + checkWord` (A1006).
//! Platform answers are HTTP 200 with `{apiResultCode, apiErrorMsg, apiResponseID,
//! apiResultData}`; a business failure is `apiResultCode: A1000` with `success: false`,
//! `errorCode`, `errorMsg` inside `apiResultData`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{digest, pdf, Call, Fault, Route, SfSim, Waybill};
use crate::common::{decode_form, format_gmt8};
use crate::time;

pub(crate) const CREATE_ORDER: &str = "EXP_RECE_CREATE_ORDER";
pub(crate) const SEARCH_ORDER: &str = "EXP_RECE_SEARCH_ORDER_RESP";
pub(crate) const UPDATE_ORDER: &str = "EXP_RECE_UPDATE_ORDER";
pub(crate) const SEARCH_ROUTES: &str = "EXP_RECE_SEARCH_ROUTES";
pub(crate) const QUERY_DELIVERTM: &str = "EXP_RECE_QUERY_DELIVERTM";
pub(crate) const CLOUD_PRINT: &str = "COM_RECE_CLOUD_PRINT_WAYBILLS";
const SERVICES: [&str; 6] = [
    CREATE_ORDER,
    SEARCH_ORDER,
    UPDATE_ORDER,
    SEARCH_ROUTES,
    QUERY_DELIVERTM,
    CLOUD_PRINT,
];

/// The products the simulated price query offers: code, name, first-kg fee and each
/// further started kg in yuan, promised days.
pub(crate) const PRODUCTS: [(&str, &str, i64, i64, i64); 2] =
    [("1", "顺丰特快", 23, 13, 1), ("2", "顺丰标快", 18, 10, 2)];

pub(crate) fn router(sim: SfSim) -> Router {
    Router::new()
        .route("/std/service", post(service))
        .route("/print-file/{file}", get(download))
        .with_state(sim)
}

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn envelope(sim: &SfSim, code: &str, message: &str, data: Option<String>) -> Response {
    let id = format!("{:032X}", sim.state().requests as u128 * 7919 + 0xA1);
    Json(json!({
        "apiResultCode": code,
        "apiErrorMsg": message,
        "apiResponseID": id,
        "apiResultData": data,
    }))
    .into_response()
}

async fn service(State(sim): State<SfSim>, headers: HeaderMap, body: Bytes) -> Response {
    let params = decode_form(&String::from_utf8_lossy(&body));
    // Print files are served from the host the client addressed (SF serves them from its
    // own storage hosts; the simulator from itself).
    let origin = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| sim.base_url());
    sim.state().requests += 1;
    match gate(&sim, &params) {
        Err(Fault::Http(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, status.canonical_reason().unwrap_or("error")).into_response()
        }
        Err(Fault::Api { code, message }) => envelope(&sim, &code, &message, None),
        Ok(call) => {
            let data = dispatch(&sim, &call, &origin);
            envelope(&sim, "A1000", "", Some(data.to_string()))
        }
    }
}

fn api(code: &str, message: &str) -> Fault {
    Fault::Api {
        code: code.into(),
        message: message.into(),
    }
}

/// The admission checks; `Err` is the answer to give instead.
fn gate(sim: &SfSim, params: &Params) -> Result<Call, Fault> {
    if let Some(fault) = sim.state().faults.pop_front() {
        return Err(fault);
    }
    let cfg = sim.config();
    let required = [
        "partnerID",
        "requestID",
        "serviceCode",
        "timestamp",
        "msgData",
        "msgDigest",
    ];
    if let Some(missing) = required.iter().find(|k| param(params, k).is_none()) {
        return Err(api("A1001", &format!("必传参数不可为空: {missing}")));
    }
    let get = |k: &str| param(params, k).unwrap_or("");
    let service_code = get("serviceCode");
    if get("partnerID") != cfg.partner_id || !SERVICES.contains(&service_code) {
        return Err(api("A1004", "无对应服务权限"));
    }
    let timestamp = get("timestamp");
    match timestamp.parse::<i64>() {
        Ok(ms) if (ms - time::now_ms()).abs() <= cfg.max_clock_skew_ms => {}
        _ => return Err(api("A1002", "请求时效已过期")),
    }
    let msg_data = get("msgData");
    if get("msgDigest") != digest(msg_data, timestamp, &cfg.check_word) {
        return Err(api("A1006", "数字签名无效"));
    }
    let call = Call {
        service_code: service_code.to_string(),
        request_id: get("requestID").to_string(),
        msg_data: serde_json::from_str(msg_data).unwrap_or(Value::Null),
    };
    sim.state().calls.push(call.clone());
    Ok(call)
}

/// A business failure: `errorCode` + `errorMsg`.
struct Biz(String, String);

fn biz(code: &str, message: impl Into<String>) -> Biz {
    Biz(code.into(), message.into())
}

fn dispatch(sim: &SfSim, call: &Call, origin: &str) -> Value {
    let Value::Object(m) = &call.msg_data else {
        return result(Err(biz("S0001", "非法的JSON格式")));
    };
    match call.service_code.as_str() {
        CREATE_ORDER => result(create_order(sim, m)),
        SEARCH_ORDER => result(search_order(sim, m)),
        UPDATE_ORDER => result(update_order(sim, m)),
        SEARCH_ROUTES => result(search_routes(sim, m)),
        QUERY_DELIVERTM => result(query_delivertm(m)),
        _ => cloud_print(sim, m, &call.request_id, origin),
    }
}

/// The `apiResultData` of every service but the cloud print.
fn result(r: Result<Value, Biz>) -> Value {
    match r {
        Ok(msg_data) => {
            json!({"success": true, "errorCode": "S0000", "errorMsg": null, "msgData": msg_data})
        }
        Err(Biz(code, msg)) => {
            json!({"success": false, "errorCode": code, "errorMsg": msg, "msgData": null})
        }
    }
}

/// A field as text: strings trimmed, numbers written out; empty is absent.
fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn waybill_list(no: &str) -> Value {
    json!([{"waybillType": 1, "waybillNo": no}])
}

fn create_order(sim: &SfSim, m: &Map<String, Value>) -> Result<Value, Biz> {
    let order_id = text(m, "orderId").ok_or_else(|| biz("6118", "订单号不能为空"))?;
    let contacts = m
        .get("contactInfoList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let find = |kind: i64| {
        contacts
            .iter()
            .find(|c| c.get("contactType").and_then(Value::as_i64) == Some(kind))
            .and_then(Value::as_object)
            .cloned()
    };
    // (contactType, name code, phone code, address code, who)
    let mut parties = Vec::new();
    for (kind, name_code, phone_code, addr_code, who) in [
        (1, "1011", "1012", "1010", "寄件"),
        (2, "1015", "1016", "1014", "到件"),
    ] {
        let c = find(kind).ok_or_else(|| biz(addr_code, format!("{who}地址不能为空")))?;
        if text(&c, "contact").is_none() {
            return Err(biz(name_code, format!("{who}联系人不能为空")));
        }
        if text(&c, "tel").is_none() && text(&c, "mobile").is_none() {
            return Err(biz(phone_code, format!("{who}电话不能为空")));
        }
        if text(&c, "address").is_none() {
            return Err(biz(addr_code, format!("{who}地址不能为空")));
        }
        parties.push(Value::Object(c));
    }
    let cargo_ok = m
        .get("cargoDetails")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            !a.is_empty()
                && a.iter()
                    .all(|c| c.as_object().and_then(|o| text(o, "name")).is_some())
        });
    if !cargo_ok {
        return Err(biz("1023", "托寄物品名不能为空"));
    }
    let monthly_card = text(m, "monthlyCard");
    if let (Some(want), Some(got)) = (&sim.config().month_card, &monthly_card) {
        if want != got {
            return Err(biz("8114", "传入了不可识别的月结卡号"));
        }
    }
    let express_type_id = text(m, "expressTypeId").unwrap_or_else(|| "1".into());
    if !PRODUCTS.iter().any(|p| p.0 == express_type_id) {
        return Err(biz("8003", "快件产品类别不正确"));
    }
    let mut st = sim.state();
    if st.by_order.contains_key(&order_id) {
        return Err(biz("8016", "重复下单"));
    }
    let no = format!("SF{}", st.next_no);
    st.next_no += 1;
    let receiver = parties.pop().unwrap_or_default();
    let sender = parties.pop().unwrap_or_default();
    st.by_order.insert(order_id.clone(), no.clone());
    st.waybills.insert(
        no.clone(),
        Waybill {
            order_id: order_id.clone(),
            waybill_no: no.clone(),
            express_type_id,
            sender,
            receiver,
            monthly_card,
            cancelled: false,
            routes: Vec::new(),
        },
    );
    Ok(json!({
        "orderId": order_id,
        "originCode": "755",
        "destCode": "571",
        "filterResult": 2,
        "remark": "",
        "waybillNoInfoList": waybill_list(&no),
        "routeLabelInfo": [{"code": "1000", "message": "",
                            "routeLabelData": {"waybillNo": no, "destRouteLabel": "571AA"}}],
    }))
}

/// The shipment named by `orderId` or, failing that, `mainWaybillNo`.
fn lookup(sim: &SfSim, m: &Map<String, Value>) -> Result<Waybill, Biz> {
    let st = sim.state();
    let by_order = text(m, "orderId").and_then(|o| st.by_order.get(&o).cloned());
    let no = by_order.or_else(|| text(m, "mainWaybillNo"));
    no.and_then(|n| st.waybills.get(&n).cloned())
        .ok_or_else(|| biz("8018", "未获取到订单信息"))
}

fn search_order(sim: &SfSim, m: &Map<String, Value>) -> Result<Value, Biz> {
    if text(m, "orderId").is_none() && text(m, "mainWaybillNo").is_none() {
        return Err(biz("6135", "未传入订单信息"));
    }
    let w = lookup(sim, m)?;
    Ok(json!({
        "orderId": w.order_id,
        "origincode": "755",
        "destcode": "571",
        "filterResult": "2",
        "waybillNoInfoList": waybill_list(&w.waybill_no),
    }))
}

fn update_order(sim: &SfSim, m: &Map<String, Value>) -> Result<Value, Biz> {
    let order_id = text(m, "orderId").ok_or_else(|| biz("6118", "订单号不能为空"))?;
    let w = lookup(sim, m)?;
    let named: Vec<String> = m
        .get("waybillNoInfoList")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_object().and_then(|o| text(o, "waybillNo")))
                .collect()
        })
        .unwrap_or_default();
    if named.iter().any(|n| *n != w.waybill_no) {
        return Err(biz("8017", "订单号与运单号不匹配"));
    }
    let deal_type = text(m, "dealType").unwrap_or_else(|| "1".into());
    let mut st = sim.state();
    let stored = st
        .waybills
        .get_mut(&w.waybill_no)
        .ok_or_else(|| biz("8018", "未获取到订单信息"))?;
    match deal_type.as_str() {
        "2" if stored.cancelled => return Err(biz("8037", "已消单")),
        "2" if !stored.routes.is_empty() => return Err(biz("8038", "快件已揽收，不能取消订单")),
        "2" => stored.cancelled = true,
        "1" if stored.cancelled => return Err(biz("8253", "订单已取消")),
        "1" => return Err(biz("8252", "订单已确认")),
        _ => return Err(biz("S0005", "dealType 超出允许的值")),
    }
    Ok(json!({
        "orderId": order_id,
        "waybillNoInfoList": waybill_list(&w.waybill_no),
        "resStatus": 2,
        "extraInfoList": null,
    }))
}

fn route_json(r: &Route) -> Value {
    json!({
        "acceptTime": format_gmt8(r.accept_ms),
        "acceptAddress": r.accept_address,
        "remark": r.remark,
        "opCode": r.op_code,
    })
}

fn search_routes(sim: &SfSim, m: &Map<String, Value>) -> Result<Value, Biz> {
    let tracking_type = text(m, "trackingType").unwrap_or_else(|| "1".into());
    let numbers: Vec<String> = match m.get("trackingNumber") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    let numbers: Vec<String> = numbers.into_iter().filter(|n| !n.is_empty()).collect();
    if numbers.is_empty() {
        return Err(biz("S0002", "必填参数trackingNumber为空"));
    }
    if numbers.len() > 10 {
        return Err(biz("S0004", "trackingNumber 超过最大数量10"));
    }
    let st = sim.state();
    let resps: Vec<Value> = numbers
        .iter()
        .map(|n| {
            let no = match tracking_type.as_str() {
                "2" => st.by_order.get(n).cloned().unwrap_or_else(|| n.clone()),
                _ => n.clone(),
            };
            // A waybill of another customer answers with no routes (ownership is checked).
            let routes: Vec<Value> = st
                .waybills
                .get(&no)
                .map(|w| w.routes.iter().map(route_json).collect())
                .unwrap_or_default();
            json!({"mailNo": no, "routes": routes})
        })
        .collect();
    Ok(json!({"routeResps": resps}))
}

fn query_delivertm(m: &Map<String, Value>) -> Result<Value, Biz> {
    for key in ["srcAddress", "destAddress"] {
        let ok = m.get(key).and_then(Value::as_object).is_some_and(|a| {
            text(a, "code").is_some()
                || (text(a, "province").is_some() && text(a, "city").is_some())
                || text(a, "address").is_some()
        });
        if !ok {
            return Err(biz("S0002", format!("必填参数{key}为空")));
        }
    }
    // Weight in kg (up to 2 decimals), > 0 when given; billed per started kg.
    let grams = match m.get("weight") {
        None | Some(Value::Null) => 1000,
        Some(v) => {
            let kg = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| biz("S0007", "参数weight数据类型错误"))?;
            if kg <= 0.0 {
                return Err(biz("S0006", "参数weight不能小于0"));
            }
            (kg * 1000.0).round() as i64
        }
    };
    let kg = (grams + 999) / 1000;
    let with_price = text(m, "searchPrice").as_deref() == Some("1");
    let wanted = text(m, "businessType");
    let now = time::now_ms();
    let dtos: Vec<Value> = PRODUCTS
        .iter()
        .filter(|p| wanted.as_deref().is_none_or(|w| w == p.0))
        .map(|(code, name, first, more, days)| {
            let deliver = format_gmt8(now + days * 86_400_000);
            let fee = first + (kg - 1).max(0) * more;
            json!({
                "businessType": code,
                "businessTypeDesc": name,
                "deliverTime": format!("{deliver},{deliver}"),
                "fee": (if with_price { json!(fee) } else { Value::Null }),
                "searchPrice": (if with_price { "1" } else { "0" }),
                "closeTime": null,
            })
        })
        .collect();
    Ok(json!({"deliverTmDto": dtos}))
}

/// `COM_RECE_CLOUD_PRINT_WAYBILLS`: its own result shape `{success, requestId,
/// errorCode, errorMessage, obj: {files: [{url, token, waybillNo, …}]}}`.
fn cloud_print(sim: &SfSim, m: &Map<String, Value>, request_id: &str, origin: &str) -> Value {
    let fail = |code: &str, message: &str| {
        json!({"success": false, "requestId": request_id, "errorCode": code,
               "errorMessage": message, "obj": null})
    };
    let partner = &sim.config().partner_id;
    let Some(template) = text(m, "templateCode") else {
        return fail("S0002", "必填参数templateCode为空");
    };
    if !template.ends_with(&format!("_{partner}")) {
        return fail("1003", "模板编码不存在或无权限");
    }
    if text(m, "version").as_deref() != Some("2.0") {
        return fail("S0002", "必填参数version为空");
    }
    let docs = m
        .get("documents")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if docs.is_empty() || docs.len() > 20 {
        return fail("S0004", "documents 必须为1到20个运单");
    }
    let mut files = Vec::new();
    let mut st = sim.state();
    for (i, d) in docs.iter().enumerate() {
        let no = d
            .as_object()
            .and_then(|o| text(o, "masterWaybillNo"))
            .unwrap_or_default();
        match st.waybills.get(&no) {
            Some(w) if !w.cancelled => {}
            _ => return fail("8018", &format!("运单号{no}不存在或已取消")),
        }
        let token = format!("AUTH_tkv12_{:x}{:08x}", st.requests, st.print_tokens.len());
        st.print_tokens.insert(token.clone(), no.clone());
        files.push(json!({
            "url": format!("{origin}/print-file/{no}_{template}_1_1.pdf"),
            "token": token,
            "waybillNo": no,
            "seqNo": i + 1,
            "areaNo": 1,
            "pageNo": 1,
            "documentSize": 0,
            "pageCount": 1,
        }));
    }
    json!({"success": true, "requestId": request_id, "errorCode": null, "errorMessage": null,
           "obj": {"clientCode": partner, "fileType": "pdf", "templateCode": template,
                   "files": files}})
}

fn party_lines(label: &str, c: &Value) -> Vec<String> {
    let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let phone = if f("mobile").is_empty() {
        f("tel")
    } else {
        f("mobile")
    };
    vec![
        format!("{label}: {} {phone}", f("contact")),
        format!(
            "  {} {} {} {}",
            f("province"),
            f("city"),
            f("county"),
            f("address")
        ),
    ]
}

/// `GET /print-file/{file}` with `X-Auth-token`: the label PDF of the token's waybill.
async fn download(
    State(sim): State<SfSim>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let waybill = {
        let mut st = sim.state();
        st.requests += 1;
        let token = headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        st.print_tokens
            .get(token)
            .filter(|no| file.starts_with(no.as_str()))
            .and_then(|no| st.waybills.get(no).cloned())
    };
    let Some(w) = waybill else {
        return (StatusCode::UNAUTHORIZED, "invalid or missing X-Auth-token").into_response();
    };
    let mut lines = vec![
        "SF Express".to_string(),
        format!("Waybill: {}", w.waybill_no),
        format!("Order: {}", w.order_id),
        format!("Product: {}", w.express_type_id),
    ];
    lines.extend(party_lines("From", &w.sender));
    lines.extend(party_lines("To", &w.receiver));
    (
        [(axum::http::header::CONTENT_TYPE, "application/pdf")],
        pdf::render(&lines),
    )
        .into_response()
}
