use super::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use wharf_sdk::http::{Request, Response};
use wharf_sdk::sign::md5_sorted_params;

const URL: &str = "http://gw-api.pinduoduo.com/api/router";
const NOW_S: i64 = 1_712_707_200; // 2024-04-10T00:00:00Z
const NOW: i64 = NOW_S * 1000;

fn settings(page_size: u32) -> Settings {
    Settings {
        api_url: URL.into(),
        window_minutes: 30,
        page_size,
        lookback_days: 1,
    }
}

fn creds() -> Credentials {
    Credentials {
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        access_token: "tok".into(),
    }
}

fn order(sn: &str) -> Value {
    json!({
        "order_sn": sn, "order_status": 2, "refund_status": 1, "after_sales_status": 0,
        "confirm_status": 1, "pay_amount": "10.00", "goods_amount": "10.00",
        "discount_amount": "0.00", "postage": "0.00",
        "item_list": [{"goods_id": 1, "sku_id": 2, "outer_id": "A", "goods_name": "A",
                       "goods_count": 1, "goods_price": "10.00"}],
        "receiver_name": "张三", "receiver_phone": "13800138000", "address": "路 1 号",
        "province": "上海市", "city": "上海市", "town": "浦东新区",
        "created_time": "2024-04-09 10:00:00", "updated_at": "2024-04-09 10:00:00"
    })
}

