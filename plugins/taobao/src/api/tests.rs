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
const URL: &str = "http://gw.api.taobao.com/router/rest";

fn settings() -> Settings {
    Settings {
        api_url: URL.into(),
        window_minutes: 30,
        page_size: 2,
        lookback_days: 1,
        seller_nick: None,
    }
}

fn creds() -> Credentials {
    Credentials {
        app_key: "12345678".into(),
        app_secret: "secret".into(),
        session: "sess".into(),
    }
}

fn trade(tid: u64, modified_ms: i64) -> Value {
    json!({
        "tid": tid, "status": "WAIT_SELLER_SEND_GOODS", "seller_nick": "shop",
        "created": "2024-04-01 10:00:00", "modified": top::format_time(modified_ms),
        "payment": "10.00", "post_fee": "0.00", "discount_fee": "0.00",
        "receiver_name": "张伟", "receiver_state": "浙江省", "receiver_city": "杭州市",
        "receiver_address": "文一西路969号",
        "orders": {"order": [{"oid": tid * 10, "title": "T", "price": "10.00", "num": 1}]}
    })
}

fn listing(total: u64, trades: Vec<Value>) -> Response {
    let mut body = json!({"total_results": total, "has_next": false, "request_id": "r"});
    if !trades.is_empty() {
        body["trades"] = json!({ "trade": trades });
    }
    ok(json!({ "trades_sold_increment_get_response": body }))
}

fn ok(body: Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn top_error(code: i64, sub_code: &str, sub_msg: &str) -> Response {
    ok(
        json!({"error_response": {"code": code, "msg": "m", "sub_code": sub_code,
                                  "sub_msg": sub_msg, "request_id": "r"}}),
    )
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
    fn window_of(&self, i: usize) -> (String, String, String) {
        let r = &self.seen[i];
        (
            get(r, "start_modified"),
            get(r, "end_modified"),
            get(r, "page_no"),
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

// A first pull asks for the look-back's first window, page 1 with the count, signed
// over every parameter; empty windows are skipped within the call up to the request cap.
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
    assert_eq!(get(r, "method"), INCREMENT_GET);
    assert_eq!(get(r, "start_modified"), top::format_time(NOW - DAY));
    assert_eq!(
        get(r, "end_modified"),
        top::format_time(NOW - DAY + 30 * MIN)
    );
    assert_eq!(
        (get(r, "page_no"), get(r, "page_size")),
        ("1".into(), "2".into())
    );
    assert_eq!(get(r, "use_has_next"), "false");
    assert_eq!(get(r, "fields"), TRADE_FIELDS);
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
        listing(2, vec![trade(2, start + 20 * MIN), trade(1, start + MIN)]),
        listing(1, vec![trade(3, start + 40 * MIN)]),
    ]);
    let p1 = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    assert_eq!(ids(&p1), ["2", "1"]);
    assert!(p1.more);
    assert_eq!(decode(&p1), Cursor::at(start + 30 * MIN));
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!(ids(&p2), ["3"]);
    assert_eq!(f.window_of(1).0, top::format_time(start + 30 * MIN));
    assert_eq!(f.seen.len(), 2);
}

// A window of several pages is read page 1 first (for the count), then from the LAST
// page back to page 1, one page per call, then the next window.
#[test]
fn a_multi_page_window_is_paged_backwards() {
    let start = NOW - 2 * 60 * MIN;
    let end = start + 30 * MIN;
    let t = |tid, m| trade(tid, start + m * MIN);
    let mut f = Fake::new(vec![
        listing(5, vec![t(5, 25), t(4, 20)]),
        listing(5, vec![t(1, 1)]),
        listing(5, vec![t(3, 15), t(2, 10)]),
        listing(5, vec![t(5, 25), t(4, 20)]),
    ]);
    let mut cursor = Some(Cursor::at(start).encode());
    let mut got = Vec::new();
    let mut cursors = Vec::new();
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
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique, ["1", "2", "3", "4", "5"]);
    assert!((0..4).all(|i| f.window_of(i).0 == top::format_time(start)));
}

