use super::*;
use serde_json::json;
use std::collections::VecDeque;
use wharf_sdk::http::{Request, Response};
use wharf_sdk::sign::md5_sorted_params;
use wharf_sdk::windows::{self, Cursor, MAX_REQUESTS_PER_CALL};

// 2024-04-10T00:00:00Z
const NOW: i64 = 1_712_707_200_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const URL: &str = "http://api.jd.com/routerjson";

fn settings() -> Settings {
    Settings {
        api_url: URL.into(),
        window_minutes: 30,
        page_size: 2,
        lookback_days: 1,
        vender_id: None,
    }
}

fn creds() -> Credentials {
    Credentials {
        app_key: "APPKEY".into(),
        app_secret: "secret".into(),
        access_token: "token".into(),
    }
}

fn order(id: u64, modified_ms: i64) -> Value {
    json!({
        "orderId": id.to_string(), "venderId": "10086001", "orderState": "WAIT_SELLER_STOCK_OUT",
        "orderStartTime": "2024-04-01 10:00:00", "modified": jos::format_time(modified_ms),
        "orderTotalPrice": "10.00", "orderPayment": "10.00", "freightPrice": "0.00",
        "consigneeInfo": {"fullname": "王磊", "province": "北京", "city": "朝阳区",
                          "fullAddress": "北京朝阳区建国路88号"},
        "itemInfoList": [{"skuId": (id * 10).to_string(), "skuName": "T", "jdPrice": "10.00", "itemTotal": "1"}]
    })
}

fn ok(body: Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn listing(total: u64, orders: Vec<Value>) -> Response {
    ok(
        json!({"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
        "apiResult": {"success": true, "numberCode": 10100000},
        "orderInfoList": orders, "orderTotal": total}}}),
    )
}

fn jos_error(code: &str, en: &str) -> Response {
    ok(json!({"error_response": {"code": code, "zh_desc": "错误", "en_desc": en}}))
}

/// The form parameters of a request, decoded.
fn params(r: &Request) -> Vec<(String, String)> {
    let body = String::from_utf8(r.body.clone()).unwrap();
    body.split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_string(), unescape(v))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn get(r: &Request, key: &str) -> String {
    params(r)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{key} not sent"))
}

/// The business parameters of a request (`360buy_param_json`, parsed).
fn business(r: &Request) -> Value {
    serde_json::from_str(&get(r, "360buy_param_json")).unwrap()
}

/// A fake transport answering from a queue and recording every request.
struct Fake {
    answers: VecDeque<Response>,
    seen: Vec<Request>,
    settings: Settings,
}

impl Fake {
    fn new(answers: Vec<Response>) -> Self {
        Fake {
            answers: answers.into(),
            seen: Vec::new(),
            settings: settings(),
        }
    }
    fn pull(&mut self, cursor: Option<&str>) -> Result<Page, ConnectorError> {
        let settings = self.settings.clone();
        let mut send = |r: Request| {
            self.seen.push(r);
            Ok(self.answers.pop_front().expect("an answer is queued"))
        };
        pull_orders(&settings, &creds(), cursor, NOW, &mut send)
    }
    fn push(&mut self, levels: &[StockLevel]) -> Result<Vec<StockPushResult>, ConnectorError> {
        let settings = self.settings.clone();
        let mut send = |r: Request| {
            self.seen.push(r);
            Ok(self.answers.pop_front().expect("an answer is queued"))
        };
        push_inventory(&settings, &creds(), levels, NOW, &mut send)
    }
    fn window_of(&self, i: usize) -> (String, String, String) {
        let b = business(&self.seen[i]);
        let s = |k: &str| b[k].as_str().unwrap().to_string();
        (s("start_date"), s("end_date"), s("page"))
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

// A first pull asks for the look-back's first window, page 1, by modification time,
// newest first, every known state, signed over every parameter; empty windows are
// skipped within the call up to the request cap.
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
    assert_eq!((r.method.as_str(), r.url.as_str()), ("POST", URL));
    assert_eq!(get(r, "method"), ORDER_SEARCH);
    let b = business(r);
    assert_eq!(b["start_date"], jos::format_time(NOW - DAY));
    assert_eq!(b["end_date"], jos::format_time(NOW - DAY + 30 * MIN));
    assert_eq!(
        (b["page"].as_str(), b["page_size"].as_str()),
        (Some("1"), Some("2"))
    );
    assert_eq!(
        (b["dateType"].as_str(), b["sortType"].as_str()),
        (Some("0"), Some("1"))
    );
    assert_eq!(b["order_state"], ORDER_STATES.join(","));
    assert_eq!(b["optional_fields"], ORDER_FIELDS);
    let mut signed = params(r);
    let sign = signed.iter().position(|(k, _)| k == "sign").unwrap();
    let sent = signed.remove(sign).1;
    let pairs: Vec<(&str, &str)> = signed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(sent, md5_sorted_params("secret", &pairs));
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
        listing(2, vec![order(2, start + 20 * MIN), order(1, start + MIN)]),
        listing(1, vec![order(3, start + 40 * MIN)]),
    ]);
    let p1 = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    assert_eq!(ids(&p1), ["2", "1"]);
    assert!(p1.more);
    assert_eq!(decode(&p1), Cursor::at(start + 30 * MIN));
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!(ids(&p2), ["3"]);
    assert_eq!(f.window_of(1).0, jos::format_time(start + 30 * MIN));
    assert_eq!(f.seen.len(), 2);
}

