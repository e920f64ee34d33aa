use super::*;
use std::collections::VecDeque;
use wharf_sdk::http::Response;
use wharf_sdk::types::ChannelStatus;

// 2024-04-10T00:00:00Z
const NOW: i64 = 1_712_707_200_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const EP: &str = "http://sellingpartnerapi-eu.amazon.com";
const TOKEN_URL: &str = "http://api.amazon.com/auth/o2/token";

fn settings() -> Settings {
    Settings {
        endpoint: EP.into(),
        token_url: TOKEN_URL.into(),
        marketplace_ids: vec!["A1PA6795UKMFR9".into()],
        seller_id: Some("A2SELLER".into()),
        page_size: 2,
        lookback_days: 1,
    }
}

fn creds() -> Credentials {
    Credentials {
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        refresh_token: "Atzr|rt".into(),
    }
}

fn resp(status: u16, headers: &[(&str, &str)], body: Value) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_string().into_bytes(),
    }
}

fn ok(body: Value) -> Response {
    resp(200, &[], body)
}

fn token_ok() -> Response {
    ok(json!({"access_token": "Atza|T", "token_type": "bearer", "expires_in": 3600}))
}

fn error(status: u16, code: &str) -> Response {
    resp(
        status,
        &[("x-amzn-RateLimit-Limit", "0.5")],
        json!({"errors": [{"code": code, "message": "m", "details": ""}]}),
    )
}

fn id(n: u64) -> String {
    format!("302-{n:07}-0000000")
}

fn order(n: u64, updated: i64) -> Value {
    json!({
        "AmazonOrderId": id(n), "PurchaseDate": "2024-04-01T10:00:00Z",
        "LastUpdateDate": spapi::format_time(updated), "OrderStatus": "Unshipped",
        "MarketplaceId": "A1PA6795UKMFR9", "OrderTotal": {"CurrencyCode": "EUR", "Amount": "10.00"},
        "ShippingAddress": {"Name": "A", "AddressLine1": "S 1", "City": "Berlin", "CountryCode": "DE"}
    })
}

fn list(orders: Vec<Value>, next: Option<&str>) -> Response {
    let mut payload = json!({"Orders": orders, "LastUpdatedBefore": "x"});
    if let Some(n) = next {
        payload["NextToken"] = json!(n);
    }
    ok(json!({ "payload": payload }))
}

fn items(n: u64) -> Response {
    ok(json!({"payload": {"AmazonOrderId": id(n), "OrderItems": [
        {"ASIN": "B0", "SellerSKU": "SKU", "OrderItemId": format!("{n}1"), "QuantityOrdered": 1,
         "ItemPrice": {"CurrencyCode": "EUR", "Amount": "10.00"}}]}}))
}

/// A scripted platform: each request must contain the next expected URL part; it is
/// answered with the scripted response. Every request is kept.
struct Fake {
    script: VecDeque<(String, Response)>,
    seen: Vec<Request>,
}

impl Fake {
    fn new(script: Vec<(&str, Response)>) -> Fake {
        Fake {
            script: script
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
            seen: Vec::new(),
        }
    }

    fn send(&mut self, r: Request) -> Result<Response, ConnectorError> {
        let (want, answer) = self
            .script
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {} {}", r.method, r.url));
        assert!(r.url.contains(&want), "expected {want}, got {}", r.url);
        self.seen.push(r);
        Ok(answer)
    }

    fn done(&self) {
        assert!(
            self.script.is_empty(),
            "not requested: {:?}",
            self.script.iter().map(|s| &s.0).collect::<Vec<_>>()
        );
    }
}

fn pull(fake: &mut Fake, cursor: Option<&str>) -> Result<Page, ConnectorError> {
    pull_orders(&settings(), &creds(), cursor, NOW, &mut |r| fake.send(r))
}

fn query(r: &Request) -> Vec<(String, String)> {
    r.url
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (
                k.to_string(),
                v.replace("%3A", ":")
                    .replace("%2C", ",")
                    .replace("%3D", "="),
            )
        })
        .collect()
}

