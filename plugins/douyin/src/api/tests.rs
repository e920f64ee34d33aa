use super::*;
use serde_json::json;
use std::collections::VecDeque;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::windows::{self, Cursor, MAX_REQUESTS_PER_CALL};

// 2024-04-10T00:00:00Z
const NOW: i64 = 1_712_707_200_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const URL: &str = "http://openapi-fxg.jinritemai.com";

fn settings() -> Settings {
    Settings {
        api_url: URL.into(),
        window_minutes: 30,
        page_size: 2,
        lookback_days: 1,
    }
}

fn creds() -> Credentials {
    Credentials {
        app_key: "7100".into(),
        app_secret: "secret".into(),
        access_token: "tok".into(),
    }
}

fn order(id: u64, update_ms: i64) -> Value {
    json!({
        "order_id": id.to_string(), "order_status": 2, "create_time": 1_712_000_000,
        "update_time": update_ms / 1000, "pay_time": 1_712_000_100, "pay_amount": 1000,
        "post_amount": 0, "promotion_amount": 0, "pre_sale_type": 0,
        "post_addr": {"province": {"name": "浙江省"}, "city": {"name": "杭州市"},
                      "town": {"name": "余杭区"}, "detail": "文一西路969号"},
        "post_receiver": "张伟", "post_tel": "13800000000",
        "sku_order_list": [{"order_id": (id + 1).to_string(), "sku_id": 5, "product_name": "T",
                            "goods_price": 1000, "item_num": 1, "promotion_amount": 0}]
    })
}

fn ok(data: Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
                     "data": data, "log_id": "L"})
        .to_string()
        .into_bytes(),
    }
}

fn listing(total: u64, orders: Vec<Value>) -> Response {
    ok(json!({"shop_order_list": orders, "page": 0, "size": 2, "total": total}))
}

fn dd_error(code: i64, sub_code: &str, sub_msg: &str) -> Response {
    Response {
        status: 200,
        headers: vec![],
        body: json!({"code": code, "msg": "m", "sub_code": sub_code, "sub_msg": sub_msg,
                     "data": {}, "log_id": "L"})
        .to_string()
        .into_bytes(),
    }
}

