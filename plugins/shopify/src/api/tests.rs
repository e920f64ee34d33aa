use super::*;
use serde_json::json;
use std::collections::VecDeque;
use wharf_sdk::http::Response;

const BASE: &str = "http://127.0.0.1:9/admin/api/2024-04";
// 2024-04-10T00:00:00Z
const NOW: i64 = 1_712_707_200_000;

fn settings() -> Settings {
    Settings {
        shop_url: "http://127.0.0.1:9".into(),
        api_version: "2024-04".into(),
        page_size: 2,
        lookback_days: 30,
        location_id: Some(655441491),
    }
}

fn order(id: u64, updated_at: &str) -> Value {
    json!({
        "id": id, "name": format!("#{id}"), "created_at": "2024-04-01T00:00:00Z",
        "updated_at": updated_at, "currency": "USD", "financial_status": "paid",
        "fulfillment_status": null, "cancelled_at": null, "total_price": "5.00",
        "line_items": [{"id": id * 10, "sku": "A", "variant_id": 1, "title": "A",
                        "quantity": 1, "price": "5.00"}]
    })
}

fn ok(orders: Vec<Value>, link: Option<&str>) -> Response {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(l) = link {
        headers.push(("link".into(), l.into()));
    }
    Response {
        status: 200,
        headers,
        body: json!({ "orders": orders }).to_string().into_bytes(),
    }
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
        pull_orders(&settings(), "tok", cursor, NOW, &mut send)
    }
}

fn decode(page: &Page) -> Cursor {
    Cursor::decode(page.cursor.as_deref().unwrap(), BASE).unwrap()
}

// A first pull asks for all statuses since now − lookback, ordered by updated_at asc, with the token.
#[test]
fn first_pull_builds_the_query() {
    let mut f = Fake::new(vec![ok(vec![], None)]);
    let page = f.pull(None).unwrap();
    let req = &f.seen[0];
    assert_eq!(
        req.url,
        format!("{BASE}/orders.json?status=any&updated_at_min=2024-03-11T00%3A00%3A00Z&limit=2&order=updated_at%20asc")
    );
    assert_eq!(req.method, "GET");
    assert!(req
        .headers
        .contains(&("X-Shopify-Access-Token".to_string(), "tok".to_string())));
    assert!(!page.more && page.orders.is_empty());
    assert_eq!(
        decode(&page).since,
        "2024-03-11T00:00:00Z",
        "an empty round keeps its since"
    );
}

// Paging follows rel="next" verbatim, carries the watermark, and ends at the max updated_at.
#[test]
fn pages_follow_the_next_link_then_advance_since() {
    let next = format!("{BASE}/orders.json?limit=2&page_info=p2");
    let link = format!(
        "<{BASE}/orders.json?limit=2&page_info=p0>; rel=\"previous\", <{next}>; rel=\"next\""
    );
    let mut f = Fake::new(vec![
        ok(
            vec![
                order(1, "2024-04-01T10:00:00-04:00"),
                order(2, "2024-04-01T14:00:05Z"),
            ],
            Some(&link),
        ),
        ok(vec![order(3, "2024-04-01T14:00:05Z")], None),
    ]);
    let p1 = f.pull(Some(r#"{"since":"2024-04-01T00:00:00Z"}"#)).unwrap();
    assert!(p1.more);
    assert_eq!(p1.orders.len(), 2);
    let c1 = decode(&p1);
    assert_eq!(c1.since, "2024-04-01T00:00:00Z");
    assert_eq!(c1.next.as_deref(), Some(next.as_str()));
    assert_eq!(c1.watermark.as_deref(), Some("2024-04-01T14:00:05Z"));

    let p2 = f.pull(p1.cursor.as_deref()).unwrap();
    assert_eq!(
        f.seen[1].url, next,
        "the next link is requested as given, no extra filters"
    );
    assert!(!p2.more);
    assert_eq!(p2.orders[0].external_id, "3");
    let c2 = decode(&p2);
    assert_eq!(
        c2,
        Cursor {
            since: "2024-04-01T14:00:05Z".into(),
            next: None,
            watermark: None
        },
        "the boundary timestamp is re-read next round, never skipped"
    );
}

// The watermark compares instants, not strings: an earlier instant with a later-looking offset loses.
#[test]
fn watermark_is_the_latest_instant() {
    let mut f = Fake::new(vec![ok(
        vec![
            order(1, "2024-04-01T20:00:00+08:00"),
            order(2, "2024-04-01T13:00:00Z"),
        ],
        None,
    )]);
    let p = f.pull(None).unwrap();
    assert_eq!(decode(&p).since, "2024-04-01T13:00:00Z");
}

// HTTP failures become the typed errors the host's retry policy expects.
#[test]
fn statuses_map_to_error_kinds() {
    let resp = |status: u16, headers: Vec<(String, String)>| Response {
        status,
        headers,
        body: br#"{"errors":"x"}"#.to_vec(),
    };
    let mut f = Fake::new(vec![
        resp(429, vec![("Retry-After".into(), "2.0".into())]),
        resp(401, vec![]),
        resp(403, vec![]),
        resp(503, vec![]),
    ]);
    assert!(matches!(
        f.pull(None),
        Err(ConnectorError::RateLimited(2000))
    ));
    assert!(matches!(f.pull(None), Err(ConnectorError::Unauthorized(_))));
    assert!(matches!(f.pull(None), Err(ConnectorError::Unauthorized(_))));
    assert!(matches!(f.pull(None), Err(ConnectorError::Transient(_))));
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
    let mut bad = order(9, "2024-04-01T00:00:00Z");
    bad["total_price"] = json!("lots");
    let mut f = Fake::new(vec![ok(vec![bad], None)]);
    assert!(matches!(
        f.pull(None),
        Err(ConnectorError::InvalidInput(m)) if m.contains("total_price") && m.contains('9')
    ));
}

// get-order reads orders/{id}.json; 404 is none; ids must be digits.
#[test]
fn get_order_reads_one_order() {
    let mut answers = VecDeque::from(vec![
        Response {
            status: 200,
            headers: vec![],
            body: json!({"order": order(42, "2024-04-01T00:00:00Z")})
                .to_string()
                .into_bytes(),
        },
        Response {
            status: 404,
            headers: vec![],
            body: br#"{"errors":"Not Found"}"#.to_vec(),
        },
        Response {
            status: 500,
            headers: vec![],
            body: vec![],
        },
    ]);
    let mut urls = Vec::new();
    let mut send = |r: Request| {
        urls.push(r.url);
        Ok(answers.pop_front().unwrap())
    };
    let got = get_order(&settings(), "tok", "42", &mut send)
        .unwrap()
        .unwrap();
    assert_eq!(got.external_id, "42");
    assert!(get_order(&settings(), "tok", "43", &mut send)
        .unwrap()
        .is_none());
    assert!(matches!(
        get_order(&settings(), "tok", "44", &mut send),
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        get_order(&settings(), "tok", "../shop", &mut send),
        Err(ConnectorError::InvalidInput(_))
    ));
    assert_eq!(urls[0], format!("{BASE}/orders/42.json"));
    assert_eq!(urls.len(), 3);
}
