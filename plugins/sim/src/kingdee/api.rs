//! The HTTP surface of the simulated K/3 Cloud WebAPI (see the module docs).
//!
//! Kingdee answers business failures, including a lost session, with HTTP 200 and
//! `IsSuccess: false`; the simulator does the same. Query failures come back as one row
//! holding the `Result` object (`[[{"Result": …}]]`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use wharf_domain::money::parse_decimal;

use super::{Fault, KingdeeSim, SimEntry, SimVoucher, State as SimState};

const LOGIN: &str = "kingdee.bos.webapi.servicesstub.authservice.validateuser";
const SAVE: &str = "kingdee.bos.webapi.servicesstub.dynamicformservice.save";
const QUERY: &str = "kingdee.bos.webapi.servicesstub.dynamicformservice.executebillquery";
const SESSION_COOKIE: &str = "kdservice-sessionid";
const SESSION_LOST: &str = "会话信息已丢失，请重新登录";
const FIRST_ID: i64 = 100_000;

pub(crate) fn router(sim: KingdeeSim) -> Router {
    Router::new()
        .route("/K3Cloud/{service}", post(service))
        .with_state(sim)
}

/// One `Errors` item.
fn error(field: Option<&str>, message: impl Into<String>) -> Value {
    json!({"FieldName": field, "Message": message.into(), "DIndex": 0})
}

/// A failed `Result` envelope.
fn failure(errors: Vec<Value>, msg_code: i64) -> Value {
    json!({"Result": {"ResponseStatus": {
        "ErrorCode": 500, "IsSuccess": false, "Errors": errors,
        "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": msg_code
    }, "Id": "", "Number": "", "NeedReturnData": [{}]}})
}

fn session_lost() -> Value {
    failure(vec![error(None, SESSION_LOST)], 1)
}

/// A query failure: the envelope as the only cell of the only row.
fn query_failure(v: Value) -> Response {
    Json(json!([[v]])).into_response()
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            k.eq_ignore_ascii_case(SESSION_COOKIE)
                .then(|| v.to_string())
        })
}

async fn service(
    State(sim): State<KingdeeSim>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lower = service.to_ascii_lowercase();
    let Some(name) = lower.strip_suffix(".common.kdsvc") else {
        return (StatusCode::NOT_FOUND, "unknown service").into_response();
    };
    let name = name.to_string();
    let mut st = sim.state();
    st.calls.push(name.clone());
    if name == LOGIN {
        return login(&sim, &mut st, &body);
    }
    if st.faults.front() == Some(&Fault::ExpireSessions) {
        st.faults.pop_front();
        st.sessions.clear();
    }
    if let Some(Fault::Server(code)) = st.faults.front().cloned() {
        st.faults.pop_front();
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "<html><body>Service Unavailable</body></html>").into_response();
    }
    let live = session_of(&headers).is_some_and(|s| st.sessions.contains(&s));
    match name.as_str() {
        SAVE if !live => Json(session_lost()).into_response(),
        QUERY if !live => query_failure(session_lost()),
        SAVE => save(&sim, &mut st, &body),
        QUERY => query(&sim, &st, &body),
        _ => Json(failure(
            vec![error(None, format!("服务 {service} 不存在"))],
            0,
        ))
        .into_response(),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    #[serde(rename = "acctID", alias = "acctid", default)]
    acct_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    lcid: Option<i64>,
    /// The positional form: [acctID, username, password, lcid].
    #[serde(default)]
    parameters: Option<Vec<Value>>,
}