fn query(r: &Request, key: &str) -> String {
    doudian::query_of(&r.url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{key} not sent"))
}

fn params(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// A fake transport answering from a queue and recording every request.
struct Fake {
    answers: VecDeque<Response>,
    seen: Vec<Request>,
}

impl Fake {
    fn new(answers: Vec<Response>) -> Self {
        Fake {
            answers: answers.into(),
            seen: Vec::new(),
        }
    }
    fn pull(&mut self, cursor: Option<&str>) -> Result<Page, ConnectorError> {
        let mut send = |r: Request| {
            self.seen.push(r);
            Ok(self.answers.pop_front().expect("an answer is queued"))
        };
        pull_orders(&settings(), &creds(), cursor, NOW, &mut send)
    }
    /// (update_time_start, update_time_end, page) of request `i`, seconds.
    fn window_of(&self, i: usize) -> (i64, i64, i64) {
        let p = params(&self.seen[i]);
        (
            p["update_time_start"].as_i64().unwrap(),
            p["update_time_end"].as_i64().unwrap(),
            p["page"].as_i64().unwrap(),
        )
    }
}

fn decode(p: &Page) -> Cursor {
    settings()
        .walk()
        .decode(p.cursor.as_deref().unwrap())
        .unwrap()
}

fn ids(p: &Page) -> Vec<&str> {
    p.orders.iter().map(|o| o.external_id.as_str()).collect()
}

// A first pull asks for the look-back's first window, page 0 with the count, ordered by
// update_time newest first and signed; empty windows are skipped within the call up to
// the request cap.
#[test]
fn first_pull_skips_empty_windows() {
    let mut f = Fake::new(
        (0..MAX_REQUESTS_PER_CALL)
            .map(|_| listing(0, vec![]))
            .collect(),
    );
    let p = f.pull(None).unwrap();
    assert_eq!(f.seen.len(), MAX_REQUESTS_PER_CALL);
    let r = &f.seen[0];
    assert_eq!(r.method, "POST");
    assert!(
        r.url.starts_with(&format!("{URL}/order/searchList?")),
        "{}",
        r.url
    );
    assert_eq!(query(r, "method"), SEARCH_LIST);
    assert_eq!(query(r, "param_json").as_bytes(), &r.body[..]);
    let pj = query(r, "param_json");
    assert_eq!(
        pj,
        format!(
            r#"{{"order_asc":false,"order_by":"update_time","page":0,"size":2,"update_time_end":{},"update_time_start":{}}}"#,
            (NOW - DAY + 30 * MIN) / 1000,
            (NOW - DAY) / 1000
        ),
        "sorted keys, no spaces"
    );
    let ts = query(r, "timestamp");
    assert_eq!(ts, (NOW / 1000).to_string());
    assert_eq!(
        query(r, "sign"),
        doudian::sign("secret", "7100", SEARCH_LIST, &pj, &ts)
    );
    for i in 1..f.seen.len() {
        assert_eq!(
            f.window_of(i).0,
            f.window_of(i - 1).1,
            "window {i} starts where {} ended",
            i - 1
        );
    }
    assert!(p.orders.is_empty() && p.more);
    assert_eq!(decode(&p), Cursor::at(NOW - DAY + 24 * 30 * MIN));
}

// A window that fits one page is finished by one request; the next call opens the next window.
#[test]
fn a_one_page_window_takes_one_call() {
    let start = NOW - 2 * 60 * MIN;
    let mut f = Fake::new(vec![
        listing(2, vec![order(20, start + 20 * MIN), order(10, start + MIN)]),
        listing(1, vec![order(30, start + 40 * MIN)]),
    ]);
    let p1 = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    assert_eq!(ids(&p1), ["20", "10"]);
    assert!(p1.more);
    assert_eq!(decode(&p1), Cursor::at(start + 30 * MIN));
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!(ids(&p2), ["30"]);
    assert_eq!(f.window_of(1).0, (start + 30 * MIN) / 1000);
}

// A window of several pages is read page 0 first (for the count), then from the LAST
// page back to page 0, one page per call, then the next window.
#[test]
fn a_multi_page_window_is_paged_backwards() {
    let start = NOW - 2 * 60 * MIN;
    let end = start + 30 * MIN;
    let o = |id, m| order(id, start + m * MIN);
    let mut f = Fake::new(vec![
        listing(5, vec![o(50, 25), o(40, 20)]),
        listing(5, vec![o(10, 1)]),
        listing(5, vec![o(30, 15), o(20, 10)]),
        listing(5, vec![o(50, 25), o(40, 20)]),
    ]);
    let mut cursor = Some(Cursor::at(start).encode());
    let (mut got, mut cursors) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        let p = f.pull(cursor.as_deref()).unwrap();
        assert!(p.more);
        got.extend(ids(&p).into_iter().map(str::to_string));
        cursors.push(decode(&p));
        cursor = p.cursor;
    }
    let pages: Vec<i64> = (0..4).map(|i| f.window_of(i).2).collect();
    assert_eq!(pages, [0, 2, 1, 0], "probe, then last page down to 0");
    assert_eq!(
        cursors,
        [
            Cursor::paging(start, end, 2, 5),
            Cursor::paging(start, end, 1, 5),
            Cursor::paging(start, end, 0, 5),
            Cursor::at(end),
        ]
    );
    got.sort();
    got.dedup();
    assert_eq!(got, ["10", "20", "30", "40", "50"]);
    assert!((0..4).all(|i| f.window_of(i).0 == start / 1000));
}

// When page 0, read last, shows more orders than when paging began, the window is paged again.
#[test]
fn a_window_that_grew_is_paged_again() {
    let (start, end) = (NOW - 2 * 60 * MIN, NOW - 90 * MIN);
    let mut f = Fake::new(vec![listing(7, vec![order(70, end), order(60, end)])]);
    let p = f
        .pull(Some(&Cursor::paging(start, end, 0, 5).encode()))
        .unwrap();
    assert_eq!(decode(&p), Cursor::paging(start, end, 3, 7));
    assert!(p.more);
}

// Caught up: with the horizon (now − 60 s) not past the cursor, nothing is requested.
#[test]
fn caught_up_pulls_request_nothing() {
    let at = windows::horizon(NOW);
    let mut f = Fake::new(vec![]);
    let p = f.pull(Some(&Cursor::at(at).encode())).unwrap();
    assert!(f.seen.is_empty());
    assert!(!p.more && p.orders.is_empty());
    assert_eq!(decode(&p), Cursor::at(at));
}

// The last window ends at the horizon; finishing it ends the pull (more = false).
#[test]
fn the_last_window_ends_at_the_horizon() {
    let start = NOW - 10 * MIN;
    let mut f = Fake::new(vec![listing(1, vec![order(90, NOW - 5 * MIN)])]);
    let p = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    assert_eq!(f.window_of(0).1, (NOW - MIN) / 1000);
    assert!(!p.more);
    assert_eq!(decode(&p), Cursor::at(NOW - MIN));
}

// doudian errors and HTTP failures become the typed errors the host's retry policy expects.
#[test]
fn doudian_errors_become_typed_errors() {
    let start = Cursor::at(NOW - 60 * MIN).encode();
    let mut f = Fake::new(vec![
        dd_error(40004, "isv.signature-invalid", "签名校验失败"),
        dd_error(30002, "isv.access-token-expired", "access_token已过期"),
        dd_error(90000, "isp.flow-limit", "调用频率超过限制"),
        dd_error(20000, "isp.service-error", "系统错误"),
        dd_error(40002, "isv.parameter-invalid", "size取值范围1-100"),
        Response {
            status: 503,
            headers: vec![],
            body: b"busy".to_vec(),
        },
    ]);
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("40004"))
    );
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("30002"))
    );
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::RateLimited(1000))
    ));
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::Transient(_))
    ));
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::InvalidInput(m)) if m.contains("size"))
    );
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::Transient(_))
    ));
}

