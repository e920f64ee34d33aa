//! The K/3 Cloud wire pieces of posting a journal, pure: the journal check done before
//! any request, the `GL_VOUCHER` Save body (amounts as exact decimal JSON numbers), the
//! `ExecuteBillQuery` body that finds a voucher by the journal's reference, and the
//! parsing of both answers into voucher / error outcomes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use wharf_sdk::accounting::{Journal, Voucher};
use wharf_sdk::types::ConnectorError;

use crate::settings::Settings;

/// Service names (the URL is `{base_url}/{name}.common.kdsvc`).
pub const LOGIN: &str = "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser";
pub const SAVE: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save";
pub const QUERY: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery";
/// The voucher form.
pub const FORM_ID: &str = "GL_VOUCHER";
/// The message K/3 Cloud answers a call whose session is gone with.
pub const SESSION_LOST: &str = "会话信息已丢失，请重新登录";
/// The fields the duplicate query reads, in row order.
pub const QUERY_FIELDS: &str = "FVOUCHERID,FVOUCHERGROUPID.FName,FVOUCHERGROUPNO";
/// Longest explanation (摘要) sent per entry, in characters.
pub const MAX_EXPLANATION: usize = 200;

fn invalid(msg: impl Into<String>) -> ConnectorError {
    ConnectorError::InvalidInput(msg.into())
}

/// Check the journal before anything is sent: the book's currency, at least two entries,
/// each on exactly one non-negative side in that currency, and Σ debit = Σ credit.
pub fn check(journal: &Journal, settings: &Settings) -> Result<(), ConnectorError> {
    if journal.currency != settings.currency {
        return Err(invalid(format!(
            "journal in {} but the account book is kept in {}",
            journal.currency, settings.currency
        )));
    }
    if journal.reference.trim().is_empty() {
        return Err(invalid("journal reference is empty"));
    }
    if journal.entries.len() < 2 {
        return Err(invalid(format!(
            "a voucher needs at least two entries, the journal has {}",
            journal.entries.len()
        )));
    }
    let (mut debit, mut credit) = (0i128, 0i128);
    for (i, e) in journal.entries.iter().enumerate() {
        let n = i + 1;
        if e.debit.currency != journal.currency || e.credit.currency != journal.currency {
            return Err(invalid(format!(
                "entry {n}: amounts in {}/{} in a {} journal",
                e.debit.currency, e.credit.currency, journal.currency
            )));
        }
        if e.debit.minor < 0 || e.credit.minor < 0 {
            return Err(invalid(format!("entry {n}: negative amount")));
        }
        if (e.debit.minor == 0) == (e.credit.minor == 0) {
            return Err(invalid(format!(
                "entry {n}: exactly one of debit and credit must be set"
            )));
        }
        if e.account.trim().is_empty() {
            return Err(invalid(format!("entry {n}: no account")));
        }
        debit += i128::from(e.debit.minor);
        credit += i128::from(e.credit.minor);
    }
    if debit != credit {
        return Err(invalid(format!(
            "unbalanced journal: debits {debit} ≠ credits {credit} minor units"
        )));
    }
    Ok(())
}

/// The local calendar date (`YYYY-MM-DD`) of the period's last instant: the voucher date.
pub fn voucher_date(period_end_ms: i64, utc_offset_minutes: i32) -> String {
    let local = period_end_ms - 1 + i64::from(utc_offset_minutes) * 60_000;
    wharf_sdk::time::format_rfc3339(local)[..10].to_string()
}

#[derive(Serialize)]
struct Number<'a> {
    #[serde(rename = "FNumber")]
    number: &'a str,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(rename = "FEXPLANATION")]
    explanation: String,
    #[serde(rename = "FACCOUNTID")]
    account: Number<'a>,
    #[serde(rename = "FDEBIT")]
    debit: Box<RawValue>,
    #[serde(rename = "FCREDIT")]
    credit: Box<RawValue>,
}

