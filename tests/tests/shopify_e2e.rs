//! End to end over the real `wharf` binary, the real compiled Shopify plugin, the Shopify
//! simulator on loopback and a real database (SQLite, or PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set).

use std::time::Duration;

use serde_json::{json, Value};
use wharf_tests::shopify::{
    install_body, resolve_arg, setup, wait_first_sync, wait_for_orders, SHOP,
};
use wharf_tests::{eventually, paths, read, Api, Wharf};

/// Orders reach the store by the scheduled pull (paging 5 at a time) with exact amounts,
/// and by webhook, acknowledged only once stored; a redelivery creates nothing.
#[tokio::test]
async fn pulled_and_webhooked_orders_land_once_with_exact_amounts() {
    let ctx = setup(&[], 12).await;
    let orders = wait_for_orders(&ctx.merchant, 12).await;
    assert_eq!(orders.len(), 12);
    for sim_order in ctx.sim.orders() {
        let id = sim_order["id"].to_string();
        let stored = orders
            .iter()
            .find(|o| o["external_id"] == id)
            .unwrap_or_else(|| panic!("order {id} missing"));
        let digits =
            wharf_domain::money::minor_digits(sim_order["currency"].as_str().unwrap()).unwrap();
        let expected =
            wharf_domain::money::parse_decimal(sim_order["total_price"].as_str().unwrap(), digits)
                .unwrap();
        assert_eq!(
            stored["total_paid_minor"].as_i64().unwrap(),
            expected,
            "total of {id}"
        );
        assert_eq!(stored["platform"], "shopify");
    }

    let new_order = ctx.sim.generate_order(42);
    let event = ctx.sim.event("orders/create", &new_order);
    let status = ctx
        .sim
        .post_event(&ctx.webhook_url, &event, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200);
    // Acknowledged means stored: visible immediately, no waiting.
    let all = ctx.merchant.all_orders("").await;
    assert_eq!(all.len(), 13);
    let id = new_order["id"].to_string();
    let stored = all
        .iter()
        .find(|o| o["external_id"] == id)
        .expect("webhooked order stored");

    // The same delivery again (same webhook id), a new delivery of the same order, and the
    // same order by a pull: still one order, one "created" event.
    assert_eq!(
        ctx.sim
            .post_event(&ctx.webhook_url, &event, Duration::from_secs(10))
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/updated", &new_order)
            .await
            .unwrap(),
        200
    );
    let (status, _) = ctx
        .merchant
        .post(
            &format!("/v1/installations/{}/pull", ctx.installation),
            json!({}),
        )
        .await;
    assert!(status == 200 || status == 409, "pull now answered {status}");
    let all = ctx.merchant.all_orders("").await;
    assert_eq!(all.len(), 13, "no duplicates");
    let (status, detail) = ctx
        .merchant
        .get(&format!("/v1/orders/{}", stored["id"]))
        .await;
    assert_eq!(status, 200);
    let created = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created")
        .count();
    assert_eq!(created, 1, "{detail}");
    assert!(
        !detail["order"]["lines"].as_array().unwrap().is_empty()
            || new_order["line_items"].as_array().unwrap().is_empty()
    );
}

/// An older version of an order delivered after a newer one never regresses it.
#[tokio::test]
async fn out_of_order_webhooks_never_regress_an_order() {
    let ctx = setup(&[], 0).await;
    let mut order = ctx.sim.generate_order(7);
    order["financial_status"] = json!("pending");
    order["fulfillment_status"] = Value::Null;
    order["cancelled_at"] = Value::Null;
    order["updated_at"] = json!("2026-01-01T10:00:00+00:00");
    let mut newer = order.clone();
    newer["financial_status"] = json!("paid");
    newer["updated_at"] = json!("2026-01-01T10:05:00+00:00");

    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/updated", &newer)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/create", &order)
            .await
            .unwrap(),
        200
    );
    let all = ctx.merchant.all_orders("").await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0]["status"], "paid",
        "the older pending version must not win: {}",
        all[0]
    );
}

