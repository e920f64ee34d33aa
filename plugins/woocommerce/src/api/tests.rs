use super::*;
use serde_json::{json, Value};
use std::collections::VecDeque;
use wharf_sdk::http::Request;

// 2024-04-10T00:00:00Z
const NOW: i64 = 1_712_707_200_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const SITE: &str = "http://shop.example.com";

fn settings() -> Settings {
    Settings {
        site_url: SITE.into(),
        page_size: 3,
        lookback_days: 1,
        safety_lag_seconds: 60,
    }
}

fn creds() -> Credentials {
    Credentials {
        consumer_key: "ck_key".into(),
        consumer_secret: "cs_secret".into(),
    }
}

fn order(id: u64, modified_ms: i64) -> Value {
    json!({
        "id": id, "number": id.to_string(), "status": "processing", "currency": "EUR",
        "date_created_gmt": "2024-04-01T10:00:00", "date_modified_gmt": format_gmt(modified_ms),
        "total": "10.00", "shipping_total": "0.00", "total_tax": "0.00", "customer_id": 0,
        "billing": {"first_name": "A", "last_name": "B", "email": "a@example.com"},
        "shipping": {"first_name": "A", "last_name": "B", "address_1": "1 Rue", "city": "Paris",
                     "postcode": "75001", "country": "FR"},
        "line_items": [{"id": id * 10, "name": "T", "product_id": 5, "variation_id": 0,
                        "quantity": 1, "subtotal": "10.00", "total": "10.00", "price": 10,
                        "sku": "S"}]
    })
}

fn listing(total: usize, orders: Vec<Value>) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("X-WP-Total".into(), total.to_string()),
            ("X-WP-TotalPages".into(), total.div_ceil(3).to_string()),
        ],
        body: Value::Array(orders).to_string().into_bytes(),
    }
}

fn status(code: u16, headers: Vec<(String, String)>, body: Value) -> Response {
    Response {
        status: code,
        headers,
        body: body.to_string().into_bytes(),
    }
}

fn wc_error(code: u16, wc: &str) -> Response {
    status(
        code,
        vec![],
        json!({"code": wc, "message": "m", "data": {"status": code}}),
    )
}