// A garbage cursor is refused before any request is made.
#[test]
fn garbage_cursor_is_invalid_input() {
    let mut f = Fake::new(vec![]);
    assert!(matches!(
        f.pull(Some("{{{")),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert!(f.seen.is_empty());
}

// One unmappable order fails the page loudly (the cursor does not move past it).
#[test]
fn an_unmappable_order_fails_the_page() {
    let mut bad = order(770, NOW - 30 * MIN);
    bad["order_status"] = json!(77);
    let mut f = Fake::new(vec![listing(1, vec![bad])]);
    assert!(matches!(
        f.pull(Some(&Cursor::at(NOW - 60 * MIN).encode())),
        Err(ConnectorError::InvalidInput(m)) if m.contains("order_status") && m.contains("770")
    ));
}

// get-order reads order.orderDetail; an order that does not exist is none; ids are digits.
#[test]
fn get_order_reads_one_order() {
    let mut answers = VecDeque::from(vec![
        ok(json!({"shop_order_detail": order(42, NOW - MIN)})),
        dd_error(50002, "isv.business-failed:order_not_exist", "订单不存在"),
        dd_error(30001, "isv.access-token-no-exist", "x"),
    ]);
    let mut seen = Vec::new();
    let mut send = |r: Request| {
        seen.push(r);
        Ok(answers.pop_front().unwrap())
    };
    let got = get_order(&settings(), &creds(), "42", NOW, &mut send)
        .unwrap()
        .unwrap();
    assert_eq!(got.external_id, "42");
    assert!(get_order(&settings(), &creds(), "43", NOW, &mut send)
        .unwrap()
        .is_none());
    assert!(matches!(
        get_order(&settings(), &creds(), "44", NOW, &mut send),
        Err(ConnectorError::Unauthorized(_))
    ));
    assert!(matches!(
        get_order(&settings(), &creds(), "../42", NOW, &mut send),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(seen.len(), 3);
    assert!(seen[0]
        .url
        .starts_with(&format!("{URL}/order/orderDetail?")));
    assert_eq!(query(&seen[0], "method"), ORDER_DETAIL);
    assert_eq!(params(&seen[0]), json!({"shop_order_id": "42"}));
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

// push-inventory sends one absolute sku.syncStock per level (by sku_id, else by code,
// negative as 0); per-item failures are ok:false with doudian's message.
#[test]
fn push_inventory_syncs_each_level() {
    let mut answers = VecDeque::from(vec![
        ok(json!({})),
        ok(json!({})),
        dd_error(50002, "isv.business-failed:sku_not_exist", "sku不存在"),
        ok(json!({})),
    ]);
    let mut seen = Vec::new();
    let mut send = |r: Request| {
        seen.push(r);
        Ok(answers.pop_front().unwrap())
    };
    let levels = [
        level("CUP-1", "1780000000000000001", 12),
        level("SUN-2", "", 3),
        level("GONE", "99", 1),
        level("NEG", "1780000000000000003", -4),
        level("BAD", "abc", 1),
        level("", "", 1),
    ];
    let r = push_inventory(&settings(), &creds(), &levels, NOW, &mut send).unwrap();
    let oks: Vec<(&str, bool)> = r.iter().map(|x| (x.sku.as_str(), x.ok)).collect();
    assert_eq!(
        oks,
        [
            ("CUP-1", true),
            ("SUN-2", true),
            ("GONE", false),
            ("NEG", true),
            ("BAD", false),
            ("", false)
        ]
    );
    assert!(r[2].message.contains("sku不存在"), "{}", r[2].message);
    assert!(r[4].message.contains("abc"));
    assert_eq!(seen.len(), 4, "no request for unusable levels");
    assert!(seen[0].url.starts_with(&format!("{URL}/sku/syncStock?")));
    assert_eq!(
        params(&seen[0]),
        json!({"incremental": false, "sku_id": 1_780_000_000_000_000_001u64, "stock_num": 12})
    );
    assert_eq!(
        params(&seen[1]),
        json!({"code": "SUN-2", "incremental": false, "stock_num": 3})
    );
    assert_eq!(params(&seen[3])["stock_num"], 0);
}

// A failure of the call itself (token, flow control, platform down) fails the whole push.
#[test]
fn push_inventory_whole_call_failures_are_errors() {
    for (answer, check) in [
        (
            dd_error(30002, "isv.access-token-expired", ""),
            "unauthorized",
        ),
        (dd_error(90000, "isp.flow-limit", ""), "rate-limited"),
        (
            Response {
                status: 502,
                headers: vec![],
                body: vec![],
            },
            "transient",
        ),
    ] {
        let mut answers = VecDeque::from(vec![ok(json!({})), answer]);
        let mut send = |_r: Request| Ok(answers.pop_front().unwrap());
        let levels = [level("A", "1", 1), level("B", "2", 2)];
        let got = push_inventory(&settings(), &creds(), &levels, NOW, &mut send);
        let kind = match got {
            Err(ConnectorError::Unauthorized(_)) => "unauthorized",
            Err(ConnectorError::RateLimited(_)) => "rate-limited",
            Err(ConnectorError::Transient(_)) => "transient",
            other => panic!("{other:?}"),
        };
        assert_eq!(kind, check);
    }
}