/// Bad signatures are 401 with nothing stored; malformed bodies 400; oversized 413;
/// unknown installations 404 — each as a JSON error.
#[tokio::test]
async fn bad_webhooks_are_refused_and_store_nothing() {
    let ctx = setup(&[], 0).await;
    let order = ctx.sim.generate_order(8);
    let body = serde_json::to_vec(&order).unwrap();
    let send = |url: String, body: Vec<u8>, sig: String| {
        // A fresh connection per request: the server closes the one whose oversized body
        // it refused without reading, and a pooled client would reuse it.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        async move {
            let r = http
                .post(url)
                .header("X-Shopify-Hmac-Sha256", sig)
                .header("X-Shopify-Topic", "orders/create")
                .header("X-Shopify-Webhook-Id", "w-1")
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (status, err) = send(
        ctx.webhook_url.clone(),
        body.clone(),
        "bm90IGEgc2lnbmF0dXJl".into(),
    )
    .await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["error"]["code"], "invalid_signature");

    let garbage = b"{not json".to_vec();
    let (status, err) = send(
        ctx.webhook_url.clone(),
        garbage.clone(),
        ctx.sim.sign(&garbage),
    )
    .await;
    assert_eq!(status, 400, "{err}");

    let huge = vec![b' '; 3 * 1024 * 1024];
    let (status, _) = send(ctx.webhook_url.clone(), huge.clone(), ctx.sim.sign(&huge)).await;
    assert_eq!(status, 413);

    let (status, _) = send(
        format!("{}/v1/hooks/999999", ctx.wharf.base_url),
        body.clone(),
        ctx.sim.sign(&body),
    )
    .await;
    assert_eq!(status, 404);

    assert!(
        ctx.merchant.all_orders("").await.is_empty(),
        "nothing may be stored"
    );
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{}", ctx.installation))
        .await;
    assert!(
        inst["counters"]["webhooks_rejected"].as_i64().unwrap() >= 2,
        "{inst}"
    );
}

/// Every admin call is authenticated and scoped: merchant B sees none of A's data, the
/// operator cannot read orders, merchants cannot upload plugins.
#[tokio::test]
async fn admin_calls_are_authenticated_and_scoped_to_their_merchant() {
    let ctx = setup(&[], 3).await;
    let orders = wait_for_orders(&ctx.merchant, 3).await;
    let order_id = orders[0]["id"].as_i64().unwrap();

    assert!(ctx.other_merchant.all_orders("").await.is_empty());
    assert_eq!(
        ctx.other_merchant
            .get(&format!("/v1/orders/{order_id}"))
            .await
            .0,
        404
    );
    assert_eq!(
        ctx.other_merchant
            .get(&format!("/v1/installations/{}", ctx.installation))
            .await
            .0,
        404
    );
    assert_eq!(
        ctx.other_merchant
            .post(
                &format!("/v1/installations/{}/disable", ctx.installation),
                json!({})
            )
            .await
            .0,
        404
    );
    let (_, list) = ctx.other_merchant.get("/v1/installations").await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    let anonymous = Api {
        token: String::new(),
        ..ctx.merchant.clone()
    };
    let (status, err) = anonymous.get("/v1/orders").await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "unauthenticated");
    let forged = Api {
        token: "wharf_forged".into(),
        ..ctx.merchant.clone()
    };
    assert_eq!(forged.get("/v1/orders").await.0, 401);
    assert_eq!(ctx.operator.get("/v1/orders").await.0, 403);
    let (status, _) = ctx
        .merchant
        .upload_plugin(b"{}".to_vec(), b"x".to_vec())
        .await;
    assert_eq!(status, 403);

    // Secrets never come back from the API.
    let (_, inst) = ctx
        .merchant
        .get(&format!("/v1/installations/{}", ctx.installation))
        .await;
    let text = inst.to_string();
    assert!(
        !text.contains(&ctx.sim.config().access_token),
        "access token leaked: {text}"
    );
    assert!(
        !text.contains(&ctx.sim.config().client_secret),
        "client secret leaked: {text}"
    );
}

/// Invalid plugins and installations are refused with a reason naming the problem.
#[tokio::test]
async fn invalid_plugins_and_installations_are_refused_with_reasons() {
    let ctx = setup(&[], 0).await;
    let manifest = read(paths::shopify_manifest());
    let (status, err) = ctx
        .operator
        .upload_plugin(manifest.clone(), b"\0asm not really".to_vec())
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("component"),
        "{err}"
    );
    let (status, err) = ctx
        .operator
        .upload_plugin(
            b"{\"name\": 5}".to_vec(),
            read(paths::plugin("wharf_plugin_shopify")),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let (status, _) = ctx
        .operator
        .upload_plugin(
            manifest.clone(),
            read(paths::plugin("wharf_plugin_shopify")),
        )
        .await;
    assert_eq!(status, 409, "the same name and version twice");
    let mut future: Value = serde_json::from_slice(&manifest).unwrap();
    future["version"] = json!("9.0.0");
    future["wit_version"] = json!("7.0.0");
    let (status, err) = ctx
        .operator
        .upload_plugin(
            future.to_string().into_bytes(),
            read(paths::plugin("wharf_plugin_shopify")),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("7.0.0"),
        "{err}"
    );

    let mut body = install_body(&ctx.sim, ctx.plugin_id, &["evil.example.com"]);
    body["shop"] = json!("other.myshopify.com");
    body["config"] = json!({"page_size": "five"});
    body["secrets"] = json!({"access_token": "x"});
    let (status, err) = ctx.merchant.post("/v1/installations", body).await;
    assert_eq!(status, 422);
    let msg = err["error"]["message"].as_str().unwrap();
    for needle in [
        "shop_url: required",
        "page_size: expected integer",
        "client_secret",
        "evil.example.com",
    ] {
        assert!(msg.contains(needle), "{msg} should mention {needle}");
    }
    let (status, _) = ctx
        .merchant
        .post(
            "/v1/installations",
            install_body(&ctx.sim, ctx.plugin_id, &[SHOP]),
        )
        .await;
    assert_eq!(status, 409, "a second installation for the same shop");
}