fn param(r: &Request, k: &str) -> Option<String> {
    query(r).into_iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn cur(p: &Page) -> Cursor {
    Cursor::decode(p.cursor.as_deref().unwrap()).unwrap()
}

// A caught-up cursor (the horizon has not passed it) sends no request at all, not even
// for a token.
#[test]
fn caught_up_pulls_request_nothing() {
    let mut fake = Fake::new(vec![]);
    let at = cursor::horizon(NOW);
    let p = pull(&mut fake, Some(&Cursor::at(at).encode())).unwrap();
    assert!(p.orders.is_empty() && !p.more);
    assert_eq!(cur(&p), Cursor::at(at));
    assert!(fake.seen.is_empty());
}

// The first pull gets a token, opens the window [now − look-back, now − 2 min], sends
// the access token header, reads each order's items, and closes the window when no
// NextToken follows.
#[test]
fn the_first_pull_reads_one_window_to_the_horizon() {
    let h = cursor::horizon(NOW);
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(vec![order(1, NOW - 3 * MIN), order(2, NOW - 3 * MIN)], None),
        ),
        (&format!("/orders/v0/orders/{}/orderItems", id(1)), items(1)),
        (&format!("/orders/v0/orders/{}/orderItems", id(2)), items(2)),
    ]);
    let p = pull(&mut fake, None).unwrap();
    fake.done();
    assert_eq!(
        p.orders
            .iter()
            .map(|o| o.external_id.clone())
            .collect::<Vec<_>>(),
        [id(1), id(2)]
    );
    assert_eq!(p.orders[0].lines.len(), 1);
    assert_eq!(cur(&p), Cursor::at(h));
    assert!(!p.more);
    let token = &fake.seen[0];
    assert_eq!(
        (token.method.as_str(), token.url.as_str()),
        ("POST", TOKEN_URL)
    );
    let listing = &fake.seen[1];
    assert!(listing.url.starts_with(&format!("{EP}/orders/v0/orders?")));
    assert_eq!(
        param(listing, "MarketplaceIds").as_deref(),
        Some("A1PA6795UKMFR9")
    );
    assert_eq!(
        param(listing, "LastUpdatedAfter"),
        Some(spapi::format_time(NOW - DAY))
    );
    assert_eq!(
        param(listing, "LastUpdatedBefore"),
        Some(spapi::format_time(NOW - 2 * MIN))
    );
    assert_eq!(param(listing, "MaxResultsPerPage").as_deref(), Some("2"));
    assert_eq!(param(listing, "NextToken"), None);
    for r in &fake.seen[1..] {
        assert!(r
            .headers
            .contains(&("x-amz-access-token".into(), "Atza|T".into())));
        assert!(!r.url.contains("csecret") && !r.url.contains("Atzr"));
    }
}

// A NextToken is carried in the cursor with the mark; the next call sends it with the
// very same filter, and the last page closes the window.
#[test]
fn next_tokens_continue_the_same_filter() {
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(
                vec![order(1, NOW - 50 * MIN), order(2, NOW - 40 * MIN)],
                Some("TOKEN+1="),
            ),
        ),
        ("orderItems", items(1)),
        ("orderItems", items(2)),
    ]);
    let p1 = pull(&mut fake, None).unwrap();
    fake.done();
    let c1 = cur(&p1);
    assert!(p1.more);
    assert_eq!(
        (c1.next.as_deref(), c1.mark, c1.seen.clone()),
        (Some("TOKEN+1="), Some(NOW - 40 * MIN), vec![id(2)])
    );
    let mut fake2 = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(vec![order(3, NOW - 30 * MIN)], None),
        ),
        ("orderItems", items(3)),
    ]);
    let p2 = pull(&mut fake2, p1.cursor.as_deref()).unwrap();
    fake2.done();
    let (a, b) = (&fake.seen[1], &fake2.seen[1]);
    assert_eq!(param(b, "NextToken").as_deref(), Some("TOKEN%2B1="));
    for k in [
        "MarketplaceIds",
        "LastUpdatedAfter",
        "LastUpdatedBefore",
        "MaxResultsPerPage",
    ] {
        assert_eq!(param(a, k), param(b, k), "{k}");
    }
    assert_eq!(p2.orders.len(), 1);
    assert_eq!(cur(&p2), Cursor::at(cursor::horizon(NOW)));
}