#[derive(Serialize)]
struct Model<'a> {
    #[serde(rename = "FAccountBookID")]
    book: Number<'a>,
    #[serde(rename = "FDate")]
    date: String,
    #[serde(rename = "FVOUCHERGROUPID")]
    group: Number<'a>,
    /// The reference field (named by the settings).
    #[serde(flatten)]
    reference: BTreeMap<&'a str, &'a str>,
    #[serde(rename = "FEntity")]
    entries: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct SaveData<'a> {
    #[serde(rename = "Model")]
    model: Model<'a>,
}

#[derive(Serialize)]
struct SaveRequest<'a> {
    formid: &'static str,
    data: SaveData<'a>,
}

/// An amount as JSON number text, exactly (no float).
fn amount(money: &wharf_sdk::types::Money, field: &str) -> Result<Box<RawValue>, ConnectorError> {
    let text = wharf_sdk::money::format(field, money)?;
    RawValue::from_string(text).map_err(|e| invalid(format!("{field}: {e}")))
}

fn explanation(memo: &str, fallback: &str) -> String {
    let text = if memo.trim().is_empty() {
        fallback
    } else {
        memo
    };
    text.chars().take(MAX_EXPLANATION).collect()
}

/// The Save request body for the journal (checked first with [`check`]).
pub fn save_body(journal: &Journal, settings: &Settings) -> Result<Vec<u8>, ConnectorError> {
    let accounts: Vec<String> = journal
        .entries
        .iter()
        .map(|e| settings.account(&e.account))
        .collect();
    let mut entries = Vec::with_capacity(journal.entries.len());
    for (e, account) in journal.entries.iter().zip(&accounts) {
        entries.push(Entry {
            explanation: explanation(&e.memo, &journal.memo),
            account: Number { number: account },
            debit: amount(&e.debit, "debit")?,
            credit: amount(&e.credit, "credit")?,
        });
    }
    let body = SaveRequest {
        formid: FORM_ID,
        data: SaveData {
            model: Model {
                book: Number {
                    number: &settings.account_book,
                },
                date: voucher_date(journal.period_end, settings.utc_offset_minutes),
                group: Number {
                    number: &settings.voucher_group,
                },
                reference: BTreeMap::from([(
                    settings.reference_field.as_str(),
                    journal.reference.as_str(),
                )]),
                entries,
            },
        },
    };
    serde_json::to_vec(&body).map_err(|e| invalid(format!("voucher body: {e}")))
}

/// A value quoted for a filter string: single quotes doubled.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The ExecuteBillQuery body finding the book's vouchers with `reference`.
pub fn query_body(reference: &str, settings: &Settings) -> Vec<u8> {
    let filter = format!(
        "{}={} and FAccountBookID.FNumber={}",
        settings.reference_field,
        quote(reference),
        quote(&settings.account_book)
    );
    serde_json::to_vec(&serde_json::json!({
        "data": {
            "FormId": FORM_ID,
            "FieldKeys": QUERY_FIELDS,
            "FilterString": filter,
            "OrderString": "FVOUCHERID",
            "TopRowCount": 0,
            "StartRow": 0,
            "Limit": 2
        }
    }))
    .expect("a JSON object serialises")
}

/// One error of a `ResponseStatus`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct KError {
    #[serde(rename = "FieldName", default)]
    pub field: Option<String>,
    #[serde(rename = "Message", default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Entity {
    #[serde(rename = "Id", default)]
    id: Value,
    #[serde(rename = "Number", default)]
    number: Value,
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(rename = "IsSuccess", default)]
    success: bool,
    #[serde(rename = "MsgCode", default)]
    msg_code: Option<i64>,
    #[serde(rename = "Errors", default)]
    errors: Vec<KError>,
    #[serde(rename = "SuccessEntitys", default)]
    entities: Vec<Entity>,
}