/// A restart resumes pulling from the stored cursor: nothing lost, nothing repeated.
#[tokio::test]
async fn a_restart_resumes_from_the_stored_cursor() {
    let ctx = setup(&[], 8).await;
    wait_for_orders(&ctx.merchant, 8).await;
    wait_first_sync(&ctx).await;
    let token = ctx.merchant.token.clone();
    let db = ctx.wharf.db_url.clone();
    ctx.wharf.kill();
    for seed in 100..103 {
        ctx.sim.generate_order(seed);
    }
    let wharf = Wharf::start(&db, &resolve_arg(&ctx.sim));
    let api = wharf.api(&token);
    let (status, report) = api
        .post(
            &format!("/v1/installations/{}/pull", ctx.installation),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    // The cursor's boundary order may be re-read (and deduplicated), never more.
    assert_eq!(report["created"], 3, "{report}");
    let all = api.all_orders("").await;
    assert_eq!(all.len(), 11);
    let mut ids: Vec<&str> = all
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 11, "no duplicates");
}

/// Egress to a host the merchant did not grant is refused; the pull fails with a recorded
/// error and the merchant can read why in the installation log.
#[tokio::test]
async fn ungranted_egress_is_refused_and_logged_for_the_merchant() {
    let ctx = setup(&[], 2).await;
    ctx.merchant
        .post(
            &format!("/v1/installations/{}/disable", ctx.installation),
            json!({}),
        )
        .await;
    let mut body = install_body(&ctx.sim, ctx.plugin_id, &[]);
    body["shop"] = json!("second.myshopify.com");
    let (status, inst) = ctx.merchant.post("/v1/installations", body).await;
    assert_eq!(status, 201, "{inst}");
    let id = inst["id"].as_i64().unwrap();
    let (status, err) = ctx
        .merchant
        .post(&format!("/v1/installations/{id}/pull"), json!({}))
        .await;
    assert!(status == 502 || status == 409, "{status} {err}");
    let found = eventually(Duration::from_secs(15), || async {
        let (_, inst) = ctx.merchant.get(&format!("/v1/installations/{id}")).await;
        let (_, logs) = ctx
            .merchant
            .get(&format!("/v1/installations/{id}/logs"))
            .await;
        let refused = logs.as_array().is_some_and(|l| {
            l.iter()
                .any(|line| line["message"].as_str().unwrap_or("").contains("refused"))
        });
        (refused
            && inst["last_error"]
                .as_str()
                .is_some_and(|e| e.contains(SHOP)))
        .then_some(())
    })
    .await;
    assert!(found.is_some(), "refusal must be logged and recorded");
    assert!(ctx
        .merchant
        .all_orders(&format!("installation_id={id}"))
        .await
        .is_empty());
}

/// Filters and pagination: pages are complete and disjoint; flagged and status filters
/// select exactly the matching orders.
#[tokio::test]
async fn order_list_filters_and_pages_consistently() {
    let ctx = setup(&[], 20).await;
    let all = wait_for_orders(&ctx.merchant, 20).await;
    let mut ids: Vec<i64> = all.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 20, "pages are disjoint");
    let flagged = ctx.merchant.all_orders("flagged=true").await;
    let clean = ctx.merchant.all_orders("flagged=false").await;
    assert_eq!(flagged.len() + clean.len(), 20);
    assert!(flagged
        .iter()
        .all(|o| !o["flags"].as_array().unwrap().is_empty()));
    assert!(clean
        .iter()
        .all(|o| o["flags"].as_array().unwrap().is_empty()));
    let paid = ctx.merchant.all_orders("status=paid").await;
    assert_eq!(
        paid.len(),
        all.iter().filter(|o| o["status"] == "paid").count()
    );
    assert_eq!(ctx.merchant.all_orders("platform=shopify").await.len(), 20);
    assert_eq!(ctx.merchant.all_orders("platform=taobao").await.len(), 0);
    let (status, err) = ctx.merchant.get("/v1/orders?status=teleported").await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = ctx.merchant.get("/v1/orders?after=garbage").await;
    assert_eq!(status, 400);
}

