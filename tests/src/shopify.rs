//! A ready-made Shopify scenario: simulator, server, operator, two merchants, and the
//! Shopify plugin installed for merchant A.

use std::time::Duration;

use serde_json::{json, Value};
use wharf_sim::shopify::{ShopifySim, ShopifySimConfig};

use crate::{create_merchant, eventually, operator_token, paths, read, Api, Wharf};

pub const SHOP: &str = "e2e.myshopify.com";

pub struct Ctx {
    pub sim: ShopifySim,
    pub wharf: Wharf,
    pub operator: Api,
    pub merchant: Api,
    pub other_merchant: Api,
    pub installation: i64,
    pub plugin_id: i64,
    pub webhook_url: String,
}

pub fn resolve_arg(sim: &ShopifySim) -> Vec<String> {
    vec!["--resolve".into(), format!("{SHOP}={}", sim.addr())]
}

pub fn install_body(sim: &ShopifySim, plugin_id: i64, grant: &[&str]) -> Value {
    let cfg = sim.config();
    json!({
        "plugin_id": plugin_id,
        "shop": SHOP,
        "config": {"shop_url": format!("http://{SHOP}"), "page_size": 5,
                   "location_id": cfg.location_id.to_string()},
        "secrets": {"access_token": cfg.access_token, "client_secret": cfg.client_secret},
        "egress_grant": grant,
        "consent": crate::consent("shopify"),
        "pull_interval_secs": 3600
    })
}

/// A server with the Shopify plugin registered and installed for merchant A, and `seed`
/// orders waiting in the simulated shop. The nightly settlement import is off unless
/// `serve_args` set `--settlements-daily-at`: it calls the shop too, and would take
/// failures a test injects for the pull.
pub async fn setup(serve_args: &[&str], seed: usize) -> Ctx {
    setup_with(serve_args, seed, |_| {}).await
}

/// Like [`setup`], with `prepare` run on the simulated shop (its orders generated) before
/// the server starts.
pub async fn setup_with(
    serve_args: &[&str],
    seed: usize,
    prepare: impl FnOnce(&ShopifySim),
) -> Ctx {
    let sim = ShopifySim::start(ShopifySimConfig {
        shop_domain: SHOP.into(),
        ..ShopifySimConfig::default()
    })
    .await
    .unwrap();
    sim.generate_orders(seed, 1);
    prepare(&sim);
    let db = wharf_store::testing::fresh_url().await;
    let op = operator_token(&db);
    let a = create_merchant(&db, "A");
    let b = create_merchant(&db, "B");
    let mut args = resolve_arg(&sim);
    if !serve_args.contains(&"--settlements-daily-at") {
        args.extend(["--settlements-daily-at".to_string(), "off".to_string()]);
    }
    args.extend(serve_args.iter().map(|a| a.to_string()));
    let wharf = Wharf::start(&db, &args);
    let operator = wharf.api(&op);
    let (status, plugin) = operator
        .upload_plugin(
            read(paths::shopify_manifest()),
            read(paths::plugin("wharf_plugin_shopify")),
        )
        .await;
    assert_eq!(status, 201, "{plugin}");
    let plugin_id = plugin["id"].as_i64().unwrap();
    let merchant = wharf.api(&a.token);
    let (status, inst) = merchant
        .post("/v1/installations", install_body(&sim, plugin_id, &[SHOP]))
        .await;
    assert_eq!(status, 201, "{inst}");
    let installation = inst["id"].as_i64().unwrap();
    let webhook_url = format!("{}/v1/hooks/{installation}", wharf.base_url);
    let other_merchant = wharf.api(&b.token);
    Ctx {
        sim,
        wharf,
        operator,
        merchant,
        other_merchant,
        installation,
        plugin_id,
        webhook_url,
    }
}

pub async fn wait_for_orders(api: &Api, n: usize) -> Vec<Value> {
    let got = eventually(Duration::from_secs(30), || async {
        let orders = api.all_orders("").await;
        (orders.len() >= n).then_some(orders)
    })
    .await;
    got.unwrap_or_else(|| panic!("fewer than {n} orders arrived within 30 s"))
}

/// Wait until the installation's first pull has finished.
pub async fn wait_first_sync(ctx: &Ctx) {
    let path = format!("/v1/installations/{}", ctx.installation);
    eventually(Duration::from_secs(30), || async {
        let (_, inst) = ctx.merchant.get(&path).await;
        inst["last_sync_at"].as_i64()
    })
    .await
    .expect("the first scheduled pull finished");
}

/// Make a generated order a paid, unshipped order of `qty` × one variant (`sku` as the
/// line's SKU code); returns the stored Shopify JSON, ready to send as a webhook.
pub fn paid_order(sim: &ShopifySim, seed: u64, sku: &str, variant: u64, qty: u64) -> Value {
    let o = sim.generate_order(seed);
    let id = o["id"].as_u64().expect("generated orders have an id");
    sim.update_order(id, |o| {
        o["financial_status"] = json!("paid");
        o["fulfillment_status"] = Value::Null;
        o["cancelled_at"] = Value::Null;
        let mut line = o["line_items"][0].clone();
        line["sku"] = json!(sku);
        line["variant_id"] = json!(variant);
        line["quantity"] = json!(qty);
        o["line_items"] = json!([line]);
    })
    .expect("the order was just stored")
}