/// Query parameters of a request, decoded.
fn params(r: &Request) -> Vec<(String, String)> {
    let Some((_, q)) = r.url.split_once('?') else {
        return vec![];
    };
    q.split('&')
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

fn get(r: &Request, key: &str) -> Option<String> {
    params(r)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
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
}

fn decode(p: &Page) -> Cursor {
    Cursor::decode(p.cursor.as_deref().unwrap()).unwrap()
}

fn ids(p: &Page) -> Vec<&str> {
    p.orders.iter().map(|o| o.external_id.as_str()).collect()
}

// A first pull reads page 1 of the look-back, oldest-modified first, in GMT, OAuth-signed
// (the site is plain HTTP); a full page moves the cursor to its newest second.
#[test]
fn first_pull_reads_page_one_from_the_lookback() {
    let start = NOW - DAY;
    let mut f = Fake::new(vec![listing(
        5,
        vec![
            order(1, start + MIN),
            order(2, start + 2 * MIN),
            order(3, start + 3 * MIN),
        ],
    )]);
    let p = f.pull(None).unwrap();
    let r = &f.seen[0];
    assert_eq!(r.method, "GET");
    assert!(
        r.url
            .starts_with("http://shop.example.com/wp-json/wc/v3/orders?"),
        "{}",
        r.url
    );
    for (k, v) in [
        ("status", "any"),
        ("dates_are_gmt", "true"),
        ("orderby", "modified"),
        ("order", "asc"),
        ("per_page", "3"),
        ("page", "1"),
        ("oauth_consumer_key", "ck_key"),
        ("oauth_signature_method", "HMAC-SHA256"),
    ] {
        assert_eq!(get(r, k).as_deref(), Some(v), "{k}");
    }
    assert_eq!(get(r, "modified_after").unwrap(), format_gmt(start - 1000));
    assert_eq!(
        get(r, "modified_before").unwrap(),
        format_gmt(NOW - MIN + 1000)
    );
    assert_eq!(get(r, "exclude"), None);
    assert!(get(r, "oauth_signature").is_some());
    assert!(!r.url.contains("cs_secret"), "the secret is never sent");
    assert_eq!(ids(&p), ["1", "2", "3"]);
    assert!(p.more);
    assert_eq!(
        decode(&p),
        Cursor {
            after: start + 3 * MIN,
            seen: vec![3]
        }
    );
}

// The next call reads page 1 again from the cursor's second, excluding the ids already
// delivered there; never page 2.
#[test]
fn the_next_call_is_a_keyset_not_a_page_number() {
    let at = NOW - 30 * MIN;
    let cur = Cursor {
        after: at,
        seen: vec![3],
    };
    let mut f = Fake::new(vec![listing(2, vec![order(4, at), order(5, at + MIN)])]);
    let p = f.pull(Some(&cur.encode())).unwrap();
    let r = &f.seen[0];
    assert_eq!(get(r, "page").as_deref(), Some("1"));
    assert_eq!(get(r, "exclude").as_deref(), Some("3"));
    assert_eq!(get(r, "modified_after").unwrap(), format_gmt(at - 1000));
    assert_eq!(ids(&p), ["4", "5"]);
    assert!(!p.more, "X-WP-Total equals the page");
    assert_eq!(
        decode(&p),
        Cursor {
            after: NOW - MIN,
            seen: vec![]
        },
        "exhausted: the cursor moves to the horizon"
    );
}

// Many orders sharing one second are paged by growing the exclude list at that second.
#[test]
fn orders_sharing_a_second_are_paged_by_exclusion() {
    let at = NOW - 30 * MIN;
    let mut f = Fake::new(vec![
        listing(5, vec![order(1, at), order(2, at), order(3, at)]),
        listing(2, vec![order(4, at), order(5, at)]),
    ]);
    let p1 = f
        .pull(Some(
            &Cursor {
                after: at,
                seen: vec![],
            }
            .encode(),
        ))
        .unwrap();
    assert_eq!(
        decode(&p1),
        Cursor {
            after: at,
            seen: vec![1, 2, 3]
        }
    );
    assert!(p1.more);
    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!(get(&f.seen[1], "exclude").as_deref(), Some("1,2,3"));
    assert_eq!(ids(&p2), ["4", "5"]);
    assert!(!p2.more);
}

// Orders before the cursor or already seen are dropped; a page of nothing but those
// (a site ignoring the filters) is a permanent error instead of an endless loop.
#[test]
fn stale_orders_are_dropped_and_a_stuck_site_is_reported() {
    let at = NOW - 30 * MIN;
    let cur = Cursor {
        after: at,
        seen: vec![1],
    }
    .encode();
    let mut f = Fake::new(vec![
        listing(
            3,
            vec![order(9, at - 5000), order(1, at), order(2, at + 1000)],
        ),
        listing(3, vec![order(9, at - 5000), order(1, at)]),
    ]);
    let p = f.pull(Some(&cur)).unwrap();
    assert_eq!(ids(&p), ["2"]);
    assert!(
        matches!(f.pull(Some(&cur)), Err(ConnectorError::Permanent(m)) if m.contains("modified_after"))
    );
}

// Caught up (the horizon is before the cursor): nothing is requested.
#[test]
fn caught_up_pulls_request_nothing() {
    let cur = Cursor {
        after: NOW - 30_000,
        seen: vec![4],
    }
    .encode();
    let mut f = Fake::new(vec![]);
    let p = f.pull(Some(&cur)).unwrap();
    assert!(f.seen.is_empty());
    assert!(!p.more && p.orders.is_empty());
    assert_eq!(p.cursor.as_deref(), Some(cur.as_str()));
}

// An order at the horizon second is remembered in `seen`, so the next round neither
// skips nor repeats it.
#[test]
fn an_order_at_the_horizon_is_remembered() {
    let h = NOW - MIN;
    let mut f = Fake::new(vec![listing(1, vec![order(8, h)])]);
    let p = f
        .pull(Some(
            &Cursor {
                after: h - MIN,
                seen: vec![],
            }
            .encode(),
        ))
        .unwrap();
    assert_eq!(
        decode(&p),
        Cursor {
            after: h,
            seen: vec![8]
        }
    );
}

// HTTP failures become the typed errors the host's retry policy expects.
#[test]
fn errors_become_typed_errors() {
    let cur = Cursor {
        after: NOW - 30 * MIN,
        seen: vec![],
    }
    .encode();
    let mut f = Fake::new(vec![
        wc_error(401, "woocommerce_rest_authentication_error"),
        status(429, vec![("Retry-After".into(), "5".into())], json!({})),
        wc_error(503, "http_request_failed"),
        wc_error(400, "rest_invalid_param"),
    ]);
    assert!(
        matches!(f.pull(Some(&cur)), Err(ConnectorError::Unauthorized(m)) if m.contains("authentication_error"))
    );
    assert!(matches!(
        f.pull(Some(&cur)),
        Err(ConnectorError::RateLimited(5000))
    ));
    assert!(matches!(
        f.pull(Some(&cur)),
        Err(ConnectorError::Transient(_))
    ));
    assert!(
        matches!(f.pull(Some(&cur)), Err(ConnectorError::InvalidInput(m)) if m.contains("rest_invalid_param"))
    );
}

// A garbage cursor is refused before any request; one unmappable order fails the page
// naming it (the cursor does not move past it).
#[test]
fn garbage_cursor_and_unmappable_orders_fail() {
    let mut f = Fake::new(vec![]);
    assert!(matches!(
        f.pull(Some("{{{")),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert!(f.seen.is_empty());
    let mut bad = order(77, NOW - 10 * MIN);
    bad["status"] = json!("shipped-custom");
    let mut f = Fake::new(vec![listing(1, vec![bad])]);
    assert!(matches!(
        f.pull(Some(&Cursor { after: NOW - 30 * MIN, seen: vec![] }.encode())),
        Err(ConnectorError::InvalidInput(m)) if m.contains("77") && m.contains("status")
    ));
}

// get-order reads /orders/{id}; WooCommerce's 404 is none; ids are digits.
#[test]
fn get_order_reads_one_order() {
    let mut answers = VecDeque::from(vec![
        status(200, vec![], order(42, NOW - MIN)),
        wc_error(404, "woocommerce_rest_shop_order_invalid_id"),
        wc_error(401, "woocommerce_rest_cannot_view"),
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
        .starts_with("http://shop.example.com/wp-json/wc/v3/orders/42?"));
}

fn level(sku: &str, channel_sku: &str, available: i64) -> StockLevel {
    StockLevel {
        sku: sku.into(),
        channel_sku: channel_sku.into(),
        available,
    }
}

// push-inventory PUTs manage_stock + stock_quantity to the product or variation; a
// refused listing is a failed result, a malformed channel-sku fails without a request.
#[test]
fn push_inventory_sets_stock_per_listing() {
    let mut answers = VecDeque::from(vec![
        status(200, vec![], json!({"id": 5})),
        status(200, vec![], json!({"id": 7})),
        wc_error(404, "woocommerce_rest_product_invalid_id"),
    ]);
    let mut seen = Vec::new();
    let mut send = |r: Request| {
        seen.push(r);
        Ok(answers.pop_front().unwrap())
    };
    let got = push_inventory(
        &settings(),
        &creds(),
        &[
            level("A", "5", 12),
            level("B", "6/7", -3),
            level("C", "not-an-id", 1),
            level("D", "999", 4),
        ],
        NOW,
        &mut send,
    )
    .unwrap();
    let oks: Vec<(&str, bool)> = got.iter().map(|r| (r.sku.as_str(), r.ok)).collect();
    assert_eq!(oks, [("A", true), ("B", true), ("C", false), ("D", false)]);
    assert!(got[2].message.contains("not-an-id"));
    assert!(got[3]
        .message
        .contains("woocommerce_rest_product_invalid_id"));
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].method, "PUT");
    assert!(seen[0]
        .url
        .starts_with("http://shop.example.com/wp-json/wc/v3/products/5?"));
    assert!(seen[1]
        .url
        .starts_with("http://shop.example.com/wp-json/wc/v3/products/6/variations/7?"));
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(body, json!({"manage_stock": true, "stock_quantity": 12}));
    let body: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body["stock_quantity"], 0,
        "negative available is pushed as 0"
    );
}

// A rate limit or auth failure during push-inventory fails the whole call.
#[test]
fn push_inventory_whole_call_failures() {
    for (resp, want) in [
        (
            status(429, vec![("Retry-After".into(), "3".into())], json!({})),
            "rate",
        ),
        (wc_error(401, "woocommerce_rest_cannot_edit"), "auth"),
    ] {
        let mut answers = VecDeque::from(vec![resp]);
        let mut send = |_r: Request| Ok(answers.pop_front().unwrap());
        let got = push_inventory(&settings(), &creds(), &[level("A", "5", 1)], NOW, &mut send);
        match (want, got) {
            ("rate", Err(ConnectorError::RateLimited(3000))) => {}
            ("auth", Err(ConnectorError::Unauthorized(_))) => {}
            (w, other) => panic!("{w}: {other:?}"),
        }
    }
}

// channel-skus are a product id or product/variation ids, nothing else.
#[test]
fn stock_paths() {
    assert_eq!(stock_path("12").as_deref(), Some("/products/12"));
    assert_eq!(
        stock_path("12/34").as_deref(),
        Some("/products/12/variations/34")
    );
    for bad in ["", "0", "a", "1/", "/2", "1/2/3", "../1", "1/0"] {
        assert_eq!(stock_path(bad), None, "{bad}");
    }
}
