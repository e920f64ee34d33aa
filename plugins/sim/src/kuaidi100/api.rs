//! `POST /poll/query.do` of the simulated Kuaidi100.
//!
//! Checks, in order: injected fault; `customer`, `sign`, `param` present (400); the
//! customer known and `sign` = upper-case MD5(param + key + customer) (503 验证签名失败);
//! `param` a JSON object with `com` and `num` (400); `com` a known company (400 找不到对应
//! 公司); a `shunfeng` query's `phone` matching the parcel's last four digits (408); the
//! parcel known and scanned (500 查询无结果). Errors are HTTP 200 with `{result: false,
//! returnCode, message}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{sign, state_word, Fault, Kuaidi100Sim, Query, COMPANIES};
use crate::common::{decode_form, format_gmt8};

pub(crate) fn router(sim: Kuaidi100Sim) -> Router {
    Router::new()
        .route("/poll/query.do", post(query))
        .with_state(sim)
}

fn refused(code: &str, message: &str) -> Response {
    Json(json!({"result": false, "returnCode": code, "message": message})).into_response()
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn last4(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

async fn query(State(sim): State<Kuaidi100Sim>, body: Bytes) -> Response {
    let params = decode_form(&String::from_utf8_lossy(&body));
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let fault = {
        let mut st = sim.state();
        st.requests += 1;
        st.faults.pop_front()
    };
    match fault {
        Some(Fault::Http(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, status.canonical_reason().unwrap_or("error")).into_response();
        }
        Some(Fault::Code { code, message }) => return refused(&code, &message),
        None => {}
    }
    let (Some(customer), Some(signature), Some(param)) =
        (get("customer"), get("sign"), get("param"))
    else {
        return refused("400", "提交的数据不完整，或者贵公司没授权");
    };
    let cfg = sim.config();
    if customer != cfg.customer || signature != sign(&param, &cfg.key, &customer) {
        return refused("503", "验证签名失败");
    }
    let Ok(Value::Object(p)) = serde_json::from_str::<Value>(&param) else {
        return refused("400", "提交的数据不完整，或者贵公司没授权");
    };
    let (Some(com), Some(num)) = (text(&p, "com"), text(&p, "num")) else {
        return refused("400", "提交的数据不完整，或者贵公司没授权");
    };
    if !COMPANIES.contains(&com.as_str()) {
        return refused("400", "找不到对应公司");
    }
    let phone = text(&p, "phone");
    let resultv2 = text(&p, "resultv2");
    sim.state().queries.push(Query {
        com: com.clone(),
        num: num.clone(),
        phone: phone.clone(),
        resultv2: resultv2.clone(),
    });
    let parcel = sim
        .state()
        .parcels
        .get(&(com.clone(), num.clone()))
        .cloned();
    let Some(parcel) = parcel.filter(|p| !p.scans.is_empty()) else {
        return refused("500", "查询无结果，请隔段时间再查");
    };
    if com == "shunfeng" {
        let want = parcel.phone.as_deref().map(last4);
        let got = phone.as_deref().map(last4);
        if want.is_some() && want != got {
            return refused("408", "快递公司参数异常：验证码错误");
        }
    }
    let latest = parcel
        .scans
        .last()
        .map(|s| s.state.clone())
        .unwrap_or_default();
    let mut data: Vec<Value> = parcel
        .scans
        .iter()
        .map(|s| {
            let t = format_gmt8(s.at_ms);
            let mut item = json!({"time": t, "ftime": t, "context": s.context});
            if resultv2.as_deref().is_some_and(|v| v != "0") {
                item["location"] = json!(s.location);
                item["status"] = json!(state_word(&s.state).unwrap_or(""));
                item["areaName"] = json!(s.location);
            }
            item
        })
        .collect();
    if text(&p, "order").as_deref() != Some("asc") {
        data.reverse();
    }
    let checked = matches!(latest.as_str(), "3" | "4");
    Json(json!({
        "message": "ok",
        "nu": num,
        "ischeck": (if checked { "1" } else { "0" }),
        "condition": "F00",
        "com": com,
        "status": "200",
        "state": latest,
        "data": data,
    }))
    .into_response()
}
