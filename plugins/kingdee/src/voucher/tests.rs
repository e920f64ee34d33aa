use super::*;
use wharf_sdk::accounting::JournalEntry;
use wharf_sdk::types::Money;

fn settings() -> Settings {
    Settings::from_lookup(|k| {
        match k {
            "base_url" => Some("http://erp.test/K3Cloud"),
            "acct_id" => Some("dc1"),
            "account_book" => Some("001"),
            "account_map" => Some(r#"{"1002": "1002.01"}"#),
            _ => None,
        }
        .map(String::from)
    })
    .unwrap()
}

fn m(minor: i64) -> Money {
    Money {
        minor,
        currency: "CNY".into(),
    }
}

fn entry(account: &str, debit: i64, credit: i64) -> JournalEntry {
    JournalEntry {
        account: account.into(),
        debit: m(debit),
        credit: m(credit),
        memo: format!("{account} memo"),
        order_reference: None,
    }
}

pub(crate) fn journal(entries: Vec<JournalEntry>) -> Journal {
    Journal {
        reference: "wharf:1:2:2024-05-01:CNY".into(),
        // 2024-05-01T00:00+08:00 .. 2024-05-02T00:00+08:00
        period_start: 1_714_492_800_000,
        period_end: 1_714_579_200_000,
        currency: "CNY".into(),
        memo: "May 1".into(),
        entries,
    }
}

// A balanced journal passes; unbalanced, two-sided, negative, foreign-currency or
// single-entry journals are each refused as invalid-input.
#[test]
fn checks_journals_before_sending() {
    let s = settings();
    assert!(check(
        &journal(vec![entry("1002", 100, 0), entry("6001", 0, 100)]),
        &s
    )
    .is_ok());
    let mut usd = journal(vec![entry("1002", 100, 0), entry("6001", 0, 100)]);
    usd.currency = "USD".into();
    let bad = [
        journal(vec![entry("1002", 100, 0), entry("6001", 0, 99)]),
        journal(vec![entry("1002", 100, 100), entry("6001", 0, 0)]),
        journal(vec![entry("1002", -100, 0), entry("6001", 0, -100)]),
        journal(vec![entry("1002", 0, 0)]),
        usd,
    ];
    for j in bad {
        assert!(
            matches!(check(&j, &s), Err(ConnectorError::InvalidInput(_))),
            "{j:?}"
        );
    }
}

// The Save body names the form, book, group, date (the last local day of the period),
// the reference field, mapped accounts and exact decimal amounts as JSON numbers.
#[test]
fn save_body_has_kingdee_fields_and_exact_amounts() {
    let j = journal(vec![
        entry("1002", 9_007_199_254_740_993, 0),
        entry("6001", 0, 9_007_199_254_740_993),
    ]);
    let body = String::from_utf8(save_body(&j, &settings()).unwrap()).unwrap();
    // Exact text: a float would print 90071992547409.94 or similar.
    assert!(body.contains(r#""FDEBIT":90071992547409.93"#), "{body}");
    assert!(body.contains(r#""FCREDIT":0.00"#), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["formid"], "GL_VOUCHER");
    let model = &v["data"]["Model"];
    assert_eq!(model["FAccountBookID"]["FNumber"], "001");
    assert_eq!(model["FVOUCHERGROUPID"]["FNumber"], "PRE001");
    assert_eq!(model["FDate"], "2024-05-01");
    assert_eq!(model["FBillNo"], "wharf:1:2:2024-05-01:CNY");
    assert_eq!(model["FEntity"][0]["FACCOUNTID"]["FNumber"], "1002.01");
    assert_eq!(model["FEntity"][1]["FACCOUNTID"]["FNumber"], "6001");
    assert_eq!(model["FEntity"][0]["FEXPLANATION"], "1002 memo");
}

// The query filters by the reference field and the book, quotes doubled.
#[test]
fn query_filters_by_reference() {
    let v: Value = serde_json::from_slice(&query_body("a'b", &settings())).unwrap();
    assert_eq!(v["data"]["FormId"], "GL_VOUCHER");
    assert_eq!(
        v["data"]["FilterString"],
        "FBillNo='a''b' and FAccountBookID.FNumber='001'"
    );
}

// Save answers: success gives the voucher, errors keep Kingdee's messages, a lost
// session is recognised by MsgCode 1 or its message.
#[test]
fn parses_save_answers() {
    let ok = r#"{"Result":{"ResponseStatus":{"IsSuccess":true,"Errors":[],"SuccessEntitys":[{"Id":100001,"Number":"记-0001","DIndex":0}],"MsgCode":0},"Id":100001,"Number":"记-0001"}}"#.as_bytes();
    match parse_save(ok).unwrap() {
        Outcome::Ok(v) => assert_eq!((v.id.as_str(), v.number.as_str()), ("100001", "记-0001")),
        other => panic!("{other:?}"),
    }
    let refused = r#"{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":"FACCOUNTID","Message":"科目不存在","DIndex":0}],"MsgCode":0}}}"#.as_bytes();
    match parse_save(refused).unwrap() {
        Outcome::Refused(e) => assert_eq!(describe(&e), "FACCOUNTID: 科目不存在"),
        other => panic!("{other:?}"),
    }
    let lost = r#"{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,"Message":"会话信息已丢失，请重新登录","DIndex":0}],"MsgCode":1}}}"#;
    assert!(matches!(
        parse_save(lost.as_bytes()).unwrap(),
        Outcome::SessionLost
    ));
}

// Query answers: rows give the first voucher with its display number, no rows none, an
// error row a refusal or a lost session.
#[test]
fn parses_query_answers() {
    match parse_query(br#"[[100007,"\u8bb0",7]]"#).unwrap() {
        Outcome::Ok(Some(v)) => {
            assert_eq!((v.id.as_str(), v.number.as_str()), ("100007", "记-0007"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(parse_query(b"[]").unwrap(), Outcome::Ok(None)));
    let lost = r#"[[{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"Message":"会话信息已丢失，请重新登录"}],"MsgCode":1}}}]]"#;
    assert!(matches!(
        parse_query(lost.as_bytes()).unwrap(),
        Outcome::SessionLost
    ));
}

// The voucher date is the period's last local day: a UTC month ending at midnight UTC is
// dated its last day in UTC+0, and the next day's morning in UTC+8 is not used.
#[test]
fn voucher_date_is_the_last_local_day() {
    // [2024-05-01, 2024-06-01) UTC.
    assert_eq!(voucher_date(1_717_200_000_000, 0), "2024-05-31");
    assert_eq!(voucher_date(1_714_579_200_000, 480), "2024-05-01");
}