// When page 1, read last, shows more trades than when paging began, the window is paged again.
#[test]
fn a_window_that_grew_is_paged_again() {
    let (start, end) = (NOW - 2 * 60 * MIN, NOW - 90 * MIN);
    let mut f = Fake::new(vec![listing(7, vec![trade(7, end), trade(6, end)])]);
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

// The last window ends at the horizon; finishing it ends the pull (more = false), and
// the next pull starts exactly there.
#[test]
fn the_last_window_ends_at_the_horizon() {
    let start = NOW - 10 * MIN;
    let mut f = Fake::new(vec![listing(1, vec![trade(9, NOW - 5 * MIN)])]);
    let p = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    assert_eq!(f.window_of(0).1, top::format_time(NOW - MIN));
    assert!(!p.more);
    assert_eq!(decode(&p), Cursor::at(NOW - MIN));
}

// A trade modified exactly on a window boundary is in both windows' ranges: read by
// one, read again by the next (the host deduplicates), never dropped between them.
#[test]
fn a_boundary_trade_is_read_by_both_windows() {
    let start = NOW - 3 * 60 * MIN;
    let boundary = start + 30 * MIN;
    let mut f = Fake::new(vec![
        listing(1, vec![trade(1, boundary)]),
        listing(1, vec![trade(1, boundary)]),
    ]);
    let p1 = f.pull(Some(&Cursor::at(start).encode())).unwrap();
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!((ids(&p1), ids(&p2)), (vec!["1"], vec!["1"]));
    let at = top::format_time(boundary);
    assert_eq!(
        f.window_of(0).1,
        at,
        "the first window includes the boundary second"
    );
    assert_eq!(f.window_of(1).0, at, "so does the second");
}

// TOP errors and HTTP failures become the typed errors the host's retry policy expects.
#[test]
fn top_errors_become_typed_errors() {
    let start = Cursor::at(NOW - 60 * MIN).encode();
    let mut f = Fake::new(vec![
        top_error(25, "isv.invalid-signature", "Invalid signature"),
        top_error(27, "invalid-sessionkey", "SessionKey非法"),
        top_error(
            7,
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 4 more seconds",
        ),
        top_error(15, "isp.remote-service-error", "later"),
        top_error(15, "isv.invalid-parameter", "span"),
        Response {
            status: 503,
            headers: vec![],
            body: b"busy".to_vec(),
        },
    ]);
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("25"))
    );
    assert!(
        matches!(f.pull(Some(&start)), Err(ConnectorError::Unauthorized(m)) if m.contains("27"))
    );
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::RateLimited(4000))
    ));
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        f.pull(Some(&start)),
        Err(ConnectorError::InvalidInput(_))
    ));
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

// One unmappable trade fails the page loudly (the cursor does not move past it).
#[test]
fn an_unmappable_trade_fails_the_page() {
    let mut bad = trade(77, NOW - 30 * MIN);
    bad["payment"] = json!("lots");
    let mut f = Fake::new(vec![listing(1, vec![bad])]);
    assert!(matches!(
        f.pull(Some(&Cursor::at(NOW - 60 * MIN).encode())),
        Err(ConnectorError::InvalidInput(m)) if m.contains("payment") && m.contains("77")
    ));
}

// With seller_nick configured, a trade of another seller fails the call as permanent.
#[test]
fn another_sellers_trade_is_refused() {
    let mut f = Fake::new(vec![
        listing(1, vec![trade(1, NOW - 30 * MIN)]),
        listing(1, vec![trade(1, NOW - 30 * MIN)]),
    ]);
    f.settings.seller_nick = Some("shop".into());
    let cursor = Cursor::at(NOW - 60 * MIN).encode();
    assert_eq!(f.pull(Some(&cursor)).unwrap().orders.len(), 1);
    f.settings.seller_nick = Some("other shop".into());
    assert!(
        matches!(f.pull(Some(&cursor)), Err(ConnectorError::Permanent(m)) if m.contains("other shop"))
    );
}