/// The OpenAPI document is served and lists every route; health reflects the database.
#[tokio::test]
async fn openapi_and_health_are_served() {
    let ctx = setup(&[], 0).await;
    let (status, doc) = ctx.merchant.get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/v1/health",
        "/v1/hooks/{installation}",
        "/v1/plugins",
        "/v1/installations",
        "/v1/installations/{id}/pull",
        "/v1/orders",
        "/v1/orders/{id}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let (status, health) = ctx.merchant.get("/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["database"], "ok");
}

/// SIGTERM shuts the server down gracefully (exit code 0).
#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let ctx = setup(&[], 0).await;
    assert!(
        ctx.wharf.terminate(),
        "wharf serve should exit 0 on SIGTERM"
    );
}

/// The schedule repeats: orders added to the shop after the first pull arrive by the next
/// scheduled pull, without any webhook or manual pull.
#[tokio::test]
async fn scheduled_pulls_repeat_at_the_installation_interval() {
    let ctx = setup(&[], 2).await;
    ctx.merchant
        .post(
            &format!("/v1/installations/{}/disable", ctx.installation),
            json!({}),
        )
        .await;
    let mut body = install_body(&ctx.sim, ctx.plugin_id, &[SHOP]);
    body["shop"] = json!("scheduled.myshopify.com");
    body["pull_interval_secs"] = json!(5);
    let (status, inst) = ctx.merchant.post("/v1/installations", body).await;
    assert_eq!(status, 201, "{inst}");
    let id = inst["id"].as_i64().unwrap();
    let query = format!("installation_id={id}");
    let first = eventually(Duration::from_secs(20), || async {
        let n = ctx.merchant.all_orders(&query).await.len();
        (n == 2).then_some(n)
    })
    .await;
    assert!(
        first.is_some(),
        "the first scheduled pull brought the 2 orders"
    );
    for seed in 200..202 {
        ctx.sim.generate_order(seed);
    }
    let second = eventually(Duration::from_secs(20), || async {
        let n = ctx.merchant.all_orders(&query).await.len();
        (n == 4).then_some(n)
    })
    .await;
    assert!(
        second.is_some(),
        "the next scheduled pull brought the 2 new orders"
    );
}

/// Prometheus metrics reflect what happened (webhooks by outcome, ingested orders, plugin
/// call latency, queue depth) and are for the operator only.
#[tokio::test]
async fn metrics_count_webhooks_orders_plugin_calls_and_jobs() {
    let ctx = setup(&[], 3).await;
    wait_for_orders(&ctx.merchant, 3).await;
    let order = ctx.sim.generate_order(77);
    assert_eq!(
        ctx.sim
            .send_webhook(&ctx.webhook_url, "orders/create", &order)
            .await
            .unwrap(),
        200
    );
    let r = reqwest::Client::new()
        .post(&ctx.webhook_url)
        .header("X-Shopify-Hmac-Sha256", "AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let http = reqwest::Client::new();
    let get = |token: String| {
        let http = http.clone();
        let url = format!("{}/metrics", ctx.wharf.base_url);
        async move { http.get(url).bearer_auth(token).send().await.unwrap() }
    };
    assert_eq!(get(ctx.merchant.token.clone()).await.status(), 403);
    let text = get(ctx.operator.token.clone()).await.text().await.unwrap();
    let inst = ctx.installation;
    for needle in [
        format!("wharf_webhooks_total{{installation=\"{inst}\",outcome=\"accepted\"}} 1"),
        format!("wharf_webhooks_total{{installation=\"{inst}\",outcome=\"bad_signature\"}} 1"),
        format!("wharf_orders_ingested_total{{installation=\"{inst}\",source=\"pull\",result=\"created\"}} 3"),
        format!("wharf_orders_ingested_total{{installation=\"{inst}\",source=\"webhook\",result=\"created\"}} 1"),
        format!("wharf_plugin_call_seconds_count{{installation=\"{inst}\",export=\"pull_orders\"}}"),
        "wharf_webhook_ack_seconds_count 2".to_string(),
        "wharf_jobs{kind=\"pull\",state=\"done\"}".to_string(),
    ] {
        assert!(text.contains(&needle), "metrics lack {needle}:\n{text}");
    }
}