fn login(sim: &KingdeeSim, st: &mut SimState, body: &[u8]) -> Response {
    st.logins += 1;
    let refuse = |message: &str| {
        Json(
            json!({"Message": message, "MessageCode": null, "LoginResultType": 0,
                    "Context": null, "KDSVCSessionId": null}),
        )
        .into_response()
    };
    let Ok(b) = serde_json::from_slice::<LoginBody>(body) else {
        return refuse("请求参数格式错误");
    };
    let (acct, user, pass, lcid) = match b.parameters {
        Some(p) if p.len() >= 3 => (
            p[0].as_str().map(String::from),
            p[1].as_str().map(String::from),
            p[2].as_str().map(String::from),
            p.get(3).and_then(Value::as_i64),
        ),
        _ => (b.acct_id, b.username, b.password, b.lcid),
    };
    let cfg = sim.config();
    if acct.as_deref() != Some(cfg.acct_id.as_str()) {
        return refuse("数据中心不存在或已停用");
    }
    if user.as_deref() != Some(cfg.username.as_str())
        || pass.as_deref() != Some(cfg.password.as_str())
    {
        return refuse("用户名或密码错误！");
    }
    if !matches!(lcid, Some(2052 | 1033 | 3076)) {
        return refuse("不支持的语言");
    }
    st.minted += 1;
    let sid = format!("{:016x}{:08x}", rand::random::<u64>(), st.minted);
    st.sessions.insert(sid.clone());
    let mut resp = Json(json!({
        "Message": null,
        "MessageCode": "CheckPasswordPolicy",
        "LoginResultType": 1,
        "Context": {"UserName": cfg.username, "DBid": cfg.acct_id, "LogLocale": "zh-CN",
                    "UserLocale": "zh-CN", "SessionId": sid},
        "KDSVCSessionId": sid,
        "IsSuccessByAPI": true
    }))
    .into_response();
    for cookie in [
        format!("{SESSION_COOKIE}={sid}; path=/; HttpOnly"),
        format!(
            "ASP.NET_SessionId={:016x}; path=/; HttpOnly",
            rand::random::<u64>()
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Deserialize)]
struct RawData<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
}

/// `data` may be the object itself or a JSON string holding it (both are accepted by the
/// WebAPI's SDKs).
fn data_text(body: &[u8]) -> Result<(Value, String), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("请求参数格式错误: {e}"))?;
    let data = v.get("data").cloned().ok_or("缺少参数 data")?;
    let text = match &data {
        Value::String(s) => s.clone(),
        // Re-read the raw text of `data` so amounts keep their exact digits.
        _ => serde_json::from_slice::<RawData>(body)
            .map(|r| r.data.get().to_string())
            .map_err(|e| e.to_string())?,
    };
    Ok((v, text))
}

#[derive(Deserialize)]
struct TypedData {
    #[serde(rename = "Model")]
    model: TypedModel,
}

#[derive(Deserialize)]
struct TypedModel {
    #[serde(rename = "FEntity", default)]
    entries: Vec<TypedEntry>,
}

#[derive(Deserialize)]
struct TypedEntry {
    #[serde(rename = "FEXPLANATION", default)]
    explanation: Option<String>,
    #[serde(rename = "FACCOUNTID", default)]
    account: Option<Value>,
    #[serde(rename = "FDEBIT", default)]
    debit: Option<Box<RawValue>>,
    #[serde(rename = "FCREDIT", default)]
    credit: Option<Box<RawValue>>,
}

fn fnumber(v: Option<&Value>) -> Option<String> {
    v?.get("FNumber")
        .or_else(|| v?.get("FNUMBER"))?
        .as_str()
        .map(String::from)
}