fn ok(body: Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn list(total: u64, sns: &[&str]) -> Response {
    let orders: Vec<Value> = sns.iter().map(|s| order(s)).collect();
    ok(json!({"order_sn_increment_get_response": {
        "total_count": total, "has_next": false, "order_sn_list": orders,
        "request_id": "r"}}))
}

/// Decode a form body back into its parameters.
fn params(req: &Request) -> BTreeMap<String, String> {
    let decode = |s: &str| {
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
    };
    String::from_utf8(req.body.clone())
        .unwrap()
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

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
    fn pull(&mut self, s: &Settings, cursor: Option<&str>) -> Result<Page, ConnectorError> {
        let mut send = |r: Request| {
            self.seen.push(r);
            Ok(self.answers.pop_front().expect("an answer is queued"))
        };
        pull_orders(s, &creds(), cursor, NOW, &mut send)
    }
    fn last(&self) -> BTreeMap<String, String> {
        params(self.seen.last().unwrap())
    }
}

fn pos(page: &Page) -> Position {
    Cursor::decode(page.cursor.as_deref().unwrap()).unwrap()
}

// The first pull opens the first 30-minute window lookback_days back, signed and complete.
#[test]
fn first_pull_asks_for_the_first_window() {
    let mut f = Fake::new(vec![list(1, &["240409-1"])]);
    let page = f.pull(&settings(10), None).unwrap();
    let req = &f.seen[0];
    assert_eq!((req.method.as_str(), req.url.as_str()), ("POST", URL));
    assert!(req.headers.contains(&(
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into()
    )));
    let p = f.last();
    let from = NOW_S - 86_400;
    for (k, v) in [
        ("type", LIST_API.to_string()),
        ("client_id", "cid".into()),
        ("access_token", "tok".into()),
        ("timestamp", NOW_S.to_string()),
        ("data_type", "JSON".into()),
        ("version", "V1".into()),
        ("order_status", "5".into()),
        ("refund_status", "5".into()),
        ("is_lucky_flag", "0".into()),
        ("start_updated_at", from.to_string()),
        ("end_updated_at", (from + 1800).to_string()),
        ("page", "1".into()),
        ("page_size", "10".into()),
        ("use_has_next", "false".into()),
    ] {
        assert_eq!(p.get(k), Some(&v), "{k}");
    }
    // The signature covers every other parameter.
    let unsigned: Vec<(&str, &str)> = p
        .iter()
        .filter(|(k, _)| *k != "sign")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(p["sign"], md5_sorted_params("csecret", &unsigned));
    assert_eq!(page.orders.len(), 1);
    assert!(page.more, "more windows until the horizon");
    assert_eq!(pos(&page), Position::Between { from: from + 1800 });
}

// A window of 5 orders in pages of 2 is read as: page 1 (count), then 3, 2, 1; then the next window.
#[test]
fn a_window_is_paged_from_the_last_page_back() {
    let s = settings(2);
    let from = NOW_S - 7200;
    let start = Cursor::at(from).encode();
    let mut f = Fake::new(vec![
        list(5, &["240409-5", "240409-4"]),
        list(5, &["240409-1"]),
        list(5, &["240409-3", "240409-2"]),
        list(5, &["240409-5", "240409-4"]),
    ]);
    let p = f.pull(&s, Some(&start)).unwrap();
    assert!(p.more);
    assert_eq!(
        p.orders.len(),
        2,
        "page 1's orders are delivered right away"
    );
    assert_eq!(
        pos(&p),
        Position::Paging {
            from,
            to: from + 1800,
            page: 3,
            page_size: 2
        }
    );
    let mut pages_requested = vec![f.last()["page"].clone()];
    let mut cursor = p.cursor;
    for expected_next in [2u32, 1] {
        let p = f.pull(&s, cursor.as_deref()).unwrap();
        pages_requested.push(f.last()["page"].clone());
        assert!(p.more);
        assert_eq!(
            pos(&p),
            Position::Paging {
                from,
                to: from + 1800,
                page: expected_next,
                page_size: 2
            }
        );
        cursor = p.cursor;
    }
    let p = f.pull(&s, cursor.as_deref()).unwrap();
    pages_requested.push(f.last()["page"].clone());
    assert_eq!(pages_requested, ["1", "3", "2", "1"]);
    assert!(f
        .seen
        .iter()
        .all(|r| params(r)["start_updated_at"] == from.to_string()
            && params(r)["end_updated_at"] == (from + 1800).to_string()));
    assert_eq!(pos(&p), Position::Between { from: from + 1800 });
    assert!(p.more, "the next window [now-5400, now-3600] is readable");
}

// A page size change mid-window keeps the window's own page size (pages stay aligned).
#[test]
fn paging_keeps_the_cursors_page_size() {
    let from = NOW_S - 7200;
    let c = Cursor::paging(from, from + 1800, 2, 7).encode();
    let mut f = Fake::new(vec![list(9, &["240409-1", "240409-2"])]);
    f.pull(&settings(50), Some(&c)).unwrap();
    assert_eq!(f.last()["page_size"], "7");
    assert_eq!(f.last()["page"], "2");
}

// Near now the window ends at now − lag and the pull then stops (more = false).
#[test]
fn the_last_window_ends_at_the_horizon() {
    let from = NOW_S - 600;
    let mut f = Fake::new(vec![list(0, &[])]);
    let p = f
        .pull(&settings(10), Some(&Cursor::at(from).encode()))
        .unwrap();
    assert_eq!(
        f.last()["end_updated_at"],
        (NOW_S - window::SAFETY_LAG_SECS).to_string()
    );
    assert!(!p.more);
    assert_eq!(
        pos(&p),
        Position::Between {
            from: NOW_S - window::SAFETY_LAG_SECS
        }
    );
    // Called again at once: nothing readable, no request, cursor kept.
    let p2 = f.pull(&settings(10), p.cursor.as_deref()).unwrap();
    assert_eq!(f.seen.len(), 1, "no request when nothing is readable");
    assert!(!p2.more && p2.orders.is_empty());
    assert_eq!(p2.cursor, p.cursor);
}

// Platform errors become typed errors; a garbage cursor fails before any request.
#[test]
fn errors_are_typed() {
    let err = |code: i64| {
        ok(
            json!({"error_response": {"error_code": code, "error_msg": "m", "sub_code": "s",
                                      "sub_msg": "x", "request_id": "r"}}),
        )
    };
    let mut f = Fake::new(vec![
        err(10019),
        err(70031),
        err(10000),
        err(50000),
        Response {
            status: 502,
            headers: vec![],
            body: b"bad gateway".to_vec(),
        },
    ]);
    let s = settings(10);
    assert!(matches!(
        f.pull(&s, None),
        Err(ConnectorError::Unauthorized(_))
    ));
    assert!(matches!(
        f.pull(&s, None),
        Err(ConnectorError::RateLimited(1000))
    ));
    assert!(matches!(
        f.pull(&s, None),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert!(matches!(
        f.pull(&s, None),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        f.pull(&s, None),
        Err(ConnectorError::Transient(_))
    ));
    let before = f.seen.len();
    assert!(matches!(
        f.pull(&s, Some("{\"since\":1}")),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(f.seen.len(), before);
}

// One unmappable order fails the page (so the cursor never moves past it).
#[test]
fn an_unmappable_order_fails_the_page() {
    let mut bad = order("240409-9");
    bad["order_status"] = json!(9);
    let resp = ok(json!({"order_sn_increment_get_response": {
        "total_count": 1, "has_next": false, "order_sn_list": [order("240409-8"), bad]}}));
    let mut f = Fake::new(vec![resp]);
    assert!(matches!(
        f.pull(&settings(10), None),
        Err(ConnectorError::InvalidInput(m)) if m.contains("240409-9") && m.contains("order_status")
    ));
}

// get-order reads pdd.order.information.get; null is none; order numbers are checked first.
#[test]
fn get_order_reads_one_order() {
    let mut seen = Vec::new();
    let mut answers = VecDeque::from(vec![
        ok(json!({"order_info_get_response": {"order_info": order("240409-77")}})),
        ok(json!({"order_info_get_response": {"order_info": null}})),
    ]);
    {
        let mut send = |r: Request| {
            seen.push(r);
            Ok(answers.pop_front().unwrap())
        };
        let got = get_order(&settings(10), &creds(), "240409-77", NOW, &mut send)
            .unwrap()
            .unwrap();
        assert_eq!(got.external_id, "240409-77");
        assert!(
            get_order(&settings(10), &creds(), "240409-78", NOW, &mut send)
                .unwrap()
                .is_none()
        );
        for bad in ["", "77", "2404-1", "240409-", "240409-1a"] {
            assert!(matches!(
                get_order(&settings(10), &creds(), bad, NOW, &mut send),
                Err(ConnectorError::InvalidInput(_))
            ));
        }
    }
    assert_eq!(seen.len(), 2);
    let p = params(&seen[0]);
    assert_eq!(
        (p["type"].as_str(), p["order_sn"].as_str()),
        (INFO_API, "240409-77")
    );
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

/// channel-sku is "goods_id:sku_id", digits only; anything else is refused.
#[test]
fn channel_skus_name_goods_and_sku() {
    assert_eq!(
        parse_channel_sku(" 300001:900011 "),
        Ok(("300001", "900011"))
    );
    for bad in ["", "300001", "300001:", ":900011", "a:1", "1:2:3", "1-2"] {
        assert!(parse_channel_sku(bad).is_err(), "{bad:?}");
    }
}

/// push_inventory sends one signed full update per level (negative as 0), fails bad levels alone and whole-call errors entirely.
#[test]
fn push_inventory_updates_each_level() {
    let success = |b: bool| {
        ok(json!({"goods_quantity_update_response": {"is_success": b, "request_id": "r"}}))
    };
    let err = |code: i64| {
        ok(
            json!({"error_response": {"error_code": code, "error_msg": "商品不存在",
                                     "sub_code": "isv.goods-not-exist", "sub_msg": "x", "request_id": "r"}}),
        )
    };
    let mut answers = VecDeque::from(vec![
        success(true),
        err(60000),
        success(false),
        success(true),
        err(10019),
    ]);
    let mut seen = Vec::new();
    let mut send = |r: Request| {
        seen.push(r);
        Ok(answers.pop_front().unwrap())
    };
    let levels = [
        level("A", "1:11", 5),
        level("B", "2:22", 1),
        level("C", "3:33", 1),
        level("D", "nope", 1),
        level("E", "4:44", -4),
    ];
    let got = push_inventory(&settings(10), &creds(), &levels, NOW, &mut send).unwrap();
    // Call-wide errors (here a bad token) fail the whole push.
    assert!(matches!(
        push_inventory(&settings(10), &creds(), &levels[..1], NOW, &mut send),
        Err(ConnectorError::Unauthorized(_))
    ));
    let oks: Vec<(&str, bool)> = got.iter().map(|r| (r.sku.as_str(), r.ok)).collect();
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
    assert!(got[1].message.contains("60000"), "{}", got[1].message);
    assert_eq!(seen.len(), 4 + 1, "the malformed channel-sku was not sent");
    let first = params(&seen[0]);
    let want = [
        ("type", STOCK_API),
        ("goods_id", "1"),
        ("sku_id", "11"),
        ("quantity", "5"),
        ("update_type", "1"),
    ];
    for (k, v) in want {
        assert_eq!(first[k], v, "{k}");
    }
    assert_eq!(params(&seen[3])["quantity"], "0", "oversold is pushed as 0");
    let pairs: Vec<(&str, &str)> = first
        .iter()
        .filter(|(k, _)| *k != "sign")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(first["sign"], md5_sorted_params("csecret", &pairs));
}