/// Wait (30 s at most) for the installation's `settlements` job to finish; returns it.
pub async fn settlements_job_done(ctx: &Ctx) -> Value {
    eventually(Duration::from_secs(30), || async {
        let (_, jobs) = ctx.merchant.get("/v1/jobs?state=done").await;
        jobs.as_array()?
            .iter()
            .find(|j| j["kind"] == "settlements" && j["installation_id"] == ctx.installation)
            .cloned()
    })
    .await
    .expect("a settlements job finished")
}

/// Make a Shopify order JSON a clean paid, unshipped order — one line of `qty` × a
/// shipped variant (`sku` as its SKU code) at 10.00 USD, 5.00 shipping, no tax or
/// discount, the billing address as the shipping address — so no anomaly rule flags it
/// and Wharf allocates it and opens its pick task on ingest.
pub fn make_clean_paid(o: &mut Value, sku: &str, variant: u64, qty: u64) {
    let id = o["id"].as_u64().expect("Shopify orders have an id");
    o["financial_status"] = json!("paid");
    o["fulfillment_status"] = Value::Null;
    o["cancelled_at"] = Value::Null;
    o["closed_at"] = Value::Null;
    o["currency"] = json!("USD");
    o["presentment_currency"] = json!("USD");
    o["taxes_included"] = json!(false);
    let mut line = o["line_items"][0].clone();
    line["sku"] = json!(sku);
    line["variant_id"] = json!(variant);
    line["quantity"] = json!(qty);
    line["price"] = json!("10.00");
    line["discount_allocations"] = json!([]);
    line["requires_shipping"] = json!(true);
    line["fulfillment_status"] = Value::Null;
    o["line_items"] = json!([line]);
    o["shipping_lines"] = json!([{"id": id * 10 + 9, "title": "Standard",
        "code": "STANDARD", "source": "shopify", "price": "5.00",
        "discounted_price": "5.00", "discount_allocations": []}]);
    o["shipping_address"] = o["billing_address"].clone();
    let items = format!("{}.00", 10 * qty);
    o["total_line_items_price"] = json!(items);
    o["subtotal_price"] = json!(items);
    o["total_discounts"] = json!("0.00");
    o["total_tax"] = json!("0.00");
    o["total_price"] = json!(format!("{}.00", 10 * qty + 5));
    o["current_total_price"] = o["total_price"].clone();
    o["discount_applications"] = json!([]);
}

/// A generated order of the simulator made clean and paid ([`make_clean_paid`]); returns
/// the stored Shopify JSON, ready to send as a webhook.
pub fn clean_paid_order(sim: &ShopifySim, seed: u64, sku: &str, variant: u64, qty: u64) -> Value {
    let o = sim.generate_order(seed);
    let id = o["id"].as_u64().expect("generated orders have an id");
    sim.update_order(id, |o| make_clean_paid(o, sku, variant, qty))
        .expect("the order was just stored")
}

/// Upload the courier-fake plugin and install it once per config (a courier account
/// each), with the merchant's sender address set; returns the installation ids.
pub async fn couriers(ctx: &Ctx, configs: &[Value]) -> Vec<i64> {
    let root = paths::workspace_root();
    let (s, plugin) = ctx
        .operator
        .upload_plugin(
            read(root.join("tests/plugins/courier-fake/manifest.json")),
            read(paths::plugin("wharf_plugin_courier_fake")),
        )
        .await;
    assert_eq!(s, 201, "{plugin}");
    let mut ids = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let (s, inst) = ctx
            .merchant
            .post(
                "/v1/installations",
                json!({"plugin_id": plugin["id"], "shop": format!("courier-account-{i}"),
                       "config": config, "consent": {"hosts": [], "secrets": []},
                       "pull_interval_secs": 3600}),
            )
            .await;
        assert_eq!(s, 201, "{inst}");
        ids.push(inst["id"].as_i64().unwrap());
    }
    let sender = json!({"name": "Acme warehouse", "phone": "+1 555 0100", "country": "US",
        "province": "CA", "city": "Oakland", "district": "", "street": "1 Dock St",
        "postal_code": "94607", "encrypted": false});
    let (s, v) = ctx
        .merchant
        .put("/v1/shipping-settings", json!({"sender": sender}))
        .await;
    assert_eq!(s, 200, "{v}");
    ids
}

/// Pick and pack the order (800 g parcel) through its tasks.
pub async fn pick_and_pack(api: &Api, order: i64) {
    for kind in ["pick", "pack"] {
        let (_, tasks) = api
            .get(&format!("/v1/tasks?order_id={order}&kind={kind}"))
            .await;
        let task = tasks[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{kind} task: {tasks}"));
        post_200(
            api,
            &format!("/v1/tasks/{task}/assign"),
            json!({"assignee": "bob"}),
        )
        .await;
        post_200(api, &format!("/v1/tasks/{task}/start"), json!({})).await;
        let body = if kind == "pack" {
            json!({"parcel": {"weight_g": 800, "length_mm": 300, "width_mm": 200, "height_mm": 100}})
        } else {
            json!({})
        };
        post_200(api, &format!("/v1/tasks/{task}/complete"), body).await;
    }
}

/// POST that must answer 200; returns the body.
pub async fn post_200(api: &Api, path: &str, body: Value) -> Value {
    let (s, v) = api.post(path, body).await;
    assert_eq!(s, 200, "POST {path}: {v}");
    v
}