/// An amount field: a JSON number or numeric string, in the book's precision.
fn amount(raw: Option<&RawValue>, digits: u32) -> Result<i64, String> {
    let Some(raw) = raw else { return Ok(0) };
    let text = raw.get().trim();
    let text = text.trim_matches('"');
    if text.is_empty() || text == "null" {
        return Ok(0);
    }
    parse_decimal(text, digits).map_err(|e| e.to_string())
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[..4].parse::<u32>().is_ok()
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..10].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn save(sim: &KingdeeSim, st: &mut SimState, body: &[u8]) -> Response {
    let cfg = sim.config();
    let refuse = |errors: Vec<Value>| Json(failure(errors, 0)).into_response();
    let (outer, text) = match data_text(body) {
        Ok(t) => t,
        Err(e) => return refuse(vec![error(None, e)]),
    };
    if outer.get("formid").and_then(Value::as_str) != Some("GL_VOUCHER") {
        return refuse(vec![error(None, "业务对象不存在或不支持 (formid)")]);
    }
    let data: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return refuse(vec![error(None, format!("data 格式错误: {e}"))]),
    };
    let typed: TypedData = match serde_json::from_str(&text) {
        Ok(t) => t,
        Err(e) => return refuse(vec![error(None, format!("Model 格式错误: {e}"))]),
    };
    let model = &data["Model"];
    let mut errors = Vec::new();
    let book = fnumber(model.get("FAccountBookID")).unwrap_or_default();
    if book != cfg.account_book {
        errors.push(error(
            Some("FAccountBookID"),
            format!("账簿编码 {book} 不存在"),
        ));
    }
    let date = model
        .get("FDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !valid_date(&date) {
        errors.push(error(Some("FDate"), format!("日期 {date} 格式不正确")));
    }
    let group = fnumber(model.get("FVOUCHERGROUPID")).unwrap_or_default();
    let Some(word) = cfg.voucher_groups.get(&group).cloned() else {
        errors.push(error(
            Some("FVOUCHERGROUPID"),
            format!("凭证字 {group} 不存在"),
        ));
        return refuse(errors);
    };
    if typed.model.entries.is_empty() {
        errors.push(error(Some("FEntity"), "凭证分录不能为空"));
    }
    let mut entries = Vec::new();
    let (mut debit_sum, mut credit_sum) = (0i128, 0i128);
    for (i, e) in typed.model.entries.iter().enumerate() {
        let row = i + 1;
        let account = fnumber(e.account.as_ref()).unwrap_or_default();
        if !cfg.accounts.contains(&account) {
            errors.push(error(
                Some("FACCOUNTID"),
                format!("第{row}行分录：科目编码 {account} 不存在"),
            ));
        }
        let debit = amount(e.debit.as_deref(), cfg.digits);
        let credit = amount(e.credit.as_deref(), cfg.digits);
        let (debit, credit) = match (debit, credit) {
            (Ok(d), Ok(c)) => (d, c),
            (Err(m), _) | (_, Err(m)) => {
                errors.push(error(
                    Some("FDEBIT"),
                    format!("第{row}行分录：金额不正确 ({m})"),
                ));
                continue;
            }
        };
        if debit < 0 || credit < 0 {
            errors.push(error(
                Some("FDEBIT"),
                format!("第{row}行分录：金额不能为负数"),
            ));
        }
        if (debit != 0) == (credit != 0) {
            errors.push(error(
                Some("FDEBIT"),
                format!("第{row}行分录：借方金额与贷方金额必须且只能录入一个"),
            ));
        }
        if e.explanation.as_deref().unwrap_or("").trim().is_empty() {
            errors.push(error(
                Some("FEXPLANATION"),
                format!("第{row}行分录：摘要不能为空"),
            ));
        }
        debit_sum += i128::from(debit);
        credit_sum += i128::from(credit);
        entries.push(SimEntry {
            explanation: e.explanation.clone().unwrap_or_default(),
            account,
            debit,
            credit,
        });
    }
    if errors.is_empty() && debit_sum != credit_sum {
        errors.push(error(None, "借贷方金额不平衡，不允许保存"));
    }
    // The header's other plain string fields, e.g. FBillNo.
    let fields: BTreeMap<String, String> = model
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "FDate" | "FEntity"))
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(unique) = &cfg.unique_field {
        if let Some(value) = fields.get(unique) {
            if st
                .vouchers
                .iter()
                .any(|v| v.book == book && v.fields.get(unique) == Some(value))
            {
                errors.push(error(
                    Some(unique),
                    format!("编号为 {value} 的单据已经存在，不允许重复"),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return refuse(errors);
    }
    let month = &date[..7];
    let no = st
        .vouchers
        .iter()
        .filter(|v| v.book == book && v.group == group && v.date.starts_with(month))
        .count() as u32
        + 1;
    let id = FIRST_ID + st.vouchers.len() as i64 + 1;
    let number = format!("{word}-{no:04}");
    st.vouchers.push(SimVoucher {
        id,
        book,
        group,
        no,
        number: number.clone(),
        date: date[..10].to_string(),
        fields,
        entries,
    });
    if st.faults.front() == Some(&Fault::LostResponse) {
        st.faults.pop_front();
        return (
            StatusCode::BAD_GATEWAY,
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    }
    Json(json!({"Result": {"ResponseStatus": {
        "ErrorCode": 0, "IsSuccess": true, "Errors": [],
        "SuccessEntitys": [{"Id": id, "Number": number, "DIndex": 0}],
        "SuccessMessages": [], "MsgCode": 0
    }, "Id": id, "Number": number, "NeedReturnData": [{}]}}))
    .into_response()
}

/// Parse `a='x' and b='y'` (quotes doubled inside values) into (field, value) pairs.
fn parse_filter(filter: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        let (field, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("过滤条件 {filter} 不正确"))?;
        let after = after.trim_start();
        let mut chars = after.char_indices();
        if chars.next().map(|(_, c)| c) != Some('\'') {
            return Err(format!("过滤条件 {filter} 不正确"));
        }
        let mut value = String::new();
        let mut end = None;
        let bytes: Vec<(usize, char)> = chars.collect();
        let mut i = 0;
        while i < bytes.len() {
            let (pos, c) = bytes[i];
            if c == '\'' {
                if bytes.get(i + 1).map(|b| b.1) == Some('\'') {
                    value.push('\'');
                    i += 2;
                    continue;
                }
                end = Some(pos + 1);
                break;
            }
            value.push(c);
            i += 1;
        }
        let end = end.ok_or_else(|| format!("过滤条件 {filter} 引号不匹配"))?;
        out.push((field.trim().to_string(), value));
        rest = after[end..].trim_start();
        if rest.is_empty() {
            break;
        }
        let lower = rest.to_ascii_lowercase();
        if !lower.starts_with("and ") {
            return Err(format!("过滤条件 {filter} 不正确"));
        }
        rest = rest[4..].trim_start();
    }
    Ok(out)
}

/// A voucher's value of a query field key; `None` for a key the form does not have.
fn field(v: &SimVoucher, key: &str, sim: &KingdeeSim) -> Option<Value> {
    Some(match key.to_ascii_lowercase().as_str() {
        "fvoucherid" => json!(v.id),
        "fvouchergroupid.fname" => json!(sim.config().voucher_groups.get(&v.group)),
        "fvouchergroupid.fnumber" => json!(v.group),
        "fvouchergroupno" => json!(v.no.to_string()),
        "fdate" => json!(format!("{}T00:00:00", v.date)),
        "faccountbookid.fnumber" => json!(v.book),
        _ => {
            let (_, value) = v.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
            json!(value)
        }
    })
}

/// Whether `key` is a field of GL_VOUCHER (built-in or a header field ever saved, or the
/// configured unique field).
fn known_field(key: &str, st: &SimState, sim: &KingdeeSim) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "fvoucherid"
            | "fvouchergroupid.fname"
            | "fvouchergroupid.fnumber"
            | "fvouchergroupno"
            | "fdate"
            | "faccountbookid.fnumber"
    ) || sim
        .config()
        .unique_field
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(key))
        || st
            .vouchers
            .iter()
            .any(|v| v.fields.keys().any(|k| k.eq_ignore_ascii_case(key)))
}