// get-order reads taobao.trade.fullinfo.get; a trade that does not exist is none; tids are digits.
#[test]
fn get_order_reads_one_trade() {
    let mut answers = VecDeque::from(vec![
        ok(json!({"trade_fullinfo_get_response": {"trade": trade(42, NOW - MIN)}})),
        top_error(15, "isv.trade-not-exist", "交易不存在"),
        top_error(27, "invalid-sessionkey", "x"),
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
    assert_eq!(
        (get(&seen[0], "method"), get(&seen[0], "tid")),
        (FULLINFO_GET.into(), "42".into())
    );
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

/// channel-sku is "num_iid:sku_id" or "num_iid", digits only; anything else is refused.
#[test]
fn channel_skus_name_an_item_and_sku() {
    assert_eq!(parse_channel_sku("6001:5002"), Ok(("6001", Some("5002"))));
    assert_eq!(parse_channel_sku(" 6001 "), Ok(("6001", None)));
    for bad in [
        "",
        "6001:",
        ":5002",
        "abc",
        "6001:5002:1",
        "6001-5002",
        "1".repeat(21).as_str(),
    ] {
        assert!(parse_channel_sku(bad).is_err(), "{bad:?}");
    }
}

/// push_inventory sends one signed full update per level (negative as 0), fails bad levels alone and whole-call errors entirely.
#[test]
fn push_inventory_updates_each_level() {
    let item = |q: i64| {
        ok(json!({"item_quantity_update_response": {"item": {"num_iid": 1, "quantity": q}}}))
    };
    let mut answers = VecDeque::from(vec![
        item(5),
        top_error(15, "isv.item-not-exist", "商品不存在"),
        item(0),
        top_error(
            7,
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 2 more seconds",
        ),
    ]);
    let mut seen = Vec::new();
    let mut send = |r: Request| {
        seen.push(r);
        Ok(answers.pop_front().unwrap())
    };
    let levels = [
        level("A", "6001:5002", 5),
        level("B", "6009:5009", 1),
        level("C", "not-an-id", 1),
        level("D", "6003", -4),
    ];
    let got = push_inventory(&settings(), &creds(), &levels, NOW, &mut send).unwrap();
    // Call-wide errors (here TOP's call limit) fail the whole push.
    assert!(matches!(
        push_inventory(&settings(), &creds(), &levels[..1], NOW, &mut send),
        Err(ConnectorError::RateLimited(2000))
    ));
    let oks: Vec<(&str, bool)> = got.iter().map(|r| (r.sku.as_str(), r.ok)).collect();
    assert_eq!(oks, [("A", true), ("B", false), ("C", false), ("D", true)]);
    assert!(
        got[1].message.contains("isv.item-not-exist"),
        "{}",
        got[1].message
    );
    assert_eq!(seen.len(), 3 + 1, "the malformed channel-sku was not sent");
    let sent = |i: usize| params(&seen[i]);
    assert_eq!(get(&seen[0], "method"), QUANTITY_UPDATE);
    assert_eq!(
        (
            get(&seen[0], "num_iid"),
            get(&seen[0], "sku_id"),
            get(&seen[0], "quantity"),
            get(&seen[0], "type")
        ),
        ("6001".into(), "5002".into(), "5".into(), "1".into())
    );
    assert_eq!(get(&seen[2], "quantity"), "0", "oversold is pushed as 0");
    assert!(
        !sent(2).iter().any(|(k, _)| k == "sku_id"),
        "an item without SKUs"
    );
    let signed: Vec<(String, String)> = sent(0).into_iter().filter(|(k, _)| k != "sign").collect();
    let pairs: Vec<(&str, &str)> = signed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(get(&seen[0], "sign"), md5_sorted_params("secret", &pairs));
}
