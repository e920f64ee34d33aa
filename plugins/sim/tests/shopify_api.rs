//! The simulated Shopify REST Admin API over real HTTP: paging, filters, auth, rate
//! limits and error shapes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};
use wharf_sim::shopify::{RateLimit, ShopifySim, ShopifySimConfig};
use wharf_sim::time;

async fn sim(cfg: ShopifySimConfig) -> ShopifySim {
    ShopifySim::start(cfg).await.unwrap()
}

fn api(sim: &ShopifySim, path: &str) -> String {
    format!("{}/admin/api/2024-04/{path}", sim.base_url())
}

async fn get(sim: &ShopifySim, url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("X-Shopify-Access-Token", &sim.config().access_token)
        .send()
        .await
        .unwrap()
}

fn link(resp: &reqwest::Response, rel: &str) -> Option<String> {
    let v = resp.headers().get("link")?.to_str().unwrap().to_string();
    v.split(", ").find_map(|part| {
        let (url, r) = part.split_once("; ")?;
        (r == format!("rel=\"{rel}\"")).then(|| {
            url.trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Orders at known times: order i updated at base + i s (pairs share a second), created
/// a day before; every fifth cancelled.
async fn seeded(sim: &ShopifySim, n: u64) -> i64 {
    let base = 1_712_000_000_000;
    for i in 0..n {
        let t = base + (i / 2) as i64 * 1000;
        let mut o = json!({
            "id": 100 + i, "name": format!("#{}", 1001 + i),
            "created_at": time::format_offset(t - 86_400_000, -240),
            "updated_at": time::format_offset(t, -240),
            "cancelled_at": null, "closed_at": null, "financial_status": "paid",
        });
        if i % 5 == 4 {
            o["cancelled_at"] = json!(time::format_offset(t, -240));
        }
        sim.insert_order(o).unwrap();
    }
    base
}

// Following rel="next" visits every order exactly once, in (updated_at, id) order, with
// Shopify-shaped links (page_info + limit only; rel="previous" after the first page).
#[tokio::test]
async fn pagination_visits_every_order_once_in_updated_at_order() {
    let sim = sim(ShopifySimConfig::default()).await;
    seeded(&sim, 23).await;
    let mut url = format!(
        "{}?status=any&updated_at_min=2024-01-01T00:00:00Z&limit=5&order=updated_at%20asc",
        api(&sim, "orders.json")
    );
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let resp = get(&sim, &url).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["x-shopify-api-version"], "2024-04");
        assert!(resp.headers().contains_key("x-shopify-shop-api-call-limit"));
        let has_prev = link(&resp, "previous").is_some();
        assert_eq!(
            has_prev,
            pages > 0,
            "rel=previous exactly after the first page"
        );
        let next = link(&resp, "next");
        let body: Value = resp.json().await.unwrap();
        for o in body["orders"].as_array().unwrap() {
            seen.push((
                time::parse(o["updated_at"].as_str().unwrap()).unwrap(),
                o["id"].as_u64().unwrap(),
            ));
        }
        pages += 1;
        match next {
            Some(n) => {
                let q = n.split_once('?').unwrap().1;
                let keys: Vec<&str> = q
                    .split('&')
                    .map(|kv| kv.split('=').next().unwrap())
                    .collect();
                assert_eq!(keys, ["page_info", "limit"]);
                url = n;
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let ids: BTreeSet<u64> = seen.iter().map(|s| s.1).collect();
    assert_eq!(ids, (100..123).collect());
    assert_eq!(seen.len(), 23, "no order twice");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "strictly (updated_at, id) ascending"
    );
}

// rel="previous" leads back to the page before.
#[tokio::test]
async fn previous_link_goes_back() {
    let sim = sim(ShopifySimConfig::default()).await;
    seeded(&sim, 10).await;
    let first = get(
        &sim,
        &format!(
            "{}?status=any&limit=4&order=id%20asc",
            api(&sim, "orders.json")
        ),
    )
    .await;
    let next = link(&first, "next").unwrap();
    let first: Value = first.json().await.unwrap();
    let second = get(&sim, &next).await;
    let prev = link(&second, "previous").unwrap();
    let back: Value = get(&sim, &prev).await.json().await.unwrap();
    assert_eq!(back["orders"], first["orders"]);
}

// status, updated_at and created_at filters select the right orders; count.json agrees.
#[tokio::test]
async fn filters_select_and_count() {
    let sim = sim(ShopifySimConfig::default()).await;
    let base = seeded(&sim, 20).await;
    let ids = |v: &Value| -> Vec<u64> {
        v["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    };
    let list = |q: String| {
        let sim = sim.clone();
        async move {
            let r = get(
                &sim,
                &format!("{}?limit=250&order=id%20asc&{q}", api(&sim, "orders.json")),
            )
            .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let count = |q: &str| {
        let sim = sim.clone();
        let q = q.to_string();
        async move {
            get(&sim, &format!("{}?{q}", api(&sim, "orders/count.json")))
                .await
                .json::<Value>()
                .await
                .unwrap()["count"]
                .as_u64()
                .unwrap()
        }
    };
    // Default status is open: cancelled orders (every fifth) are left out.
    assert_eq!(ids(&list(String::new()).await).len(), 16);
    assert_eq!(
        ids(&list("status=cancelled".into()).await),
        [104, 109, 114, 119]
    );
    assert_eq!(ids(&list("status=any".into()).await).len(), 20);
    assert_eq!(count("status=any").await, 20);
    assert_eq!(count("status=cancelled").await, 4);
    // updated_at_min is inclusive: orders 116..=119 were updated at base + 8 s and + 9 s.
    let min = time::format_offset(base + 8000, 0).replace('+', "%2B");
    assert_eq!(
        ids(&list(format!("status=any&updated_at_min={min}")).await),
        [116, 117, 118, 119]
    );
    assert_eq!(count(&format!("status=any&updated_at_min={min}")).await, 4);
    // created_at_max (inclusive), with a Z timestamp.
    let max = time::format_utc_millis(base - 86_400_000 + 1000);
    assert_eq!(
        ids(&list(format!("status=any&created_at_max={max}")).await),
        [100, 101, 102, 103]
    );
    // A bad timestamp is 400 naming the parameter.
    let r = get(
        &sim,
        &format!("{}?updated_at_min=yesterday", api(&sim, "orders.json")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(body["errors"]["updated_at_min"].is_array(), "{body}");
}

// A missing or wrong token is 401 with Shopify's error body.
#[tokio::test]
async fn bad_token_is_401() {
    let sim = sim(ShopifySimConfig::default()).await;
    let client = reqwest::Client::new();
    for token in [None, Some("shpat_wrong")] {
        let mut req = client.get(api(&sim, "orders.json"));
        if let Some(t) = token {
            req = req.header("X-Shopify-Access-Token", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: Value = r.json().await.unwrap();
        assert!(body["errors"]
            .as_str()
            .unwrap()
            .starts_with("[API] Invalid API key or access token"));
    }
}

// Past the bucket size the API answers 429 with Retry-After and a full call-limit header,
// and serves again once the bucket has leaked.
#[tokio::test]
async fn rate_limit_is_429_with_retry_after() {
    let sim = sim(ShopifySimConfig {
        rate_limit: Some(RateLimit {
            bucket_size: 3,
            leak_per_second: 2,
        }),
        ..ShopifySimConfig::default()
    })
    .await;
    let url = api(&sim, "orders.json");
    for n in 1..=3 {
        let r = get(&sim, &url).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["x-shopify-shop-api-call-limit"],
            format!("{n}/3").as_str()
        );
    }
    let r = get(&sim, &url).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: f64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0.0 && retry <= 0.5, "{retry}");
    assert_eq!(r.headers()["x-shopify-shop-api-call-limit"], "3/3");
    let body: Value = r.json().await.unwrap();
    assert!(body["errors"].as_str().unwrap().contains("Exceeded"));
    tokio::time::sleep(std::time::Duration::from_secs_f64(retry + 0.05)).await;
    assert_eq!(get(&sim, &url).await.status(), StatusCode::OK);
}

// page_info with any filter besides limit is 400; so are bad page_info and limit > max.
#[tokio::test]
async fn page_info_with_filters_is_400() {
    let sim = sim(ShopifySimConfig::default()).await;
    seeded(&sim, 6).await;
    let first = get(
        &sim,
        &format!("{}?status=any&limit=2", api(&sim, "orders.json")),
    )
    .await;
    let next = link(&first, "next").unwrap();
    let r = get(&sim, &format!("{next}&status=any")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]["page_info"][0]
            .as_str()
            .unwrap()
            .contains("status"),
        "{body}"
    );
    let r = get(&sim, &format!("{next}&updated_at_min=2024-01-01T00:00:00Z")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // limit is allowed with page_info.
    assert_eq!(
        get(&sim, &next.replace("limit=2", "limit=3"))
            .await
            .status(),
        StatusCode::OK
    );
    let r = get(
        &sim,
        &format!("{}?page_info=garbage", api(&sim, "orders.json")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = get(&sim, &format!("{}?limit=251", api(&sim, "orders.json"))).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(body["errors"]["limit"].is_array(), "{body}");
}

// orders/{id}.json returns the order; unknown ids and versions are 404 {"errors":"Not Found"}.
#[tokio::test]
async fn single_order_and_not_found() {
    let sim = sim(ShopifySimConfig::default()).await;
    let o = sim.generate_order(5);
    let id = o["id"].as_u64().unwrap();
    let r = get(&sim, &api(&sim, &format!("orders/{id}.json"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["order"], o);
    for path in [
        format!("{}/admin/api/2024-04/orders/1.json", sim.base_url()),
        format!("{}/admin/api/2024-04/orders/abc.json", sim.base_url()),
        format!("{}/admin/api/2019-01/orders/{id}.json", sim.base_url()),
    ] {
        let r = get(&sim, &path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"errors": "Not Found"})
        );
    }
}

// Injected failures answer the next n requests, then the API serves normally; every
// request is counted.
#[tokio::test]
async fn injected_failures_then_recovery() {
    let sim = sim(ShopifySimConfig::default()).await;
    sim.fail_next(2, 503);
    sim.fail_next(1, 429);
    let url = api(&sim, "orders.json");
    assert_eq!(
        get(&sim, &url).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&sim, &url).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let r = get(&sim, &url).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(get(&sim, &url).await.status(), StatusCode::OK);
    assert_eq!(sim.requests(), 4);
}

// update_order applies the change and moves updated_at strictly forward.
#[tokio::test]
async fn update_bumps_updated_at() {
    let sim = sim(ShopifySimConfig::default()).await;
    let o = sim.generate_order(1);
    let id = o["id"].as_u64().unwrap();
    let before = time::parse(o["updated_at"].as_str().unwrap()).unwrap();
    let after = sim
        .update_order(id, |o| o["financial_status"] = json!("refunded"))
        .unwrap();
    assert_eq!(after["financial_status"], "refunded");
    assert!(time::parse(after["updated_at"].as_str().unwrap()).unwrap() > before);
    assert_eq!(sim.order(id).unwrap(), after);
    assert!(sim.update_order(42, |_| {}).is_none());
    assert!(
        sim.insert_order(json!({"id": 7})).is_err(),
        "an order without timestamps is refused"
    );
}