// An expired NextToken (400 InvalidInput) re-queries the window from the mark in the
// same call; orders already delivered at the mark are skipped without an items call.
#[test]
fn an_expired_next_token_restarts_from_the_mark() {
    let mut c = Cursor::window(NOW - DAY, cursor::horizon(NOW));
    c.next = Some("OLD".into());
    c.record(&id(2), NOW - 40 * MIN);
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        ("NextToken=OLD", error(400, "InvalidInput")),
        (
            "/orders/v0/orders?",
            list(
                vec![order(2, NOW - 40 * MIN), order(3, NOW - 40 * MIN)],
                None,
            ),
        ),
        (&format!("{}/orderItems", id(3)), items(3)),
    ]);
    let p = pull(&mut fake, Some(&c.encode())).unwrap();
    fake.done();
    assert_eq!(
        p.orders
            .iter()
            .map(|o| o.external_id.clone())
            .collect::<Vec<_>>(),
        [id(3)]
    );
    let retry = &fake.seen[2];
    assert_eq!(
        param(retry, "LastUpdatedAfter"),
        Some(spapi::format_time(NOW - 40 * MIN))
    );
    assert_eq!(param(retry, "NextToken"), None);
    assert_eq!(cur(&p), Cursor::at(cursor::horizon(NOW)));
}

// When items are rate-limited mid-page, the orders mapped so far are returned and the
// cursor resumes from the mark; when the first items call is limited, the call fails
// rate-limited for one token's refill (1 / 0.5 per second = 2 s).
#[test]
fn rate_limited_items_keep_what_was_mapped() {
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(
                vec![order(1, NOW - 50 * MIN), order(2, NOW - 40 * MIN)],
                Some("T2"),
            ),
        ),
        ("orderItems", items(1)),
        ("orderItems", error(429, "QuotaExceeded")),
    ]);
    let p = pull(&mut fake, None).unwrap();
    fake.done();
    assert_eq!(p.orders.len(), 1);
    assert!(p.more);
    let c = cur(&p);
    assert_eq!(
        (c.after, c.next.clone(), c.mark),
        (NOW - 50 * MIN, None, Some(NOW - 50 * MIN))
    );
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(
                vec![order(1, NOW - 50 * MIN), order(2, NOW - 40 * MIN)],
                None,
            ),
        ),
        (
            &format!("{}/orderItems", id(2)),
            error(429, "QuotaExceeded"),
        ),
    ]);
    assert!(matches!(
        pull(&mut fake, p.cursor.as_deref()),
        Err(ConnectorError::RateLimited(2000))
    ));
    fake.done();
}

// An order the mapping cannot read fails the whole call with invalid-input naming it:
// no cursor is returned, so the host's cursor stays before it.
#[test]
fn an_unreadable_order_fails_the_call() {
    let mut bad = order(2, NOW - 40 * MIN);
    bad["OrderStatus"] = json!("Teleported");
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/orders/v0/orders?",
            list(vec![order(1, NOW - 50 * MIN), bad], None),
        ),
        ("orderItems", items(1)),
        ("orderItems", items(2)),
    ]);
    match pull(&mut fake, None) {
        Err(ConnectorError::InvalidInput(m)) => {
            assert!(m.contains(&id(2)) && m.contains("OrderStatus"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

// LWA refusing the credentials is unauthorized and no SP-API request follows; a 403
// from getOrders is unauthorized too; a garbage cursor is invalid-input before any request.
#[test]
fn credential_failures_are_unauthorized() {
    let mut fake = Fake::new(vec![(
        "/auth/o2/token",
        resp(
            401,
            &[],
            json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ),
    )]);
    assert!(
        matches!(pull(&mut fake, None), Err(ConnectorError::Unauthorized(m)) if m.contains("invalid_client") && !m.contains("csecret"))
    );
    assert_eq!(fake.seen.len(), 1);
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        ("/orders/v0/orders?", error(403, "Unauthorized")),
    ]);
    assert!(matches!(
        pull(&mut fake, None),
        Err(ConnectorError::Unauthorized(_))
    ));
    let mut fake = Fake::new(vec![(
        "/orders/v0/orders?",
        error(503, "ServiceUnavailable"),
    )]);
    fake.script
        .push_front(("/auth/o2/token".into(), token_ok()));
    assert!(matches!(
        pull(&mut fake, None),
        Err(ConnectorError::Transient(_))
    ));
    let mut fake = Fake::new(vec![]);
    assert!(matches!(
        pull(&mut fake, Some("{\"since\": 1}")),
        Err(ConnectorError::InvalidInput(_))
    ));
}

// get-order reads the order and its items; 404 NotFound is none; a malformed id is
// invalid-input before any request.
#[test]
fn get_order_reads_one_order() {
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            &format!("/orders/v0/orders/{}", id(1)),
            ok(json!({"payload": order(1, NOW - DAY)})),
        ),
        (&format!("/orders/v0/orders/{}/orderItems", id(1)), items(1)),
    ]);
    let o = get_order(&settings(), &creds(), &id(1), &mut |r| fake.send(r))
        .unwrap()
        .unwrap();
    fake.done();
    assert_eq!(
        (o.external_id.clone(), o.status, o.lines.len()),
        (id(1), ChannelStatus::Paid, 1)
    );
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        ("/orders/v0/orders/", error(404, "NotFound")),
    ]);
    assert!(
        get_order(&settings(), &creds(), &id(9), &mut |r| fake.send(r))
            .unwrap()
            .is_none()
    );
    let mut fake = Fake::new(vec![]);
    for bad in ["", "302-1-1", "../../x", "302-0000001-0000000?x"] {
        assert!(
            matches!(
                get_order(&settings(), &creds(), bad, &mut |r| fake.send(r)),
                Err(ConnectorError::InvalidInput(_))
            ),
            "{bad}"
        );
    }
}