// A window of several pages is read page 1 first (for the count), then from the LAST
// page back to page 1, one page per call, then the next window.
#[test]
fn a_multi_page_window_is_paged_backwards() {
    let start = NOW - 2 * 60 * MIN;
    let end = start + 30 * MIN;
    let o = |id, m| order(id, start + m * MIN);
    let mut f = Fake::new(vec![
        listing(5, vec![o(5, 25), o(4, 20)]),
        listing(5, vec![o(1, 1)]),
        listing(5, vec![o(3, 15), o(2, 10)]),
        listing(5, vec![o(5, 25), o(4, 20)]),
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
    let pages: Vec<String> = (0..4).map(|i| f.window_of(i).2).collect();
    assert_eq!(
        pages,
        ["1", "3", "2", "1"],
        "probe, then last page down to 1"
    );
    assert_eq!(
        cursors,
        [
            Cursor::paging(start, end, 3, 5),
            Cursor::paging(start, end, 2, 5),
            Cursor::paging(start, end, 1, 5),
            Cursor::at(end),
        ]
    );
    got.sort();
    got.dedup();
    assert_eq!(got, ["1", "2", "3", "4", "5"]);
}

// When page 1, read last, shows more orders than when paging began, the window is paged again.
#[test]
fn a_window_that_grew_is_paged_again() {
    let (start, end) = (NOW - 2 * 60 * MIN, NOW - 90 * MIN);
    let mut f = Fake::new(vec![listing(7, vec![order(7, end), order(6, end)])]);
    let p = f
        .pull(Some(&Cursor::paging(start, end, 1, 5).encode()))
        .unwrap();
    assert_eq!(decode(&p), Cursor::paging(start, end, 4, 7));
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
    let mut f = Fake::new(vec![listing(1, vec![order(9, NOW - 5 * MIN)])]);
    let p = f.pull(Some(&Cursor::at(NOW - 10 * MIN).encode())).unwrap();
    assert_eq!(f.window_of(0).1, jos::format_time(NOW - MIN));
    assert!(!p.more);
    assert_eq!(decode(&p), Cursor::at(NOW - MIN));
}

// An order modified exactly on a window boundary is read by both windows, never dropped.
#[test]
fn a_boundary_order_is_read_by_both_windows() {
    let start = NOW - 3 * 60 * MIN;
    let boundary = start + 30 * MIN;
    let mut f = Fake::new(vec![
        listing(1, vec![order(1, boundary)]),
        listing(1, vec![order(1, boundary)]),
    ]);
    let p1 = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!((ids(&p1), ids(&p2)), (vec!["1"], vec!["1"]));
    let at = jos::format_time(boundary);
    assert_eq!(
        f.window_of(0).1,
        at,
        "the first window includes the boundary second"
    );
    assert_eq!(f.window_of(1).0, at, "so does the second");
}

// JOS errors, business failures and HTTP failures become the typed errors the host's
// retry policy expects.
#[test]
fn jos_errors_become_typed_errors() {
    let start = Cursor::at(NOW - 60 * MIN).encode();
    let refused = ok(json!({"jingdong_pop_order_search_responce": {"code": "0",
        "searchorderinfo_result": {"apiResult": {"success": false, "numberCode": 10100001,
        "englishErrCode": "page_size must be from 1 to 100", "chineseErrCode": "每页条数错误"},
        "orderInfoList": [], "orderTotal": 0}}}));
    let mut f = Fake::new(vec![
        jos_error("12", "Invalid Signature"),
        jos_error("19", "Invalid access_token"),
        jos_error("2", "App Call Limited, retry after 4 seconds"),
        jos_error("66", "isp.remote-service-unavailable"),
        refused,
        Response {
            status: 503,
            headers: vec![],
            body: b"busy".to_vec(),
        },
        Response {
            status: 429,
            headers: vec![("Retry-After".into(), "3".into())],
            body: vec![],
        },
    ]);
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("12"))
    );
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("19"))
    );
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::RateLimited(4000))
    ));
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::Transient(_))
    ));
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::InvalidInput(m)) if m.contains("page_size"))
    );
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::RateLimited(3000))
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
    let mut bad = order(77, NOW - 30 * MIN);
    bad["orderState"] = json!("WAIT_BUYER_PAY");
    let mut f = Fake::new(vec![listing(1, vec![bad])]);
    assert!(matches!(
        f.pull(Some(&Cursor::at(NOW - 60 * MIN).encode())),
        Err(ConnectorError::InvalidInput(m)) if m.contains("orderState") && m.contains("77")
    ));
}

