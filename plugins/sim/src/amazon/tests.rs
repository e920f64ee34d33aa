//! The simulated SP-API over real HTTP: LWA tokens, the access-token gate, ascending
//! `NextToken` paging and its rules, the two-minute lag, rate limits, faults, get-order,
//! items and listing quantities.

use reqwest::{Client, Method};
use serde_json::{json, Value};

use super::{format_time, AmazonSim, AmazonSimConfig, Fault, Limit, RateLimits};

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DE: &str = "A1PA6795UKMFR9";

async fn sim_with(limits: RateLimits) -> AmazonSim {
    AmazonSim::start(AmazonSimConfig {
        limits,
        ..AmazonSimConfig::default()
    })
    .await
    .unwrap()
}

async fn token_with(sim: &AmazonSim, form: &[(&str, &str)]) -> (u16, Value) {
    let r = Client::new()
        .post(format!("{}/auth/o2/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn access_token(sim: &AmazonSim) -> String {
    let c = sim.config().clone();
    let (status, body) = token_with(
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &c.refresh_token),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn call(
    sim: &AmazonSim,
    method: Method,
    path_query: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut b = Client::new().request(method, format!("{}{path_query}", sim.base_url()));
    if let Some(t) = token {
        b = b.header("x-amz-access-token", t);
    }
    if let Some(j) = body {
        b = b.json(&j);
    }
    let r = b.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

fn list_path(after: i64, before: i64, size: u32) -> String {
    format!(
        "/orders/v0/orders?MarketplaceIds={DE},A1F83G8C2ARO7P&LastUpdatedAfter={}&LastUpdatedBefore={}&MaxResultsPerPage={size}",
        format_time(after),
        format_time(before)
    )
}

// The refresh-token grant answers a bearer token; a wrong client secret is 401
// invalid_client, a wrong refresh token 400 invalid_grant, another grant type 400.
#[tokio::test]
async fn lwa_exchanges_refresh_tokens() {
    let sim = sim_with(RateLimits::fast()).await;
    let c = sim.config().clone();
    let (status, body) = token_with(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &c.refresh_token),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_i64()),
        (Some("bearer"), Some(3600))
    );
    assert!(body["access_token"].as_str().unwrap().starts_with("Atza|"));
    let base = [
        ("grant_type", "refresh_token"),
        ("refresh_token", c.refresh_token.as_str()),
        ("client_id", c.client_id.as_str()),
    ];
    let mut bad_secret = base.to_vec();
    bad_secret.push(("client_secret", "nope"));
    let (s, b) = token_with(&sim, &bad_secret).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let mut bad_grant = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", "Atzr|revoked"),
        ("client_id", c.client_id.as_str()),
    ];
    bad_grant.push(("client_secret", &c.client_secret));
    let (s, b) = token_with(&sim, &bad_grant).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (s, b) = token_with(&sim, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    assert_eq!(sim.token_requests(), 4);
}

// A call without, with an unknown, or with an expired access token is 403 Unauthorized
// and is not admitted.
#[tokio::test]
async fn the_access_token_is_checked() {
    let sim = sim_with(RateLimits::fast()).await;
    let now = sim.now_ms();
    let path = list_path(now - HOUR, now - 3 * MIN, 10);
    let (s, _, b) = call(&sim, Method::GET, &path, None, None).await;
    assert_eq!((s, code(&b)), (403, "Unauthorized"));
    assert_eq!(
        b["errors"][0]["message"],
        "Access to requested resource is denied."
    );
    let (s, _, _) = call(&sim, Method::GET, &path, Some("Atza|forged"), None).await;
    assert_eq!(s, 403);
    let t = access_token(&sim).await;
    let (s, _, _) = call(&sim, Method::GET, &path, Some(&t), None).await;
    assert_eq!(s, 200);
    sim.advance_clock(3601 * 1000);
    let path = list_path(now - HOUR, now - 3 * MIN, 10);
    let (s, _, b) = call(&sim, Method::GET, &path, Some(&t), None).await;
    assert_eq!(
        (s, code(&b)),
        (403, "Unauthorized"),
        "expired after an hour"
    );
    assert_eq!(sim.calls().len(), 1);
}

// getOrders pages ascending by LastUpdateDate through NextTokens; the last page has no
// token; every order of the window is returned once.
#[tokio::test]
async fn get_orders_pages_ascending() {
    let sim = sim_with(RateLimits::fast()).await;
    let now = sim.now_ms();
    let made = sim.generate_orders(25, 3, now - 5 * HOUR, now - HOUR);
    let t = access_token(&sim).await;
    let first = list_path(now - 6 * HOUR, now - 3 * MIN, 10);
    let (s, h, body) = call(&sim, Method::GET, &first, Some(&t), None).await;
    assert_eq!(s, 200, "{body}");
    assert!(h.get("x-amzn-RateLimit-Limit").is_some());
    let mut seen: Vec<Value> = body["payload"]["Orders"].as_array().unwrap().clone();
    let mut token = body["payload"]["NextToken"].as_str().map(str::to_string);
    let mut pages = 1;
    while let Some(tok) = token {
        let path = format!("{first}&NextToken={}", urlencode(&tok));
        let (s, _, body) = call(&sim, Method::GET, &path, Some(&t), None).await;
        assert_eq!(s, 200, "{body}");
        seen.extend(body["payload"]["Orders"].as_array().unwrap().clone());
        token = body["payload"]["NextToken"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), made.len());
    let keys: Vec<(i64, String)> = seen
        .iter()
        .map(|o| {
            (
                crate::time::parse(o["LastUpdateDate"].as_str().unwrap()).unwrap(),
                o["AmazonOrderId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ascending");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// A NextToken is refused (400 InvalidInput) with another filter, when unknown, and once
// expired; LastUpdatedBefore within two minutes of now, page sizes over 100 and a
// missing MarketplaceIds are InvalidInput too.
#[tokio::test]
async fn get_orders_enforces_amazons_rules() {
    let sim = AmazonSim::start(AmazonSimConfig {
        limits: RateLimits::fast(),
        next_token_ttl_ms: 10 * MIN,
        ..AmazonSimConfig::default()
    })
    .await
    .unwrap();
    let now = sim.now_ms();
    sim.generate_orders(5, 1, now - 2 * HOUR, now - HOUR);
    let t = access_token(&sim).await;
    let first = list_path(now - 3 * HOUR, now - 3 * MIN, 2);
    let (_, _, body) = call(&sim, Method::GET, &first, Some(&t), None).await;
    let tok = urlencode(body["payload"]["NextToken"].as_str().unwrap());
    let other = list_path(now - 3 * HOUR + 1000, now - 3 * MIN, 2);
    let (s, _, b) = call(
        &sim,
        Method::GET,
        &format!("{other}&NextToken={tok}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "another filter");
    let (s, _, b) = call(
        &sim,
        Method::GET,
        &format!("{first}&NextToken=Z2FyYmFnZQ%3D%3D"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "unknown token");
    let (s, _, _) = call(
        &sim,
        Method::GET,
        &format!("{first}&NextToken={tok}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(s, 200, "the same filter is fine");
    sim.advance_clock(11 * MIN);
    let (s, _, b) = call(
        &sim,
        Method::GET,
        &format!("{first}&NextToken={tok}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (400, "InvalidInput"), "expired");

    let now = sim.now_ms();
    for bad in [
        list_path(now - HOUR, now - MIN, 10),
        list_path(now - HOUR, now - 3 * MIN, 101),
        list_path(now - HOUR, now - 2 * HOUR, 10),
        format!(
            "/orders/v0/orders?LastUpdatedAfter={}",
            format_time(now - HOUR)
        ),
        format!("/orders/v0/orders?MarketplaceIds={DE}"),
        format!(
            "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter={}",
            format_time(now - HOUR)
        ),
    ] {
        let (s, _, b) = call(&sim, Method::GET, &bad, Some(&t), None).await;
        assert_eq!((s, code(&b)), (400, "InvalidInput"), "{bad}: {b}");
    }
    let ok = list_path(now - HOUR, now - 2 * MIN, 100);
    assert_eq!(
        call(&sim, Method::GET, &ok, Some(&t), None).await.0,
        200,
        "exactly two minutes is fine"
    );
}

// getOrders serves its burst, then answers 429 QuotaExceeded with the operation's rate
// in x-amzn-RateLimit-Limit; other operations have their own bucket.
#[tokio::test]
async fn rate_limits_are_per_operation_token_buckets() {
    let limits = RateLimits {
        get_orders: Limit {
            rate: 0.0167,
            burst: 3,
        },
        ..RateLimits::fast()
    };
    let sim = sim_with(limits).await;
    let now = sim.now_ms();
    let id = sim.generate_order(1, now - HOUR)["AmazonOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    let t = access_token(&sim).await;
    let path = list_path(now - 2 * HOUR, now - 3 * MIN, 10);
    for _ in 0..3 {
        assert_eq!(call(&sim, Method::GET, &path, Some(&t), None).await.0, 200);
    }
    let (s, h, b) = call(&sim, Method::GET, &path, Some(&t), None).await;
    assert_eq!((s, code(&b)), (429, "QuotaExceeded"));
    assert_eq!(
        b["errors"][0]["message"],
        "You exceeded your quota for the requested resource."
    );
    assert_eq!(h["x-amzn-RateLimit-Limit"], "0.0167");
    let (s, _, _) = call(
        &sim,
        Method::GET,
        &format!("/orders/v0/orders/{id}/orderItems"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(s, 200, "getOrderItems has its own bucket");
    sim.advance_clock(60 * 1000);
    let path = list_path(now - 2 * HOUR, now - 3 * MIN, 10);
    assert_eq!(
        call(&sim, Method::GET, &path, Some(&t), None).await.0,
        200,
        "refilled after 1/rate"
    );
}

// Injected faults answer the next requests in Amazon's error shape, then service resumes.
#[tokio::test]
async fn faults_are_injected_in_amazons_shape() {
    let sim = sim_with(RateLimits::fast()).await;
    let now = sim.now_ms();
    let t = access_token(&sim).await;
    let path = list_path(now - HOUR, now - 3 * MIN, 10);
    sim.fail_next(1, Fault::Server(503));
    sim.fail_next(1, Fault::Server(500));
    sim.fail_next(1, Fault::QuotaExceeded);
    sim.fail_next(1, Fault::Unauthorized);
    let mut got = Vec::new();
    for _ in 0..5 {
        let (s, h, b) = call(&sim, Method::GET, &path, Some(&t), None).await;
        assert!(h.get("x-amzn-RequestId").is_some());
        got.push((s, code(&b).to_string()));
    }
    let want: Vec<(u16, String)> = [
        (503, "ServiceUnavailable"),
        (500, "InternalFailure"),
        (429, "QuotaExceeded"),
        (403, "Unauthorized"),
        (200, ""),
    ]
    .iter()
    .map(|(s, c)| (*s, c.to_string()))
    .collect();
    assert_eq!(got, want);
}

// getOrder answers the current order, 404 NotFound for an unknown id and 400 for a
// malformed one; getOrderItems pages its items by NextToken.
#[tokio::test]
async fn get_order_and_items() {
    let sim = AmazonSim::start(AmazonSimConfig {
        limits: RateLimits::fast(),
        items_page_size: 1,
        ..AmazonSimConfig::default()
    })
    .await
    .unwrap();
    let now = sim.now_ms();
    let mut id = String::new();
    for seed in 0..40 {
        let o = sim.generate_order(seed, now - HOUR);
        id = o["AmazonOrderId"].as_str().unwrap().to_string();
        if sim.items(&id).unwrap().len() > 1 {
            break;
        }
    }
    let t = access_token(&sim).await;
    let (s, _, b) = call(
        &sim,
        Method::GET,
        &format!("/orders/v0/orders/{id}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s, &b["payload"]), (200, &sim.order(&id).unwrap()));
    let (s, _, b) = call(
        &sim,
        Method::GET,
        "/orders/v0/orders/999-0000000-0000000",
        Some(&t),
        None,
    )
    .await;
    assert_eq!((s, code(&b)), (404, "NotFound"));
    let (s, _, b) = call(
        &sim,
        Method::GET,
        "/orders/v0/orders/..%2Fetc",
        Some(&t),
        None,
    )
    .await;
    assert!(s == 400 || s == 404, "{s} {b}");
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let q = next
            .as_ref()
            .map(|n| format!("?NextToken={}", urlencode(n)))
            .unwrap_or_default();
        let (s, _, b) = call(
            &sim,
            Method::GET,
            &format!("/orders/v0/orders/{id}/orderItems{q}"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["payload"]["AmazonOrderId"], id.as_str());
        items.extend(b["payload"]["OrderItems"].as_array().unwrap().clone());
        next = b["payload"]["NextToken"].as_str().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    assert_eq!(items, sim.items(&id).unwrap());
}

// patchListingsItem stores the quantity per marketplace and SKU; a negative quantity is
// INVALID with an issue, an unknown SKU 404, another seller 403.
#[tokio::test]
async fn listings_patch_stores_quantities() {
    let sim = sim_with(RateLimits::fast()).await;
    let t = access_token(&sim).await;
    let seller = sim.config().seller_id.clone();
    let body = |q: i64| {
        json!({"productType": "PRODUCT", "patches": [{"op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": q}]}]})
    };
    let path = |seller: &str, sku: &str| {
        format!("/listings/2021-08-01/items/{seller}/{sku}?marketplaceIds={DE}")
    };
    let (s, _, b) = call(
        &sim,
        Method::PATCH,
        &path(&seller, "BTL-750"),
        Some(&t),
        Some(body(17)),
    )
    .await;
    assert_eq!(
        (s, b["status"].as_str(), b["sku"].as_str()),
        (200, Some("ACCEPTED"), Some("BTL-750"))
    );
    assert_eq!(b["issues"], json!([]));
    assert_eq!(sim.quantity(DE, "BTL-750"), Some(17));
    assert_eq!(sim.quantity("A1F83G8C2ARO7P", "BTL-750"), None);
    let (s, _, b) = call(
        &sim,
        Method::PATCH,
        &path(&seller, "BTL-750"),
        Some(&t),
        Some(body(-1)),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("INVALID")));
    assert_eq!(b["issues"][0]["severity"], "ERROR");
    assert_eq!(sim.quantity(DE, "BTL-750"), Some(17), "unchanged");
    let (s, _, b) = call(
        &sim,
        Method::PATCH,
        &path(&seller, "NO-SUCH"),
        Some(&t),
        Some(body(1)),
    )
    .await;
    assert_eq!((s, code(&b)), (404, "NotFound"));
    let (s, _, _) = call(
        &sim,
        Method::PATCH,
        &path("AOTHERSELLER", "BTL-750"),
        Some(&t),
        Some(body(1)),
    )
    .await;
    assert_eq!(s, 403);
}

// update_order bumps LastUpdateDate to the simulator's now, at least a second later, so
// the order leaves a window pinned in the past.
#[tokio::test]
async fn updates_bump_last_update_date() {
    let sim = sim_with(RateLimits::fast()).await;
    let now = sim.now_ms();
    let o = sim.generate_order(4, now - HOUR);
    let id = o["AmazonOrderId"].as_str().unwrap();
    let u = sim
        .update_order(id, |o, _| o["IsPrime"] = json!(true))
        .unwrap();
    let at = crate::time::parse(u["LastUpdateDate"].as_str().unwrap()).unwrap();
    assert!(at >= now.div_euclid(1000) * 1000 && at <= sim.now_ms());
    assert_eq!(sim.order(id).unwrap()["IsPrime"], true);
    assert!(sim.update_order("302-0000000-0000000", |_, _| {}).is_none());
}