#[derive(Debug, Deserialize)]
struct ResultBody {
    #[serde(rename = "ResponseStatus")]
    status: Status,
    #[serde(rename = "Id", default)]
    id: Value,
    #[serde(rename = "Number", default)]
    number: Value,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "Result")]
    result: ResultBody,
}

/// What a Save or query answered.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    Ok(T),
    /// The session is gone: log in again.
    SessionLost,
    /// Refused with Kingdee's errors.
    Refused(Vec<KError>),
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn session_lost(status: &Status) -> bool {
    status.msg_code == Some(1)
        || status.errors.iter().any(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains("会话信息已丢失"))
        })
}

/// Kingdee's error messages as one line: `FieldName: Message; …`.
pub fn describe(errors: &[KError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match (&e.field, &e.message) {
            (Some(f), Some(m)) if !f.is_empty() => format!("{f}: {m}"),
            (_, Some(m)) => m.clone(),
            _ => "(no message)".into(),
        })
        .collect();
    if parts.is_empty() {
        "refused without a message".into()
    } else {
        parts.join("; ")
    }
}

fn parse_status(v: Value) -> Result<Option<Envelope>, ConnectorError> {
    if v.get("Result").is_none() {
        return Ok(None);
    }
    serde_json::from_value(v)
        .map(Some)
        .map_err(|e| invalid(format!("Kingdee answer: {e}")))
}

/// Parse a Save answer.
pub fn parse_save(body: &[u8]) -> Result<Outcome<Voucher>, ConnectorError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("Save answer: {e}")))?;
    let Some(env) = parse_status(v)? else {
        return Err(invalid("Save answer without Result"));
    };
    let r = env.result;
    if session_lost(&r.status) {
        return Ok(Outcome::SessionLost);
    }
    if !r.status.success {
        return Ok(Outcome::Refused(r.status.errors));
    }
    let (id, number) = match r.status.entities.first() {
        Some(e) => (text(&e.id), text(&e.number)),
        None => (text(&r.id), text(&r.number)),
    };
    if id.is_empty() {
        return Err(invalid("Save succeeded without a voucher id"));
    }
    let number = if number.is_empty() {
        id.clone()
    } else {
        number
    };
    Ok(Outcome::Ok(Voucher { id, number }))
}

/// The voucher number people see, from the query row: `记-0042`.
fn display_number(word: &str, number: &str) -> String {
    if word.is_empty() {
        number.to_string()
    } else {
        format!("{word}-{number:0>4}")
    }
}

/// Parse an ExecuteBillQuery answer (rows of [`QUERY_FIELDS`]): the first voucher, if any.
pub fn parse_query(body: &[u8]) -> Result<Outcome<Option<Voucher>>, ConnectorError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("query answer: {e}")))?;
    // Errors come back as a row holding a `Result` object: [[{"Result": …}]].
    let status = match &v {
        Value::Array(rows) => rows
            .first()
            .and_then(|r| r.as_array())
            .and_then(|r| r.first())
            .filter(|c| c.get("Result").is_some())
            .cloned(),
        Value::Object(_) => Some(v.clone()),
        _ => return Err(invalid("query answer is not a list of rows")),
    };
    if let Some(s) = status {
        let Some(env) = parse_status(s)? else {
            return Err(invalid("query answer is not a list of rows"));
        };
        if session_lost(&env.result.status) {
            return Ok(Outcome::SessionLost);
        }
        return Ok(Outcome::Refused(env.result.status.errors));
    }
    let rows = v.as_array().expect("checked above");
    let Some(row) = rows.first().and_then(|r| r.as_array()) else {
        return Ok(Outcome::Ok(None));
    };
    let cell = |i: usize| row.get(i).map(text).unwrap_or_default();
    let id = cell(0);
    if id.is_empty() {
        return Err(invalid("query row without FVOUCHERID"));
    }
    Ok(Outcome::Ok(Some(Voucher {
        number: display_number(&cell(1), &cell(2)),
        id,
    })))
}

#[cfg(test)]
mod tests;