// With vender_id configured, an order of another seller fails the call as permanent.
#[test]
fn another_venders_order_is_refused() {
    let mut f = Fake::new(vec![
        listing(1, vec![order(1, NOW - 30 * MIN)]),
        listing(1, vec![order(1, NOW - 30 * MIN)]),
    ]);
    f.settings.vender_id = Some("10086001".into());
    let cursor = Cursor::at(NOW - 60 * MIN).encode();
    assert_eq!(f.pull(Some(&cursor)).unwrap().orders.len(), 1);
    f.settings.vender_id = Some("999".into());
    assert!(
        matches!(f.pull(Some(&cursor)), Err(ConnectorError::Permanent(m)) if m.contains("999"))
    );
}

// get-order reads jingdong.pop.order.get; "order not exist" is none; ids are digits.
#[test]
fn get_order_reads_one_order() {
    let found = ok(
        json!({"jingdong_pop_order_get_responce": {"code": "0", "orderDetailInfo": {
        "apiResult": {"success": true}, "orderInfo": order(42, NOW - MIN)}}}),
    );
    let missing = ok(
        json!({"jingdong_pop_order_get_responce": {"code": "0", "orderDetailInfo": {
        "apiResult": {"success": false, "numberCode": 10400001, "englishErrCode": "order not exist",
                      "chineseErrCode": "订单不存在"}}}}),
    );
    let refused = ok(
        json!({"jingdong_pop_order_get_responce": {"code": "0", "orderDetailInfo": {
        "apiResult": {"success": false, "englishErrCode": "order_id must be a number"}}}}),
    );
    let mut answers = VecDeque::from(vec![
        found,
        missing,
        refused,
        jos_error("19", "Invalid access_token"),
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
        Err(ConnectorError::InvalidInput(_))
    ));
    assert!(matches!(
        get_order(&settings(), &creds(), "45", NOW, &mut send),
        Err(ConnectorError::Unauthorized(_))
    ));
    assert!(matches!(
        get_order(&settings(), &creds(), "../42", NOW, &mut send),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(seen.len(), 4);
    assert_eq!(get(&seen[0], "method"), ORDER_GET);
    assert_eq!(business(&seen[0])["order_id"], "42");
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

fn stock_answer(success: bool, message: &str) -> Response {
    ok(
        json!({"jingdong_stock_write_updateSkuStock_responce": {"code": "0", "success": success, "message": message}}),
    )
}

// push-inventory sets each skuId's stock (negative pushed as 0); a refused SKU or a
// channel-sku that is no skuId fails alone, without stopping the others.
#[test]
fn push_inventory_reports_per_item() {
    let mut f = Fake::new(vec![
        stock_answer(true, ""),
        stock_answer(false, "skuId 5 不存在 (sku not exist)"),
        jos_error("3", "Forbidden"),
        stock_answer(true, ""),
    ]);
    let results = f
        .push(&[
            level("A", "100012345678", 7),
            level("B", "5", 1),
            level("C", "JD-SKU", 3),
            level("D", "100087654321", 2),
            level("E", "100011112222", -4),
        ])
        .unwrap();
    let oks: Vec<(&str, bool)> = results.iter().map(|r| (r.sku.as_str(), r.ok)).collect();
    assert_eq!(
        oks,
        [
            ("A", true),
            ("B", false),
            ("C", false),
            ("D", false),
            ("E", true)
        ]
    );
    assert!(
        results[1].message.contains("not exist"),
        "{}",
        results[1].message
    );
    assert!(results[2].message.contains("JD-SKU"));
    assert!(results[3].message.contains("Forbidden"));
    assert_eq!(f.seen.len(), 4, "no request for the malformed channel-sku");
    assert_eq!(get(&f.seen[0], "method"), STOCK_UPDATE);
    assert_eq!(
        business(&f.seen[0]),
        json!({"skuId": "100012345678", "stockNum": "7"})
    );
    assert_eq!(
        business(&f.seen[3])["stockNum"],
        "0",
        "oversold is pushed as 0"
    );
}

// Errors of the whole call (credentials, call limit, transient) fail push-inventory.
#[test]
fn push_inventory_fails_whole_on_call_errors() {
    for (answer, check) in [
        (jos_error("19", "Invalid access_token"), "unauthorized"),
        (jos_error("2", "App Call Limited"), "rate-limited"),
        (
            Response {
                status: 502,
                headers: vec![],
                body: vec![],
            },
            "transient",
        ),
    ] {
        let mut f = Fake::new(vec![stock_answer(true, ""), answer]);
        let got = f.push(&[level("A", "1", 1), level("B", "2", 2)]);
        let ok = matches!(
            (&got, check),
            (Err(ConnectorError::Unauthorized(_)), "unauthorized")
                | (Err(ConnectorError::RateLimited(60_000)), "rate-limited")
                | (Err(ConnectorError::Transient(_)), "transient")
        );
        assert!(ok, "{check}: {got:?}");
    }
}