// push-inventory PATCHes each SellerSKU's DEFAULT quantity (negative sent as 0); ACCEPTED
// is ok, INVALID and 404 are failed results with the reason, a listing without a SKU is
// refused locally; 429 fails the whole call; without seller_id it is invalid-input.
#[test]
fn push_inventory_reports_per_listing() {
    let accepted = |sku: &str| {
        ok(json!({"sku": sku, "status": "ACCEPTED", "submissionId": "s", "issues": []}))
    };
    let invalid = ok(json!({"sku": "B", "status": "INVALID", "submissionId": "s",
        "issues": [{"code": "90220", "message": "bad quantity", "severity": "ERROR"}]}));
    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        (
            "/listings/2021-08-01/items/A2SELLER/SELLER%20SKU%2F1?marketplaceIds=A1PA6795UKMFR9",
            accepted("SELLER SKU/1"),
        ),
        ("/listings/2021-08-01/items/A2SELLER/B?", invalid),
        (
            "/listings/2021-08-01/items/A2SELLER/GONE?",
            error(404, "NotFound"),
        ),
    ]);
    let lvl = |sku: &str, ch: &str, n: i64| StockLevel {
        sku: sku.into(),
        channel_sku: ch.into(),
        available: n,
    };
    let levels = [
        lvl("a", "SELLER SKU/1", 5),
        lvl("b", "", -3),
        lvl("c", "GONE", 1),
        lvl("", "", 1),
    ];
    let levels = [
        levels[0].clone(),
        StockLevel {
            sku: "B".into(),
            ..levels[1].clone()
        },
        levels[2].clone(),
        levels[3].clone(),
    ];
    let res = push_inventory(&settings(), &creds(), &levels, &mut |r| fake.send(r)).unwrap();
    fake.done();
    assert_eq!(
        res.iter().map(|r| r.ok).collect::<Vec<_>>(),
        [true, false, false, false]
    );
    assert!(
        res[1].message.contains("INVALID") && res[1].message.contains("bad quantity"),
        "{}",
        res[1].message
    );
    assert!(res[2].message.contains("NotFound"), "{}", res[2].message);
    assert_eq!(fake.seen[1].method, "PATCH");
    let body: Value = serde_json::from_slice(&fake.seen[1].body).unwrap();
    assert_eq!(body, quantity_patch(5));
    assert_eq!(
        body["patches"][0]["value"][0]["fulfillment_channel_code"],
        "DEFAULT"
    );
    let body: Value = serde_json::from_slice(&fake.seen[2].body).unwrap();
    assert_eq!(
        body["patches"][0]["value"][0]["quantity"], 0,
        "negative pushed as 0"
    );

    let mut fake = Fake::new(vec![
        ("/auth/o2/token", token_ok()),
        ("/listings/", error(429, "QuotaExceeded")),
    ]);
    assert!(matches!(
        push_inventory(&settings(), &creds(), &levels[..1], &mut |r| fake.send(r)),
        Err(ConnectorError::RateLimited(2000))
    ));
    let no_seller = Settings {
        seller_id: None,
        ..settings()
    };
    let mut fake = Fake::new(vec![]);
    assert!(
        matches!(push_inventory(&no_seller, &creds(), &levels, &mut |r| fake.send(r)), Err(ConnectorError::InvalidInput(m)) if m.contains("seller_id"))
    );
}