fn query(sim: &KingdeeSim, st: &SimState, body: &[u8]) -> Response {
    let bad = |m: String| query_failure(failure(vec![error(None, m)], 0));
    let (_, text) = match data_text(body) {
        Ok(t) => t,
        Err(e) => return bad(e),
    };
    let Ok(data) = serde_json::from_str::<Value>(&text) else {
        return bad("data 格式错误".into());
    };
    if data.get("FormId").and_then(Value::as_str) != Some("GL_VOUCHER") {
        return bad("业务对象不存在或不支持 (FormId)".into());
    }
    let keys: Vec<String> = data
        .get("FieldKeys")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(',')
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return bad("FieldKeys 不能为空".into());
    }
    for k in &keys {
        if !known_field(k, st, sim) {
            return bad(format!("字段 {k} 不存在"));
        }
    }
    let filter = match parse_filter(
        data.get("FilterString")
            .and_then(Value::as_str)
            .unwrap_or(""),
    ) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    for (k, _) in &filter {
        if !known_field(k, st, sim) {
            return bad(format!("过滤字段 {k} 不存在"));
        }
    }
    let limit = [data.get("Limit"), data.get("TopRowCount")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .filter(|n| *n > 0)
        .min()
        .unwrap_or(u64::MAX) as usize;
    let start = data.get("StartRow").and_then(Value::as_u64).unwrap_or(0) as usize;
    let rows: Vec<Value> = st
        .vouchers
        .iter()
        .filter(|v| {
            filter.iter().all(|(k, want)| {
                field(v, k, sim).is_some_and(|got| match got {
                    Value::String(s) => &s == want,
                    other => other.to_string() == *want,
                })
            })
        })
        .skip(start)
        .take(limit)
        .map(|v| {
            Value::Array(
                keys.iter()
                    .map(|k| field(v, k, sim).unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    Json(Value::Array(rows)).into_response()
}
